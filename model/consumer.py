"""The consumer, its processing loop, and the group coordinator's offsets.

One consumer in one group reads every partition (docs/protocol.md §5).  Its loop
handles one record at a time:

* commit **after** processing (at-least-once): poll, process, commit;
* commit **before** processing (at-most-once): poll, commit, process;
* ``enable.auto.commit=true`` (the consumer's default): poll, process, and a
  later ``poll()`` commits what the earlier ones returned
  (:func:`consumer_auto_commit`); or, with a worker thread, poll, hand the
  record over and poll again while the worker processes it.

``commitSync()`` stores the consumer's positions as the group's committed
offsets.  After a crash the consumer restarts from the committed offsets,
not from where it had got to.  Processing a record emits its effect to an
output, recorded in the ghost field ``out`` (0, 1, or 2 for "more than once").

The consumer fetches from each partition's leader, and only below its high
watermark (model/partition.py).

Simplifications: one record per poll (and one in a worker's hands); a
crash and restart are one step,
and a crash that would change nothing (nothing in hand and nothing
uncommitted) is not modelled.  After a failover that truncated the log
below its position the consumer's fetch is out of range and it resets to
the high watermark (``auto.offset.reset=latest``); KIP-320's detection of
truncation (reset to the divergence point) is not modelled yet.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, any_, get, ite, or_
from deliverycheck.core.scene import Event, Exchange
from deliverycheck.core.schema import Field, num
from deliverycheck.core.spec import Effect, action

from .modes import pipeline
from .environment import BATCHES, PARTITIONS, can_fault, spend_fault
from .partition import REPLICAS, failover_pipeline, leads
from .partition import lane as replica_lane
from .producer import RECORDS
from .state import COMMITTED, CONSUMER_STAGES, IDLE, MANY, POLLED, PROCESSED
from .telling import GROUP, event_of, offsets, teller


# -- the consumer's state ----------------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The consumer's and its group coordinator's state (part of the delivery path's schema)."""
    R, L, P = c.bounds.records, c.bounds.log, c.bounds.partitions
    return [
        num("pos", L, "consumer position per partition", shape=(P,)),
        num("committed", L, "committed offset per partition (group coordinator)", shape=(P,)),
        num("c_stage", 3, "consumer loop stage: idle/polled/processed/committed",
            labels=CONSUMER_STAGES),
        num("c_rec", R, "record in the consumer's hands, plus one"),
    ]


# -- the consumer's steps -------------------------------------------------------------


def _after_poll(c: Any) -> int:
    """Stage from which the record is processed."""
    return COMMITTED if c.mode.commit_before_processing else POLLED


def _after_processing(c: Any) -> int:
    """Stage the consumer is in once the record is processed."""
    return IDLE if c.mode.commit_before_processing or c.mode.auto_commit else PROCESSED


def commits_by_hand(c: Any) -> bool:
    """The delivery path's application calls ``commitSync()`` itself."""
    return pipeline(c) and not c.mode.auto_commit


def auto_commits(c: Any) -> bool:
    """The delivery path's consumer commits by itself (``enable.auto.commit=true``)."""
    return pipeline(c) and c.mode.auto_commit


@action(scope=pipeline, p=PARTITIONS, k=BATCHES, r=REPLICAS)
def consumer_poll(s, c, p, k, r):
    """``poll()`` returns the record at the consumer's position in partition ``p``.

    The fetch goes to ``p``'s leader, replica ``r``, which returns only what
    is below its high watermark.  The log entry there holds batch ``k``; the
    consumer takes its record in hand and advances its position by one.
    """
    pos = s.pos[p]
    then = {"c_stage": POLLED, "c_rec": s.b_rec[k], ("pos", p): pos + 1}
    if failover_pipeline(c):  # history: what the consumer was returned at each offset (first read)
        then[("g_read", p)] = [ite(and_(j == pos, g == 0), k + 1, g) for j, g in enumerate(s.g_read[p])]
    return Effect(
        when=and_(s.c_stage == IDLE, leads(s, p, r), pos < s.hw[p][r],
                  get(s.log[p][r], pos) == k + 1),
        then=then)


@action(scope=failover_pipeline, p=PARTITIONS, r=REPLICAS)
def consumer_reset(s, c, p, r):
    """The consumer's position in ``p`` is past the leader's log end: it resets.

    After a failover to a replica with a shorter log, the fetch at the
    consumer's position fails with ``OFFSET_OUT_OF_RANGE`` and the consumer
    applies ``auto.offset.reset`` (``ListOffsets`` with the LATEST or the
    EARLIEST timestamp, ``OffsetResetStrategy``): ``latest`` moves it to the
    leader's high watermark (what ListOffsets answers a consumer), skipping
    what the new leader has beyond the consumer's last read, ``earliest``
    to the log start (offset 0: nothing is deleted in the model), reading
    again what it had read.  The consumer reads only below the high
    watermark, which a clean election with leader-epoch truncation never
    takes away, so in those configurations this step never fires
    (expected.toml pins it as ``never_fired``).
    """
    where = 0 if c.mode.offset_reset == "earliest" else s.hw[p][r]
    return Effect(when=and_(s.c_stage == IDLE, leads(s, p, r), s.pos[p] > s.log_len[p][r]),
                  then={("pos", p): where})


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
              "c_stage": _after_processing(c)})


@action(scope=commits_by_hand)
def consumer_commit(s, c):
    """``commitSync()``: the group coordinator stores the consumer's positions.

    OffsetCommit of every partition's position; afterwards a restart resumes
    there.
    """
    before = c.mode.commit_before_processing
    return Effect(
        when=s.c_stage == (POLLED if before else PROCESSED),
        then={"committed": list(s.pos), "c_stage": COMMITTED if before else IDLE})


@action(scope=auto_commits)
def consumer_auto_commit(s, c):
    """``enable.auto.commit=true``: a ``poll()`` commits the positions of what earlier polls returned.

    Every ``auto.commit.interval.ms`` the consumer's ``poll()`` sends an
    OffsetCommit of every partition's position, the offset after the last
    record ``poll()`` has returned (``ConsumerCoordinator.
    maybeAutoCommitOffsetsAsync``; in the new consumer ``CommitRequestManager.
    maybeAutoCommitAsync``).  A loop that processes each record before its
    next ``poll()`` thus commits only processed records (the KafkaConsumer
    documentation's condition for at-least-once).  A worker thread breaks
    that condition: the loop polls again while the worker still has the
    record, and the commit covers it.  So does the new consumer before the
    fix of KAFKA-18641, whose background thread could take the positions
    while ``poll()`` was returning the records they had just moved past.
    When the interval passes is not modelled: the commit may happen at any
    such ``poll()``, or never.  The commit is asynchronous; the model lets
    it arrive at once (a lost or late one commits less, as no commit at all
    does).
    """
    ahead = c.mode.worker_thread or c.variant.auto_commit_ahead
    polling = or_(s.c_stage == IDLE, s.c_stage == POLLED) if ahead else s.c_stage == IDLE
    return Effect(when=and_(polling, any_(q != d for q, d in zip(s.pos, s.committed))),
                  then={"committed": list(s.pos)})


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


ACTIONS = [consumer_poll, consumer_reset, consumer_process, consumer_commit, consumer_auto_commit,
           consumer_restart]


# -- how the consumer's steps are told (stories) --------------------------------------


@teller
def tell_consumer_poll(a, b, x, c):
    p = a["p"]
    got = f"r{x['c_rec']}" if x["c_rec"] else "nothing"
    where = f" from replica {a['r']}" if c.variant.replicated else ""
    return (f"the consumer polls {got} at offset {b['pos'][p]} of partition {p}{where}; its "
            f"position becomes {x['pos'][p]}")


@teller
def tell_consumer_reset(a, b, x, c):
    p = a["p"]
    return (f"the consumer's offset {b['pos'][p]} of partition {p} is out of range (the leader's "
            f"log ends at {b['log_len'][p][a['r']]}); it resets to {x['pos'][p]}")


@teller
def tell_consumer_process(a, b, x, c):
    r = a["r"]
    times = x["out"][r]
    if times == b["out"][r]:  # the ghost count stops at "more than once"
        return f"the consumer processes r{r + 1}: its effect is emitted again (a third time or more)"
    again = "" if times == 1 else f" (time {times})"
    return f"the consumer processes r{r + 1}: its effect is emitted{again}"


@teller
def tell_consumer_commit(a, b, x, c):
    same = " (unchanged)" if x["committed"] == b["committed"] else ""
    return f"the consumer commits offsets {offsets(x['committed'])}{same}"


@teller
def tell_consumer_auto_commit(a, b, x, c):
    unprocessed = (f", although r{b['c_rec']}, which it returned, is not processed yet"
                   if b["c_stage"] == POLLED else "")
    return (f"the consumer's poll() auto-commits offsets {offsets(x['committed'])} (the "
            f"positions after what it has returned){unprocessed}")


@teller
def tell_consumer_restart(a, b, x, c):
    if x["pos"] == x["committed"]:
        return f"the consumer crashes and restarts from the committed offsets {offsets(x['pos'])}"
    return (f"the consumer crashes and restarts at offsets {offsets(x['pos'])} (the committed "
            f"offsets are {offsets(x['committed'])})")


# -- how the consumer's steps are drawn (sequence diagrams) ------------------------------


# the consumer's lane id in sequence diagrams (its group coordinator's is telling.GROUP)
CONSUMER = "C"


@event_of
def ev_consumer_poll(a, b, x, c):
    p = a["p"]
    return Event(CONSUMER, f"poll r{x['c_rec']} @{b['pos'][p]} of p{p}",
                 exchanges=(Exchange(replica_lane(c, p, a["r"]), inbound=True),))


@event_of
def ev_consumer_reset(a, b, x, c):
    p = a["p"]
    return Event(CONSUMER, f"out of range: reset p{p} to {x['pos'][p]}",
                 exchanges=(Exchange(replica_lane(c, p, a["r"]), inbound=True),))


@event_of
def ev_consumer_process(a, b, x, c):
    times, before = x["out"][a["r"]], b["out"][a["r"]]
    # the ghost count stops at "more than once" (model/consumer.py)
    note = "" if times == 1 else f" (time {times})" if times > before else " (again)"
    return Event(CONSUMER, f"process r{a['r'] + 1}{note}")


@event_of
def ev_consumer_commit(a, b, x, c):
    offsets = ",".join(str(o) for o in x["committed"])
    return Event(CONSUMER, f"commit offsets {offsets}", exchanges=(Exchange(GROUP),))


@event_of
def ev_consumer_auto_commit(a, b, x, c):
    offsets = ",".join(str(o) for o in x["committed"])
    return Event(CONSUMER, f"auto-commit offsets {offsets}", exchanges=(Exchange(GROUP),))


@event_of
def ev_consumer_restart(a, b, x, c):
    offsets = ",".join(str(o) for o in x["pos"])
    return Event(CONSUMER, f"resume at {offsets}", crash=True,
                 exchanges=(Exchange(GROUP, inbound=True),))
