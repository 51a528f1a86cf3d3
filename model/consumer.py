"""The consumer, its processing loop, and the group coordinator's offsets.

One consumer in one group reads every partition (docs/protocol.md §5).  Its loop
handles one record at a time:

* commit **after** processing (at-least-once): poll, process, commit;
* commit **before** processing (at-most-once): poll, commit, process.

``commitSync()`` stores the consumer's positions as the group's committed
offsets.  After a crash the consumer restarts from the committed offsets,
not from where it had got to.  Processing a record emits its effect to an
output, recorded in the ghost field ``out`` (0, 1, or 2 for "more than once").

Simplifications: one record per poll; the consumer reads up to the log end
(one replica, so the high watermark is the log end); a crash and restart
are one step, and a crash that would change nothing (nothing in hand and
nothing uncommitted) is not modelled.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, any_, get, ite, or_
from deliverycheck.core.spec import Effect, action

from .modes import pipeline
from .environment import BATCHES, PARTITIONS, can_fault, spend_fault
from .producer import RECORDS
from .state import COMMITTED, IDLE, MANY, POLLED, PROCESSED


def _after_poll(c: Any) -> int:
    """Stage from which the record is processed."""
    return COMMITTED if c.mode.commit_before_processing else POLLED


@action(scope=pipeline, p=PARTITIONS, k=BATCHES)
def consumer_poll(s, c, p, k):
    """``poll()`` returns the record at the consumer's position in partition ``p``.

    The log entry there holds batch ``k``; the consumer takes its record in
    hand and advances its position by one.
    """
    return Effect(
        when=and_(s.c_stage == IDLE, s.pos[p] < s.log_len[p], get(s.log[p], s.pos[p]) == k + 1),
        then={"c_stage": POLLED, "c_rec": s.b_rec[k], ("pos", p): s.pos[p] + 1})


@action(scope=pipeline, r=RECORDS)
def consumer_process(s, c, r):
    """The application processes record ``r``: it emits the record's effect.

    With commit-after-processing this follows the poll; with
    commit-before-processing it follows the commit.  The ghost count
    ``out`` stops at two (``MANY``, "more than once"): the promises ask only
    whether an effect was emitted and whether more than once, and a count
    that stops needs no capacity a proof would have to rule out.
    """
    return Effect(
        when=and_(s.c_stage == _after_poll(c), s.c_rec == r + 1),
        then={("out", r): ite(s.out[r] < MANY, s.out[r] + 1, MANY), "c_rec": 0,
              "c_stage": IDLE if c.mode.commit_before_processing else PROCESSED})


@action(scope=pipeline)
def consumer_commit(s, c):
    """``commitSync()``: the group coordinator stores the consumer's positions.

    OffsetCommit of every partition's position; afterwards a restart resumes
    there.
    """
    before = c.mode.commit_before_processing
    return Effect(
        when=s.c_stage == (POLLED if before else PROCESSED),
        then={"committed": list(s.pos), "c_stage": COMMITTED if before else IDLE})


@action(scope=pipeline, fault=True)
def consumer_restart(s, c):
    """The consumer crashes and restarts from the committed offsets.

    OffsetFetch returns the group's committed offsets; whatever was polled
    but not committed is read again, and whatever was committed but not
    processed is never processed.  Spends one fault.
    """
    unsettled = or_(s.c_stage != IDLE, any_(q != d for q, d in zip(s.pos, s.committed)))
    return Effect(
        when=and_(can_fault(s, c), unsettled),
        then={"c_stage": IDLE, "c_rec": 0, "pos": list(s.committed),
              "g_consumer_restarted": True, **spend_fault(s)})


ACTIONS = [consumer_poll, consumer_process, consumer_commit, consumer_restart]
