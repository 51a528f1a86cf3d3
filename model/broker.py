"""The partition leader: the log and the idempotent-producer checks.

Each partition has one replica, its leader, so the high watermark is the log
end offset and an append is acknowledged once it is in the log (``acks=all``
with one in-sync replica).  Replication, leader failover and ``acks=1`` are
not modelled yet (docs/protocol.md §11).

Per producer id the leader keeps what Kafka's ProducerStateManager keeps:
the epoch, the first and last sequence appended in that epoch; the cached
batch metadata of the last ``DEDUP_WINDOW`` (5) batches is the sequence
range ``max(first, last - 4) .. last`` (one record per batch).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, get, implies, ite, ite_list, not_, or_, set_
from deliverycheck.core.spec import Effect, action

from .modes import pipeline
from .environment import (BATCHES, PARTITIONS, SLOTS, can_fault, deliverable, has_room, pushed,
                          removed, request_update, requests, response_update, responses,
                          spend_fault)
from .state import DEDUP_WINDOW, DUPLICATE, FENCED, OK, OUT_OF_ORDER, RETRIABLE


def SESSIONS(c: Any) -> range:
    """Every producer id (one per producer session)."""
    return range(c.bounds.faults + 1)


def produce_check(s: Any, c: Any, p: int, k: int) -> Any:
    """The leader's verdict on batch ``k``: OK, DUPLICATE, FENCED or OUT_OF_ORDER.

    The checks of ProducerStateManager / ProducerAppendInfo, in Kafka's order
    (docs/protocol.md §4):

    1. same epoch and a cached batch with exactly this sequence: duplicate;
    2. epoch lower than the one stored: ``INVALID_PRODUCER_EPOCH`` (fenced);
    3. new epoch: the sequence must be 0; same epoch: last + 1; otherwise
       ``OUT_OF_ORDER_SEQUENCE_NUMBER``;
    4. no state at all for this PID (new, or expired): any sequence.

    Without idempotence the batch carries no PID and is always appended.
    """
    if not c.mode.idempotence:
        return OK
    pid, epoch, seq = s.b_pid[k], s.b_epoch[k], s.b_seq[k]
    known = get(s.ps_known[p], pid)
    st_epoch, first, last = get(s.ps_epoch[p], pid), get(s.ps_first[p], pid), get(s.ps_seq[p], pid)
    cached = and_(known, epoch == st_epoch, seq <= last, seq >= first,
                  seq + (DEDUP_WINDOW - 1) >= last)
    fenced = and_(known, epoch < st_epoch)
    in_sequence = or_(not_(known),
                      and_(epoch > st_epoch, seq == 0),
                      and_(epoch == st_epoch, seq == last + 1))
    return ite(cached, DUPLICATE, ite(fenced, FENCED, ite(in_sequence, OK, OUT_OF_ORDER)))


@action(scope=pipeline, p=PARTITIONS, i=SLOTS, k=BATCHES)
def broker_append(s, c, p, i, k):
    """The leader of partition ``p`` handles the Produce request in slot ``i`` (batch ``k``).

    It runs the idempotence checks (:func:`produce_check`); on ``OK`` it
    appends the batch at the log end and records the producer's epoch and
    sequence; a duplicate is answered ``OK`` without a second append.  With
    ``acks`` other than 0 it sends the response back on the request's
    connection.
    """
    rq, rs = requests(s, p), responses(s, p)
    code = produce_check(s, c, p, k)
    append = code == OK
    then = {**request_update(p, removed(rq, i)),
            ("log", p): ite_list(append, set_(s.log[p], s.log_len[p], k + 1), s.log[p]),
            ("log_len", p): ite(append, s.log_len[p] + 1, s.log_len[p])}
    if c.mode.idempotence:
        pid, known = s.b_pid[k], get(s.ps_known[p], s.b_pid[k])
        new_epoch = or_(not_(known), s.b_epoch[k] != get(s.ps_epoch[p], pid))
        then.update({
            ("ps_known", p): ite_list(append, set_(s.ps_known[p], pid, True), s.ps_known[p]),
            ("ps_epoch", p): ite_list(append, set_(s.ps_epoch[p], pid, s.b_epoch[k]), s.ps_epoch[p]),
            ("ps_first", p): ite_list(and_(append, new_epoch),
                                      set_(s.ps_first[p], pid, s.b_seq[k]), s.ps_first[p]),
            ("ps_seq", p): ite_list(append, set_(s.ps_seq[p], pid, s.b_seq[k]), s.ps_seq[p]),
            "g_dedup": or_(s.g_dedup, code == DUPLICATE)})
    fits = implies(append, s.log_len[p] < c.bounds.log)
    if c.mode.acks != 0:
        # A response can only go back on a connection that is still open: when
        # the producer closed it (timeout, restart) the broker drops the reply.
        open_ = s.rq_conn[p][i] == s.conn[p]
        then.update(response_update(p, ite_list(
            open_, pushed(rs, [k + 1, code, s.rq_conn[p][i]]), rs)))
        fits = and_(fits, implies(open_, has_room(rs)))
    return Effect(when=and_(deliverable(rq, i), s.rq_batch[p][i] == k + 1), fits=fits, then=then)


@action(scope=pipeline, fault=True, p=PARTITIONS, i=SLOTS, k=BATCHES)
def broker_fail_transient(s, c, p, i, k):
    """The leader of ``p`` answers the request in slot ``i`` with a retriable error.

    For example ``NOT_LEADER_OR_FOLLOWER`` during a leadership change, or
    ``REQUEST_TIMED_OUT``: nothing is appended and the producer may retry.
    Only meaningful when the producer waits for responses (``acks`` not 0).
    Spends one fault.
    """
    if c.mode.acks == 0:
        return Effect(when=False)
    rq, rs = requests(s, p), responses(s, p)
    return Effect(
        when=and_(can_fault(s, c), deliverable(rq, i), s.rq_batch[p][i] == k + 1,
                  s.rq_conn[p][i] == s.conn[p]),
        fits=has_room(rs),
        then={**request_update(p, removed(rq, i)),
              **response_update(p, pushed(rs, [k + 1, RETRIABLE, s.rq_conn[p][i]])),
              **spend_fault(s)})


@action(scope=pipeline, fault=True, p=PARTITIONS, q=SESSIONS)
def broker_expire_producer(s, c, p, q):
    """Partition ``p`` forgets the state of producer ``q``.

    Producer state expires after ``producer.id.expiration.ms`` without a
    write, or when retention removes the producer's last batches.  Afterwards
    any sequence from that PID is accepted again (docs/protocol.md §4), so a very
    late retry is appended twice.  Spends one expiry (``bounds.expiries``).
    """
    if c.bounds.expiries == 0 or not c.mode.idempotence:
        return Effect(when=False)
    return Effect(
        when=and_(s.expired < c.bounds.expiries, s.ps_known[p][q]),
        then={("ps_known", p, q): False, ("ps_epoch", p, q): 0, ("ps_first", p, q): 0,
              ("ps_seq", p, q): 0, "expired": s.expired + 1})


ACTIONS = [broker_append, broker_fail_transient, broker_expire_producer]
