"""Strengthening lemmas for the exactly-once proofs (today's Kafka: TV2, one transactional id).

``no_aborted_read`` and ``atomic_transactions`` hold in every reachable
state, but neither is inductive: an arbitrary state can pair a reader's
view with a coordinator, a network and logs that no history produces.
These lemmas rule such states out; with them both promises are proved by
k-induction (k = 1) at the default bounds and beyond (``deliverycheck prove``,
docs/smt.md).  The argument, in the protocol's terms (docs/protocol.md §6-§8,
KIP-98, KIP-447, KIP-890):

* bookkeeping: records, requests, logs and instances name attempts that
  have begun and producers that exist; an instance's stage agrees with
  what it has done (``lemma_txn_tags``, ``lemma_txn_log_wellformed``,
  ``lemma_txn_instance_progress``, ``lemma_txn_live_requests``);
* the coordinator writes before it speaks: every epoch anyone holds is
  durable in ``__transaction_state``, and memory is at most one legal
  pending transition ahead of the log (``lemma_txn_epochs``,
  ``lemma_txn_tc_durable``);
* epochs name owners: an Ongoing transaction belongs to the instance
  holding its epoch; under TV2 every end bumps the epoch, so one epoch
  names one attempt, and an EndTxn or a reply with the current epoch
  belongs to the instance still waiting with it (``lemma_txn_tc_owner``,
  ``lemma_txn_epoch_attempt``, ``lemma_txn_current_end_txn``,
  ``lemma_txn_tc_reply``);
* decisions: the coordinator's current attempt is committed exactly from
  PrepareCommit on; an attempt still running is not committed, one being
  aborted is aborted (``lemma_txn_tc_attempt``,
  ``lemma_txn_running_undecided``);
* partitions follow the coordinator: a partition's open transaction is
  the coordinator's current attempt, and every marker a partition would
  accept carries the coordinator's durable decision
  (``lemma_txn_open_entries``, ``lemma_txn_markers``);
* hence a record closed by a COMMIT marker belongs to a committed attempt
  (``lemma_txn_committed_decided``), which is ``no_aborted_read``; and a
  committed attempt has records on both outputs, none aborted
  (``lemma_txn_written_logged``, ``lemma_txn_committed_everywhere``),
  which once every transaction is complete is ``atomic_transactions``.

Two lemmas count the fault budget (a zombie, a fence, a stopped owner of
an Ongoing transaction each mean the one fault is spent): they are
statements about the default bounds, one fault, and ``verify`` checks them
there.

Five more show that no capacity of the model cuts a history short: the
group's generation, the producer epoch, the logs, the request channels
and the attempt count each stay within the size the bounds give them,
because every fault pays for what it can throw away
(``lemma_txn_cap_*``).  They are stated in the bounds, and share one
notion: an instance *on track* (:func:`_on_track`), which nothing under
way will stop short of a new fault.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, count, get, implies, ite, not_, or_
from deliverycheck.core.spec import always
from deliverycheck.model import broker_txn
from deliverycheck.model.coordinator import completed
from deliverycheck.model.environment import can_fault
from deliverycheck.model.processor import running
from deliverycheck.model.txn_client import rewinds
from deliverycheck.properties.exactly_once import _entries
from deliverycheck.model.txn_state import (ABORT, ABORTABLE, ABORTED, ABORTING, COMMIT, COMMIT_OFFSETS,
                                           COMMITTED, COMMITTING, COMPLETE_ABORT, COMPLETE_COMMIT, DATA,
                                           DEAD, EMPTY, FETCH, IN_TXN, INIT, INSTANCES, NOT_SENT, OFF,
                                           OFFSETS, ONGOING, OPEN, OUTPUTS, PREP_ABORT, PREP_COMMIT,
                                           PREP_FENCE, READY, SENT, STOPPED, WRITTEN, attempts,
                                           log_capacity, slots, tid, txn_ids)


def _tv2_shared(cfg: Any) -> bool:
    """Exactly-once with one transactional id (``T``) under TV2 with today's marker rule (KIP-1228
    with KAFKA-19999's retry), with output partitions of one replica and no marker sent twice
    (``marker_retries``, off by default) and epochs that never run out (``epochs``): the lemmas
    speak of each output's one log and of one producer id's epochs."""
    v = cfg.variant
    return (cfg.mode.name == "exactly-once" and v.tv2 and v.strict_markers and v.marker_retry_ok
            and not v.replicated and cfg.bounds.marker_retries == 0 and not cfg.bounds.epochs)


T = 0  # the one transactional id of the exactly-once mode


def _requests(c: Any):
    return [(o, i, k) for o in range(OUTPUTS) for i in range(INSTANCES) for k in range(slots(c))]


def _idle(s: Any, t: int) -> Any:
    """The TC has no transaction of ``t`` open or completing, durably (Empty or Complete*)."""
    tl = s.tl_state[t]
    return or_(tl == EMPTY, tl == COMPLETE_COMMIT, tl == COMPLETE_ABORT)


def _in_attempt(s: Any, i: int) -> Any:
    """Instance ``i`` is inside a transaction attempt (begun, EndTxn not yet answered)."""
    st = s.ps_stage[i]
    return or_(st == IN_TXN, st == ABORTABLE, st == COMMITTING, st == ABORTING)


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_tags(s, c):
    """Every record, request and running attempt names an attempt that has begun.

    History bookkeeping: attempts are numbered 1, 2, ... as they begin; an
    instance inside an attempt, a produce request and a data record carry
    one of those numbers (two instances never the same), and attempts not
    begun yet have no outcome.
    """
    n = s.g_attempts
    return and_(
        all_(and_(s.ps_tag[i] <= n, implies(_in_attempt(s, i), s.ps_tag[i] >= 1))
             for i in range(INSTANCES)),
        all_(or_(s.ps_tag[i] != s.ps_tag[j], s.ps_tag[i] == 0)
             for i in range(INSTANCES) for j in range(i)),
        all_(s.tc_tag[t] <= n for t in range(len(s.tc_tag))),
        all_(implies(s.rq_rec[o][i][k] != 0, and_(s.rq_tag[o][i][k] >= 1, s.rq_tag[o][i][k] <= n))
             for o, i, k in _requests(c)),
        all_(implies(broker_txn.is_data(s, c, o, j), and_(broker_txn.col(s, c, "ent_tag", o)[j] >= 1, broker_txn.col(s, c, "ent_tag", o)[j] <= n))
             for o, j in _entries(c)),
        all_(implies(m > n, s.outcome[m] == OPEN) for m in range(1, attempts(c) + 1)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_log_wellformed(s, c):
    """Every log entry below the log end is a record or a marker of a producer that exists.

    Likewise every marker request in flight names an existing producer.
    """
    ids = txn_ids(c)
    return and_(
        all_(implies(j < broker_txn.end(s, c, o), and_(broker_txn.col(s, c, "ent_kind", o)[j] != 0, broker_txn.col(s, c, "ent_pid", o)[j] < ids))
             for o, j in _entries(c)),
        all_(implies(s.mk_kind[p][k] != 0, s.mk_pid[p][k] < ids)
             for p in range(OUTPUTS + 1) for k in range(slots(c))))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_committed_decided(s, c):
    """A record whose transaction ended with a COMMIT marker belongs to a committed attempt."""
    return all_(implies(broker_txn.committed(s, c, o, j),
                        get(s.outcome, broker_txn.col(s, c, "ent_tag", o)[j]) == COMMITTED) for o, j in _entries(c))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_running_undecided(s, c):
    """An instance still inside its transaction (not yet committing) has not been committed.

    Only the instance's own EndTxn(commit) commits its attempt, and sending
    it moves the instance on to committing; neither is the TC committing it.
    An instance that called ``abortTransaction()`` has aborted its attempt.
    """
    def one(i):
        t = tid(c, i)
        commit_at_tc = and_(s.tc_tag[t] == s.ps_tag[i],
                            or_(s.tc_state[t] == PREP_COMMIT, s.tc_state[t] == COMPLETE_COMMIT))
        return and_(implies(or_(s.ps_stage[i] == IN_TXN, s.ps_stage[i] == ABORTABLE),
                            and_(get(s.outcome, s.ps_tag[i]) != COMMITTED, not_(commit_at_tc))),
                    implies(s.ps_stage[i] == ABORTING, get(s.outcome, s.ps_tag[i]) == ABORTED))
    return all_(one(i) for i in range(INSTANCES))


def _exposed_epochs(s: Any, c: Any, t: int) -> list[Any]:
    """Every epoch of ``t`` that anyone outside the TC holds: instances, requests, partitions, logs."""
    out = [s.ps_epoch[i] for i in range(INSTANCES) if tid(c, i) == t]
    out += [s.rq_epoch[o][i][k] for o, i, k in _requests(c) if tid(c, i) == t]
    out += [s.et_epoch[i][k] for i in range(INSTANCES) for k in range(slots(c)) if tid(c, i) == t]
    out += [s.pst_epoch[p][t] for p in range(OUTPUTS + 1)]
    out += [ite(and_(j < broker_txn.end(s, c, o), broker_txn.col(s, c, "ent_pid", o)[j] == t), broker_txn.col(s, c, "ent_epoch", o)[j], 0)
            for o, j in _entries(c)]
    out += [s.g_fence[t]]
    return out


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_epochs(s, c):
    """Only a durable epoch is ever handed out; the TC is at most one pending bump ahead of it.

    The TC writes an epoch bump to ``__transaction_state`` before anyone
    hears of it (InitProducerId, the EndTxn answer, a marker), so every
    epoch an instance, a request or a partition holds is at most the
    durable one; in memory the TC is one bump ahead only while that
    transition is pending.
    """
    return all_(and_(all_(e <= s.tl_epoch[t] for e in _exposed_epochs(s, c, t)),
                     all_(implies(s.mk_kind[p][k] != 0, s.mk_epoch[p][k] <= s.tl_epoch[t])
                          for p in range(OUTPUTS + 1) for k in range(slots(c))),
                     or_(s.tc_epoch[t] == s.tl_epoch[t],
                         and_(s.tc_pending[t], s.tc_epoch[t] == s.tl_epoch[t] + 1)))
                for t in range(txn_ids(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_instance_progress(s, c):
    """An instance's stage agrees with what it has done in its attempt.

    ``send()`` writes to both output partitions in one step, and
    ``commitTransaction()`` is called only once both writes are
    acknowledged and the offsets are in the transaction (so never commits
    offsets outside it).  An instance initialising has no attempt yet.
    Two instances run at once only after the group took one for dead,
    which takes the one fault of the default bounds.
    """
    zombie = implies(and_(*(running(s, i) for i in range(INSTANCES))), not_(can_fault(s, c)))

    def one(i):
        st = s.ps_stage[i]
        written = and_(s.ps_offsets[i], *(s.ps_out[i][o] == WRITTEN for o in range(OUTPUTS)))
        return and_((s.ps_out[i][0] == NOT_SENT) == (s.ps_out[i][1] == NOT_SENT),
                    st != COMMIT_OFFSETS, implies(st == INIT, s.ps_tag[i] == 0),
                    implies(st == COMMITTING, written))
    return and_(zombie, all_(one(i) for i in range(INSTANCES)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_live_requests(s, c):
    """A request its sender still waits for carries the sender's current epoch and attempt.

    A live produce request is the instance's one unanswered write of its
    current attempt; a live EndTxn is the one its committing or aborting
    instance waits for; there is at most one of each.  (An instance that
    stops at a fatal error leaves its requests unanswered but still live.
    Giving up on a request, at a timeout, an abort or a restart, makes it
    late: not live.)
    """
    produce = all_(implies(and_(s.rq_rec[o][i][k] != 0, s.rq_live[o][i][k]),
                           and_(s.rq_epoch[o][i][k] == s.ps_epoch[i], s.rq_tag[o][i][k] == s.ps_tag[i],
                                s.ps_out[i][o] == SENT,
                                or_(s.ps_stage[i] == IN_TXN, s.ps_stage[i] == ABORTABLE,
                                    s.ps_stage[i] == STOPPED)))
                   for o, i, k in _requests(c))
    end = all_(implies(and_(s.et_kind[i][k] != 0, s.et_live[i][k]),
                       and_(s.et_epoch[i][k] == s.ps_epoch[i],
                            or_(s.ps_stage[i] == ite(s.et_kind[i][k] == COMMIT, COMMITTING, ABORTING),
                                s.ps_stage[i] == STOPPED)))
               for i in range(INSTANCES) for k in range(slots(c)))
    K = range(slots(c))
    one = and_(all_(implies(and_(s.rq_rec[o][i][k] != 0, s.rq_live[o][i][k], s.rq_rec[o][i][m] != 0),
                            not_(s.rq_live[o][i][m]))
                    for o in range(OUTPUTS) for i in range(INSTANCES) for k in K for m in K if m != k),
               all_(implies(and_(s.et_kind[i][k] != 0, s.et_live[i][k], s.et_kind[i][m] != 0),
                            not_(s.et_live[i][m]))
                    for i in range(INSTANCES) for k in K for m in K if m != k))
    return and_(produce, end, one)


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_tc_attempt(s, c):
    """The TC's current transaction is an attempt that is committed exactly when PrepareCommit is durable.

    ``tc_tag`` is the attempt whose first write or AddOffsetsToTxn made the
    transaction Ongoing; it is committed from the moment PrepareCommit is
    written until the transaction completes, and not committed before.
    With nothing open (Empty, Complete*, in memory or durably) there is no
    current attempt.
    """
    def one(t):
        st, pending, n = s.tc_state[t], s.tc_pending[t], s.tc_tag[t]
        decided = or_(and_(st == PREP_COMMIT, not_(pending)), and_(st == COMPLETE_COMMIT, pending))
        tl = s.tl_state[t]
        idle = or_(completed(s, t), _idle(s, t))
        return and_(implies(idle, n == 0),
                    implies(or_(st == ONGOING, tl == ONGOING), n >= 1),
                    implies(n >= 1, (get(s.outcome, n) == COMMITTED) == decided))
    return all_(one(t) for t in range(txn_ids(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_current_end_txn(s, c):
    """An EndTxn in flight with the durable epoch comes from the instance still waiting to end with it.

    Under TV2 every ended transaction bumps the epoch, and an instance
    leaves committing or aborting only on an answer (which, unless fenced,
    follows the bump) or a fence (a stale epoch): so an EndTxn request
    with the current epoch, late or not, belongs to an instance that is
    still committing (aborting) with that epoch.
    """
    return all_(implies(and_(s.et_kind[i][k] != 0, s.et_epoch[i][k] == s.tl_epoch[tid(c, i)]),
                        and_(s.ps_epoch[i] == s.et_epoch[i][k],
                             s.ps_stage[i] == ite(s.et_kind[i][k] == COMMIT, COMMITTING, ABORTING)))
                for i in range(INSTANCES) for k in range(slots(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_tc_owner(s, c):
    """An Ongoing transaction belongs to the instance that holds its epoch, and is its attempt.

    InitProducerId gives each instance its own epoch (the newest instance
    holds every epoch from the last one InitProducerId handed out, older
    ones are below it), and only a request with the TC's epoch can make a
    transaction Ongoing; the instance that holds it stays inside that
    attempt until the TC ends it.  An instance with the TC's epoch whose
    attempt has had a write acknowledged (or its offsets added) is that
    owner: the write opened the transaction.  A pending PrepareCommit or
    PrepareAbort (also TV2's abort with nothing open) was started by the
    EndTxn of the instance holding the durable epoch, which still waits.

    While the transaction is durably Ongoing but a fence (the TC's
    timeout) is pending, the owner may be fenced and stop; a coordinator
    failover would then revert the TC to Ongoing without its owner, but the
    timeout took the one fault of the default bounds, so the lemma asks
    for the owner then only while a fault is left.  (Any fence takes it:
    a timeout, or a new instance's InitProducerId while the owner runs,
    which makes it a zombie, or after it stopped, which only a fence does.)
    """
    def owner(t):
        st = s.tc_state[t]
        # the owner's EndTxn is what started a pending PrepareCommit / PrepareAbort
        stage_ok = [ite(st == PREP_COMMIT, s.ps_stage[i] == COMMITTING,
                        ite(st == PREP_ABORT, s.ps_stage[i] == ABORTING, _in_attempt(s, i)))
                    for i in range(INSTANCES)]
        return or_(*(and_(s.ps_epoch[i] == s.tl_epoch[t], stage_ok[i],
                          implies(s.tl_state[t] == ONGOING, s.ps_tag[i] == s.tc_tag[t]))
                     for i in range(INSTANCES) if tid(c, i) == t))

    def ongoing(t):
        # durably Ongoing under a pending fence, the owner may be fenced, stop and restart; a
        # failover could then undo the fence, but not once the fault budget is spent
        ending = and_(s.tc_pending[t], or_(s.tc_state[t] == PREP_COMMIT, s.tc_state[t] == PREP_ABORT))
        needed = or_(s.tc_state[t] == ONGOING, ending,
                     and_(s.tl_state[t] == ONGOING, can_fault(s, c)))
        return and_(implies(needed, owner(t)),
                    implies(s.tc_state[t] == PREP_FENCE, not_(can_fault(s, c))))
    # the instance InitProducerId last answered holds every epoch from g_fence on; older ones are below
    fence = s.g_fence[T]
    distinct = all_(or_(s.ps_epoch[i] == 0, s.ps_epoch[j] == 0,
                        and_(s.ps_epoch[i] != s.ps_epoch[j],
                             or_(s.ps_epoch[i] < fence, s.ps_epoch[j] < fence)))
                    for i in range(INSTANCES) for j in range(i) if tid(c, i) == tid(c, j))
    initialised = all_(or_(s.ps_stage[i] == OFF, s.ps_stage[i] == INIT) == (s.ps_epoch[i] == 0)
                       for i in range(INSTANCES))
    # an acknowledged write or offsets sent made the attempt's transaction Ongoing at the TC
    def touched(i):
        return and_(_in_attempt(s, i),
                    or_(s.ps_offsets[i], *(s.ps_out[i][o] == WRITTEN for o in range(OUTPUTS))))
    committing = all_(and_(implies(and_(touched(i), s.ps_epoch[i] == s.tc_epoch[T]),
                                   s.tc_state[T] == ONGOING),
                           implies(and_(touched(i), s.ps_epoch[i] == s.tl_epoch[T]),
                                   and_(s.tl_state[T] == ONGOING, s.tc_tag[T] == s.ps_tag[i])))
                      for i in range(INSTANCES))
    return and_(distinct, initialised, committing, all_(ongoing(t) for t in range(txn_ids(c))))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_tc_durable(s, c):
    """The TC's memory equals its durable log except for one pending transition, which is a legal one.

    Every transition is written to ``__transaction_state`` first; while one
    is pending, memory is one step ahead: Ongoing -> PrepareCommit,
    PrepareAbort or PrepareEpochFence (epoch bumped), Empty/Complete* ->
    PrepareAbort (TV2's abort with nothing open), Prepare* -> Complete*.
    ``Dead`` is never entered; PrepareEpochFence is written as PrepareAbort.
    Only InitProducerId makes a transactional id Empty, at the epoch it
    hands out; under TV2 every Prepare* after it bumps the epoch past it.
    """
    def one(t):
        st, tl, pending = s.tc_state[t], s.tl_state[t], s.tc_pending[t]
        idle = _idle(s, t)
        same = and_(st == tl, s.tc_epoch[t] == s.tl_epoch[t],
                    *(a == b for a, b in zip(s.tc_parts[t], s.tl_parts[t])))
        step = and_(*(a == b for a, b in zip(s.tc_parts[t], s.tl_parts[t])), or_(
            and_(tl == ONGOING, or_(st == PREP_COMMIT, st == PREP_ABORT, st == PREP_FENCE),
                 s.tc_epoch[t] == s.tl_epoch[t] + 1),
            and_(idle, st == PREP_ABORT, s.tc_epoch[t] == s.tl_epoch[t] + 1),
            and_(tl == PREP_COMMIT, st == COMPLETE_COMMIT, s.tc_epoch[t] == s.tl_epoch[t]),
            and_(tl == PREP_ABORT, st == COMPLETE_ABORT, s.tc_epoch[t] == s.tl_epoch[t])))
        # InitProducerId leaves Empty at the epoch it hands out; every later end bumps past it
        fence = ite(tl == EMPTY, s.tl_epoch[t] == s.g_fence[t],
                    implies(tl != ONGOING, s.tl_epoch[t] > s.g_fence[t]))
        empty = implies(idle, not_(or_(*s.tl_parts[t])))
        return and_(tl != DEAD, tl != PREP_FENCE, ite(pending, step, same), fence, empty)
    return all_(one(t) for t in range(txn_ids(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_tc_reply(s, c):
    """The instance the TC will answer once Prepare* is durable is waiting for it, with the old epoch.

    The TC answers EndTxn only when PrepareCommit/PrepareAbort is written
    (``tc_reply``); until then the sender waits in committing (aborting)
    with the epoch the request carried, the durable one, and has no other
    EndTxn it waits for (a timeout resends it and drops the pending answer).
    """
    def one(i):
        t = tid(c, i)
        st = s.tc_state[t]
        return implies(s.tc_reply[t] == i + 1,
                       and_(s.tc_pending[t], s.ps_epoch[i] == s.tl_epoch[t],
                            not_(any_(and_(kind != 0, live)
                                      for kind, live in zip(s.et_kind[i], s.et_live[i]))),
                            or_(and_(st == PREP_COMMIT, s.ps_stage[i] == COMMITTING),
                                and_(st == PREP_ABORT, s.ps_stage[i] == ABORTING))))
    return all_(one(i) for i in range(INSTANCES))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_epoch_attempt(s, c):
    """Under TV2 an epoch names one attempt: records and requests with the same epoch share their attempt.

    InitProducerId and every EndTxn bump the epoch (KIP-890 part 2), so an
    instance makes at most one attempt per epoch; every produce request and
    record carries the epoch of the attempt that sent it; an instance
    between attempts holds an epoch nothing carries yet, and a record or
    request with the TC's durable epoch was sent by the instance that
    holds it, in an attempt, or is in the TC's Ongoing transaction (a
    record always is: the leader verified its first write with the TC).
    The records and requests of an instance's current attempt carry the
    epoch the instance holds.
    """
    requests = [(s.rq_epoch[o][i][k], s.rq_tag[o][i][k], s.rq_rec[o][i][k] != 0, o)
                for o, i, k in _requests(c)]
    records = [(broker_txn.col(s, c, "ent_epoch", o)[j], broker_txn.col(s, c, "ent_tag", o)[j], broker_txn.is_data(s, c, o, j), o)
               for o, j in _entries(c)]
    running_ = [(s.ps_epoch[i], s.ps_tag[i], _in_attempt(s, i)) for i in range(INSTANCES)]

    def agree(a, b):
        return implies(and_(a[2], b[2], a[0] == b[0]), a[1] == b[1])
    same = and_(all_(agree(a, b) for x, a in enumerate(requests) for b in requests[:x]),
                all_(agree(a, b) for a in requests + records for b in running_),
                # a request with the epoch of its partition's open transaction is in that transaction
                all_(implies(and_(live, s.pst_first[o][T] != 0, e == s.pst_epoch[o][T]), n == s.tc_tag[T])
                     for e, n, live, o in requests))
    items = requests + records
    # an instance between attempts holds an epoch no record or request carries yet
    fresh = all_(implies(or_(s.ps_stage[i] == FETCH, s.ps_stage[i] == READY),
                         all_(implies(live, e != s.ps_epoch[i]) for e, _, live, _ in items))
                 for i in range(INSTANCES))

    # nothing carries the TC's epoch unless its transaction is Ongoing or its holder is sending
    def held(e):
        return or_(*(and_(_in_attempt(s, i), s.ps_epoch[i] == e) for i in range(INSTANCES)))
    current = and_(all_(implies(and_(live, e == s.tl_epoch[T]), or_(s.tl_state[T] == ONGOING, held(e)))
                        for e, _, live, _ in requests),
                   # a record with it made the transaction Ongoing (the leader verified it)
                   all_(implies(and_(live, e == s.tl_epoch[T]), s.tl_state[T] == ONGOING)
                        for e, _, live, _ in records))
    # and the attempt an instance is in was made with the epoch it holds
    own = all_(implies(and_(_in_attempt(s, i), live, n == s.ps_tag[i]), e == s.ps_epoch[i])
               for e, n, live, _ in items for i in range(INSTANCES))
    return and_(same, fresh, current, own)


def _open(s: Any, c: Any, o: int, j: int, t: int) -> Any:
    """Entry ``j`` of output ``o`` is a record of producer ``t`` whose transaction has no marker yet."""
    return and_(broker_txn.is_data(s, c, o, j), broker_txn.col(s, c, "ent_pid", o)[j] == t, broker_txn.fate(s, c, o, j) == OPEN)


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_open_entries(s, c):
    """A partition's open transaction is the TC's current one: same attempt, same epoch, first offset known.

    The leader's producer state (``pst_first``, ProducerStateManager's
    first offset of the ongoing transaction) points at the first record
    with no marker yet; every such record carries the epoch the partition
    holds for the producer (the TC's epoch, or the one before it once the
    end bumped it) and belongs to the TC's current attempt, whose
    partition set includes this partition; with no transaction at the TC,
    no partition has one open.  The current attempt's records have no
    marker before its Prepare is durable, and then only its decision.
    """
    def one(o, t):
        first = s.pst_first[o][t]
        records = all_(implies(_open(s, c, o, j, t),
                               and_(first != 0, first - 1 <= j,
                                    broker_txn.col(s, c, "ent_epoch", o)[j] == s.pst_epoch[o][t],
                                    broker_txn.col(s, c, "ent_tag", o)[j] == s.tc_tag[t], s.tc_parts[t][o],
                                    not_(_idle(s, t)),
                                    # written before the end bumped the epoch (KIP-890 part 2)
                                    broker_txn.col(s, c, "ent_epoch", o)[j] == ite(s.tl_state[t] == ONGOING, s.tl_epoch[t],
                                                             s.tl_epoch[t] - 1)))
                       for j in range(log_capacity(c)))
        points = all_(implies(first == j + 1, _open(s, c, o, j, t)) for j in range(log_capacity(c)))
        # no marker is written for the current attempt before its Prepare is durable, then only its own
        tl = s.tl_state[t]
        current = all_(implies(and_(broker_txn.is_data(s, c, o, j), broker_txn.col(s, c, "ent_pid", o)[j] == t,
                                    s.tc_tag[t] != 0, broker_txn.col(s, c, "ent_tag", o)[j] == s.tc_tag[t]),
                               or_(broker_txn.fate(s, c, o, j) == OPEN,
                                   and_(tl == PREP_COMMIT, broker_txn.fate(s, c, o, j) == COMMIT),
                                   and_(tl == PREP_ABORT, broker_txn.fate(s, c, o, j) == ABORT)))
                       for j in range(log_capacity(c)))
        return and_(records, points, current, implies(_idle(s, t), first == 0))
    return all_(one(o, t) for o in range(OUTPUTS) for t in range(txn_ids(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_markers(s, c):
    """Every WriteTxnMarkers request a partition would accept carries the TC's decision.

    The TC sends one marker per partition of a prepared transaction
    (``tc_sent``) and completes once each partition has answered
    (``tc_marked``); an answered partition has closed the transaction with
    the marker's epoch and coordinator epoch.  A marker of an older
    coordinator (before a failover) carries the same durable decision, and
    once the new coordinator's marker is written the partition rejects it
    (its coordinator epoch is older).
    """
    P, K = range(OUTPUTS + 1), range(slots(c))

    def one(t):
        st, tl = s.tc_state[t], s.tl_state[t]
        prepared = and_(not_(s.tc_pending[t]), or_(st == PREP_COMMIT, st == PREP_ABORT))
        completing = and_(s.tc_pending[t], or_(st == COMPLETE_COMMIT, st == COMPLETE_ABORT))
        kind_now = ite(or_(tl == PREP_COMMIT, st == COMPLETE_COMMIT), COMMIT, ABORT)
        sent = implies(s.tc_sent[t], or_(prepared, completing))
        marked = all_(implies(s.tc_marked[t][p],
                              and_(s.tc_sent[t], s.tc_parts[t][p], s.pst_first[p][t] == 0,
                                   s.pst_cepoch[p][t] == s.tc_cepoch,
                                   s.pst_epoch[p][t] == s.tc_epoch[t]))
                      for p in P)
        completes = implies(completing, all_(implies(s.tc_parts[t][p], s.tc_marked[t][p]) for p in P))

        def request(p, k):
            mine = and_(s.mk_kind[p][k] != 0, s.mk_pid[p][k] == t)
            rejected = or_(s.mk_epoch[p][k] < s.pst_epoch[p][t],
                           s.mk_cepoch[p][k] < s.pst_cepoch[p][t])
            current = and_(s.tc_sent[t], prepared, not_(s.tc_marked[t][p]), s.tc_parts[t][p],
                           s.mk_kind[p][k] == kind_now, s.mk_epoch[p][k] == s.tc_epoch[t])
            older = and_(or_(tl == PREP_COMMIT, tl == PREP_ABORT), s.mk_kind[p][k] == kind_now,
                         s.mk_epoch[p][k] == s.tl_epoch[t], s.tl_parts[t][p])
            return implies(mine, and_(s.mk_cepoch[p][k] <= s.tc_cepoch,
                                      ite(s.mk_cepoch[p][k] == s.tc_cepoch, current,
                                          or_(rejected, older))))
        # one marker per partition and coordinator epoch for the current Prepare
        single = all_(implies(and_(s.mk_kind[p][k] != 0, s.mk_pid[p][k] == t,
                                   s.mk_cepoch[p][k] == s.tc_cepoch,
                                   s.mk_kind[p][m] != 0, s.mk_pid[p][m] == t),
                              s.mk_cepoch[p][m] != s.tc_cepoch)
                      for p in P for k in K for m in K if m != k)
        return and_(sent, marked, completes, single, all_(request(p, k) for p in P for k in K),
                    all_(s.pst_cepoch[p][t] <= s.tc_cepoch for p in P))
    return all_(one(t) for t in range(txn_ids(c)))


def _on_track(s: Any, c: Any, i: int) -> Any:
    """Instance ``i`` runs, and nothing under way will stop it, short of a new instance's start.

    It joined the group's current generation and still owns the input, and
    no newer epoch or fence is out against it: it has no epoch yet, or its
    epoch is still the TC's, or it waits for the answer to its own EndTxn,
    which the TC has taken and which bumps the epoch (TV2).
    """
    t, epoch = tid(c, i), s.ps_epoch[i]
    st, tcs = s.ps_stage[i], s.tc_state[t]
    ending = or_(and_(st == COMMITTING, or_(tcs == PREP_COMMIT, tcs == COMPLETE_COMMIT)),
                 and_(st == ABORTING, or_(tcs == PREP_ABORT, tcs == COMPLETE_ABORT)))
    current = and_(tcs != PREP_FENCE,
                   or_(epoch == s.tc_epoch[t],
                       and_(ending, epoch >= s.g_fence[t], s.tc_epoch[t] == epoch + 1)))
    return and_(running(s, i), s.ps_gen[i] == s.gc_generation, not_(s.ps_lost[i]),
                or_(epoch == 0, current))


def _about_to_fence(s: Any, j: int) -> Any:
    """Instance ``j`` has restarted and will call InitProducerId, fencing whoever holds the id."""
    return s.ps_stage[j] == INIT


def _unthreatened(s: Any, c: Any, i: int) -> Any:
    """Instance ``i`` is on track and no other instance is about to fence it (:func:`_on_track`)."""
    return and_(_on_track(s, c, i),
                not_(any_(_about_to_fence(s, j) for j in range(INSTANCES) if j != i)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_cap_generation(s, c):
    """Each start of an instance beyond the first is paid for: the group's generation stays in range.

    The first instance joins at generation 1.  Starting an instance while
    the other one runs (the group took it for dead) spends a fault; a start
    is free only when no instance runs.  An instance stops only when it is
    fenced or has lost its input: by a newer instance (whose start, while
    it ran, was a fault) or by the TC's timeout (a fault).  So the
    generation is at most two per fault spent, plus one while some
    instance runs unthreatened: it joined the current generation, still
    owns the input, and no newer epoch or fence is out against it.  With it
    the group's generation never outgrows its range (``processor_start``'s
    capacity).
    """
    joined = and_(s.gc_generation >= 1,
                  all_(and_(s.ps_gen[i] <= s.gc_generation, implies(running(s, i), s.ps_gen[i] >= 1),
                            # the group takes the input only from a member of an older generation
                            implies(s.ps_lost[i], s.ps_gen[i] < s.gc_generation))
                       for i in range(INSTANCES)),
                  # each start takes a new generation
                  all_(or_(s.ps_gen[i] != s.ps_gen[j], s.ps_gen[i] == 0)
                       for i in range(INSTANCES) for j in range(i)))
    # the later of two running instances started as a zombie's replacement: a fault
    both = implies(all_(running(s, i) for i in range(INSTANCES)), s.gc_generation <= 2 * s.faults)
    safe = any_(_unthreatened(s, c, i) for i in range(INSTANCES))
    return and_(joined, both, s.gc_generation <= 2 * s.faults + ite(safe, 1, 0))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_cap_epoch(s, c):
    """Every epoch bump is paid for by a start or an attempt: the producer epoch stays in range.

    The TC bumps the epoch when InitProducerId is granted (once per start
    of an instance, each of which advanced the group's generation), when
    it fences an Ongoing transaction (a new instance's InitProducerId or
    the transaction timeout) and, under TV2, when an attempt ends (KIP-890
    part 2).  A fenced attempt never ends by its own EndTxn, so each
    attempt pays for one bump and each start for one.  With it
    InitProducerId, EndTxn and the timeout never outgrow the epoch range
    (their capacities).
    """
    ongoing = s.tc_state[T] == ONGOING
    # still to come: InitProducerId's bump for an instance initialising, the end (or the fence)
    # of an Ongoing transaction, and the end of an attempt holding the TC's epoch that has not
    # made the transaction Ongoing (TV2 bumps at an abort with nothing open too)
    to_come = [ite(s.ps_stage[i] == INIT, 1, 0) for i in range(INSTANCES)]
    to_come += [ite(and_(_in_attempt(s, i), s.ps_epoch[i] == s.tc_epoch[T], not_(ongoing)), 1, 0)
                for i in range(INSTANCES)]
    return s.tc_epoch[T] + sum(to_come) + ite(ongoing, 1, 0) <= s.gc_generation + s.g_attempts


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_cap_log(s, c):
    """An output log holds at most a record and a marker per attempt: it stays within its capacity.

    Each attempt sends one produce request per output partition (``send()``
    once, no produce retries in this world), so the records in a log, the
    requests on their way to it and the writes an attempt has still to send
    number at most the attempts begun; and a partition writes a marker only
    when it closes an open transaction, which holds at least one record of
    its own.  So the log is at most twice the attempts, and
    ``broker_append_txn`` and ``broker_write_marker`` never outgrow it.
    """
    def one(o):
        below = [j < broker_txn.end(s, c, o) for j in range(log_capacity(c))]
        data = count(and_(b, broker_txn.col(s, c, "ent_kind", o)[j] == DATA) for j, b in enumerate(below))
        markers = count(and_(b, broker_txn.col(s, c, "ent_kind", o)[j] != DATA) for j, b in enumerate(below))
        on_the_wire = count(s.rq_rec[o][i][k] != 0 for i in range(INSTANCES) for k in range(slots(c)))
        to_send = count(and_(_in_attempt(s, i), s.ps_out[i][o] == NOT_SENT) for i in range(INSTANCES))
        open_txn = ite(s.pst_first[o][T] != 0, 1, 0)
        return and_(markers + open_txn <= data, data + on_the_wire + to_send <= s.g_attempts)
    return all_(one(o) for o in range(OUTPUTS))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_cap_requests(s, c):
    """Requests left behind on the wire are paid for by faults: every request channel has room.

    A sender has at most one request it still waits for per destination
    (``lemma_txn_live_requests``); the others are late, left behind when it
    gave up on them.  Giving up on a request still on its way is a
    premature timeout or a restart that replaces a running instance: a
    fault each, one late request per destination.  An instance that is
    stopped, or threatened with being stopped, leaves at most one more
    behind (the one it waits for, or the next it sends before it learns
    its fate: a restart, perhaps free, gives it up), paid for by the fault
    behind the threat.  Markers: the current coordinator has at
    most one WriteTxnMarkers in flight per partition of the transaction
    it is completing (sent once, removed when answered), and each
    failover may leave the old coordinator's behind.  Channels are kept
    packed (messages in the first slots).  So ``send()``,
    EndTxn, the abort, the timeout's resend and the TC's markers always
    find a free slot (their capacities).
    """
    def left_behind(occupied, live, i, may_send):
        # late requests, plus one for a threatened or stopped sender that still has a request
        # on the wire or may still send one: it will be left behind too, paid for by the fault
        # behind the threat
        waits = any_(and_(x, lv) for x, lv in zip(occupied, live))
        doomed = and_(not_(_unthreatened(s, c, i)), or_(waits, may_send))
        return count(and_(x, not_(lv)) for x, lv in zip(occupied, live)) + ite(doomed, 1, 0)

    # an instance aborting after the group took its input away writes nothing more (it stops
    # once the abort is answered), though it may still resend its EndTxn
    writes = [and_(running(s, i), not_(and_(s.ps_stage[i] == ABORTING, s.ps_lost[i])))
              for i in range(INSTANCES)]
    produce = all_(left_behind([r != 0 for r in s.rq_rec[o][i]], s.rq_live[o][i], i, writes[i])
                   <= s.faults for o in range(OUTPUTS) for i in range(INSTANCES))
    end = all_(left_behind([k != 0 for k in s.et_kind[i]], s.et_live[i], i, running(s, i)) <= s.faults
               for i in range(INSTANCES))

    # a write the instance waits for is on the wire (so timing it out is premature: a fault);
    # an instance that must abort has given up its writes (a timeout), unless the group took
    # its input away (it then aborts and stops)
    def live_write(o, i):
        return any_(and_(r != 0, lv) for r, lv in zip(s.rq_rec[o][i], s.rq_live[o][i]))
    waits = all_(and_(implies(and_(s.ps_stage[i] == IN_TXN, s.ps_out[i][o] == SENT), live_write(o, i)),
                      implies(and_(s.ps_stage[i] == ABORTABLE, not_(s.ps_lost[i])),
                              not_(live_write(o, i))))
                 for o in range(OUTPUTS) for i in range(INSTANCES))

    def markers(p):
        sent = [s.mk_kind[p][k] != 0 for k in range(slots(c))]
        current = count(and_(x, s.mk_cepoch[p][k] == s.tc_cepoch) for k, x in enumerate(sent))
        older = count(and_(x, s.mk_cepoch[p][k] != s.tc_cepoch) for k, x in enumerate(sent))
        waiting = and_(s.tc_sent[T], s.tc_parts[T][p], not_(s.tc_marked[T][p]))
        return and_(current <= ite(waiting, 1, 0), older <= s.tc_cepoch)
    # channels keep their messages in the first slots (``pushed`` fills the first free one,
    # ``removed`` moves the later ones up), so a channel with a free slot has its last one free
    keys = ([s.rq_rec[o][i] for o in range(OUTPUTS) for i in range(INSTANCES)]
            + [s.et_kind[i] for i in range(INSTANCES)] + [s.mk_kind[p] for p in range(OUTPUTS + 1)])
    packed = all_(implies(key[k] != 0, key[k - 1] != 0) for key in keys for k in range(1, len(key)))
    # an attempt has taken a record (so its writes carry one: a request is never empty)
    began = all_(implies(_in_attempt(s, i), s.ps_pos[i] >= 1) for i in range(INSTANCES))
    return and_(packed, waits, began, produce, end, all_(markers(p) for p in range(OUTPUTS + 1)))


def _rewinds_owned(cfg: Any) -> bool:
    """:func:`_tv2_shared`, and the group owns the offsets (KIP-447) and an abort rewinds the input."""
    return _tv2_shared(cfg) and cfg.variant.group_metadata and rewinds(cfg)


@always(scope=_rewinds_owned, claims=("exactly-once",))
def lemma_txn_cap_attempts(s, c):
    """Attempts beyond the records are paid for by faults: the attempt count stays in range.

    Every attempt takes the next input record.  Count the furthest position
    reached: the committed input offset, or the position of the instance of
    the current generation once it is past fetching it (only its own
    commits move the committed offset, KIP-447, so it is at most two
    records ahead of it).  Attempts begun run ahead of that count only when
    attempts are thrown away, and each fault pays for a pass over the
    records and one attempt more:

    * an instance the group has moved on from (a restart replaced it, a
      fault) may begin one more attempt before it stops;
    * the current instance is thrown back to the committed offset when it
      aborts (a voluntary abort or a premature timeout, faults) or is
      fenced, which takes a newer epoch: the TC's timeout or a failover
      (faults), or the InitProducerId of an older instance restarted
      before it (a fault when it restarted).  While such a fence is out
      or still to come, what it will throw away is held in reserve.

    With it ``processor_begin`` never outgrows the attempts the bounds
    allow (its capacity).  Stated for today's Kafka only: without group
    metadata a zombie's offsets are accepted, and without the rewind an
    instance runs ahead of the committed offset after an abort.
    """
    R = c.bounds.records
    st = s.ps_stage
    current = [and_(running(s, i), s.ps_gen[i] == s.gc_generation, not_(s.ps_lost[i]))
               for i in range(INSTANCES)]
    ahead = [and_(current[i], or_(st[i] == READY, st[i] == IN_TXN, st[i] == COMMITTING))
             for i in range(INSTANCES)]
    pending = s.gc_pending[T]
    base = ite(pending != 0, pending - 1, s.gc_committed)
    # a record taken whose offset has not been sent yet
    fresh = [and_(st[i] == IN_TXN, not_(s.ps_offsets[i])) for i in range(INSTANCES)]

    def exact(i):
        # where an instance on track stands: at the offset its last commit left pending at the
        # group (one past the committed one) or at the committed offset, plus a fresh record;
        # offsets are pending only in the TC's current transaction, and a new attempt waits for
        # its first write while the TC still writes the markers of the last one
        return and_(
            s.ps_pos[i] == base + ite(fresh[i], 1, 0),
            implies(pending != 0, or_(s.tc_state[T] == ONGOING, s.tc_state[T] == PREP_COMMIT)),
            implies(and_(pending != 0, or_(st[i] == READY, fresh[i])),
                    and_(s.tc_state[T] == PREP_COMMIT, not_(s.tc_pending[T]))),
            implies(and_(pending != 0, fresh[i]),
                    all_(s.ps_out[i][o] != WRITTEN for o in range(OUTPUTS))))

    def placed(i):
        # only its own commits move the committed offset: it is at most one record ahead of it
        # (two with a fresh record), and offsets pending at the group are its own
        return and_(s.ps_pos[i] >= s.gc_committed,
                    s.ps_pos[i] <= s.gc_committed + 1 + ite(fresh[i], 1, 0),
                    implies(pending != 0, s.ps_pos[i] == pending - 1 + ite(fresh[i], 1, 0)),
                    implies(_on_track(s, c, i), exact(i)))
    owner = all_(implies(ahead[i], placed(i)) for i in range(INSTANCES))
    reached = [s.gc_committed, *(ite(ahead[i], s.ps_pos[i], 0) for i in range(INSTANCES))]
    # an instance the group has moved on from that may still begin an attempt before it stops:
    # unless it is inside an attempt whose offsets the group will refuse (it then aborts and
    # stops), or has no record left
    may_begin = [or_(st[i] == INIT, st[i] == FETCH, and_(st[i] == READY, s.ps_pos[i] < R),
                     and_(or_(st[i] == IN_TXN, st[i] == COMMITTING), s.ps_offsets[i]),
                     and_(or_(st[i] == ABORTABLE, st[i] == ABORTING), not_(s.ps_lost[i])))
                 for i in range(INSTANCES)]
    doomed = sum(ite(and_(running(s, i), not_(current[i]), may_begin[i]), 1, 0) for i in range(INSTANCES))
    # a fence out against the current instance, or still to come from an older one restarted
    stale_init = [and_(_about_to_fence(s, j), s.ps_gen[j] < s.gc_generation) for j in range(INSTANCES)]
    threatened = any_(and_(current[i], or_(not_(_on_track(s, c, i)),
                                           any_(stale_init[j] for j in range(INSTANCES) if j != i)))
                      for i in range(INSTANCES))
    spent = s.g_attempts + doomed + ite(threatened, min(R, 2), 0)
    # a commit one bump past an instance's epoch is that instance's own EndTxn (TV2: one epoch,
    # one attempt), so it is still committing (the answer carries the new epoch)
    own = all_(implies(and_(s.ps_epoch[i] != 0, s.tc_epoch[T] == s.ps_epoch[i] + 1,
                            or_(s.tc_state[T] == PREP_COMMIT, s.tc_state[T] == COMPLETE_COMMIT)),
                       or_(st[i] == COMMITTING, st[i] == STOPPED))
               for i in range(INSTANCES))
    # offsets pending at the group belong to the TC's transaction, whose marker has not reached
    # the offsets partition yet (the marker is what commits or discards them), and they are the
    # next record's offset
    in_txn = implies(pending != 0, and_(s.tc_parts[T][OFFSETS], s.tl_parts[T][OFFSETS],
                                        not_(s.tc_marked[T][OFFSETS]), pending == s.gc_committed + 2))
    return and_(own, in_txn, owner, any_(spent <= p + (R + 1) * s.faults for p in reached))


def _logged(s: Any, c: Any, o: int, n: Any) -> Any:
    """Output ``o``'s log holds a record of attempt ``n``."""
    return any_(and_(broker_txn.is_data(s, c, o, j), broker_txn.col(s, c, "ent_tag", o)[j] == n) for j in range(log_capacity(c)))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_written_logged(s, c):
    """An acknowledged write of the instance's current attempt is in the partition's log."""
    return all_(implies(and_(_in_attempt(s, i), s.ps_out[i][o] == WRITTEN),
                        _logged(s, c, o, s.ps_tag[i]))
                for i in range(INSTANCES) for o in range(OUTPUTS))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_committed_everywhere(s, c):
    """A committed attempt has records on both output partitions, and none of them aborted.

    ``commitTransaction()`` waits until both writes are acknowledged, and
    a late write of the attempt either joins the open transaction (before
    the COMMIT marker) or is rejected (after it, its epoch is stale).
    """
    def one(n, o):
        return implies(s.outcome[n] == COMMITTED, and_(
            _logged(s, c, o, n),
            all_(implies(and_(broker_txn.is_data(s, c, o, j), broker_txn.col(s, c, "ent_tag", o)[j] == n),
                         broker_txn.fate(s, c, o, j) != ABORT) for j in range(log_capacity(c)))))
    return all_(one(n, o) for n in range(1, attempts(c) + 1) for o in range(OUTPUTS))


@always(scope=_tv2_shared, claims=("exactly-once",))
def lemma_txn_sequences(s, c):
    """Under TV2 every write is the first of its epoch on its partition: sequence 0, in order.

    Each transaction has its own epoch (EndTxn bumps it, KIP-890 part 2) and
    writes a partition once, so every produce request carries sequence 0,
    the instance's next sequence on a partition is 1 once it has sent there
    in its current transaction and 0 before (and between transactions);
    a partition expects sequence 1 only from the epoch whose record it
    holds in a transaction still open there (the marker that closes it
    moves the epoch), and no request to it still carries that epoch (an
    epoch sends one request per partition, which is its instance's
    unanswered write while the instance holds the epoch), so no write is
    refused as out of order (none is resent).
    """
    # (epochs start at 1: an instance that has none yet is told apart from every request)
    requests = all_(and_(s.rq_seq[o][i][k] == 0, implies(s.rq_rec[o][i][k] != 0, s.rq_epoch[o][i][k] != 0))
                    for o, i, k in _requests(c))
    resent = all_(not_(s.ps_resent[i][o]) for i in range(INSTANCES) for o in range(OUTPUTS))

    def busy(i):
        st = s.ps_stage[i]
        return or_(st == IN_TXN, st == ABORTABLE, st == COMMITTING, st == ABORTING, st == STOPPED)

    def mine(i, o):
        return and_(s.ps_seq[i][o] <= 1, implies(not_(busy(i)), s.ps_seq[i][o] == 0),
                    implies(s.ps_out[i][o] == NOT_SENT, s.ps_seq[i][o] == 0))

    def expects(o, t):
        # the epoch whose record the partition holds has sent its one request there
        e = s.pst_epoch[o][t]
        sent = and_(all_(implies(and_(s.rq_rec[o][i][k] != 0, tid(c, i) == t), s.rq_epoch[o][i][k] != e)
                         for i in range(INSTANCES) for k in range(slots(c))),
                    all_(implies(s.ps_epoch[i] == e, and_(busy(i), s.ps_out[i][o] != NOT_SENT))
                         for i in range(INSTANCES) if tid(c, i) == t))
        # ... and its transaction there is still open: the marker that closes it moves the epoch
        return and_(s.pst_seq[o][t] <= 1,
                    implies(s.pst_seq[o][t] == 1, and_(e != 0, s.pst_first[o][t] != 0, sent)))
    def in_flight(o):
        # an epoch's one request to a partition, while its instance still holds that epoch, is
        # its unanswered write
        reqs = [(i, k) for i in range(INSTANCES) for k in range(slots(c))]
        occupied = [(i, k, s.rq_rec[o][i][k] != 0, s.rq_epoch[o][i][k]) for i, k in reqs]
        unique = all_(implies(and_(a[2], b[2], tid(c, a[0]) == tid(c, b[0])), a[3] != b[3])
                      for x, a in enumerate(occupied) for b in occupied[:x])
        owned = all_(implies(and_(live, e == s.ps_epoch[j]), and_(busy(j), s.ps_out[j][o] == SENT))
                     for i, _, live, e in occupied for j in range(INSTANCES) if tid(c, j) == tid(c, i))
        return and_(unique, owned)
    return and_(requests, resent, all_(mine(i, o) for i in range(INSTANCES) for o in range(OUTPUTS)),
                all_(expects(o, t) for o in range(OUTPUTS) for t in range(txn_ids(c))),
                all_(in_flight(o) for o in range(OUTPUTS)))


PROPERTIES = [lemma_txn_tags, lemma_txn_instance_progress, lemma_txn_log_wellformed,
              lemma_txn_committed_decided, lemma_txn_running_undecided, lemma_txn_epochs,
              lemma_txn_live_requests, lemma_txn_tc_attempt, lemma_txn_current_end_txn,
              lemma_txn_tc_owner, lemma_txn_tc_durable, lemma_txn_tc_reply, lemma_txn_epoch_attempt,
              lemma_txn_open_entries, lemma_txn_markers, lemma_txn_written_logged,
              lemma_txn_committed_everywhere, lemma_txn_cap_generation,
              lemma_txn_cap_epoch, lemma_txn_cap_log, lemma_txn_cap_requests,
              lemma_txn_cap_attempts, lemma_txn_sequences]

# what no_aborted_read needs; atomic_transactions needs these and two more
_ISOLATION = ("lemma_txn_tags", "lemma_txn_instance_progress", "lemma_txn_log_wellformed",
              "lemma_txn_committed_decided", "lemma_txn_running_undecided", "lemma_txn_epochs",
              "lemma_txn_live_requests", "lemma_txn_tc_attempt",
              "lemma_txn_current_end_txn", "lemma_txn_tc_owner", "lemma_txn_tc_durable",
              "lemma_txn_tc_reply", "lemma_txn_epoch_attempt", "lemma_txn_open_entries",
              "lemma_txn_markers", "lemma_txn_cap_generation", "lemma_txn_cap_epoch",
              "lemma_txn_cap_log", "lemma_txn_cap_requests", "lemma_txn_cap_attempts",
              "lemma_txn_sequences")
def stated_for(bounds: Any) -> str | None:
    """Why these lemmas are not stated for ``bounds`` (None: they are).

    Two of them count the fault budget of one fault (in three facts); at
    another budget the argument is false, and a proof with them would be
    about nothing.
    """
    if bounds.faults != 1:
        return "they count a fault budget of one (faults=1): three of them are false with more"
    return None


STRENGTHENING: dict[str, tuple[str, ...]] = {
    "no_aborted_read": _ISOLATION,
    "atomic_transactions": (*_ISOLATION, "lemma_txn_written_logged", "lemma_txn_committed_everywhere"),
}
