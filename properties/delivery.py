"""What Kafka promises about delivery: loss, duplication and order.

Each property is a predicate over one state; its docstring states the
promise exactly, and ``claims`` names the modes whose users rely on it.
``explain`` says, for a concrete state that breaks it, what is wrong there
in the same terms (for the end of a story and a picture).  What each mode
is *expected* to satisfy or break is recorded, with reasons, in
``properties/expected.toml``.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, get, implies
from deliverycheck.model.modes import MODES, pipeline
from deliverycheck.core.spec import always, final, progress
from deliverycheck.model import settled
from deliverycheck.model.partition import failover, leader_end, leader_entry, leader_hw, online
from deliverycheck.model.state import ACKED, BATCH_STATES, IDLE, INFLIGHT, QUEUED, batch_in

# the modes whose users rely on no loss (acks=1 users too: it is what they expect)
NO_LOSS_MODES = ("at-least-once", "at-least-once-acks1", "at-least-once-auto-commit", "idempotent",
                 "idempotent-one-in-flight")
# the modes whose consumer commits by itself (enable.auto.commit=true)
AUTO_COMMIT_MODES = tuple(name for name, m in MODES.items() if m.auto_commit)
DELIVERY_MODES = ("at-most-once", *NO_LOSS_MODES, "auto-commit-worker-thread")
# claims today's Kafka breaks, each with the report of it: a user relies on the promise, and
# the model shows that Kafka does not keep it (the tests require every other claim to hold)
OPEN_BUGS = {("idempotent", "no_duplicate_send"): "KAFKA-14034"}


# -- what a broken promise shows (concrete states only: plain Python is fine here) --

def _entries(s: Any, c: Any) -> list[tuple[int, int, int]]:
    """(partition, offset, batch index) of every entry of each partition's leader's log."""
    return [(p, j, leader_entry(s, c, p, j) - 1) for p in range(c.bounds.partitions)
            for j in range(leader_end(s, c, p)) if leader_entry(s, c, p, j)]


def _offsets_of(s: Any, c: Any, same) -> list[tuple[int, int, list[int]]]:
    """(partition, key, offsets) of every key that ``same(batch)`` gives more than one log entry."""
    groups: dict = {}
    for p, j, k in _entries(s, c):
        groups.setdefault((p, same(k)), []).append(j)
    return [(p, key, js) for (p, key), js in sorted(groups.items()) if len(js) > 1]


def _explain_acked(s, c):
    logged = {k for _, _, k in _entries(s, c)}
    return [f"b{k + 1} (r{s.b_rec[k]}) was acked to the application but is not in the leader's log"
            for k in range(c.bounds.batches) if s.b_state[k] == ACKED and k not in logged]


def _explain_loss(s, c):
    return [f"r{r + 1} was handed to the producer but its effect was never emitted"
            for r in range(c.bounds.records) if r < s.handed and s.out[r] == 0]


def _explain_skip(s, c):
    return [f"r{s.b_rec[k]} is at offset {j} of partition {p} but was never processed"
            for p, j, k in _entries(s, c) if s.out[s.b_rec[k] - 1] == 0]


def _explain_duplicate_log(s, c):
    return [f"r{rec} is in partition {p}'s log {len(js)} times, at offsets {', '.join(map(str, js))}"
            for p, rec, js in _offsets_of(s, c, lambda k: s.b_rec[k])]


def _explain_duplicate_send(s, c):
    return [f"b{k + 1} (one send of r{s.b_rec[k]}) is in partition {p}'s log {len(js)} times, at "
            f"offsets {', '.join(map(str, js))}" for p, k, js in _offsets_of(s, c, lambda k: k)]


def _explain_order(s, c):
    out = []
    entries = _entries(s, c)
    for p, i, a in entries:
        for q, j, b in entries:
            if p == q and i < j and s.b_pid[a] == s.b_pid[b] and a > b:
                out.append(f"P{s.b_pid[a] + 1}'s b{a + 1} (r{s.b_rec[a]}, sent after b{b + 1}) is at "
                           f"offset {i} of partition {p}, before b{b + 1} (r{s.b_rec[b]}) at offset {j}")
    return out


def _explain_output(s, c):
    return [f"r{r + 1}'s effect was emitted more than once" for r, n in enumerate(s.out) if n > 1]


def _explain_unsettled(s, c):
    out = []
    if s.handed < c.bounds.records:
        out.append(f"only {s.handed} of {c.bounds.records} records were handed to the producer")
    out += [f"b{k + 1} (r{s.b_rec[k]}) is still {BATCH_STATES[st]}"
            for k, st in enumerate(s.b_state) if st in (QUEUED, INFLIGHT)]
    wire = sum(1 for rows in (s.rq_batch, s.rs_batch) for row in rows for slot in row if slot)
    if wire:
        out.append(f"{wire} message{'s' if wire != 1 else ''} still in the network")
    if s.c_stage != IDLE:
        out.append("the consumer is not idle")
    for p in range(c.bounds.partitions):
        if not online(s, c, p):
            out.append(f"partition {p} has no leader")
        elif s.pos[p] != leader_end(s, c, p):
            out.append(f"the consumer is at offset {s.pos[p]} of partition {p}, whose leader's log "
                       f"ends at {leader_end(s, c, p)}")
        elif leader_hw(s, c, p) != leader_end(s, c, p):
            out.append(f"partition {p}'s high watermark {leader_hw(s, c, p)} is below its log end")
    if failover(c):
        out += [f"broker {b} is down" for b, up in enumerate(s.up) if not up]
    return out


def _pairs(s: Any, c: Any):
    """Every pair of positions ``i < j`` of a partition's leader's log: (p, entry i, entry j, both written)."""
    for p in range(c.bounds.partitions):
        for j in range(c.bounds.log):
            for i in range(j):
                yield (p, leader_entry(s, c, p, i), leader_entry(s, c, p, j),
                       j < leader_end(s, c, p))


def _record(s: Any, entry: Any) -> Any:
    """The record (plus one) of a log entry holding a batch id plus one."""
    return get(s.b_rec, entry - 1)


@always(scope=pipeline, claims=NO_LOSS_MODES, explain=_explain_acked)
def acked_in_log(s, c):
    """Every record whose send was acknowledged to the application is in the log.

    For every batch whose future completed as acked, that batch is an entry
    of its partition's log as the partition's leader holds it, whichever
    replica leads (at every step, not only at the end; while a partition
    has no leader, at the next one's election).  With ``acks=0`` the
    acknowledgement only means "written to the socket"; with ``acks=1``,
    "in the leader's log", which a failover can take away.
    """
    return all_(implies(and_(s.b_state[k] == ACKED, batch_in(s, c, k, p), online(s, c, p)),
                        any_(leader_entry(s, c, p, i) == k + 1 for i in range(c.bounds.log)))
                for k in range(c.bounds.batches) for p in range(c.bounds.partitions))


@final(scope=pipeline, claims=NO_LOSS_MODES, explain=_explain_loss)
def no_loss(s, c):
    """End to end, nothing is lost: every record handed to the producer is processed.

    In every terminal state (no action enabled), each record the application
    handed to the producer has had its effect emitted by the consumer at
    least once.
    """
    return all_(implies(r < s.handed, s.out[r] >= 1) for r in range(c.bounds.records))


@final(scope=pipeline, claims=NO_LOSS_MODES, explain=_explain_skip)
def no_skip(s, c):
    """The consumer skips nothing: every record that reached a log is processed.

    In every terminal state, each record with an entry in its partition's
    leader's log has had its effect emitted at least once.  This is the
    consumer's half of no loss: committing offsets before processing breaks
    it when the consumer crashes in between.
    """
    return all_(implies(leader_entry(s, c, p, i) != 0,
                        get(s.out, _record(s, leader_entry(s, c, p, i)) - 1) >= 1)
                for p in range(c.bounds.partitions) for i in range(c.bounds.log))


@always(scope=pipeline, claims=("at-most-once",),
        explain=_explain_duplicate_log)
def no_duplicate_log(s, c):
    """No record appears twice in a partition's log.

    Counts every copy, whatever wrote it: a producer retry, a resend by the
    application, or a restarted producer.
    """
    return all_(implies(written, _record(s, a) != _record(s, b)) for p, a, b, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once", "idempotent", "idempotent-one-in-flight"),
        explain=_explain_duplicate_send)
def no_duplicate_send(s, c):
    """No single ``send()`` is written twice: the producer's own retries are deduplicated.

    No batch (one call of ``send()``) occupies two log entries.  A record the
    application sends again is a new batch and is not covered: this is the
    promise of ``enable.idempotence`` (KIP-98), not end-to-end exactly-once.
    """
    return all_(implies(written, a != b) for p, a, b, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once", "idempotent", "idempotent-one-in-flight"),
        explain=_explain_order)
def in_order(s, c):
    """Within a producer session and partition, records appear in send order.

    For any two log entries written by the same producer id, the batch sent
    first (by ``send()`` order) comes first in the log.
    """
    def pid(e):
        return get(s.b_pid, e - 1)
    return all_(implies(and_(written, pid(a) == pid(b)), a <= b) for p, a, b, written in _pairs(s, c))


@always(scope=pipeline, claims=("at-most-once",),
        explain=_explain_output)
def no_duplicate_output(s, c):
    """No record's effect is emitted twice by the consumer (end to end)."""
    return all_(s.out[r] <= 1 for r in range(c.bounds.records))


@progress(scope=pipeline, claims=DELIVERY_MODES, explain=_explain_unsettled)
def can_settle(s, c):
    """Whatever the faults did, once they stop the run can still end properly.

    From every reachable state, some settled state (every record handed
    over, nothing in flight, the consumer idle at the end of every log) is
    reachable by steps that spend no fault.  Unlike ``no_stuck`` this also
    rules out runs that go round in circles without ending.
    """
    return settled(s, c)


@final(scope=pipeline, claims=DELIVERY_MODES, explain=_explain_unsettled)
def no_stuck(s, c):
    """Every run that can make no more steps has properly ended.

    In every terminal state every record was handed over, no batch waits for
    a send or a response, the network is empty and the consumer is idle at
    the end of every log (nothing hangs).
    """
    return settled(s, c)


PROPERTIES = [acked_in_log, no_loss, no_skip, no_duplicate_log, no_duplicate_send, in_order,
              no_duplicate_output, no_stuck, can_settle]
