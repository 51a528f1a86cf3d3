"""A configuration: mode x variant x bounds, the ``c`` every action reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from .bounds import Bounds, for_mode
from .modes import MODES, Mode
from .variants import DEFAULT_VARIANT, VARIANTS, Variant


@dataclass(frozen=True)
class Config:
    """Everything an action may read besides the state: plain Python values."""

    mode: Mode
    variant: Variant = field(default_factory=lambda: VARIANTS[DEFAULT_VARIANT])
    bounds: Bounds = None  # type: ignore[assignment]  # None: the mode's default bounds

    def __post_init__(self):
        if self.bounds is None:
            object.__setattr__(self, "bounds", for_mode(self.mode, self.variant))

    @property
    def default_bounds(self) -> bool:
        """Whether the run uses its mode's default bounds (where counts are pinned)."""
        return self.bounds == for_mode(self.mode, self.variant)

    @property
    def retries(self) -> int:
        """Retries per batch: the bound, or none when the mode disables retries."""
        return self.bounds.retries if self.mode.retries else 0

    @classmethod
    def of(cls, mode: str, variant: str = DEFAULT_VARIANT, **bounds: int) -> "Config":
        """Build a configuration from names, e.g. ``Config.of("idempotent", records=3)``."""
        return cls(MODES[mode], VARIANTS[variant], for_mode(MODES[mode], VARIANTS[variant], **bounds))
