"""The replicated partition: leader, followers, the ISR, the high watermark, failover.

One actor, in one place: its state (:func:`fields`), its steps (the actions
below), and how each step is told (``tell_*``, for stories) and drawn
(``ev_*``, for sequence diagrams).  docs/protocol.md §4 and §11 say what
Kafka does; each step cites the class or KIP it follows.

Both worlds use it: the delivery path's partitions (an entry is a batch)
and the exactly-once world's output partitions (an entry is a record or a
COMMIT/ABORT marker, :func:`entry_columns`; model/broker_txn.py appends to
the leader's log and tells this module, through :data:`TXN_HOOKS`, what a
lost leader and a new one mean to its requests and producer state).

Each partition has ``replication.factor`` replicas (``c.variant.replicas``),
replica ``b`` on broker ``b``; replica 0 leads at first (the preferred
leader).  Per replica: the log (each entry a batch plus one, and the leader
epoch it was appended in), the log end offset, the high watermark, the
idempotent-producer state (Kafka's ProducerStateManager, kept by followers
too).  Per partition: the leader (``NO_LEADER`` while offline), the leader
epoch and the offset it started at, the ISR, the leader's view of each
follower's log end (its last fetch offset), and the acks=all answers the
leader still owes.

With KIP-966 (the ``elr`` variants) each partition also has its eligible
leader replicas and its last known leader (:func:`isr_change`,
:func:`eligible`).

With one replica (the default variant) the leader never changes, the high
watermark is the log end and no replication step exists: the worlds are the
ones checked before replication was modelled, state for state.

Simplifications (docs/model.md, "Replication", argues why no verdict
depends on them):

* a follower fetch is one step: the leader records the fetch offset, moves
  its high watermark, and the follower appends the next entry and learns
  the high watermark (one entry per fetch);
* the controller is one step per election (KRaft's quorum or ZooKeeper are
  not modelled); it elects the first eligible replica in assignment order,
  and a crash or a restart waits while an election is pending (Kafka
  elects in the same change that fences or unfences a broker);
* a crash is noticed at once: the broker is fenced in the same step (in
  Kafka a dead broker stays in the ISR until its session expires);
* leadership changes only when the leader's broker crashes (no preferred
  leader election, no leader cut off from the controller);
* an ISR change is one step (the AlterPartition round trip is not modelled)
  and does not bump the leader epoch (Kafka before 3.6 did, KAFKA-15021);
* a broker's crash and its restart are two steps; the restart is free, so
  a partition is offline only until a broker returns.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, any_, count, get, implies, ite, ite_list, not_, or_, set_
from deliverycheck.core.scene import Event, Exchange, Lane
from deliverycheck.core.schema import Field, flag, num
from deliverycheck.core.spec import Effect, action, value_at

from .environment import (BATCHES, PARTITIONS, SLOTS, can_fault, deliverable, has_room, pushed,
                          removed, request_update, requests, response_update, responses,
                          spend_fault)
from .modes import pipeline, transactional
from .state import (DEDUP_WINDOW, DUPLICATE, FENCED, INFLIGHT, NOT_ENOUGH, NOT_ENOUGH_AFTER, OK,
                    OUT_OF_ORDER, QUEUED, RESPONSE_CODES, RETRIABLE, batch_in, max_conn,
                    max_epoch)
from .telling import answered, event_of, listing, request_name, teller, written
from .txn_state import INSTANCES, OUTPUTS, log_capacity

# What a leader's loss and a new leader mean to the exactly-once world around its output
# partitions (its requests, answers and markers; its producer state), registered by
# model/broker_txn.py so that this module needs nothing of that world:
#   leader_lost(s, c, p, led) -> (updates, fits);  new_leader(s, c, p, r) -> updates.
TXN_HOOKS: dict[str, Any] = {}


# -- domains and sizes ------------------------------------------------------------


def REPLICAS(c: Any) -> range:
    """Every replica of a partition (replica ``b`` lives on broker ``b``)."""
    return range(c.variant.replicas)


def BROKERS(c: Any) -> range:
    """Every broker: one per replica."""
    return range(c.variant.replicas)


def SESSIONS(c: Any) -> range:
    """Every producer id (one per producer session)."""
    return range(c.bounds.faults + 1)


def PARTS(c: Any) -> range:
    """Every partition this component models: the delivery path's partitions, or the
    exactly-once world's output partitions (its offsets partition has one replica)."""
    return range(OUTPUTS) if c.mode.transactional else range(c.bounds.partitions)


def log_size(c: Any) -> int:
    """Entries a replica's log can hold."""
    return log_capacity(c) if c.mode.transactional else c.bounds.log


def OFFSETS(c: Any) -> range:
    """Every log position."""
    return range(log_size(c))


def KEEP(c: Any) -> range:
    """What a crashed broker's logs keep: ``j`` entries at most, or (``log``) all of them.
    Power losses are modelled on the delivery path (``bounds.unflushed``) only."""
    if c.mode.transactional:
        return range(log_size(c), log_size(c) + 1)
    return range(log_size(c) + 1)


def replicated(c: Any) -> bool:
    """The partitions have followers (replication steps exist)."""
    return c.variant.replicated


def failover_pipeline(c: Any) -> bool:
    """A partition of the delivery path can lose its leader."""
    return pipeline(c) and failover(c)


def replicated_pipeline(c: Any) -> bool:
    """The delivery path's partitions have followers."""
    return pipeline(c) and c.variant.replicated


def replicated_txn(c: Any) -> bool:
    """The exactly-once world's output partitions have followers."""
    return transactional(c) and c.variant.replicated


def failover(c: Any) -> bool:
    """A partition can lose its leader: it has followers, or (delivery path) a crash can lose
    unflushed data (``bounds.unflushed``), after which the one replica is elected again."""
    return c.variant.replicated or (pipeline(c) and c.bounds.unflushed > 0)


def entry_columns(c: Any) -> tuple[str, ...]:
    """The fields that make up one log entry, copied together by a follower's fetch.

    The delivery path's entry is a batch; the exactly-once world's is a data
    record or a control record (COMMIT/ABORT marker) with its producer, epochs
    and history.  Every entry also carries the leader epoch it was appended in.
    """
    if c.mode.transactional:
        return ("ent_kind", "ent_rec", "ent_pid", "ent_epoch", "ent_seq", "ent_cepoch", "ent_tag",
                "ent_stale", "lep")
    # an idempotent batch is written with the epoch and sequence its request carried
    return ("log", "lep", "lpe", "lseq") if c.mode.idempotence else ("log", "lep")


def no_leader(c: Any) -> int:
    """The value of ``leader`` while a partition has none (it is offline)."""
    return c.variant.replicas


def max_leader_epoch(c: Any) -> int:
    """Largest leader epoch: one election per crash of a leader, each a fault or an unflushed loss."""
    return max(1, c.bounds.faults + c.bounds.unflushed) if failover(c) else 1


def _replica_state(c: Any) -> list[Field]:
    """Per replica and partition: high watermark, leadership, ISR, fetch progress, brokers."""
    P, R, L = len(PARTS(c)), c.variant.replicas, log_size(c)
    return [
        num("hw", L, "high watermark of each replica (the leader's decides what is committed)",
            shape=(P, R)),
        num("leader", R, f"replica leading each partition ({R}: none, the partition is offline)",
            shape=(P,)),
        num("lepoch", max_leader_epoch(c), "current leader epoch", shape=(P,)),
        num("estart", L, "offset the current leader epoch starts at", shape=(P,)),
        flag("isr", "the replica is in the in-sync replica set", shape=(P, R)),
        num("seen", L + 1, "the leader's view of each follower's log end: its last fetch offset "
            "plus one (0: unknown, no fetch since the leader took over)",
            shape=(P, R)),
        flag("up", "the broker is running", shape=(R,)),
        flag("trunc", "the follower must find where it diverges from the leader before fetching",
             shape=(P, R)),
    ]


def _lep(c: Any) -> Field:
    P, R, L = len(PARTS(c)), c.variant.replicas, log_size(c)
    return num("lep", max_leader_epoch(c), "leader epoch each entry was appended in", shape=(P, R, L))


def txn_fields(c: Any) -> list[Field]:
    """The output partitions' replication fields (part of the exactly-once schema; none with one
    replica: the entries' own fields are in model/txn_state.py)."""
    if not replicated(c):
        return []
    O, R, L = OUTPUTS, c.variant.replicas, log_size(c)
    return [
        _lep(c),
        num("ent_cepoch", max(1, c.bounds.faults), "coordinator epoch a marker carries "
            "(a new leader rebuilds producer state from it)", shape=(O, R, L)),
        *_replica_state(c),
        num("pend", INSTANCES + 1, "answer the leader owes for each offset once it is below the "
            f"high watermark: the produce answer to instance i (i + 1), or ({INSTANCES + 1}) the "
            "WriteTxnMarkers answer to the coordinator", shape=(O, L)),
        flag("g_truncated", "a replica has removed entries from its log", ghost=True),
    ] + (_elr_fields(c) if c.variant.elr else [])


def fields(c: Any) -> list[Field]:
    """The partition's state fields (part of the delivery path's schema)."""
    P, R, L, B = c.bounds.partitions, c.variant.replicas, c.bounds.log, c.bounds.batches
    S, E = c.bounds.faults + 1, max_epoch(c)
    return [
        num("log", B, "each replica's log: batch plus one per entry", shape=(P, R, L)),
        _lep(c),
        *([num("lpe", E, "producer epoch each entry was written with", shape=(P, R, L)),
           num("lseq", B, "sequence number each entry was written with", shape=(P, R, L))]
          if c.mode.idempotence else []),
        num("log_len", L, "log end offset of each replica", shape=(P, R)),
        *_replica_state(c),
        num("pend", max_conn(c) + 1, "acks=all answer the leader owes for each offset: connection "
            "plus one", shape=(P, L)),
        flag("ps_known", "the replica holds producer state for this PID", shape=(P, R, S)),
        num("ps_epoch", E, "producer epoch the replica holds for each PID", shape=(P, R, S)),
        num("ps_first", B, "first sequence appended in that epoch", shape=(P, R, S)),
        num("ps_seq", B, "last sequence appended for each PID", shape=(P, R, S)),
        num("expired", max(1, c.bounds.expiries), "producer-state expirations so far"),
        num("unflushed", max(1, c.bounds.unflushed), "crashes that lost a log's unflushed suffix"),
        num("g_read", B, "batch the consumer was first returned at each offset, plus one",
            ghost=True, shape=(P, L)),
        flag("g_truncated", "a replica has removed entries from its log", ghost=True),
    ] + (_elr_fields(c) if c.variant.elr else [])


def _elr_fields(c: Any) -> list[Field]:
    """KIP-966's eligible leader replicas and last known leader (the ``elr`` variants)."""
    P, R = len(PARTS(c)), c.variant.replicas
    return [
        flag("elr", "eligible leader replica: left the ISR while it was below "
             "min.insync.replicas, so it holds everything below the high watermark", shape=(P, R)),
        num("last_leader", R, f"the leader when the ISR became empty ({R}: none)", shape=(P,)),
    ]


def init(c: Any) -> dict[str, Any]:
    """Every broker runs, every replica is in sync at offset 0, replica 0 leads in epoch 0."""
    P, R = len(PARTS(c)), c.variant.replicas
    out = {"isr": [[True] * R for _ in range(P)], "up": [True] * R,
           "seen": [[0] + [1] * (R - 1) for _ in range(P)]}
    if c.variant.elr:
        out["last_leader"] = [R] * P
    return out


# -- reading the partition ---------------------------------------------------------

def leads(s: Any, p: int, r: int) -> Any:
    """Replica ``r`` leads partition ``p``."""
    return s.leader[p] == r


def online(s: Any, c: Any, p: int) -> Any:
    """Partition ``p`` has a leader."""
    if not failover(c):
        return True
    return s.leader[p] != no_leader(c)


def _of_leader(s: Any, c: Any, p: int, pick) -> Any:
    """``pick(r)`` for the replica that leads ``p`` (0 when there is none)."""
    if not failover(c):
        return pick(0)
    out: Any = 0
    for r in reversed(REPLICAS(c)):
        out = ite(leads(s, p, r), pick(r), out)
    return out


def leader_entry(s: Any, c: Any, p: int, j: int) -> Any:
    """Entry ``j`` (a batch plus one) of the leader's log of ``p``; 0 past its end or offline."""
    return _of_leader(s, c, p, lambda r: ite(j < s.log_len[p][r], s.log[p][r][j], 0))


def leader_end(s: Any, c: Any, p: int) -> Any:
    """The log end offset of ``p``'s leader (0 while offline)."""
    return _of_leader(s, c, p, lambda r: s.log_len[p][r])


def leader_hw(s: Any, c: Any, p: int) -> Any:
    """The high watermark of ``p``'s leader: what consumers may read (0 while offline)."""
    if not failover(c):
        return leader_end(s, c, p)      # one replica that never loses data: it is the log end
    return _of_leader(s, c, p, lambda r: s.hw[p][r])


def leader_column(s: Any, c: Any, name: str, p: int) -> list[Any]:
    """Column ``name`` of the log of ``p``'s leader, one value per offset (0s while offline)."""
    if not failover(c):
        return list(getattr(s, name)[p][0])
    return s.derived(("leader_column", name, p), lambda: [
        _of_leader(s, c, p, lambda r: getattr(s, name)[p][r][j]) for j in OFFSETS(c)])


def settled(s: Any, c: Any) -> Any:
    """Every partition is led and committed up to its log end, every broker runs."""
    if not failover(c):
        return True
    return and_(*(s.up[b] for b in BROKERS(c)),
                *(and_(online(s, c, p), leader_hw(s, c, p) == leader_end(s, c, p))
                  for p in PARTS(c)))


def _min_isr(c: Any) -> int:
    """The ISR an acks=all write needs (KAFKA-15583: never more than the replicas there are)."""
    return min(c.variant.min_insync, c.variant.replicas)


def isr_change(s: Any, c: Any, p: int, isr: list, unclean_shutdown: int | None = None) -> dict:
    """The updates that give ``p`` the ISR ``isr`` (and, with KIP-966, its eligible leader replicas).

    Eligible leader replicas (PartitionChangeBuilder.maybePopulateTargetElr,
    KIP-966): while the new ISR is smaller than ``min.insync.replicas``,
    every replica that was in the ISR or the ELR and is not in the new ISR
    is eligible, except a broker registering after an unclean shutdown;
    once the ISR reaches ``min.insync.replicas`` the ELR is empty.  The
    strict min ISR rule (KAFKA-15583) keeps the high watermark from moving
    meanwhile, so an eligible replica holds every committed record.  When
    the ISR becomes empty the leader of that moment is remembered as the
    last known leader (maybeUpdateLastKnownLeader).
    """
    then: dict[Any, Any] = {("isr", p): isr}
    if not c.variant.elr:
        return then
    below = count(isr) < _min_isr(c)
    then[("elr", p)] = [and_(below, or_(s.elr[p][x], s.isr[p][x]), not_(isr[x]), x != unclean_shutdown)
                        for x in REPLICAS(c)]
    emptied = and_(not_(any_(isr)), any_(s.isr[p]))
    then[("last_leader", p)] = ite(emptied, s.leader[p], s.last_leader[p])
    return then


def advanced_hw(s: Any, c: Any, p: int, r: int, leo: Any, seen: list, isr: list) -> Any:
    """The leader ``r``'s high watermark after a change: the smallest log end in the ISR.

    Partition.maybeIncrementLeaderHW: the minimum of the leader's log end
    ``leo`` and each other ISR member's last fetch offset (``seen``, plus one;
    an unknown one holds the high watermark where it is); the high
    watermark never moves back.  Since 3.7 (KAFKA-15583) it does not move
    while the ISR is smaller than ``min.insync.replicas``.
    """
    new = leo
    for x in REPLICAS(c):
        if x != r:
            new = ite(and_(isr[x], seen[x] - 1 < new), ite(seen[x] == 0, 0, seen[x] - 1), new)
    grow = new > s.hw[p][r]
    if c.variant.hw_needs_min_isr and c.variant.replicated:
        grow = and_(grow, count(isr) >= _min_isr(c))
    return ite(grow, new, s.hw[p][r])


# -- idempotent-producer state (ProducerStateManager) -------------------------------

def _pstate(s: Any, p: int, r: int) -> tuple[list, list, list, list]:
    """Replica ``r``'s producer state for ``p``: (known, epoch, first, last) per PID."""
    return s.ps_known[p][r], s.ps_epoch[p][r], s.ps_first[p][r], s.ps_seq[p][r]


def _pstate_update(s: Any, p: int, r: int, rows: tuple) -> dict[Any, Any]:
    known, epoch, first, last = rows
    return {("ps_known", p, r): known, ("ps_epoch", p, r): epoch, ("ps_first", p, r): first,
            ("ps_seq", p, r): last}


def appended(s: Any, rows: tuple, entry: Any, b_epoch: Any, seq: Any, cond: Any) -> tuple:
    """Producer state after appending log entry ``entry`` (a batch plus one), written with
    producer epoch ``b_epoch`` and sequence ``seq``, if ``cond``.

    ProducerAppendInfo: the PID's epoch and last sequence become the
    batch's; a new epoch (or a PID with no state) starts its first sequence
    there.  Leaders and followers alike (``appendAsFollower``).
    """
    known, epoch, first, last = rows
    pid = get(s.b_pid, entry - 1)
    new_epoch = or_(not_(get(known, pid)), b_epoch != get(epoch, pid))
    return (ite_list(cond, set_(known, pid, True), known),
            ite_list(cond, set_(epoch, pid, b_epoch), epoch),
            ite_list(and_(cond, new_epoch), set_(first, pid, seq), first),
            ite_list(cond, set_(last, pid, seq), last))


def rebuilt(s: Any, c: Any, log: list, epochs: list, seqs: list, length: Any) -> tuple:
    """Producer state rebuilt from the first ``length`` entries of ``log`` (with the epochs and
    sequences they were written with).

    After a truncation Kafka reloads producer state from the log
    (UnifiedLog.truncateTo -> rebuildProducerState), so deduplication
    follows the log the replica now has.
    """
    S = len(s.ps_known[0][0])
    rows: tuple = ([False] * S, [0] * S, [0] * S, [0] * S)
    for j in OFFSETS(c):
        rows = appended(s, rows, log[j], epochs[j], seqs[j], j < length)
    return rows


def produce_check(s: Any, c: Any, p: int, r: int, k: int, epoch: Any, seq: Any) -> Any:
    """Replica ``r``'s verdict on batch ``k``, sent with producer epoch ``epoch`` and sequence
    ``seq``: OK, DUPLICATE, FENCED or OUT_OF_ORDER.

    The checks of ProducerStateManager / ProducerAppendInfo, in Kafka's order
    (docs/protocol.md §4):

    1. same epoch and a cached batch with exactly this sequence: duplicate;
    2. epoch lower than the one stored: ``INVALID_PRODUCER_EPOCH`` (fenced);
    3. new epoch: the sequence must be 0; same epoch: last + 1; otherwise
       ``OUT_OF_ORDER_SEQUENCE_NUMBER``;
    4. no state at all for this PID (new, or expired): any sequence (since
       KIP-360, Kafka 2.5; before, a non-zero one was UNKNOWN_PRODUCER_ID),
       except that since KAFKA-15591 a partition whose log has never held a
       record takes only sequence 0 (``first_seq_zero``; the model reads
       "never held a record" as a log end of 0).

    The cached batch metadata of the last ``DEDUP_WINDOW`` (5) batches
    (``ProducerStateEntry.NUM_BATCHES_TO_RETAIN``) is the sequence range
    ``max(first, last - 4) .. last`` (one record per batch).  Without idempotence the batch carries no PID and is
    always appended.
    """
    if not c.mode.idempotence:
        return OK
    pid = s.b_pid[k]
    known_row, epoch_row, first_row, last_row = _pstate(s, p, r)
    known = get(known_row, pid)
    st_epoch, first, last = get(epoch_row, pid), get(first_row, pid), get(last_row, pid)
    cached = and_(known, epoch == st_epoch, seq <= last, seq >= first,
                  seq + (DEDUP_WINDOW - 1) >= last)
    fenced = and_(known, epoch < st_epoch)
    fresh = and_(s.log_len[p][r] == 0, seq != 0) if c.variant.first_seq_zero else False
    in_sequence = ite(known, or_(and_(epoch > st_epoch, seq == 0),
                                 and_(epoch == st_epoch, seq == last + 1)),
                      not_(fresh))
    return ite(cached, DUPLICATE, ite(fenced, FENCED, ite(in_sequence, OK, OUT_OF_ORDER)))


# -- the leader's steps ----------------------------------------------------------------

@action(scope=pipeline, p=PARTITIONS, i=SLOTS, k=BATCHES, r=REPLICAS)
def broker_append(s, c, p, i, k, r):
    """Replica ``r``, leading ``p``, handles the Produce request in slot ``i`` (batch ``k``).

    Partition.appendRecordsToLeader: with ``acks=all`` and an ISR smaller
    than ``min.insync.replicas`` it refuses (``NOT_ENOUGH_REPLICAS``, nothing
    appended).  Otherwise the idempotence checks (:func:`produce_check`); on
    ``OK`` it appends the batch at its log end, stamped with the leader
    epoch, and records the producer's epoch and sequence; a duplicate is not
    appended again.  The answer (ReplicaManager.appendRecords): none with
    ``acks=0``; at once with ``acks=1``; with ``acks=all`` once the batch is
    below the high watermark (DelayedProduce; the answer waits in ``pend``
    when it is not yet).  An answer goes back only on a connection that is
    still open: when the producer closed it (timeout, restart) the reply is
    dropped.
    """
    rq, rs = requests(s, p), responses(s, p)
    log, lep, n = s.log[p][r], s.lep[p][r], s.log_len[p][r]
    epoch, seq = s.rq_epoch[p][i], s.rq_seq[p][i]
    code: Any = produce_check(s, c, p, r, k, epoch, seq)
    if c.mode.acks == -1 and c.variant.replicated:
        code = ite(count(s.isr[p]) >= _min_isr(c), code, NOT_ENOUGH)
    append = code == OK
    leo = ite(append, n + 1, n)
    hw = advanced_hw(s, c, p, r, leo, s.seen[p], s.isr[p])
    then = {**request_update(p, removed(rq, i)),
            ("log", p, r): ite_list(append, set_(log, n, k + 1), log),
            ("lep", p, r): ite_list(append, set_(lep, n, s.lepoch[p]), lep),
            ("log_len", p, r): leo,
            ("hw", p, r): hw}
    if c.mode.idempotence:
        then[("lpe", p, r)] = ite_list(append, set_(s.lpe[p][r], n, epoch), s.lpe[p][r])
        then[("lseq", p, r)] = ite_list(append, set_(s.lseq[p][r], n, seq), s.lseq[p][r])
        then.update(_pstate_update(s, p, r, appended(s, _pstate(s, p, r), k + 1, epoch, seq, append)))
        then["g_dedup"] = or_(s.g_dedup, code == DUPLICATE)
    fits = implies(append, n < c.bounds.log)
    if c.mode.acks != 0:
        open_ = s.rq_conn[p][i] == s.conn[p]
        # acks=all: the offset holding the batch (just appended, or the original
        # of a duplicate) that is not yet below the high watermark
        waits = [and_(open_, c.mode.acks == -1,
                      or_(and_(append, j == n),
                          and_(code == DUPLICATE, j < n, log[j] == k + 1)), j >= hw)
                 for j in OFFSETS(c)]
        answer = and_(open_, not_(any_(waits)))
        then.update(response_update(p, ite_list(answer, pushed(rs, [k + 1, code, s.rq_conn[p][i]]),
                                                rs)))
        if c.variant.replicated and c.mode.acks == -1:
            then[("pend", p)] = [ite(w, s.rq_conn[p][i] + 1, s.pend[p][j])
                                 for j, w in enumerate(waits)]
        fits = and_(fits, implies(answer, has_room(rs)))
    return Effect(when=and_(leads(s, p, r), deliverable(rq, i), s.rq_batch[p][i] == k + 1),
                  fits=fits, then=then)


@action(scope=replicated_pipeline, p=PARTITIONS, j=OFFSETS, r=REPLICAS)
def leader_answer(s, c, p, j, r):
    """The leader ``r`` of ``p`` completes the acks=all write at offset ``j``.

    DelayedProduce completes once the high watermark has passed the batch
    (Partition.checkEnoughReplicasReachOffset): ``OK``, or
    ``NOT_ENOUGH_REPLICAS_AFTER_APPEND`` when the ISR has meanwhile shrunk
    below ``min.insync.replicas``.  If the producer has closed the
    connection the answer is dropped (as it is when the request expires in
    purgatory first).
    """
    if c.mode.acks != -1:
        return Effect(when=False)
    rs = responses(s, p)
    conn = s.pend[p][j] - 1
    open_ = conn == s.conn[p]
    code = ite(count(s.isr[p]) >= _min_isr(c), OK, NOT_ENOUGH_AFTER)
    return Effect(
        when=and_(leads(s, p, r), s.pend[p][j] != 0, or_(j < s.hw[p][r], not_(open_))),
        fits=implies(open_, has_room(rs)),
        then={("pend", p, j): 0,
              **response_update(p, ite_list(open_, pushed(rs, [s.log[p][r][j], code, conn]), rs))})


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
        when=and_(can_fault(s, c), online(s, c, p), deliverable(rq, i), s.rq_batch[p][i] == k + 1,
                  s.rq_conn[p][i] == s.conn[p]),
        fits=has_room(rs),
        then={**request_update(p, removed(rq, i)),
              **response_update(p, pushed(rs, [k + 1, RETRIABLE, s.rq_conn[p][i]])),
              **spend_fault(s)})


def producer_idle(s: Any, c: Any, p: int, q: int) -> Any:
    """Producer session ``q`` has nothing outstanding to partition ``p``: no batch of it queued
    or in flight, and no request of it on the wire."""
    mine = [and_(s.b_pid[k] == q, batch_in(s, c, k, p), or_(st == QUEUED, st == INFLIGHT))
            for k, st in enumerate(s.b_state)]
    wire = [and_(b != 0, get(s.b_pid, b - 1) == q) for b in s.rq_batch[p]]
    return not_(any_(mine + wire))


@action(scope=pipeline, fault=True, p=PARTITIONS, q=SESSIONS, r=REPLICAS)
def broker_expire_producer(s, c, p, q, r):
    """Replica ``r`` of partition ``p`` forgets the state of producer ``q``.

    ``ProducerStateManager.removeExpiredProducers``: a producer with no
    open transaction and no write for ``producer.id.expiration.ms`` (1 day;
    ``transactional.id.expiration.ms`` before KIP-854, 3.4) is dropped.
    ``delivery.timeout.ms`` (2 minutes) bounds how long the producer retries
    a batch, so a producer that still has one to write is never idle that
    long: the model lets the state go only while the producer has nothing
    outstanding to ``p`` (:func:`producer_idle`).  Before 2.4 retention also
    dropped it, whenever the log start offset passed the producer's last
    batch (``truncateHead``, until KAFKA-7190 with KIP-360): retries or not,
    the ``expiry_when_busy`` variants.  Afterwards any sequence from that
    PID is accepted again (docs/protocol.md §4), so a late retry is appended
    twice.  Spends one expiry (``bounds.expiries``).
    """
    if c.bounds.expiries == 0 or not c.mode.idempotence:
        return Effect(when=False)
    idle = True if c.variant.expiry_when_busy else producer_idle(s, c, p, q)
    return Effect(
        when=and_(s.expired < c.bounds.expiries, s.ps_known[p][r][q], idle),
        then={("ps_known", p, r, q): False, ("ps_epoch", p, r, q): 0, ("ps_first", p, r, q): 0,
              ("ps_seq", p, r, q): 0, "expired": s.expired + 1})


# -- replication ---------------------------------------------------------------------

@action(scope=replicated, p=PARTS, r=REPLICAS, l=REPLICAS)
def follower_fetch(s, c, p, r, l):
    """Follower ``r`` fetches from the leader ``l`` of ``p``.

    ReplicaFetcherThread / Partition.updateFollowerFetchState: the Fetch
    carries the follower's log end; the leader reads the next entry and its
    high watermark, then records the fetch offset and moves its high
    watermark (:func:`advanced_hw`); the follower appends the entry (with
    its leader epoch and producer state) and takes ``min(the high watermark
    it was sent, its log end)`` as its own, so it learns a new high
    watermark one fetch after the leader.  A follower still finding its
    divergence (``trunc``) does not fetch.
    """
    if r == l:
        return Effect(when=False)
    n, end = s.log_len[p][r], s.log_len[p][l]
    copy = n < end
    seen = set_(s.seen[p], r, n + 1)
    hw = advanced_hw(s, c, p, l, end, seen, s.isr[p])
    leo = ite(copy, n + 1, n)
    # the answer carries the high watermark read before this fetch moved it
    # (Partition.fetchRecords reads, then updateFollowerFetchState): followers lag a round
    own_hw = ite(s.hw[p][l] < leo, s.hw[p][l], leo)
    fetched = {(col, p, r): ite_list(copy, set_(getattr(s, col)[p][r], n, get(getattr(s, col)[p][l], n)),
                                     getattr(s, col)[p][r])
               for col in entry_columns(c)}
    fetched.update({("log_len", p, r): leo, ("seen", p, r): n + 1, ("hw", p, l): hw,
                    ("hw", p, r): own_hw})
    if pipeline(c) and c.mode.idempotence:
        fetched.update(_pstate_update(s, p, r, appended(
            s, _pstate(s, p, r), get(s.log[p][l], n), get(s.lpe[p][l], n), get(s.lseq[p][l], n),
            copy)))
    # past the leader's log end (after an unclean election): OFFSET_OUT_OF_RANGE, and the
    # follower truncates to the leader's end (AbstractFetcherThread.fetchOffsetAndTruncate)
    ahead = n > end
    then = _either(s, ahead, _cut(s, c, p, r, end), fetched)
    return Effect(
        when=and_(leads(s, p, l), s.up[r], not_(s.trunc[p][r]),
                  or_(ahead, copy, s.seen[p][r] != n + 1, hw != s.hw[p][l], own_hw != s.hw[p][r])),
        fits=implies(copy, n < log_size(c)), then=then)


def _either(s: Any, cond: Any, a: dict, b: dict) -> dict:
    """The updates ``a`` where ``cond`` holds, else ``b`` (a field one of them leaves keeps its value)."""
    out = {}
    for key in {**a, **b}:
        x, y = a.get(key, value_at(s, key)), b.get(key, value_at(s, key))
        out[key] = ite_list(cond, x, y) if isinstance(x, list) else ite(cond, x, y)
    return out


@action(scope=replicated, fault=True, p=PARTS, r=REPLICAS, l=REPLICAS)
def leader_shrink_isr(s, c, p, r, l):
    """The leader ``l`` of ``p`` removes the lagging follower ``r`` from the ISR.

    Partition.maybeShrinkIsr: a follower that has not caught up with the
    leader's log end within ``replica.lag.time.max.ms`` leaves the ISR (a
    slow disk, a long GC pause).  The high watermark may then move on.  A
    live follower falling behind spends one fault; a crashed one leaves the
    ISR when its broker is fenced (:func:`broker_crash`).
    """
    if r == l:
        return Effect(when=False)
    isr = set_(s.isr[p], r, False)
    return Effect(
        when=and_(can_fault(s, c), leads(s, p, l), s.isr[p][r],
                  or_(s.seen[p][r] == 0, s.seen[p][r] - 1 < s.log_len[p][l])),
        then={**isr_change(s, c, p, isr),
              ("hw", p, l): advanced_hw(s, c, p, l, s.log_len[p][l], s.seen[p], isr),
              **spend_fault(s)})


@action(scope=replicated, p=PARTS, r=REPLICAS, l=REPLICAS)
def leader_expand_isr(s, c, p, r, l):
    """The leader ``l`` of ``p`` adds the caught-up follower ``r`` back to the ISR.

    Partition.maybeExpandIsr: a follower whose last fetch offset has
    reached the high watermark and the start of the current leader epoch
    rejoins the ISR.
    """
    if r == l:
        return Effect(when=False)
    return Effect(
        when=and_(leads(s, p, l), s.up[r], not_(s.isr[p][r]), not_(s.trunc[p][r]),
                  s.seen[p][r] != 0, s.seen[p][r] - 1 >= s.hw[p][l], s.seen[p][r] - 1 >= s.estart[p]),
        then=isr_change(s, c, p, set_(s.isr[p], r, True)))


# -- where a follower's log diverges: the leader-epoch cache ---------------------------

def _latest(s: Any, c: Any, p: int, r: int) -> Any:
    """The epoch of replica ``r``'s last entry, plus one (0: an empty log)."""
    out: Any = 0
    for j in OFFSETS(c):
        out = ite(j < s.log_len[p][r], s.lep[p][r][j] + 1, out)
    return out


def end_offset_for(s: Any, c: Any, p: int, r: int, asked: Any, leading: bool) -> tuple[Any, Any]:
    """Replica ``r``'s answer to "where does epoch ``asked`` end?": ``(epoch + 1, offset)``.

    LeaderEpochFileCache.endOffsetFor over the epochs of ``r``'s entries
    (and, for a leader since 2.1, its current epoch starting at ``estart``,
    KAFKA-7415): the largest epoch at or below ``asked`` and the start of
    the first epoch above it (the log end if ``asked`` is the latest).  The
    first element is 0 (undefined) when ``asked`` is beyond the latest, or
    (before 2.1) below every cached epoch; since 2.1 an epoch below the
    first cached one is answered with the first one's start.
    """
    n = s.log_len[p][r]
    has_current = leading and c.variant.epoch_on_election
    latest = ite(n > 0, _latest(s, c, p, r) - 1, 0)
    if has_current:
        latest = s.lepoch[p]
    start_above: Any = n
    largest: Any = 0       # plus one
    for j in reversed(OFFSETS(c)):
        e = s.lep[p][r][j]
        present = j < n
        start_above = ite(and_(present, e > asked), j, start_above)
    for j in OFFSETS(c):
        e = s.lep[p][r][j]
        largest = ite(and_(j < n, e <= asked, e + 1 > largest), e + 1, largest)
    if has_current:
        start_above = ite(and_(s.lepoch[p] > asked, s.estart[p] < start_above), s.estart[p],
                          start_above)
        largest = ite(and_(s.lepoch[p] <= asked, s.lepoch[p] + 1 > largest), s.lepoch[p] + 1,
                      largest)
    known = or_(n > 0, has_current)
    same = and_(known, asked == latest)
    defined = and_(known, largest > 0, asked <= latest)
    if c.variant.epoch_on_election:
        # since 2.1 an epoch below the first cached one ends where the first begins
        below_first = and_(known, largest == 0, asked <= latest)
        defined, largest = or_(defined, below_first), ite(below_first, asked + 1, largest)
    return (ite(same, asked + 1, ite(defined, largest, 0)),
            ite(same, n, ite(defined, start_above, 0)))


def truncation_point(s: Any, c: Any, p: int, r: int, l: int) -> tuple[Any, Any]:
    """Where follower ``r`` truncates its log against leader ``l``: ``(offset, done)``.

    * ``high-watermark`` (before 0.11): to its own high watermark;
    * ``kip101`` (0.11 to 1.1): OffsetsForLeaderEpoch with its latest epoch;
      the leader answers the start of its first later epoch (or its log
      end); the follower truncates there (its high watermark if the leader
      knows no such epoch);
    * ``kip279`` (2.0 on, AbstractFetcherThread.getOffsetTruncationState):
      the leader also answers the epoch it found; if the follower does not
      have that epoch it truncates to the end of its own largest epoch below
      it and asks again (``done`` is false), else to the smaller end offset.
    """
    n, own_hw = s.log_len[p][r], s.hw[p][r]
    rule = c.variant.truncation
    if rule == "high-watermark":
        return ite(own_hw < n, own_hw, n), True
    asked = _latest(s, c, p, r) - 1
    epoch1, end = end_offset_for(s, c, p, l, asked, leading=True)
    fallback = ite(own_hw < n, own_hw, n)
    if rule == "kip101":
        to = ite(end < n, end, n)
        return ite(and_(n > 0, epoch1 > 0), to, fallback), True
    f_epoch1, f_end = end_offset_for(s, c, p, r, epoch1 - 1, leading=False)
    mine = ite(f_end < n, f_end, n)
    agree = ite(end < mine, end, mine)
    at = ite(or_(n == 0, epoch1 == 0), fallback,
             ite(f_epoch1 == 0, ite(end < n, end, n),
                 ite(f_epoch1 != epoch1, mine, agree)))
    done = or_(n == 0, epoch1 == 0, f_epoch1 == 0, f_epoch1 == epoch1)
    return at, done


def _cut(s: Any, c: Any, p: int, r: int, to: Any) -> dict[Any, Any]:
    """Replica ``r``'s log of ``p`` cut to its first ``to`` entries (producer state rebuilt)."""
    then: dict[Any, Any] = {(col, p, r): [ite(j < to, getattr(s, col)[p][r][j], 0) for j in OFFSETS(c)]
                            for col in entry_columns(c)}
    then.update({("log_len", p, r): to, ("hw", p, r): ite(s.hw[p][r] < to, s.hw[p][r], to),
                 "g_truncated": or_(s.g_truncated, to < s.log_len[p][r])})
    if pipeline(c) and c.mode.idempotence:
        then.update(_pstate_update(s, p, r, rebuilt(
            s, c, then[("log", p, r)], then[("lpe", p, r)], then[("lseq", p, r)], to)))
    return then


@action(scope=replicated, p=PARTS, r=REPLICAS, l=REPLICAS)
def follower_truncate(s, c, p, r, l):
    """Follower ``r`` of ``p`` truncates its log where it diverges from the leader ``l``.

    After a restart or a leader change a follower first finds the offset up
    to which its log agrees with the new leader's (:func:`truncation_point`:
    the high watermark before KIP-101, the leader epoch after) and removes
    the entries after it, rebuilding its producer state from what remains.
    Then it fetches again.
    """
    if r == l:
        return Effect(when=False)
    to, done = truncation_point(s, c, p, r, l)
    return Effect(when=and_(leads(s, p, l), s.up[r], s.trunc[p][r]),
                  then={**_cut(s, c, p, r, to), ("trunc", p, r): not_(done)})


# -- failures and elections --------------------------------------------------------------

def _power_loss(s: Any, c: Any, b: int, keep: int) -> tuple[dict[Any, Any], Any]:
    """Broker ``b``'s logs cut to at most ``keep`` entries, spending an unflushed loss:
    ``(updates, whether some log gets shorter)``."""
    then: dict[Any, Any] = {"unflushed": s.unflushed + 1}
    for p in PARTS(c):
        then.update(_cut(s, c, p, b, ite(keep < s.log_len[p][b], keep, s.log_len[p][b])))
    return then, any_(keep < s.log_len[p][b] for p in PARTS(c))


@action(fault=True, scope=failover, b=BROKERS, keep=KEEP)
def broker_crash(s, c, b, keep):
    """Broker ``b`` crashes; with ``keep`` below the log capacity it also loses unflushed data.

    Kafka does not fsync by default (``log.flush.interval.messages``), so
    after a power loss a log recovers only up to what reached the disk: its
    last ``keep`` entries at most survive (one flush point for every
    partition of the broker).  A crash that keeps the logs spends a fault;
    one that loses a suffix spends an unflushed loss (``bounds.unflushed``).
    The controller fences the broker: it leaves every ISR that has another
    member (the last member stays: Kafka never empties the ISR, except with
    KIP-966's eligible leader replicas, where it may and the broker becomes
    an eligible leader replica, :func:`isr_change`), and a partition it led
    has no leader until :func:`controller_elect`; its
    connections break, so requests and answers on the way to or from it
    are gone.  With one replica only a lossy crash is modelled (a clean one
    would only delay what the network faults already delay).
    """
    lossy = keep < log_size(c)
    if not lossy and not c.variant.replicated:
        return Effect(when=False)
    then: dict[Any, Any] = {("up", b): False}
    fits: list[Any] = []
    for p in PARTS(c):
        led = leads(s, p, b)
        if c.variant.elr:
            then.update(isr_change(s, c, p, set_(s.isr[p], b, False)))
        else:
            others = any_(s.isr[p][x] for x in REPLICAS(c) if x != b)
            then[("isr", p, b)] = and_(s.isr[p][b], not_(others))
        then[("leader", p)] = ite(led, no_leader(c), s.leader[p])
        then[("seen", p, b)] = 0
        then[("trunc", p, b)] = False
        if c.mode.transactional:
            lost, room = TXN_HOOKS["leader_lost"](s, c, p, led)
            then.update(lost)
            fits.append(room)
            continue
        then[("pend", p)] = [ite(led, 0, x) for x in s.pend[p]]
        empty = [[0] * len(row) for row in requests(s, p)]
        then.update(request_update(p, [ite_list(led, e, row) for e, row in zip(empty, requests(s, p))]))
        empty = [[0] * len(row) for row in responses(s, p)]
        then.update(response_update(p, [ite_list(led, e, row)
                                        for e, row in zip(empty, responses(s, p))]))
    ready = and_(s.up[b], not_(election_pending(s, c)))
    if lossy:
        cut, shortens = _power_loss(s, c, b, keep)
        return Effect(when=and_(ready, s.unflushed < c.bounds.unflushed, shortens),
                      then={**then, **cut})
    return Effect(when=and_(ready, can_fault(s, c)), fits=and_(*fits),
                  then={**then, **spend_fault(s)})


@action(fault=True, scope=replicated, b=BROKERS, keep=KEEP)
def broker_bounce(s, c, b, keep):
    """Broker ``b``, a follower everywhere, restarts before the controller notices it was down.

    Before Kafka 2.2 the ZooKeeper controller could miss a broker that
    re-registered quickly, so the broker stayed in every ISR (fixed by
    KAFKA-7235: a bounced broker's new epoch makes the controller handle it
    as failed and restarted, KafkaController.processBrokerChange).  Since
    then, and under KRaft (ClusterControlManager.registerBroker refuses a new
    incarnation while the old session lives), a restart is a crash, fencing
    and restart: :func:`broker_crash` and :func:`broker_restart`.  Only the
    variants with ``bounce_keeps_isr`` have this step.  Its replicas must
    find their divergence from the leader again, and with ``keep`` below the
    log capacity its logs lose what was not flushed (one flush point for
    every partition).  Spends a fault, or an unflushed loss when it loses
    data.
    """
    if not c.variant.bounce_keeps_isr:
        return Effect(when=False)
    then: dict[Any, Any] = {("trunc", p, b): True for p in PARTS(c)}
    follower = and_(s.up[b], *(not_(leads(s, p, b)) for p in PARTS(c)),
                    not_(election_pending(s, c)))
    if keep < log_size(c):
        cut, shortens = _power_loss(s, c, b, keep)
        return Effect(when=and_(follower, s.unflushed < c.bounds.unflushed, shortens),
                      then={**then, **cut})
    return Effect(when=and_(follower, can_fault(s, c)), then={**then, **spend_fault(s)})


@action(scope=failover, b=BROKERS)
def broker_restart(s, c, b):
    """Broker ``b`` restarts with the logs it kept.

    Its replicas come back as followers (unless the controller then elects
    one): each must find where it diverges from its leader before fetching
    (:func:`follower_truncate`).  With KIP-966 the controller sees a broker
    that registers without a clean shutdown behind it and removes it from
    every ELR (ReplicationControlManager.handleBrokerUncleanShutdown; clean
    shutdown detection by broker epoch, KAFKA-15586 and KAFKA-18635): it may
    have lost what it had not flushed.  Every crash here is unclean.
    Restarting heals, so it spends nothing.
    """
    then: dict[Any, Any] = {("up", b): True, **{("trunc", p, b): True for p in PARTS(c)}}
    if c.variant.elr:
        then.update({("elr", p, b): False for p in PARTS(c)})
    return Effect(when=and_(not_(s.up[b]), not_(election_pending(s, c))), then=then)


def election_pending(s: Any, c: Any) -> Any:
    """Some partition has no leader though the controller may elect one.

    Kafka's controller elects a new leader in the same metadata change that
    fences the old one or unfences a broker (PartitionChangeBuilder.build
    runs the election for every change), and handles one broker event after
    the other.  The model makes the election a step of its own
    (:func:`controller_elect`), so a crash or a restart waits until the
    elections the previous one made possible are done: no history the
    controller could not produce slips in between.
    """
    return any_(and_(s.leader[p] == no_leader(c), any_(eligible(s, c, p, r) for r in REPLICAS(c)))
                for p in PARTS(c))


def _first(live: list, r: int) -> Any:
    """Replica ``r`` is the first of the replicas flagged in ``live``, in assignment order."""
    return and_(live[r], *(not_(live[x]) for x in range(r)))


def eligible(s: Any, c: Any, p: int, r: int) -> Any:
    """The controller may make replica ``r`` the leader of ``p`` (it is the first eligible one).

    PartitionChangeBuilder.electAnyLeader, in its order:

    1. the first live ISR member in assignment order;
    2. with KIP-966, while the ISR is empty, the first live eligible leader
       replica;
    3. with KIP-966, while the ISR and the ELR are empty, the last known
       leader once it runs (the behaviour before 4.0 when every replica
       went down; it may lack what it had not flushed);
    4. with ``unclean.leader.election.enable``, the first live replica (an
       unclean election).
    """
    live_isr = [and_(s.up[x], s.isr[p][x]) for x in REPLICAS(c)]
    out = _first(live_isr, r)
    none_yet = not_(any_(live_isr))
    if c.variant.elr:
        empty_isr = not_(any_(s.isr[p]))
        live_elr = [and_(empty_isr, s.up[x], s.elr[p][x]) for x in REPLICAS(c)]
        out = or_(out, _first(live_elr, r))
        last = and_(empty_isr, not_(any_(s.elr[p])), s.last_leader[p] != no_leader(c))
        out = or_(out, and_(last, s.last_leader[p] == r, s.up[r]))
        # the last known leader, even while down, comes before an unclean election
        none_yet = and_(none_yet, not_(any_(live_elr)), not_(last))
    if c.variant.unclean:
        out = or_(out, and_(none_yet, _first(list(s.up), r)))
    return out


@action(scope=failover, p=PARTS, r=REPLICAS)
def controller_elect(s, c, p, r):
    """The controller elects replica ``r`` leader of the offline partition ``p``.

    The new leader epoch starts at ``r``'s log end (LeaderAndIsr /
    PartitionRecord).  An election outside the ISR makes ``r`` the whole
    ISR: from the ELR (KIP-966, r leaves the ELR), or an unclean one (the
    ELR is cleared).  The other replicas become followers of the new epoch
    and must find where they diverge; the leader knows none of their log
    ends until they fetch.
    """
    outside = not_(s.isr[p][r])
    isr = [ite(outside, x == r, s.isr[p][x]) for x in REPLICAS(c)]
    zeros = [0] * c.variant.replicas
    then = {("leader", p): r, ("lepoch", p): s.lepoch[p] + 1, ("estart", p): s.log_len[p][r],
            ("isr", p): isr, ("seen", p): zeros,
            ("trunc", p): [and_(x != r, s.up[x]) for x in REPLICAS(c)],
            ("hw", p, r): advanced_hw(s, c, p, r, s.log_len[p][r], zeros, isr)}
    if c.mode.transactional:
        then.update(TXN_HOOKS["new_leader"](s, c, p, r))
    if c.variant.elr:
        # from the ISR the ELR stays; from the ELR r leaves it; otherwise it is cleared
        then[("elr", p)] = [ite(s.isr[p][r], s.elr[p][x], and_(s.elr[p][r], s.elr[p][x], x != r))
                            for x in REPLICAS(c)]
        then[("last_leader", p)] = no_leader(c)
    return Effect(
        when=and_(s.leader[p] == no_leader(c), eligible(s, c, p, r)),
        fits=s.lepoch[p] < max_leader_epoch(c), then=then)


ACTIONS = [broker_append, leader_answer, broker_fail_transient, broker_expire_producer,
           follower_fetch, leader_shrink_isr, leader_expand_isr, follower_truncate,
           broker_crash, broker_bounce, broker_restart, controller_elect]


# -- how the steps are told (stories) and drawn (sequence diagrams) -------------------------
# Every fact is read from the decoded states around the step (model/telling.py).

CONTROLLER = "CT"


def lane(c: Any, p: int, r: int) -> str:
    """Lane id of replica ``r`` of ``p``: its broker, or with one replica the partition's leader."""
    return f"B{r}" if c.variant.replicated else f"L{p}"


def leader_lane(c: Any, p: int, s: dict) -> str | None:
    """Lane of ``p``'s leader in decoded state ``s`` (None while it has none)."""
    r = s["leader"][p]
    return lane(c, p, r) if r < c.variant.replicas else None


def lanes(c: Any) -> list[Lane]:
    """The partitions' lanes: one per broker, and the controller's when leaders can change."""
    if not c.variant.replicated:
        out = [Lane(lane(c, p, 0), f"leader of p{p}") for p in PARTITIONS(c)]
    else:
        out = [Lane(lane(c, 0, b), f"broker {b}") for b in BROKERS(c)]
    return out + ([Lane(CONTROLLER, "controller")] if failover(c) else [])


def _who(c: Any, p: int, r: int) -> str:
    """How a story names replica ``r`` of ``p`` acting as its leader."""
    return f"broker {r}, leading partition {p}," if c.variant.replicated else f"the leader of partition {p}"


def _pname(c: Any, p: int) -> str:
    """How a story names partition ``p``: ``partition 0``, or in the exactly-once world ``o0``."""
    return f"o{p}" if c.mode.transactional else f"partition {p}"


def _pnames(c: Any, ps: list[int]) -> str:
    """``partition 0``, ``partitions 0 and 1``, ``o0 and o1``."""
    if c.mode.transactional:
        return listing([f"o{p}" for p in ps])
    return f"partition{'s' if len(ps) > 1 else ''} {listing([str(p) for p in ps])}"


def _entry(s: dict, e: int) -> str:
    """A log entry (a batch plus one) as the story names it."""
    return f"b{e} (r{s['b_rec'][e - 1]})" if e else "nothing"


_MARKERS = {2: "COMMIT marker", 3: "ABORT marker"}   # txn_state.COMMIT, ABORT


def _entry_at(d: dict, c: Any, p: int, r: int, j: int) -> str:
    """Entry ``j`` of replica ``r``'s log of ``p`` in the decoded state ``d``, as a story names it:
    a batch on the delivery path, a record's output or a marker in the exactly-once world."""
    if not c.mode.transactional:
        return _entry(d, d["log"][p][r][j])
    kind = d["ent_kind"][p][r][j]
    if kind == 1:
        return f"r{d['ent_rec'][p][r][j]}'s output (attempt #{d['ent_tag'][p][r][j]})"
    return f"a {_MARKERS[kind]}" if kind in _MARKERS else "nothing"


def _entries(d: dict, c: Any, p: int, r: int, js: range) -> str:
    """Entries ``js`` of replica ``r``'s log of ``p``, listed."""
    return listing([_entry_at(d, c, p, r, j) for j in js])


@teller
def tell_broker_append(a, b, x, c):
    p, i, k, r = a["p"], a["i"], a["k"], a["r"]
    via = f" from connection {b['rq_conn'][p][i]}"
    at = written(b, x, "log", "log_len", p, r)
    answers = answered(b, x, p)
    closed = " (its connection is closed)" if b["rq_conn"][p][i] != b["conn"][p] else ""
    waits = [j for j in range(len(x["pend"][p])) if x["pend"][p][j] != b["pend"][p][j]]
    later = f" and will answer once offset {waits[0]} is below the high watermark" if waits else ""
    reply = (f" and answers {listing([code for _, code in answers])}" if answers
             else later or f" and sends no answer{closed}") if c.mode.acks != 0 else ""
    who = _who(c, p, r)
    if at:
        where = listing([str(j) for j in at])
        epoch = f" in leader epoch {x['lepoch'][p]}" if failover(c) else ""
        return f"{who} appends {request_name(b, p, i, c)}{via} at offset{'s' if len(at) > 1 else ''} " \
               f"{where}{epoch}{reply}"
    if any(code == RESPONSE_CODES[DUPLICATE] for _, code in answers) or x["g_dedup"] != b["g_dedup"]:
        return f"{who} recognises b{k + 1}{via} as a duplicate, appends nothing{reply}"
    return f"{who} appends nothing for {request_name(b, p, i, c)}{via}{reply}"


@teller
def tell_leader_answer(a, b, x, c):
    p, j, r = a["p"], a["j"], a["r"]
    answers = answered(b, x, p)
    what = (f"answers {_entry(b, b['log'][p][r][j])} with {listing([code for _, code in answers])}"
            if answers else f"drops its answer for offset {j} (the connection is closed)")
    who = f"broker {r}, the leader of partition {p}," if c.variant.replicated else f"the leader of partition {p}"
    return f"offset {j} is below the high watermark {b['hw'][p][r]}: {who} {what}"


@teller
def tell_broker_fail_transient(a, b, x, c):
    p, k = a["p"], a["k"]
    answers = answered(b, x, p)
    reply = f"answers b{k + 1} with {listing([code for _, code in answers])}" if answers \
        else f"drops b{k + 1} without an answer"
    return f"the leader of partition {p} {reply} and appends nothing"


@teller
def tell_broker_expire_producer(a, b, x, c):
    p, q, r = a["p"], a["q"], a["r"]
    where = f"replica {r} of partition {p}" if c.variant.replicated else f"partition {p}"
    if x["ps_known"][p][r][q] == b["ps_known"][p][r][q]:
        return f"{where} keeps the state of producer P{q + 1}"
    why = ("retention removed its last batch, which drops its state before Kafka 2.4"
           if c.variant.expiry_when_busy else "idle for producer.id.expiration.ms")
    return f"{where} forgets the state of producer P{q + 1} ({why})"


@teller
def tell_follower_fetch(a, b, x, c):
    p, r, l = a["p"], a["r"], a["l"]
    got = written(b, x, entry_columns(c)[0], "log_len", p, r)
    copied = (f"copies {_entry_at(x, c, p, r, got[0])} to offset {got[0]}" if got
              else "copies nothing")
    hw = (f"; the leader's high watermark moves to {x['hw'][p][l]}"
          if x["hw"][p][l] != b["hw"][p][l] else "")
    return (f"broker {r} fetches {_pname(c, p)} from offset {b['log_len'][p][r]} from the leader, "
            f"broker {l}, and {copied}{hw}; its own high watermark is {x['hw'][p][r]}")


@teller
def tell_leader_shrink_isr(a, b, x, c):
    p, r, l = a["p"], a["r"], a["l"]
    hw = (f"; the high watermark moves to {x['hw'][p][l]}" if x["hw"][p][l] != b["hw"][p][l] else "")
    known = b["seen"][p][r]
    fetched = f"it has fetched to {known - 1} of {b['log_len'][p][l]}" if known else "it has not fetched"
    return (f"broker {r} lags behind ({fetched}): "
            f"the leader, broker {l}, shrinks {_pname(c, p)}'s ISR to {_members(x['isr'][p])}{hw}"
            f"{_elr_note(b, x, c, p)}")


@teller
def tell_leader_expand_isr(a, b, x, c):
    p, r, l = a["p"], a["r"], a["l"]
    return (f"broker {r} has caught up: the leader, broker {l}, expands {_pname(c, p)}'s ISR to "
            f"{_members(x['isr'][p])}{_elr_note(b, x, c, p)}")


@teller
def tell_follower_truncate(a, b, x, c):
    p, r = a["p"], a["r"]
    asks = ("" if c.variant.truncation == "high-watermark"
            else " asks the leader where its log diverges (OffsetsForLeaderEpoch) and")
    old, new = b["log_len"][p][r], x["log_len"][p][r]
    cut = (f"removes {_entries(b, c, p, r, range(new, old))} (offset"
           f"{'s' if old - new > 1 else ''} {new}{f' to {old - 1}' if old - new > 1 else ''})"
           if new < old else "keeps its whole log")
    again = "; it will ask again" if x["trunc"][p][r] else ""
    return f"broker {r}{asks} truncates {_pname(c, p)} to offset {new}: it {cut}{again}"


def _unflushed(b: dict, x: dict, c: Any, br: int) -> str:
    """``, losing the unflushed b2 (r1) of partition 0``: what broker ``br``'s logs lost in the step."""
    lost = []
    for p in range(len(x["log_len"])):
        old, new = b["log_len"][p][br], x["log_len"][p][br]
        if new < old:
            lost.append(f"{_entries(b, c, p, br, range(new, old))} of {_pname(c, p)}")
    return f", losing the unflushed {listing(lost)}" if lost else ""


def _members(row: list) -> str:
    """``{0, 1}``: the replicas flagged in a row of the ISR or the ELR."""
    return "{" + ", ".join(str(m) for m, on in enumerate(row) if on) + "}"


def _elr_note(b: dict, x: dict, c: Any, p: int) -> str:
    """``; its eligible leader replicas are {1}``, when a step changed those of ``p``."""
    if not c.variant.elr or x["elr"][p] == b["elr"][p]:
        return ""
    return f"; its eligible leader replicas are {_members(x['elr'][p])}"


def _elr_changes(b: dict, x: dict, c: Any) -> str:
    """``; partition 0's ISR is {} and its eligible leader replicas {0, 1}``: what a step did to
    the ISR and the ELR (KIP-966 variants), read from the states around it."""
    if not c.variant.elr:
        return ""
    out = [f"{_pname(c, p)}'s ISR is {_members(x['isr'][p])} and its eligible leader replicas "
           f"{_members(x['elr'][p])}"
           for p in range(len(x["isr"])) if (x["isr"][p], x["elr"][p]) != (b["isr"][p], b["elr"][p])]
    return f"; {listing(out)}" if out else ""


@teller
def tell_broker_crash(a, b, x, c):
    br = a["b"]
    led = [p for p in range(len(x["leader"])) if x["leader"][p] != b["leader"][p]]
    what = _unflushed(b, x, c, br)
    leads_ = f"; {_pnames(c, led)} {'has' if len(led) == 1 else 'have'} no leader" if led else ""
    name = f"broker {br}" if c.variant.replicated else "the partition's broker"
    return f"{name} crashes{what}{leads_}{_elr_changes(b, x, c)}"


@teller
def tell_broker_bounce(a, b, x, c):
    br = a["b"]
    what = _unflushed(b, x, c, br)
    kept = [str(p) for p in range(len(x["isr"])) if x["isr"][p][br]]
    isr = f"; it is still in the ISR of {_pnames(c, [int(p) for p in kept])}" if kept else ""
    return f"broker {br} restarts before the controller notices{what}{isr}"


@teller
def tell_broker_restart(a, b, x, c):
    name = f"broker {a['b']}" if c.variant.replicated else "the partition's broker"
    left = _elr_changes(b, x, c)
    why = f" after an unclean shutdown{left}" if left else ""
    return f"{name} restarts with its logs{why}"


@teller
def tell_controller_elect(a, b, x, c):
    p, r = a["p"], a["r"]
    if b["isr"][p][r]:
        kind = "from the ISR"
    elif c.variant.elr and b["elr"][p][r]:
        kind = "from the eligible leader replicas"
    elif c.variant.elr and b["last_leader"][p] == r:
        kind = "as the last known leader (it was in no ISR or ELR)"
    else:
        kind = "uncleanly (it was not in the ISR)"
    name = f"broker {r}" if c.variant.replicated else "the partition's broker"
    return (f"the controller elects {name} leader of {_pname(c, p)} {kind}, in leader epoch "
            f"{x['lepoch'][p]}; its log ends at {x['log_len'][p][r]}, its high watermark is "
            f"{x['hw'][p][r]}")


@event_of
def ev_broker_append(a, b, x, c):
    p, k, r = a["p"], a["k"], a["r"]
    at = written(b, x, "log", "log_len", p, r)
    if at:
        return Event(lane(c, p, r), f"append b{k + 1} @{','.join(map(str, at))}")
    return Event(lane(c, p, r), f"append nothing (b{k + 1})")


@event_of
def ev_leader_answer(a, b, x, c):
    return Event(lane(c, a["p"], a["r"]), f"@{a['j']} committed: answer")


@event_of
def ev_broker_fail_transient(a, b, x, c):
    return Event(leader_lane(c, a["p"], b), f"fail b{a['k'] + 1} (retriable)")


@event_of
def ev_broker_expire_producer(a, b, x, c):
    return Event(lane(c, a["p"], a["r"]), f"forget P{a['q'] + 1}'s state")


@event_of
def ev_follower_fetch(a, b, x, c):
    p, r, l = a["p"], a["r"], a["l"]
    got = written(b, x, entry_columns(c)[0], "log_len", p, r)
    what = f"copy @{got[0]}" if got else "fetch"
    return Event(lane(c, p, r), f"{what}, hw {x['hw'][p][r]}",
                 exchanges=(Exchange(lane(c, p, l), inbound=True),))


@event_of
def ev_leader_shrink_isr(a, b, x, c):
    return Event(lane(c, a["p"], a["l"]), f"ISR minus {a['r']}", exchanges=(Exchange(CONTROLLER),))


@event_of
def ev_leader_expand_isr(a, b, x, c):
    return Event(lane(c, a["p"], a["l"]), f"ISR plus {a['r']}", exchanges=(Exchange(CONTROLLER),))


@event_of
def ev_follower_truncate(a, b, x, c):
    p, r = a["p"], a["r"]
    asks = () if c.variant.truncation == "high-watermark" else (Exchange(lane(c, p, a["l"])),)
    return Event(lane(c, p, r), f"truncate to {x['log_len'][p][r]}", exchanges=asks)


@event_of
def ev_broker_crash(a, b, x, c):
    lossy = bool(_unflushed(b, x, c, a["b"]))
    return Event(lane(c, 0, a["b"]), "power loss" if lossy else "down, fenced", crash=True,
                 discards=True)


@event_of
def ev_broker_bounce(a, b, x, c):
    lossy = bool(_unflushed(b, x, c, a["b"]))
    return Event(lane(c, 0, a["b"]), "quick restart" + (", data lost" if lossy else ""), crash=True)


@event_of
def ev_broker_restart(a, b, x, c):
    return Event(lane(c, 0, a["b"]), "restart")


@event_of
def ev_controller_elect(a, b, x, c):
    p, r = a["p"], a["r"]
    return Event(CONTROLLER, f"elect {r} (epoch {x['lepoch'][p]})",
                 exchanges=(Exchange(lane(c, p, r)),))
