"""Reading ``properties/expected.toml``: the verdicts each mode should give.

Layout (one table per mode and variant)::

    ["at-least-once".current]
    states = 196465            # distinct states at the default bounds
    depth = 34                 # depth of the complete search

    ["at-least-once".current.verdicts]
    no_duplicate_log = "violated"   # why, in a comment

    ["at-least-once".current.lengths]
    no_duplicate_log = 5       # shortest counterexample (or witness) length

    ["eos-per-instance-id".no-group-metadata.deep_verdicts]
    offsets_match_outputs = "violated"   # where the stateful world differs

Verdicts are compared at any bounds; state counts, depths and lengths are
pinned at the default bounds only.  ``deep_verdicts`` override verdicts for
the stateful engine, whose default world is bigger (``deliverycheck list``):
a promise that needs two records to break holds in a one-record world.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

VERDICTS = ("holds", "violated")


class ExpectationError(Exception):
    """expected.toml is malformed or names something that does not exist."""


@dataclass
class Expected:
    """Expectations for one mode x variant."""

    states: int | None = None
    depth: int | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    deep_verdicts: dict[str, str] = field(default_factory=dict)  # in the stateful world

    def deep(self) -> "Expected":
        """The expectations for the stateful engine's bigger world (no pinned counts)."""
        return Expected(verdicts={**self.verdicts, **self.deep_verdicts})


def default_path() -> Path:
    """Where the installed package keeps expected.toml."""
    return Path(str(resources.files("deliverycheck.properties") / "expected.toml"))


def load(path: Path | None = None, *, modes=(), variants=(), properties=()) -> dict[tuple[str, str], Expected]:
    """Parse and validate expected.toml into ``{(mode, variant): Expected}``."""
    path = path or default_path()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ExpectationError(f"cannot read {path}: {e}") from None
    out: dict[tuple[str, str], Expected] = {}
    for mode, per_variant in data.items():
        if modes and mode not in modes:
            raise ExpectationError(f"{path}: unknown mode {mode!r}")
        for variant, body in per_variant.items():
            if variants and variant not in variants:
                raise ExpectationError(f"{path}: unknown variant {variant!r} under {mode!r}")
            exp = Expected(body.get("states"), body.get("depth"),
                           dict(body.get("verdicts", {})), dict(body.get("lengths", {})),
                           dict(body.get("deep_verdicts", {})))
            for name, v in {**exp.verdicts, **exp.lengths, **exp.deep_verdicts}.items():
                if properties and name not in properties:
                    raise ExpectationError(f"{path}: [{mode}.{variant}] names unknown property {name!r}")
            for name, v in {**exp.verdicts, **exp.deep_verdicts}.items():
                if v not in VERDICTS:
                    raise ExpectationError(f"{path}: [{mode}.{variant}] {name} = {v!r}; "
                                           f"use one of {', '.join(VERDICTS)}")
            out[(mode, variant)] = exp
    return out
