"""Bounds: how big a world the checker explores.

Bounds are separate from modes (what Kafka is configured to do) so the same
promise can be checked in a larger world with ``--bound name=value``.
Capacities (batches, log, channel) only size tables: when one fills up the
step that needs it is disabled and reported, never silently dropped.
Unless given, each is ``records x (faults + unflushed + 1)``: every record
once, and once more for each fault or lost unflushed suffix (one crash can
make the application send every record again).  At the defaults that blocks nothing; in bigger worlds the
report still says when a capacity was reached.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Bounds:
    """Sizes of the explored world; every field is a small integer."""

    records: int = 2      # records the application sends (r1, r2, ...)
    partitions: int = 1   # partitions of the topic; record r goes to r mod partitions
    retries: int = 1      # retries per batch before the producer gives up (delivery timeout)
    faults: int = 2       # budget shared by losses, premature timeouts, errors and crashes
    expiries: int = 0     # producer-state expirations at a replica (off unless asked for)
    unflushed: int = 0    # broker crashes that lose the log's unflushed suffix (off unless asked for)
    marker_retries: int = 0  # WriteTxnMarkers requests the coordinator sends again after a timeout (off unless asked for)
    epochs: int = 0       # producer epochs per producer id, Short.MaxValue scaled down (0: they never run out)
    batches: int | None = None  # capacity: batches the producer can create (first sends and resends)
    log: int | None = None      # capacity: entries per partition log
    channel: int | None = None  # capacity: messages in flight per direction per partition

    def __post_init__(self):
        for name in CAPACITIES:
            if getattr(self, name) is None and isinstance(self.records, int) \
                    and isinstance(self.faults, int):
                object.__setattr__(self, name, min(_MAXIMUM, self.records * (self.faults + 1 + (
                    self.unflushed if isinstance(self.unflushed, int) else 0))))
        for f in fields(self):
            v = getattr(self, f.name)
            lo = _MINIMUM.get(f.name, 0)
            if not isinstance(v, int) or not lo <= v <= _MAXIMUM:
                raise ValueError(f"bound {f.name} must be an integer in {lo}..{_MAXIMUM}, got {v!r}")
        if self.epochs == 1:
            # one epoch per producer id leaves none to fence with: Kafka keeps Short.MaxValue
            # for the coordinator's last bump (TransactionMetadata.isEpochExhausted)
            raise ValueError("bound epochs must be 0 (epochs never run out) or at least 2 (the last "
                             "one is kept for the coordinator's fencing bump), got 1")


def for_mode(mode, variant=None, **overrides: int) -> Bounds:
    """The bounds of a run of ``mode`` (and ``variant``): the mode's defaults, the variant's
    where it changes the mode's world, then ``overrides``."""
    own = dict(variant.bounds) if variant is not None and _changes(variant, mode) else {}
    return Bounds(**{**dict(mode.bounds), **own, **overrides})


def _changes(variant, mode) -> bool:
    """The variant's own bounds apply to ``mode``'s world (see model/variants.relevant)."""
    from .variants import relevant
    return relevant(variant, mode.transactional)


def deep_for_mode(mode, variant=None, **overrides: int) -> Bounds:
    """The bounds of a stateful (random) run of ``mode``: its bigger world, then ``overrides``
    (the same for every variant, a random run's cost does not grow with the state count, except
    the kinds of fault that are off by default and a variant switches on: its world is about
    them)."""
    own = {k: v for k, v in (variant.bounds if variant is not None and _changes(variant, mode)
                             else ()) if k in SWITCHED_FAULTS}
    return Bounds(**{**dict(mode.deep_bounds), **own, **overrides})


CAPACITIES = ("batches", "log", "channel")
SWITCHED_FAULTS = ("expiries", "unflushed", "marker_retries")  # kinds of fault that are off unless a bound turns them on
_MINIMUM = {"records": 1, "partitions": 1, "batches": 1, "log": 1, "channel": 1}
_MAXIMUM = 60  # keeps every derived field range within one byte


def bound_docs() -> dict[str, str]:
    """Each bound's one-line description, read from the comments above."""
    out = {}
    for line in inspect.getsource(Bounds).splitlines():
        m = re.match(r"\s+(\w+): [^=]+= \S+\s+# (.*)", line)
        if m:
            extra = " (default: records x (faults + unflushed + 1))" if m.group(1) in CAPACITIES else ""
            out[m.group(1)] = m.group(2) + extra
    return out
