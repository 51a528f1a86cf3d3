"""What Kafka promises about delivery: loss, duplication and order.

Each property is a predicate over one state; its docstring states the
promise exactly, and ``claims`` names the modes whose users rely on it.
What each mode is *expected* to satisfy or break is recorded, with reasons,
in ``properties/expected.toml``.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, get, implies
from deliverycheck.model.modes import pipeline
from deliverycheck.core.spec import always, final, progress
from deliverycheck.model import settled
from deliverycheck.model.state import ACKED


def _pairs(s: Any, c: Any):
    """Every pair of log positions ``i < j`` of one partition that are both written."""
    for p in range(c.bounds.partitions):
        for j in range(c.bounds.log):
            for i in range(j):
                yield p, i, j, j < s.log_len[p]


def _record(s: Any, entry: Any) -> Any:
    """The record (plus one) of a log entry holding a batch id plus one."""
    return get(s.b_rec, entry - 1)


@always(scope=pipeline, claims=("at-least-once", "idempotent"))
def acked_in_log(s, c):
    """Every record whose send was acknowledged to the application is in the log.

    For every batch whose future completed as acked, that batch is an entry
    of its partition's log (at every step, not only at the end).  With
    ``acks=0`` the acknowledgement only means "written to the socket".
    """
    return all_(implies(s.b_state[k] == ACKED,
                        any_(s.log[p][i] == k + 1 for p in range(c.bounds.partitions)
                             for i in range(c.bounds.log)))
                for k in range(c.bounds.batches))


@final(scope=pipeline, claims=("at-least-once", "idempotent"))
def no_loss(s, c):
    """End to end, nothing is lost: every record handed to the producer is processed.

    In every terminal state (no action enabled), each record the application
    handed to the producer has had its effect emitted by the consumer at
    least once.
    """
    return all_(implies(r < s.handed, s.out[r] >= 1) for r in range(c.bounds.records))


@final(scope=pipeline, claims=("at-least-once", "idempotent"))
def no_skip(s, c):
    """The consumer skips nothing: every record that reached a log is processed.

    In every terminal state, each record with an entry in its partition's
    log has had its effect emitted at least once.  This is the consumer's
    half of no loss: committing offsets before processing breaks it when the
    consumer crashes in between.
    """
    return all_(implies(and_(i < s.log_len[p], s.log[p][i] != 0),
                        get(s.out, _record(s, s.log[p][i]) - 1) >= 1)
                for p in range(c.bounds.partitions) for i in range(c.bounds.log))


@always(scope=pipeline, claims=("at-most-once",))
def no_duplicate_log(s, c):
    """No record appears twice in a partition's log.

    Counts every copy, whatever wrote it: a producer retry, a resend by the
    application, or a restarted producer.
    """
    return all_(implies(written, _record(s, s.log[p][i]) != _record(s, s.log[p][j]))
                for p, i, j, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once", "idempotent"))
def no_duplicate_send(s, c):
    """No single ``send()`` is written twice: the producer's own retries are deduplicated.

    No batch (one call of ``send()``) occupies two log entries.  A record the
    application sends again is a new batch and is not covered: this is the
    promise of ``enable.idempotence`` (KIP-98), not end-to-end exactly-once.
    """
    return all_(implies(written, s.log[p][i] != s.log[p][j]) for p, i, j, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once", "idempotent"))
def in_order(s, c):
    """Within a producer session and partition, records appear in send order.

    For any two log entries written by the same producer id, the batch sent
    first (by ``send()`` order) comes first in the log.
    """
    def pid(e):
        return get(s.b_pid, e - 1)
    return all_(implies(and_(written, pid(s.log[p][i]) == pid(s.log[p][j])),
                        s.log[p][i] <= s.log[p][j])
                for p, i, j, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once",))
def no_duplicate_output(s, c):
    """No record's effect is emitted twice by the consumer (end to end)."""
    return all_(s.out[r] <= 1 for r in range(c.bounds.records))


@progress(scope=pipeline, claims=("at-most-once", "at-least-once", "idempotent"))
def can_settle(s, c):
    """Whatever the faults did, once they stop the run can still end properly.

    From every reachable state, some settled state (every record handed
    over, nothing in flight, the consumer idle at the end of every log) is
    reachable by steps that spend no fault.  Unlike ``no_stuck`` this also
    rules out runs that go round in circles without ending.
    """
    return settled(s, c)


@final(scope=pipeline, claims=("at-most-once", "at-least-once", "idempotent"))
def no_stuck(s, c):
    """Every run that can make no more steps has properly ended.

    In every terminal state every record was handed over, no batch waits for
    a send or a response, the network is empty and the consumer is idle at
    the end of every log (nothing hangs).
    """
    return settled(s, c)


PROPERTIES = [acked_in_log, no_loss, no_skip, no_duplicate_log, no_duplicate_send, in_order,
              no_duplicate_output, no_stuck, can_settle]
