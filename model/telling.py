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

from .state import ACKED, FAILED, RESPONSE_CODES

# the group coordinator's lane id in sequence diagrams (both worlds)
GROUP = "GC"

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


def leader_index(d: dict, c: Any, p: int) -> int:
    """The replica leading partition ``p`` in the decoded state ``d`` (0 with one replica, or
    while it has no leader)."""
    r = d["leader"][p] if c.variant.replicated else 0
    return r if r < c.variant.replicas else 0


# -- the delivery path's names, read from decoded states (producer, network, partitions) --


def record_name(s: dict, k: int) -> str:
    """``r1``: the record batch ``k`` carries."""
    return f"r{s['b_rec'][k]}"


def batch_name(s: dict, k: int, c: Any, seq: int | None = None, epoch: int | None = None) -> str:
    """``b2 (r1, sequence 0, epoch 1)``: a batch with what identifies it on the wire (its own
    sequence and epoch, or the ``seq`` and ``epoch`` a request of it carries)."""
    seq = s["b_seq"][k] if seq is None else seq
    epoch = s["b_epoch"][k] if epoch is None else epoch
    extra = f", sequence {seq}, epoch {epoch}" if c.mode.idempotence else ""
    return f"b{k + 1} ({record_name(s, k)}{extra})"


def request_name(s: dict, p: int, i: int, c: Any) -> str:
    """The batch the request in slot ``i`` to ``p`` carries, with the sequence and epoch it was
    sent with (an epoch bump may since have changed the batch's own)."""
    return batch_name(s, s["rq_batch"][p][i] - 1, c, s["rq_seq"][p][i], s["rq_epoch"][p][i])


def producer_name(s: dict, k: int | None = None) -> str:
    """``P2``: the producer session of batch ``k`` (or the current one)."""
    return f"P{(s['b_pid'][k] if k is not None else s['session']) + 1}"


def request_rows(s: dict, p: int) -> list[list[int]]:
    """The produce requests to ``p`` in a decoded state (the channel's rows)."""
    return [s["rq_batch"][p], s["rq_epoch"][p], s["rq_seq"][p], s["rq_conn"][p]]


def response_rows(s: dict, p: int) -> list[list[int]]:
    """The produce responses from ``p`` in a decoded state (the channel's rows)."""
    return [s["rs_batch"][p], s["rs_code"][p], s["rs_conn"][p]]


def partitions_of(s: dict) -> range:
    """Every partition of the delivery path, in a decoded state."""
    return range(len(s["log_len"]))


def requested(b: dict, x: dict) -> list[tuple[int, int, int]]:
    """(partition, batch index, connection) of every produce request the step sent."""
    return [(p, m[0] - 1, m[-1]) for p in partitions_of(x)
            for m in sent(request_rows(b, p), request_rows(x, p))]


def answered(b: dict, x: dict, p: int) -> list[tuple[int, str]]:
    """(batch index, code) of every response the step sent from partition ``p``."""
    return [(m[0] - 1, RESPONSE_CODES.get(m[1], f"code {m[1]}"))
            for m in sent(response_rows(b, p), response_rows(x, p))]


def sending(b: dict, x: dict, connection: bool = False) -> str:
    """Where the step's produce requests went (and on which connection), read from the channels."""
    out = requested(b, x)
    if not out:
        return "; no request goes out"
    return "".join(f" {'on connection ' + str(conn) + ' ' if connection else ''}to partition {p}"
                   for p, _, conn in out)


def told(b: dict, x: dict, k: int) -> str:
    """What completing batch ``k``'s future told the application, if the step completed it."""
    if x["b_state"][k] == b["b_state"][k]:
        return ""
    return {ACKED: "; the application is told it is written",
            FAILED: "; the application is told the send failed"}.get(x["b_state"][k], "")


def batch_label(k: int) -> str:
    """``b1``: batch ``k`` (0-based) in a diagram label."""
    return f"b{k + 1}"
