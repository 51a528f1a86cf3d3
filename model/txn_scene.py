"""The exactly-once world's actors, channels and steps, for sequence diagrams.

Lanes: the processor instances I1, I2 (I2 starts later; I1 may go on as a
zombie), the transaction coordinator, the leaders of the output partitions
o0 and o1, and the group coordinator (which leads ``__consumer_offsets``).
Messages wait in three channels: produce requests (``rq_*``), EndTxn
(``et_*``) and WriteTxnMarkers (``mk_*``).  Calls the model completes within
one step (InitProducerId, AddPartitionsToTxn, TxnOffsetCommit, JoinGroup,
OffsetFetch, the answers the TC and the leaders give) are exchanges.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.scene import Channel, Event, Exchange, Lane, Observer

from .scene import GROUP
from .telling import event_of
from .telling import written
from .txn_state import (ABORT, COMMIT, INSTANCES, IN_TXN, OFFSETS, OUTPUTS, STOPPED, TC_STATES,
                        tid)

TC = "TC"
READER = "R"
_KIND = {COMMIT: "COMMIT", ABORT: "ABORT"}


def inst(i: int) -> str:
    """Lane id of processor instance ``i`` (0-based): I1, I2."""
    return f"I{i + 1}"


def out(o: int) -> str:
    """Lane id of output partition ``o``'s leader; the offsets partition is the group coordinator's."""
    return GROUP if o == OFFSETS else f"O{o}"


def txn_lanes(c: Any) -> list[Lane]:
    """Every lane of the exactly-once world, left to right."""
    return ([Lane(inst(i), f"instance I{i + 1}") for i in range(INSTANCES)]
            + [Lane(TC, "transaction coordinator")]
            + [Lane(out(o), f"leader of o{o}") for o in range(OUTPUTS)]
            + [Lane(GROUP, "group coordinator")])


def reader_returned(s: Any, c: Any) -> list[tuple[str, str]]:
    """What the downstream reader has been returned in the concrete state view ``s``:
    every record a fetch with the mode's isolation level returns (broker_txn.fetched)."""
    from .broker_txn import fetched
    from .txn_state import log_capacity
    return [(out(o), f"r{s.ent_rec[o][j]} @{j} (#{s.ent_tag[o][j]})")
            for o in range(OUTPUTS) for j in range(log_capacity(c)) if fetched(s, c, o, j)]


def txn_observers(c: Any) -> list[Observer]:
    """The downstream reader of the output partitions, which the model computes, not steps."""
    return [Observer("reader", Lane(READER, f"downstream reader ({c.mode.isolation})"),
                     reader_returned)]


def txn_channels(c: Any) -> list[Channel]:
    """Produce requests, EndTxn requests, WriteTxnMarkers requests."""
    return [
        Channel("produce", ("rq_rec", "rq_epoch", "rq_tag", "rq_live"), 3,
                src=lambda ix, v, s: inst(ix[1]), dst=lambda ix, v, s: out(ix[0]),
                label=lambda ix, v, s: f"Produce r{v[0]} (epoch {v[1]})"),
        Channel("end_txn", ("et_kind", "et_epoch", "et_live"), 2,
                src=lambda ix, v, s: inst(ix[0]), dst=lambda ix, v, s: TC,
                label=lambda ix, v, s: f"EndTxn({_KIND[v[0]].lower()}, epoch {v[1]})"),
        Channel("markers", ("mk_kind", "mk_pid", "mk_epoch", "mk_cepoch"), 4,
                src=lambda ix, v, s: TC, dst=lambda ix, v, s: out(ix[0]),
                label=lambda ix, v, s: f"{_KIND[v[0]]} marker (epoch {v[2]})"),
    ]


def _fenced(b: dict, x: dict, i: int) -> bool:
    return x["ps_stage"][i] == STOPPED != b["ps_stage"][i]


@event_of
def ev_processor_start(a, b, x, c):
    return Event(inst(a["i"]), f"join group (gen {x['gc_generation']})",
                 exchanges=(Exchange(GROUP),))


@event_of
def ev_processor_init(a, b, x, c):
    i = a["i"]
    got = (f"epoch {x['ps_epoch'][i]}" if x["ps_epoch"][i] != b["ps_epoch"][i]
           else "CONCURRENT_TXNS")
    return Event(inst(i), f"InitProducerId: {got}", exchanges=(Exchange(TC),))


@event_of
def ev_processor_fetch_offsets(a, b, x, c):
    i = a["i"]
    return Event(inst(i), f"fetch offset: {x['ps_pos'][i]}", exchanges=(Exchange(GROUP, inbound=True),))


@event_of
def ev_processor_begin(a, b, x, c):
    i = a["i"]
    return Event(inst(i), f"poll r{x['ps_pos'][i]}, begin #{x['ps_tag'][i]}")


@event_of
def ev_processor_send(a, b, x, c):
    i = a["i"]
    calls = () if c.variant.tv2 else (Exchange(TC),)   # AddPartitionsToTxn (TV1)
    if _fenced(b, x, i):
        return Event(inst(i), "add partitions: FENCED", exchanges=calls)
    what = f"send r{b['ps_pos'][i]}'s output"
    return Event(inst(i), what if c.variant.tv2 else f"AddPartitions, {what}", exchanges=calls)


@event_of
def ev_processor_send_offsets(a, b, x, c):
    i = a["i"]
    if x["ps_offsets"][i]:
        label = f"send offset {b['ps_pos'][i]}"
    elif x["ps_lost"][i] and not b["ps_lost"][i]:
        label = "send offset: ILLEGAL_GEN"
    else:
        label = "send offset: FENCED"
    return Event(inst(i), label, exchanges=(Exchange(GROUP),))


@event_of
def ev_processor_commit(a, b, x, c):
    return Event(inst(a["i"]), "commitTransaction")


@event_of
def ev_processor_abort(a, b, x, c):
    return Event(inst(a["i"]), "abortTransaction")


@event_of
def ev_processor_timeout(a, b, x, c):
    i = a["i"]
    what = "produce" if b["ps_stage"][i] == IN_TXN else "EndTxn"
    return Event(inst(i), f"{what} times out")


@event_of
def ev_processor_commit_offsets(a, b, x, c):
    i = a["i"]
    label = "commitSync: ILLEGAL_GEN" if x["ps_stage"][i] == STOPPED else f"commitSync {x['gc_committed']}"
    return Event(inst(i), label, exchanges=(Exchange(GROUP),))


@event_of
def ev_coordinator_end_txn(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    late = not b["et_live"][i][a["k"]]
    if x["tc_state"][t] != b["tc_state"][t]:
        return Event(TC, f"write {TC_STATES[x['tc_state'][t]]}", late=late)
    # answered within the step: fenced, or nothing to write; a late request's sender no longer listens
    answer = "PRODUCER_FENCED" if _fenced(b, x, i) else "answer at once"
    return Event(TC, answer, exchanges=() if late else (Exchange(inst(i)),), late=late)


@event_of
def ev_coordinator_log_written(a, b, x, c):
    t = a["t"]
    told = [j for j in range(INSTANCES) if x["ps_stage"][j] != b["ps_stage"][j]]
    return Event(TC, f"{TC_STATES[x['tc_state'][t]]} durable",
                 exchanges=tuple(Exchange(inst(j)) for j in told))


@event_of
def ev_coordinator_send_markers(a, b, x, c):
    return Event(TC, "send markers")


@event_of
def ev_coordinator_complete(a, b, x, c):
    return Event(TC, f"write {TC_STATES[x['tc_state'][a['t']]]}")


@event_of
def ev_coordinator_timeout(a, b, x, c):
    return Event(TC, "txn timeout: abort")


@event_of
def ev_coordinator_failover(a, b, x, c):
    return Event(TC, f"fail over (coord. epoch {x['tc_cepoch']})", crash=True, discards=True)


@event_of
def ev_broker_append_txn(a, b, x, c):
    o, i, k = a["o"], a["i"], a["k"]
    at = written(b, x, "ent_kind", "log_len", o)
    if at:
        label = f"append @{','.join(map(str, at))}"
    else:
        label = "reject: FENCED" if _fenced(b, x, i) else "reject"
    late = not b["rq_live"][o][i][k]
    # a late request's sender no longer waits: no answer is drawn back to it
    return Event(out(o), label, exchanges=() if late else (Exchange(inst(i)),), late=late)


@event_of
def ev_broker_write_marker(a, b, x, c):
    o, t = a["o"], a["t"]
    at = written(b, x, "ent_kind", "log_len", o)
    if at:
        return Event(out(o), f"write marker @{','.join(map(str, at))}")
    took = any(x[f][o][t] != b[f][o][t] for f in ("pst_first", "pst_epoch", "pst_cepoch"))
    # nothing written: the partition either took it with no transaction open, or changed nothing
    return Event(out(o), "marker: nothing open" if took else "marker: no change")


@event_of
def ev_groups_write_marker(a, b, x, c):
    if x["gc_committed"] != b["gc_committed"]:
        return Event(GROUP, f"marker: commit offset {x['gc_committed']}")
    if b["mk_kind"][OFFSETS][a["k"]] == ABORT and x["gc_pending"] != b["gc_pending"]:
        return Event(GROUP, "marker: drop pending")
    return Event(GROUP, "marker")
