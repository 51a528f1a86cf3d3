"""What a step changed, read from the decoded states around it (for stories and pictures).

A story's sentence must be true of the step it tells, whatever the action
does today: a protocol edit must never leave a story describing the old
protocol.  So the tellers (``story.py``, ``txn_story.py``) and the scenes
state facts they *read* here - which log position was written, which
message went on the wire, what a field became - never what the action is
supposed to do.  Every function takes decoded states (``{field: value}``,
arrays as nested lists) and changes nothing.  The registries of tellers and
events live here too, so that an actor's module can hold its own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence

from deliverycheck.core.scene import Event

# -- the registries: each actor's module registers how its steps are told and drawn --

Tell = Callable[[dict, dict, dict, Any], str]
EventFn = Callable[[dict, dict, dict, Any], Event]
TELLERS: dict[str, Tell] = {}
EVENTS: dict[str, EventFn] = {}


def teller(fn: Tell) -> Tell:
    """Register ``fn`` as the sentence of the action it is named after (``tell_<action>``)."""
    TELLERS[fn.__name__.removeprefix("tell_")] = fn
    return fn


def event_of(fn: EventFn) -> EventFn:
    """Register ``fn`` as the picture event of the action it is named after (``ev_<action>``)."""
    EVENTS[fn.__name__.removeprefix("ev_")] = fn
    return fn


def changed(b: list, x: list) -> list[int]:
    """Indices where the rows ``b`` (before) and ``x`` (after) differ."""
    return [j for j, (u, v) in enumerate(zip(b, x)) if u != v]


def written(b: dict, x: dict, log: str, length: str, *at: int) -> list[int]:
    """Positions of the log at index ``at`` (entries in field ``log``, its end in ``length``)
    the step wrote: below the new log end, and past the old end or holding a different entry."""
    def pick(s: dict, name: str) -> Any:
        v = s[name]
        for i in at:
            v = v[i]
        return v
    old, new = pick(b, length), pick(x, length)
    before, after = pick(b, log), pick(x, log)
    return [j for j in range(new) if j >= old or before[j] != after[j]]


def _slots(rows: Sequence[Sequence[Any]]) -> Counter:
    """The messages of a channel (parallel rows, the first one 0 on a free slot) as a multiset."""
    out: Counter = Counter()
    for slot in range(len(rows[0])):
        if rows[0][slot]:
            out[tuple(row[slot] for row in rows)] += 1
    return out


def sent(before: Sequence[Sequence[Any]], after: Sequence[Sequence[Any]]) -> list[tuple]:
    """The messages the step put into a channel (each as the tuple of its rows' values)."""
    return sorted((_slots(after) - _slots(before)).elements())


def taken(before: Sequence[Sequence[Any]], after: Sequence[Sequence[Any]]) -> list[tuple]:
    """The messages the step took out of a channel."""
    return sorted((_slots(before) - _slots(after)).elements())


def offsets(xs: Sequence[int]) -> str:
    """``p0=1, p1=0``: one offset per partition."""
    return ", ".join(f"p{p}={o}" for p, o in enumerate(xs))


def listing(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` (empty for none)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
