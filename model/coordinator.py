"""The transaction coordinator (TC): one per transactional id (docs/protocol.md §6, KIP-98).

Per transactional id the TC keeps the producer epoch, the state (one of the
eight of ``TransactionState``), the partitions of the current transaction
and, in memory, the markers it has sent and had acknowledged.  Every state
change is first written to the ``__transaction_state`` log; the durable copy
(``tl_*``) is what a new coordinator rebuilds from after a failover.

Two kinds of step here:

* *request handlers* (``add_partition``, ``init_producer_id``) that a
  client's synchronous request runs at the coordinator: they return the
  answer and the coordinator's updates, and the client's action applies
  both in one step (see ``processor.py``);
* the coordinator's own actions: handling an EndTxn request from the
  network, writing a pending transition to the log, sending
  WriteTxnMarkers, completing a transaction, timing one out, failing over.

Simplifications:

* A transition the client's synchronous request causes (AddPartitionsToTxn,
  AddOffsetsToTxn, InitProducerId from Empty/Complete*) is written to the
  log and takes effect in the same step.  The transitions that matter for
  failures, Prepare*, Complete* and the epoch fence, are *pending* first
  (``tc_pending``): any request meanwhile gets ``CONCURRENT_TRANSACTIONS``
  and is retried (the requesting step waits).
* WriteTxnMarkers is retried by the TC until acknowledged, so a lost marker
  request is the same as a delayed one and is not modelled separately; a
  retry while the first request is still on its way (a duplicate marker) is
  ``coordinator_marker_timeout``, off unless ``bounds.marker_retries``.
* ``Dead`` (transactional-id expiration) is never entered.
* Where epochs run out (``bounds.epochs``), the move to a new producer id
  is numbered on in the epochs (model/txn_state.py, ``producer_id``): the
  coordinator's ``tc_rotate`` is its ``nextProducerId``.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, get, implies, ite, ite_list, not_, or_, set_
from deliverycheck.core.scene import Event, Exchange
from deliverycheck.core.schema import Field, flag, num
from deliverycheck.core.spec import Effect, action, value_at

from . import txn_client
from . import txn_network as net
from .environment import can_fault, has_room, pushed, removed, spend_fault
from .modes import transactional
from .telling import changed, event_of, listing, sent, teller
from .txn_telling import (MARKER_KINDS, PART_NAMES, TC, fenced_now, inst, late, marker_msgs,
                          told_stage)
from .txn_state import (ABORT, ABORTED, COMMIT, COMMITTED, COMPLETE_ABORT, COMPLETE_COMMIT, EMPTY,
                        END_KINDS, INSTANCES, ONGOING, OUTPUTS, PREP_ABORT, PREP_COMMIT, PREP_FENCE,
                        STAGES, STOPPED, TC_STATES, at_last_epoch, epoch_name, exhausted, max_epoch,
                        next_producer_id, producer_id, tid, txn_ids, INSTANCE, SLOT, TXN_IDS)

PARTS = OUTPUTS + 1  # o0, o1 and the group's offsets partition


def MARKED_PARTS(c: Any) -> range:
    """Every partition a transaction's markers go to: o0, o1 and the group's offsets partition."""
    return range(PARTS)


# -- the coordinator's state ------------------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The transaction coordinator's state: in memory, and its durable ``__transaction_state`` log."""
    F, T, E, I, O = max(1, c.bounds.faults), txn_ids(c), max_epoch(c), INSTANCES, OUTPUTS
    return [
        num("tc_state", len(TC_STATES) - 1, "transaction state per transactional id", shape=(T,),
            labels=TC_STATES),
        num("tc_epoch", E, "producer epoch per transactional id", shape=(T,)),
        flag("tc_parts", "partitions in the current transaction (o0, o1, offsets)", shape=(T, O + 1)),
        flag("tc_pending", "a state transition is being written to the log", shape=(T,)),
        flag("tc_sent", "WriteTxnMarkers sent for the current Prepare state", shape=(T,)),
        flag("tc_marked", "partitions that acknowledged their marker", shape=(T, O + 1)),
        num("tc_reply", I, "instance waiting for the EndTxn answer, plus one", shape=(T,)),
        num("tc_cepoch", F, "coordinator epoch (bumped at each failover)"),
        # -- transaction coordinator: the durable __transaction_state log -----
        num("tl_state", len(TC_STATES) - 1, "last durable state per transactional id", shape=(T,),
            labels=TC_STATES),
        num("tl_epoch", E, "last durable epoch", shape=(T,)),
        flag("tl_parts", "last durable partition set", shape=(T, O + 1)),
    ] + ([num("mk_retried", c.bounds.marker_retries, "WriteTxnMarkers requests sent again "
              "after a timeout so far")] if c.bounds.marker_retries else []) + (
        [flag("tc_rotate", "the transaction completes on a new producer id (nextProducerId: the "
              "epochs ran out)", shape=(T,)),
         flag("tl_rotate", "last durable nextProducerId", shape=(T,))] if c.bounds.epochs else [])


def _rotate(s: Any, c: Any, t: int) -> Any:
    """The coordinator's transaction of ``t`` completes on a new producer id."""
    return s.tc_rotate[t] if c.bounds.epochs else False


# -- what the coordinator's state says ------------------------------------------

def counts_marker(s: Any, t: int, kind: Any, cepoch: Any) -> Any:
    """An answer to a ``kind`` marker with coordinator epoch ``cepoch`` is for the coordinator's
    current prepared transaction of ``t``: it counts the partition as marked."""
    return and_(cepoch == s.tc_cepoch, s.tc_sent[t],
                s.tc_state[t] == ite(kind == COMMIT, PREP_COMMIT, PREP_ABORT))


def preparing(s: Any, t: int) -> Any:
    """Transaction ``t`` is between EndTxn and its markers (PrepareCommit/Abort/EpochFence)."""
    st = s.tc_state[t]
    return or_(st == PREP_COMMIT, st == PREP_ABORT, st == PREP_FENCE)


def busy(s: Any, t: int) -> Any:
    """A request for ``t`` now would get ``CONCURRENT_TRANSACTIONS``: a transition is in flight."""
    return or_(s.tc_pending[t], preparing(s, t))


def completed(s: Any, t: int) -> Any:
    """No transaction of ``t`` is open or completing (Empty or Complete*, nothing pending)."""
    st = s.tc_state[t]
    return and_(not_(s.tc_pending[t]), or_(st == EMPTY, st == COMPLETE_COMMIT, st == COMPLETE_ABORT))


def can_fence(s: Any, c: Any, t: int) -> Any:
    """The coordinator can fence ``t``'s producer: its epoch is not its producer id's last.

    ``prepareFenceProducerEpoch`` throws at Short.MaxValue (the request fails
    and is retried, to the same end).
    """
    return not_(at_last_epoch(c, s.tc_epoch[t]))


def fence_updates(s: Any, c: Any, t: int) -> dict[Any, Any]:
    """Fence an Ongoing transaction: bump the epoch and abort it (PrepareEpochFence).

    Used by InitProducerId from a new instance and by the transaction
    timeout.  The bumped epoch is written with PrepareAbort (pending until
    the log write completes); its abort markers carry the bumped epoch, so
    every partition fences the old one.  Under TV2, where the epochs ran
    out, the fence's abort completes on a new producer id, as a client's
    EndTxn does (``nextProducerId``; KAFKA-20090, February 2026: before it,
    ``fence_rotates`` off, ``endTransaction`` allocated one only for a
    client's EndTxn, the abort completed on the old id's last epoch, and a
    late EndTxn(abort) of the fenced producer then passed as a retry and
    handed it that last epoch, with which it could open a transaction no
    bump and no fence can close).

    Kafka 4.0.0 under TV2 (``fence_bumps_once`` off, KAFKA-19367): the
    abort bumps the epoch a second time; from the last epoch but one that
    passes Short.MaxValue and ``prepareAbortOrCommit`` throws, after the
    fence has already set the epoch in memory to the last one: the
    transaction stays Ongoing, with nothing written, and no later fence
    can bump it again (:func:`can_fence`).
    """
    fenced = {("tc_state", t): PREP_FENCE, ("tc_epoch", t): s.tc_epoch[t] + 1,
              ("tc_pending", t): True, ("tc_reply", t): 0}
    if c.bounds.epochs and c.variant.tv2 and c.variant.fence_rotates:
        fenced[("tc_rotate", t)] = exhausted(c, s.tc_epoch[t])
    if c.variant.fence_bumps_once or not c.variant.tv2:
        return fenced
    overflow = at_last_epoch(c, s.tc_epoch[t] + 1)
    return {**{k: ite(overflow, value_at(s, k), v) for k, v in fenced.items()},
            ("tc_epoch", t): ite(overflow, s.tc_epoch[t] + 1, s.tc_epoch[t] + 2)}


# -- request handlers run by the clients' synchronous requests -----------------

def add_partitions(s: Any, c: Any, t: int, parts: Any, epoch: Any, tag: Any,
                   wanted: Any = None) -> tuple[Any, Any, dict]:
    """AddPartitionsToTxn / AddOffsetsToTxn for ``parts`` with producer epoch ``epoch``.

    Returns ``(ok, fenced, updates)``: any other epoch than the current one
    is answered ``PRODUCER_FENCED``; while a transition is in flight the
    request waits (neither ok nor fenced); otherwise the partitions join
    the transaction, which becomes Ongoing, and the change is written to
    the log.  ``wanted``, one condition per partition of ``parts``: the
    request names only those where it holds (the partitions a record's key
    maps to).

    Where the epochs ran out, a request with the new producer id while the
    old one's transaction still completes waits too (KAFKA-18660 checks
    the pending transition before the producer id); before that fix it
    was refused (``INVALID_PRODUCER_ID_MAPPING``, fatal for the client,
    KAFKA-18019).
    """
    early = False
    if c.variant.rotation_answer and c.bounds.epochs:
        early = and_(_rotate(s, c, t), epoch == next_producer_id(c, s.tc_epoch[t]))
    fenced = and_(epoch != s.tc_epoch[t], not_(early))
    ok = and_(epoch == s.tc_epoch[t], not_(busy(s, t)))
    starts = s.tc_state[t] != ONGOING
    upd = {("tc_state", t): ite(ok, ONGOING, s.tc_state[t]),
           ("tl_state", t): ite(ok, ONGOING, s.tl_state[t]),
           ("tl_epoch", t): ite(ok, s.tc_epoch[t], s.tl_epoch[t]),
           ("tc_tag", t): ite(and_(ok, starts), tag, s.tc_tag[t])}
    for part, want in zip(parts, wanted if wanted is not None else [True] * len(parts)):
        upd[("tc_parts", t, part)] = or_(s.tc_parts[t][part], and_(ok, want))
        upd[("tl_parts", t, part)] = or_(s.tl_parts[t][part], and_(ok, want))
    return ok, fenced, upd


def init_producer_id(s: Any, c: Any, t: int, expected: Any = (False, 0)) -> tuple[Any, Any, Any, dict]:
    """InitProducerId(transactional.id): the new instance takes the id over (KIP-98).

    Returns ``(granted, fenced, waits, updates)``.  From Empty or Complete*
    the epoch is bumped, written to the log and returned: every older
    instance is now a fenced zombie.  From Ongoing the TC first fences the
    open transaction (:func:`fence_updates`) and answers
    ``CONCURRENT_TRANSACTIONS``; the client retries once the abort has
    completed and gets a second bump.  While a transition is in flight the
    request waits.

    ``expected = (given, epoch)``: if ``given``, the request carries the
    producer id and epoch the client holds (KIP-360, InitProducerId v3: the
    client bumping its own epoch after an error).  From Empty or Complete*
    the TC then bumps only if ``epoch`` is the current epoch, and answers
    ``PRODUCER_FENCED`` otherwise (``prepareIncrementProducerEpoch``); from
    Ongoing it fences the open transaction whatever the epoch, as for a new
    instance (``prepareInitProducerIdTransit`` checks only the producer id
    before that).  The model's client never retries a granted bump, so the
    TC's "retry of a successful bump" case (the previous epoch) is left out.

    Where the epochs ran out (``isProducerEpochExhausted``), the grant is
    the first epoch of a new producer id (``prepareProducerIdRotation``).
    A fence the coordinator cannot make (:func:`can_fence`) leaves the
    request failing and retried: it waits.
    """
    given, epoch = expected
    ongoing = and_(s.tc_state[t] == ONGOING, not_(s.tc_pending[t]), can_fence(s, c, t))
    free = completed(s, t)
    stale = and_(given, epoch != s.tc_epoch[t]) if given is not False else False
    ok = and_(free, not_(stale))
    new_epoch = granted_epoch(s, c, t)
    granted = {("tc_state", t): EMPTY, ("tc_epoch", t): new_epoch,
               ("tc_parts", t): [False] * PARTS, ("tc_tag", t): 0,
               ("tl_state", t): EMPTY, ("tl_epoch", t): new_epoch, ("tl_parts", t): [False] * PARTS}
    fenced = fence_updates(s, c, t)
    upd: dict[Any, Any] = {}
    for key in {**granted, **fenced}:
        old = value_at(s, key)
        upd[key] = _choose(ok, granted.get(key, old), _choose(ongoing, fenced.get(key, old), old))
    return ok, and_(free, stale), and_(not_(free), not_(ongoing)), upd


def granted_epoch(s: Any, c: Any, t: int) -> Any:
    """The epoch InitProducerId hands out for ``t``: the next one, or a new producer id's first."""
    if not c.bounds.epochs:
        return s.tc_epoch[t] + 1
    return ite(exhausted(c, s.tc_epoch[t]), next_producer_id(c, s.tc_epoch[t]), s.tc_epoch[t] + 1)


def _choose(cond: Any, a: Any, b: Any) -> Any:
    """``ite`` over a scalar or a list of cells."""
    return [ite(cond, x, y) for x, y in zip(a, b)] if isinstance(b, list) else ite(cond, a, b)


def end_txn_answer(s: Any, c: Any, t: int, kind: int, epoch: Any) -> tuple[Any, Any, Any, Any]:
    """The TC's answer to EndTxn(``kind``, ``epoch``): ``(prepare, ok, error, fenced)``.

    Exactly one holds, unless the request must wait (a transition in
    flight: ``CONCURRENT_TRANSACTIONS``):

    * ``prepare``: start PrepareCommit/PrepareAbort (answered once durable):
      the current epoch and an Ongoing transaction; under TV2 also an abort
      with nothing open, which still bumps the epoch so that a produce
      request of the aborted attempt still in flight is fenced (KIP-890
      part 2, KAFKA-14562);
    * ``ok``: a retry of the EndTxn that completed the last transaction
      (same epoch under TV1; the epoch before the bump under TV2, or the
      old producer id's last epoch but one where that transaction moved
      to a new producer id: ``retryOnOverflow``), or, under TV1, an abort
      with nothing open (the client aborts locally);
    * ``error``: ``INVALID_TXN_STATE``, a commit with no transaction open;
      or, at a producer id's last epoch, the bump's overflow (an unexpected
      error; both are fatal for the client);
    * ``fenced``: any other epoch (``PRODUCER_FENCED``).

    The order of the checks in ``TransactionCoordinator.endTransaction``
    decides what waits: Kafka keeps a transition pending from PrepareCommit
    or PrepareAbort until Complete* is written (the model's ``busy``), and a
    request meanwhile gets ``CONCURRENT_TRANSACTIONS`` and is retried.  Under
    TV1 the epoch is checked first, so a stale epoch is fenced at once even
    then; under TV2 the pending transition is checked first (KAFKA-18464,
    before 4.0: an empty abort right after a commit no longer fences its own
    producer), and the request waits.
    """
    st, e = s.tc_state[t], s.tc_epoch[t]
    done = COMPLETE_COMMIT if kind == COMMIT else COMPLETE_ABORT
    idle = completed(s, t)
    current = epoch == e
    if c.variant.tv2:
        retried = epoch + 1 == e
        if c.bounds.epochs:
            retried = or_(retried, and_(exhausted(c, epoch), e == next_producer_id(c, epoch)))
        retry = and_(idle, st == done, retried)
        would = and_(current, or_(and_(not_(s.tc_pending[t]), st == ONGOING),
                                  and_(idle, kind == ABORT)))
        # no bump past an id's last epoch: ``prepareAbortOrCommit`` throws and the request fails
        # with an unexpected error, fatal for the client (only a bug hands a client that epoch)
        prepare = and_(would, not_(at_last_epoch(c, e)))
        overflow = and_(would, at_last_epoch(c, e))
        ok = retry
    else:
        retry = and_(idle, current, st == done)
        prepare = and_(current, not_(s.tc_pending[t]), st == ONGOING)
        ok = or_(retry, and_(idle, current, kind == ABORT))
    error = and_(idle, current, not_(prepare), not_(ok), kind == COMMIT)
    if c.variant.tv2 and c.bounds.epochs:
        error = or_(error, overflow)
    checked_first = not_(current) if not c.variant.tv2 else False
    fenced = and_(or_(not_(busy(s, t)), checked_first), not_(prepare), not_(ok), not_(error))
    return prepare, ok, error, fenced


# -- the coordinator's own steps ------------------------------------------------

@action(scope=transactional, i=INSTANCE, k=SLOT)
def coordinator_end_txn(s, c, i, k):
    """The TC handles the EndTxn request in slot ``k`` from instance ``i``.

    With the current epoch and an Ongoing transaction it starts writing
    PrepareCommit or PrepareAbort (under TV2 with the epoch bumped, KIP-890
    part 2: every marker and every later request of this producer carries
    the new epoch; from an exhausted epoch the bump is to the producer id's
    last, and the transaction completes on a new producer id,
    ``nextProducerId``), and answers the client once that is durable
    (:func:`coordinator_log_written`), *before* any marker is written.
    Retries, aborts with nothing open, commits with nothing open and
    stale epochs are answered at once (:func:`end_txn_answer`); while a
    transition is in flight the request waits in the network (the client's
    retry of ``CONCURRENT_TRANSACTIONS``).  A request whose sender has given
    up on it is still handled: a *late* EndTxn.
    """
    t = tid(c, i)
    kind, epoch, live = s.et_kind[i][k], s.et_epoch[i][k], s.et_live[i][k]
    # the request's kind is state: take the answer for each kind it may be
    answers = {want: end_txn_answer(s, c, t, want, epoch) for want in (COMMIT, ABORT)}
    prepare, ok, error, fenced = (or_(*(and_(kind == want, a[n]) for want, a in answers.items()))
                                  for n in range(4))
    new_epoch = ite(prepare, s.tc_epoch[t] + 1, s.tc_epoch[t]) if c.variant.tv2 else s.tc_epoch[t]
    then: dict[Any, Any] = {}
    if c.bounds.epochs and c.variant.tv2:
        then[("tc_rotate", t)] = or_(s.tc_rotate[t], and_(prepare, exhausted(c, s.tc_epoch[t])))
    then |= {
        ("tc_state", t): ite(prepare, ite(kind == COMMIT, PREP_COMMIT, PREP_ABORT), s.tc_state[t]),
        ("tc_epoch", t): new_epoch,
        ("tc_pending", t): or_(s.tc_pending[t], prepare),
        ("tc_reply", t): ite(prepare, ite(live, i + 1, 0), s.tc_reply[t]),
        **net.end_update(i, removed(net.end_rows(s, i), k)),
        "g_late": or_(s.g_late, not_(live)),
        # answered at once: ok (a retry), INVALID_TXN_STATE or PRODUCER_FENCED
        **txn_client.end_txn_answered(s, c, i, kind, and_(live, ok), and_(live, error),
                                  and_(live, fenced), s.tc_epoch[t]),
    }
    return Effect(when=and_(kind != 0, or_(prepare, ok, error, fenced)),
                  fits=implies(prepare, new_epoch <= max_epoch(c)), then=then)


@action(scope=transactional, t=TXN_IDS)
def coordinator_log_written(s, c, t):
    """The TC's pending transition for ``t`` becomes durable in ``__transaction_state``.

    Only now does it take effect: PrepareEpochFence is written as
    PrepareAbort with the bumped epoch; a Prepare* state answers the client
    waiting on EndTxn (before any marker is written); Complete* ends the
    transaction and empties its partition set.

    Where the transaction moves to a new producer id (``prepareComplete``
    with ``nextProducerId``), Complete* takes the new id's first epoch, and
    the answer to EndTxn already names it (KAFKA-18660; before that fix,
    ``rotation_answer`` off, it named the old id and its last epoch).
    """
    st = s.tc_state[t]
    new = ite(st == PREP_FENCE, PREP_ABORT, st)
    complete = or_(st == COMPLETE_COMMIT, st == COMPLETE_ABORT)
    prepared = or_(new == PREP_COMMIT, new == PREP_ABORT)
    parts = [and_(p, not_(complete)) for p in s.tc_parts[t]]
    waiting = s.tc_reply[t]
    epoch, told = s.tc_epoch[t], s.tc_epoch[t]
    if c.bounds.epochs:
        moved = and_(complete, s.tc_rotate[t])
        epoch = ite(moved, next_producer_id(c, s.tc_epoch[t]), s.tc_epoch[t])
        if c.variant.rotation_answer:
            told = ite(s.tc_rotate[t], next_producer_id(c, s.tc_epoch[t]), s.tc_epoch[t])
    then: dict[Any, Any] = {
        ("tc_state", t): new, ("tc_pending", t): False, ("tc_parts", t): parts,
        ("tc_epoch", t): epoch, ("tc_tag", t): ite(complete, 0, s.tc_tag[t]),
        ("tc_sent", t): False, ("tc_marked", t): [False] * PARTS, ("tc_reply", t): 0,
        ("tl_state", t): new, ("tl_epoch", t): epoch, ("tl_parts", t): parts,
        # history: the attempt this transaction belongs to is now decided
        "outcome": set_(s.outcome, s.tc_tag[t],
                        ite(prepared, ite(new == PREP_COMMIT, COMMITTED, ABORTED),
                            get(s.outcome, s.tc_tag[t]))),
    }
    for i in range(INSTANCES):
        if tid(c, i) != t:
            continue
        for key, v in txn_client.end_txn_answered(s, c, i, ite(new == PREP_COMMIT, COMMIT, ABORT),
                                                  and_(prepared, waiting == i + 1), False, False,
                                                  told).items():
            then[key] = v
    if c.bounds.epochs:
        rotate = and_(s.tc_rotate[t], not_(complete))
        then |= {("tc_rotate", t): rotate, ("tl_rotate", t): rotate}
    return Effect(when=s.tc_pending[t], then=then)


@action(scope=transactional, t=TXN_IDS)
def coordinator_send_markers(s, c, t):
    """The TC sends WriteTxnMarkers for the prepared transaction of ``t``.

    One COMMIT or ABORT marker to every partition in the transaction
    (including the group's offsets partition), carrying the producer id,
    the producer epoch and the coordinator epoch.  A coordinator that took
    over after a failover resends the markers of every transaction it found
    prepared in the log.
    """
    st = s.tc_state[t]
    kind = ite(st == PREP_COMMIT, COMMIT, ABORT)
    then: dict[Any, Any] = {("tc_sent", t): True, "g_resent": or_(s.g_resent, s.g_reloaded[t])}
    room = []
    for p in range(PARTS):
        rows, part = net.marker_rows(s, p), s.tc_parts[t][p]
        then.update(net.marker_update(p, [ite_list(part, new, old) for new, old in
                                      zip(pushed(rows, [kind, t, s.tc_epoch[t], s.tc_cepoch]), rows)]))
        room.append(implies(part, has_room(rows)))
    return Effect(when=and_(not_(s.tc_pending[t]), or_(st == PREP_COMMIT, st == PREP_ABORT),
                            not_(s.tc_sent[t])),
                  fits=all_(room), then=then)


@action(scope=transactional, t=TXN_IDS)
def coordinator_complete(s, c, t):
    """Every partition has written its marker: the TC writes CompleteCommit/CompleteAbort.

    Pending until durable (:func:`coordinator_log_written`); then ``t`` may
    start its next transaction.
    """
    st = s.tc_state[t]
    all_marked = all_(implies(p, m) for p, m in zip(s.tc_parts[t], s.tc_marked[t]))
    return Effect(
        when=and_(not_(s.tc_pending[t]), or_(st == PREP_COMMIT, st == PREP_ABORT), s.tc_sent[t],
                  all_marked),
        then={("tc_state", t): ite(st == PREP_COMMIT, COMPLETE_COMMIT, COMPLETE_ABORT),
              ("tc_pending", t): True})


@action(fault=True, scope=transactional, t=TXN_IDS)
def coordinator_timeout(s, c, t):
    """``transaction.timeout.ms`` expires on the Ongoing transaction of ``t``.

    The TC fences the producer and aborts the transaction, as for a new
    instance (:func:`fence_updates`).  While an instance of the id still
    runs, the client was merely slow (a transaction the model lets run on),
    so the timeout is premature and spends one fault (a client that died
    without a word is one that takes no more steps, and a new instance
    fences it in the same way).  Once every instance of the id has stopped
    (a fatal error: nothing will end its transaction but the timeout) the
    timeout is bound to come and spends none.
    """
    stopped = and_(*(s.ps_stage[i] == STOPPED for i in INSTANCE(c) if tid(c, i) == t))
    return Effect(when=and_(or_(stopped, can_fault(s, c)), s.tc_state[t] == ONGOING,
                            not_(s.tc_pending[t]), can_fence(s, c, t)),
                  fits=fence_updates(s, c, t)[("tc_epoch", t)] <= max_epoch(c),
                  then={**fence_updates(s, c, t), "faults": ite(stopped, s.faults, s.faults + 1),
                        ("g_timed_out", t): True})


@action(fault=True, scope=transactional, t=TXN_IDS, p=MARKED_PARTS)
def coordinator_marker_timeout(s, c, t, p):
    """The TC's WriteTxnMarkers request to partition ``p`` times out, and it sends the marker again.

    ``TransactionMarkerChannelManager``: a request that gets no answer within
    ``request.timeout.ms`` is failed as disconnected, and
    ``TransactionMarkerRequestCompletionHandler`` puts its markers back in
    the broker's queue, to be sent again with the same producer and
    coordinator epochs.  The first copy may still arrive, before or after
    the second: a duplicate marker.  Only the coordinator's markers of the
    transaction it is completing are retried, while the partition has not
    answered.  The request being still on its way, the timeout is
    premature: it spends one of its own budget, ``bounds.marker_retries``
    (off by default, as the other kinds of fault a bound switches on).
    """
    if c.bounds.marker_retries == 0:
        return Effect(when=False)
    rows = net.marker_rows(s, p)
    st = s.tc_state[t]
    mine = any_(and_(kind != 0, pid == t, cep == s.tc_cepoch)
                for kind, pid, cep in zip(rows[0], rows[1], rows[3]))
    kind = ite(st == PREP_COMMIT, COMMIT, ABORT)
    return Effect(
        when=and_(s.mk_retried < c.bounds.marker_retries, not_(s.tc_pending[t]),
                  or_(st == PREP_COMMIT, st == PREP_ABORT), s.tc_sent[t], s.tc_parts[t][p],
                  not_(s.tc_marked[t][p]), mine),
        fits=has_room(rows),
        then={**net.marker_update(p, pushed(rows, [kind, t, s.tc_epoch[t], s.tc_cepoch])),
              "mk_retried": s.mk_retried + 1})


@action(fault=True, scope=transactional)
def coordinator_failover(s, c):
    """The coordinator fails; the new leader of its ``__transaction_state`` partition takes over.

    Everything in memory is lost: the pending transition (its log write had
    not completed), which markers were sent and acknowledged, the client
    waiting for an EndTxn answer.  The new coordinator bumps the coordinator
    epoch and rebuilds every transactional id from the durable log; it will
    resend the markers of a prepared transaction.  Markers of the old
    coordinator still in the network carry the old coordinator epoch, which
    partitions that have seen the new one reject.  Spends one fault.
    """
    T = txn_ids(c)
    then: dict[Any, Any] = {"tc_cepoch": s.tc_cepoch + 1, **spend_fault(s)}
    for t in range(T):
        prepared = or_(s.tl_state[t] == PREP_COMMIT, s.tl_state[t] == PREP_ABORT)
        then.update({
            ("tc_state", t): s.tl_state[t], ("tc_epoch", t): s.tl_epoch[t],
            ("tc_parts", t): list(s.tl_parts[t]), ("tc_pending", t): False,
            ("tc_sent", t): False, ("tc_marked", t): [False] * PARTS, ("tc_reply", t): 0,
            ("g_reloaded", t): prepared})
        if c.bounds.epochs:
            then[("tc_rotate", t)] = s.tl_rotate[t]
    return Effect(when=and_(can_fault(s, c), s.tc_cepoch < max(1, c.bounds.faults)), then=then)


ACTIONS = [coordinator_end_txn, coordinator_log_written, coordinator_send_markers,
           coordinator_complete, coordinator_timeout, coordinator_marker_timeout,
           coordinator_failover]


# -- how the coordinator's steps are told (stories) and drawn (sequence diagrams) ------------------


@teller
def tell_coordinator_end_txn(a, b, x, c):
    i, k, t = a["i"], a["k"], tid(c, a["i"])
    kind, epoch = END_KINDS[b["et_kind"][i][k]], b["et_epoch"][i][k]
    head = (f"the TC gets EndTxn({kind}, {epoch_name(c, epoch)}) from "
            f"{inst(i)}{late(b['et_live'][i][k])}")
    if x["tc_state"][t] != b["tc_state"][t]:
        bump = (f", epoch bumped to {epoch_name(c, x['tc_epoch'][t])}"
                if x["tc_epoch"][t] != b["tc_epoch"][t] else "")
        if "tc_rotate" in x and x["tc_rotate"][t] and not b["tc_rotate"][t]:
            bump += (": the epochs ran out, so the transaction will complete on a new producer id "
                     "(nextProducerId)")
        return f"{head}: it writes {TC_STATES[x['tc_state'][t]]}{bump}"
    told = told_stage(b, x, i)
    if _overflowed(b, x, c, i, t, epoch):
        return (f"{head}: the bump would pass Short.MaxValue, so the TC fails the request (an "
                f"unexpected error, fatal for the client); {inst(i)} stops")
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        return f"{head}: PRODUCER_FENCED{told}"
    return f"{head}: answered at once ({TC_STATES[b['tc_state'][t]]}){told}"


def _overflowed(b: dict, x: dict, c: Any, i: int, t: int, epoch: int) -> bool:
    """The step stopped instance ``i`` because its EndTxn (with ``epoch``) would bump past the
    coordinator's epoch, its producer id's last: the request failed, it was not fenced."""
    return (x["ps_stage"][i] == STOPPED != b["ps_stage"][i] and epoch == b["tc_epoch"][t]
            and bool(c.bounds.epochs) and producer_id(c, epoch)[1] == c.bounds.epochs)


@teller
def tell_coordinator_log_written(a, b, x, c):
    t = a["t"]
    told = [f"{inst(j)}, which is now {STAGES[x['ps_stage'][j]]}"
            for j in changed(b["ps_stage"], x["ps_stage"])]
    answer = f"; it answers {listing(told)}" if told else ""
    moved = (", the transactional id's new producer id" if "tc_rotate" in b and b["tc_rotate"][t]
             and not x["tc_rotate"][t] else "")
    return (f"{TC_STATES[x['tc_state'][t]]} ({epoch_name(c, x['tc_epoch'][t])}{moved}) is durable "
            f"in __transaction_state{answer}{_told_epochs(b, x, c)}")


def _told_epochs(b: dict, x: dict, c: Any) -> str:
    """`` (I1 now holds epoch 3)`` when the step handed instances an epoch (TV2's EndTxn answer)."""
    held = [f"{inst(j)} now holds {epoch_name(c, x['ps_epoch'][j])}"
            for j in changed(b["ps_epoch"], x["ps_epoch"])]
    return f" ({listing(held)})" if held else ""


@teller
def tell_coordinator_send_markers(a, b, x, c):
    again = " again, as the new coordinator" if x["g_resent"] and not b["g_resent"] else ""
    out = []
    for p in range(len(x["mk_kind"])):
        for kind, _, epoch, cepoch in sent(marker_msgs(b, p), marker_msgs(x, p)):
            out.append((MARKER_KINDS.get(kind, kind), epoch, cepoch, PART_NAMES[p]))
    if not out:
        return "the TC sends no marker"
    kinds = sorted({m[0] for m in out})
    return (f"the TC sends {'/'.join(kinds)} markers{again} ({epoch_name(c, out[0][1])}, coordinator "
            f"epoch {out[0][2]}) to {listing([m[3] for m in out])}")


@teller
def tell_coordinator_complete(a, b, x, c):
    return f"every marker is written: the TC writes {TC_STATES[x['tc_state'][a['t']]]}"


@teller
def tell_coordinator_timeout(a, b, x, c):
    t = a["t"]
    head = "transaction.timeout.ms expires: the TC fences the producer"
    if x["tc_state"][t] == b["tc_state"][t]:
        return f"{head}{overflow_told(x, t, c)}"
    return (f"{head} and moves the transaction to {TC_STATES[x['tc_state'][t]]} "
            f"({epoch_name(c, x['tc_epoch'][t])})")


def overflow_told(x: dict, t: int, c: Any) -> str:
    """What a fence whose abort overflowed the epoch did (Kafka 4.0.0, KAFKA-19367)."""
    return (f": its epoch is now {epoch_name(c, x['tc_epoch'][t])}, and the abort's second bump "
            "(KAFKA-19367) passes Short.MaxValue and throws; nothing is written and the "
            f"transaction stays {TC_STATES[x['tc_state'][t]]}, with no epoch left to fence it")


@teller
def tell_coordinator_marker_timeout(a, b, x, c):
    p = a["p"]
    for kind, _, epoch, cepoch in sent(marker_msgs(b, p), marker_msgs(x, p)):
        return (f"the TC's marker request to {PART_NAMES[p]} times out while still on its way; it "
                f"sends the {MARKER_KINDS.get(kind, kind)} marker again ({epoch_name(c, epoch)}, "
                f"coordinator epoch {cepoch}): the first copy may still arrive")
    return f"the TC's marker request to {PART_NAMES[p]} times out"


@teller
def tell_coordinator_failover(a, b, x, c):
    states = ", ".join(TC_STATES[s] for s in x["tc_state"])
    return (f"the TC fails over: the new one (coordinator epoch {x['tc_cepoch']}) reloads "
            f"{states} from the log")


@event_of
def ev_coordinator_end_txn(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    late = not b["et_live"][i][a["k"]]
    if x["tc_state"][t] != b["tc_state"][t]:
        return Event(TC, f"write {TC_STATES[x['tc_state'][t]]}", late=late)
    # answered within the step: fenced, failed, or nothing to write; a late request's sender no
    # longer listens
    answer = ("fails: epoch overflow" if _overflowed(b, x, c, i, t, b["et_epoch"][i][a["k"]])
              else "PRODUCER_FENCED" if fenced_now(b, x, i) else "answer at once")
    return Event(TC, answer, exchanges=() if late else (Exchange(inst(i)),), late=late)


@event_of
def ev_coordinator_log_written(a, b, x, c):
    t = a["t"]
    told = [j for j in range(INSTANCES) if x["ps_stage"][j] != b["ps_stage"][j]]
    return Event(TC, f"{TC_STATES[x['tc_state'][t]]} durable",
                 exchanges=tuple(Exchange(inst(j)) for j in told))


@event_of
def ev_coordinator_send_markers(a, b, x, c):
    return Event(TC, "send markers")


@event_of
def ev_coordinator_complete(a, b, x, c):
    return Event(TC, f"write {TC_STATES[x['tc_state'][a['t']]]}")


@event_of
def ev_coordinator_timeout(a, b, x, c):
    return Event(TC, "txn timeout: abort")


@event_of
def ev_coordinator_marker_timeout(a, b, x, c):
    return Event(TC, f"marker timeout: resend to {PART_NAMES[a['p']]}")


@event_of
def ev_coordinator_failover(a, b, x, c):
    return Event(TC, f"fail over (coord. epoch {x['tc_cepoch']})", crash=True, discards=True)
