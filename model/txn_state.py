"""The state of the exactly-once world: consume, transform, produce (docs/protocol.md §6-§9).

An input partition holds ``bounds.records`` records, already written and
stable (the upstream producer is out of scope here: the delivery-path modes model
it).  A *processor* reads an input record, writes one output record derived
from it to each of two output partitions (or, where the mode routes
records by key, to some of them: ``route``), sends its input offset to the
transaction and commits, all in one Kafka transaction.  A downstream reader
reads the two output partitions.

Actors and their fields:

* processor instances ``i`` (0 = the first, 1 = a new instance started
  later; the old one may keep running as a zombie): ``ps_*``;
* the transaction coordinator (TC), per transactional id ``t``: in-memory
  ``tc_*`` and the durable ``__transaction_state`` log ``tl_*``;
* the partition leaders: output partitions 0 and 1 (logs ``ent_*``) and the
  group's ``__consumer_offsets`` partition (index 2, ``OFFSETS``), with the
  producer state each keeps per transactional producer id: ``pst_*``;
* the group coordinator: committed and pending offsets, generation: ``gc_*``;
* the network: produce requests ``rq_*``, EndTxn requests ``et_*``,
  WriteTxnMarkers requests ``mk_*``.

Records are numbered from 0 in the state and called r1, r2, ... in stories;
epochs are stored as they are (the first InitProducerId returns epoch 1).
A producer id is identified with its transactional id and its epochs: where
``bounds.epochs`` lets them run out, the epochs of the id's successive
producer ids are numbered on (see ``producer_id`` below).

History (ghost) fields tag each transaction *attempt* (one processor's
begin ... commit/abort, numbered 1, 2, ... in the order they began) so that
the promises can talk about "a transaction's records" and "an aborted
transaction" as the application saw them.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import any_, ite
from deliverycheck.core.schema import Field, flag, num

# Transaction coordinator states (TransactionState in Kafka).
EMPTY, ONGOING, PREP_COMMIT, PREP_ABORT, COMPLETE_COMMIT, COMPLETE_ABORT, PREP_FENCE, DEAD = range(8)
TC_STATES = ("Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
             "CompleteAbort", "PrepareEpochFence", "Dead")

# Processor instance stages.
(OFF, INIT, FETCH, READY, IN_TXN, ABORTABLE, COMMITTING, ABORTING, COMMIT_OFFSETS,
 STOPPED) = range(10)
STAGES = ("not started", "initialising (InitProducerId)", "fetching offsets", "ready",
          "in a transaction", "must abort", "committing (EndTxn)", "aborting (EndTxn)",
          "committing offsets", "stopped")

# Output status per partition inside the processor's current transaction.
NOT_SENT, SENT, WRITTEN = range(3)
OUT_STATUS = ("not sent", "sent", "acknowledged")

# Log entry kinds, EndTxn and marker kinds, attempt outcomes.
DATA, COMMIT, ABORT = 1, 2, 3
ENTRY_KINDS = ("-", "data", "COMMIT marker", "ABORT marker")
END_KINDS = ("-", "-", "commit", "abort")      # indexed by COMMIT / ABORT
OPEN, COMMITTED, ABORTED = range(3)
OUTCOMES = ("open", "committed", "aborted")

OUTPUTS = 2          # output partitions
OFFSETS = OUTPUTS    # index of the __consumer_offsets partition among the transaction's partitions
INSTANCES = 2        # the first processor and one that starts later


def INSTANCE(c: Any) -> range:
    """Every processor instance."""
    return range(INSTANCES)


def OUTPUT(c: Any) -> range:
    """Every output partition."""
    return range(OUTPUTS)


def TXN_IDS(c: Any) -> range:
    """Every transactional id."""
    return range(txn_ids(c))


def SLOT(c: Any) -> range:
    """Every request slot of one sender and destination."""
    return range(slots(c))


def txn_ids(c: Any) -> int:
    """Transactional ids: one shared by every instance, or one per instance (KIP-447)."""
    return INSTANCES if c.mode.txn_id_per_instance else 1


def route(c: Any, rec: int) -> tuple[int, ...]:
    """The output partitions input record ``rec`` (numbered from 1) writes (``Mode.routes``)."""
    return c.mode.routes[(rec - 1) % len(c.mode.routes)]


def writes(c: Any, o: int, rec: Any) -> Any:
    """Input record ``rec`` (numbered from 1; a state value) writes output ``o``.

    Plain ``True`` where every record writes ``o`` (the default: each
    record's output goes to both partitions).
    """
    recs = [r for r in range(1, c.bounds.records + 1) if o in route(c, r)]
    if len(recs) == c.bounds.records:
        return True
    return any_(rec == r for r in recs)


def tid(c: Any, i: int) -> int:
    """The transactional id instance ``i`` uses."""
    return i if c.mode.txn_id_per_instance else 0


def attempts(c: Any) -> int:
    """Transaction attempts the bounds allow.

    Every record once, and each record again after each fault (an abort, or
    a zombie and its replacement both processing it), plus the attempts
    that find nothing left to do.
    """
    return (c.bounds.records + 1) * (c.bounds.faults + 1)


def max_seq(c: Any) -> int:
    """Largest sequence number a transactional producer uses on one partition within one epoch.

    Sequences start at 0 under each epoch; each attempt writes a partition at
    most once, so no epoch sees more writes than there are attempts.
    """
    return attempts(c)


def max_epoch(c: Any) -> int:
    """Largest producer epoch: InitProducerId twice, a fence or an EndTxn (TV2) per attempt.

    Where epochs run out (``bounds.epochs``) a move to a new producer id
    skips the old id's last epoch, so at most twice as many.
    """
    most = 2 * attempts(c) + 2 * c.bounds.faults + 3
    return 2 * most if c.bounds.epochs else most


# -- epochs that run out (bounds.epochs; TransactionMetadata.isEpochExhausted) ---------------
#
# Where ``bounds.epochs`` is E > 0 each producer id has epochs 1..E (Kafka's 0..Short.MaxValue,
# scaled down), and the model numbers the epochs of successive producer ids of a
# transactional id on: epoch e of the id's (g+1)-th producer id is g*E + e.  Every check that
# compares epochs (the coordinator's, the partition's producer state, the marker rule) then
# orders an older producer id below a newer one, which is how Kafka fences it: a request of
# the old id is refused by the coordinator (INVALID_PRODUCER_ID_MAPPING, fatal for the client
# since KAFKA-18019) or by the partition, whose state for the old id ends with that id's last
# marker (docs/model.md, "Producer epochs that run out").

def producer_id(c: Any, epoch: int) -> tuple[int, int]:
    """The (producer id number from 1, epoch within it) a model epoch stands for (a plain int)."""
    E = c.bounds.epochs
    if not E or epoch == 0:
        return 1, epoch
    return (epoch - 1) // E + 1, (epoch - 1) % E + 1


def epoch_name(c: Any, epoch: int) -> str:
    """How a story names a model epoch: ``epoch 2``, or where epochs run out ``epoch 2 of
    producer id 1`` (``, its last`` at the last one, which only the coordinator hands out)."""
    if not c.bounds.epochs:
        return f"epoch {epoch}"
    pid, e = producer_id(c, epoch)
    return f"epoch {e} of producer id {pid}{', its last' if e == c.bounds.epochs else ''}"


def _epochs_where(c: Any, epoch: Any, pick) -> Any:
    """``epoch`` is one of the model epochs whose place within its producer id ``pick`` accepts."""
    if not c.bounds.epochs:
        return False
    return any_(epoch == m for m in range(1, max_epoch(c) + 1) if pick(producer_id(c, m)[1]))


def exhausted(c: Any, epoch: Any) -> Any:
    """The producer id has no epoch left to hand out: ``epoch`` is its last but one or its last
    (``isProducerEpochExhausted``: Short.MaxValue - 1 or more; the last is kept for fencing)."""
    return _epochs_where(c, epoch, lambda e: e >= c.bounds.epochs - 1)


def at_last_epoch(c: Any, epoch: Any) -> Any:
    """``epoch`` is its producer id's last (Short.MaxValue): no bump can follow it."""
    return _epochs_where(c, epoch, lambda e: e == c.bounds.epochs)


def next_producer_id(c: Any, epoch: Any) -> Any:
    """The first epoch of the producer id after the one ``epoch`` belongs to (an exhausted one)."""
    return ite(at_last_epoch(c, epoch), epoch + 1, epoch + 2)


def log_capacity(c: Any) -> int:
    """Entries per output log: a record and a marker per attempt (``bounds.log`` if larger)."""
    return max(c.bounds.log, 2 * attempts(c))


def slots(c: Any) -> int:
    """Requests in flight per sender and destination: the current one plus the late ones (a
    marker sent again after a timeout leaves one more behind; where epochs run out an instance
    can be refused without a fault, a self-fence, and restart for free, which leaves up to two
    more: the default bounds of tv2-before-18660 block no step; under TV1 a write refused as
    out of order is resent until its delivery time runs out, without a fault, and may arrive
    after that: one more)."""
    return (c.bounds.faults + 1 + c.bounds.marker_retries + (2 if c.bounds.epochs else 0)
            + (0 if c.variant.tv2 else 1))


def history_fields(c: Any) -> list[Field]:
    """The exactly-once world's history (ghost) fields: transaction attempts and what they did."""
    T, N, E, K = txn_ids(c), attempts(c), max_epoch(c), slots(c)
    I, O, B, L = INSTANCES, OUTPUTS, c.variant.replicas, log_capacity(c)
    return [
        num("g_attempts", N, "transaction attempts begun so far", ghost=True),
        num("ps_tag", N, "attempt the instance is in", ghost=True, shape=(I,)),
        num("tc_tag", N, "attempt the coordinator's current transaction belongs to", ghost=True,
            shape=(T,)),
        num("rq_tag", N, "attempt each produce request belongs to", ghost=True, shape=(O, I, K)),
        num("ent_tag", N, "attempt each log entry belongs to", ghost=True, shape=(O, B, L)),
        flag("ent_stale", "appended after an initTransactions() of its transactional id that "
             "completed once its transaction had begun",
             ghost=True, shape=(O, B, L)),
        num("outcome", 2, "outcome of each attempt", ghost=True, shape=(N + 1,), labels=OUTCOMES),
        num("g_fence", E, "newest epoch InitProducerId handed out, per transactional id",
            ghost=True, shape=(T,)),
        flag("g_fenced", "a request was rejected for a stale epoch or generation", ghost=True),
        flag("g_late", "a request arrived after its sender had given up on it", ghost=True),
        flag("g_reloaded", "a new coordinator found a prepared transaction in the log",
             ghost=True, shape=(T,)),
        flag("g_resent", "a new coordinator resent markers after a failover", ghost=True),
        num("g_init_attempt", N, "transaction attempts begun when initTransactions() last "
            "completed for each transactional id: an attempt numbered up to this began before it",
            ghost=True, shape=(T,)),
        num("g_owner", I, "instance, plus one, that called initTransactions() last for each "
            "transactional id (its InitProducerId granted, or fencing the open transaction)",
            ghost=True, shape=(T,)),
        flag("g_timed_out", "the coordinator has aborted a transaction of the id for a timeout "
             "since initTransactions() was last called", ghost=True, shape=(T,)),
        flag("g_self_fenced", "an instance was told its producer is fenced while no other had "
             "called initTransactions() with its id since it did, and no timeout had aborted "
             "its transaction", ghost=True),
    ] + (takeover_fields(c) if c.mode.txn_id_per_instance else [])


def takeover_fields(c: Any) -> list[Field]:
    """Who had the input when (for ``rebalance_fenced``; only where each instance has its own
    transactional id: with a shared one the latest initTransactions() owns it, ``zombie_fenced``)."""
    return [
        flag("g_superseded", "another instance has taken the input over since this one joined",
             ghost=True, shape=(INSTANCES,)),
        flag("att_old", "the attempt was undecided when another instance took the input over, "
             "or was begun by an instance already superseded", ghost=True,
             shape=(attempts(c) + 1,)),
    ]


def init(c: Any) -> dict[str, Any]:
    """Instance 0 is starting up; every transactional id is Empty with epoch 0."""
    return {"ps_stage": [INIT] + [OFF] * (INSTANCES - 1), "ps_gen": [1] + [0] * (INSTANCES - 1),
            "gc_generation": 1}
