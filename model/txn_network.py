"""The exactly-once world's network: produce, EndTxn and WriteTxnMarkers requests in flight.

Each request channel is a set of parallel rows, one field per message
attribute (model/environment.py has the channel operations): produce
requests per output partition and instance, EndTxn requests per instance,
WriteTxnMarkers requests per partition (the two outputs and the group's
offsets partition).  A request remembers whether its sender still waits for
it (``*_live``): one it gave up on may still arrive, late.  A produce request
carries the producer epoch and the sequence number of its batch.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import set_
from deliverycheck.core.schema import Field, flag, num

from .txn_state import END_KINDS, INSTANCES, OUTPUTS, max_epoch, max_seq, slots, txn_ids


def fields(c: Any) -> list[Field]:
    """The requests in flight (part of the exactly-once schema)."""
    F = max(1, c.bounds.faults)
    R, T, E, K = c.bounds.records, txn_ids(c), max_epoch(c), slots(c)
    I, O = INSTANCES, OUTPUTS
    return [
        num("rq_rec", R, "produce requests in flight per partition and instance: record plus one",
            shape=(O, I, K)),
        num("rq_epoch", E, "producer epoch of each produce request", shape=(O, I, K)),
        flag("rq_live", "the sender still waits for the answer (its connection is open)",
             shape=(O, I, K)),
        num("rq_seq", max_seq(c), "sequence number of each produce request (per partition, from 0 "
            "under each epoch)", shape=(O, I, K)),
        num("et_kind", 3, "EndTxn requests in flight per instance: commit or abort", shape=(I, K),
            labels=END_KINDS),
        num("et_epoch", E, "producer epoch of each EndTxn request", shape=(I, K)),
        flag("et_live", "the sender still waits for the answer", shape=(I, K)),
        num("mk_kind", 3, "WriteTxnMarkers requests in flight per partition: the marker",
            shape=(O + 1, K), labels=END_KINDS),
        num("mk_pid", T - 1 or 1, "producer the marker is for", shape=(O + 1, K)),
        num("mk_epoch", E, "producer epoch the marker carries", shape=(O + 1, K)),
        num("mk_cepoch", F, "coordinator epoch the marker carries", shape=(O + 1, K)),
    ]


# -- the channels' rows, and the updates that write them back ------------------------


def produce_rows(s: Any, o: int, i: int) -> list[list[Any]]:
    """Produce requests from instance ``i`` to output ``o`` (record first: 0 marks a free slot)."""
    return [s.rq_rec[o][i], s.rq_epoch[o][i], s.rq_live[o][i], s.rq_tag[o][i], s.rq_seq[o][i]]


def produce_update(o: int, i: int, rows: list[list[Any]]) -> dict[Any, Any]:
    """``Effect.then`` entries writing the produce requests of ``i`` to ``o``."""
    return {(name, o, i): row for name, row in zip(("rq_rec", "rq_epoch", "rq_live", "rq_tag", "rq_seq"), rows)}


def with_seq(rows: list[list[Any]], k: int, seq: Any) -> list[list[Any]]:
    """The produce rows with the request in slot ``k`` carrying sequence number ``seq``."""
    return [*rows[:4], set_(rows[4], k, seq)]


def end_rows(s: Any, i: int) -> list[list[Any]]:
    """EndTxn requests of instance ``i`` (kind first)."""
    return [s.et_kind[i], s.et_epoch[i], s.et_live[i]]


def end_update(i: int, rows: list[list[Any]]) -> dict[Any, Any]:
    """``Effect.then`` entries writing the EndTxn requests of ``i``."""
    return {(name, i): row for name, row in zip(("et_kind", "et_epoch", "et_live"), rows)}


def marker_rows(s: Any, p: int) -> list[list[Any]]:
    """WriteTxnMarkers requests to partition ``p`` (marker kind first: 0 marks a free slot)."""
    return [s.mk_kind[p], s.mk_pid[p], s.mk_epoch[p], s.mk_cepoch[p]]


def marker_update(p: int, rows: list[list[Any]]) -> dict[Any, Any]:
    """``Effect.then`` entries writing the marker requests to ``p``."""
    return {(name, p): row for name, row in zip(("mk_kind", "mk_pid", "mk_epoch", "mk_cepoch"), rows)}
