"""The exactly-once world's picture: its lanes, channels and the reader, for sequence diagrams.

Lanes: the processor instances I1, I2 (I2 starts later; I1 may go on as a
zombie), the transaction coordinator, the leaders of the output partitions
o0 and o1 (with replicas: the brokers and the controller), and the group
coordinator (which leads ``__consumer_offsets``).  Messages wait in three
channels: produce requests (``rq_*``), EndTxn (``et_*``) and WriteTxnMarkers
(``mk_*``).  Calls the model completes within one step (InitProducerId,
AddPartitionsToTxn, TxnOffsetCommit, JoinGroup, OffsetFetch, the answers the
TC and the leaders give) are exchanges.  Each actor's module draws its own
steps (``ev_*``).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.scene import Channel, Lane, Observer

from .telling import GROUP
from .txn_state import INSTANCES, OUTPUTS, epoch_name
from .txn_telling import MARKER_KINDS as _KIND
from .txn_telling import READER, TC, inst, out, out_lane


def txn_lanes(c: Any) -> list[Lane]:
    """Every lane of the exactly-once world, left to right (with replicas, one per broker and
    the controller's instead of one per output partition's leader)."""
    if c.variant.replicated:
        from .partition import lanes
        outputs = lanes(c)
    else:
        outputs = [Lane(out(o), f"leader of o{o}") for o in range(OUTPUTS)]
    return ([Lane(inst(i), f"instance I{i + 1}") for i in range(INSTANCES)]
            + [Lane(TC, "transaction coordinator")] + outputs
            + [Lane(GROUP, "group coordinator")])


def reader_returned(s: Any, c: Any) -> list[tuple[str, str]]:
    """What the downstream reader has been returned in the concrete state view ``s``:
    every record a fetch with the mode's isolation level returns (broker_txn.fetched)."""
    from .broker_txn import col, fetched
    from .txn_state import log_capacity
    return [(out_lane(c, o, s), f"r{col(s, c, 'ent_rec', o)[j]} @{j} (#{col(s, c, 'ent_tag', o)[j]})")
            for o in range(OUTPUTS) for j in range(log_capacity(c)) if fetched(s, c, o, j)]


def txn_observers(c: Any) -> list[Observer]:
    """The downstream reader of the output partitions, which the model computes, not steps."""
    return [Observer("reader", Lane(READER, f"downstream reader ({c.mode.isolation})"),
                     reader_returned)]


def txn_channels(c: Any) -> list[Channel]:
    """Produce requests, EndTxn requests, WriteTxnMarkers requests."""
    return [
        Channel("produce", ("rq_rec", "rq_epoch", "rq_tag", "rq_seq", "rq_live"), 4,
                src=lambda ix, v, s: inst(ix[1]), dst=lambda ix, v, s: out_lane(c, ix[0], s),
                label=lambda ix, v, s: f"Produce r{v[0]} ({epoch_name(c, v[1])}, seq {v[3]})"),
        Channel("end_txn", ("et_kind", "et_epoch", "et_live"), 2,
                src=lambda ix, v, s: inst(ix[0]), dst=lambda ix, v, s: TC,
                label=lambda ix, v, s: f"EndTxn({_KIND[v[0]].lower()}, {epoch_name(c, v[1])})"),
        Channel("markers", ("mk_kind", "mk_pid", "mk_epoch", "mk_cepoch"), 4,
                src=lambda ix, v, s: TC, dst=lambda ix, v, s: out_lane(c, ix[0], s),
                label=lambda ix, v, s: f"{_KIND[v[0]]} marker ({epoch_name(c, v[2])})"),
    ]

