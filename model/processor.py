"""The processor: a consume-transform-produce loop with a transactional producer (docs/protocol.md §6-§8).

Each instance runs the loop of the Kafka documentation's exactly-once
example::

    producer.initTransactions()                 # InitProducerId: fences older instances
    consumer offsets <- committed offsets       # OffsetFetch (waits while offsets are pending)
    loop:
        record = consumer.poll(); producer.beginTransaction()
        producer.send(output to partition 0); producer.send(output to partition 1)
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata())
        producer.commitTransaction()            # EndTxn(commit)
      on an abortable error:
        producer.abortTransaction()             # EndTxn(abort)
        consumer.seek(committed offsets)        # the rewind

Instance 0 starts at once; instance 1 starts later, when the group moves
the input to it (a rebalance after a suspected crash).  If instance 0 was
only slow, it keeps running: a *zombie*.  Under ``exactly-once`` both use
the same ``transactional.id``; under ``eos-per-instance-id`` each has its
own (as Kafka Streams' exactly_once_v2 does), and only the group's
generation (KIP-447) tells the zombie it lost the input.

Simplifications:

* One input record per transaction; ``poll`` and ``beginTransaction`` are
  one step.  Its output goes to both output partitions, or, in a mode that
  routes by key, to the partitions of its key (the same for every attempt).
* Under TV1 ``send`` first registers the partition with AddPartitionsToTxn
  (a synchronous request: the answer arrives in the same step); under TV2
  the partition leader registers it (KIP-890 part 2).
* ``sendOffsetsToTransaction`` (AddOffsetsToTxn then TxnOffsetCommit) is
  one step.
* Each produce request carries its partition's next sequence number under
  the instance's epoch (from 0 under each new epoch), which the partition
  checks (:func:`broker_txn.sequence_ok`).  A request is not sent twice:
  its timeout is the batch's delivery timeout, which makes the transaction
  abortable, and a resend after ``request.timeout.ms``, which the partition
  would deduplicate, is left out (docs/model.md).
* A crash is an instance that never takes another step; a replacement is
  ``processor_start``.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, implies, ite, not_, or_, set_
from deliverycheck.core.scene import Event, Exchange
from deliverycheck.core.schema import Field, flag, num
from deliverycheck.core.spec import Effect, action

from . import coordinator as tc
from . import groups
from . import txn_client
from . import txn_network as net
from .environment import can_fault, has_room, pushed
from .modes import transactional
from .telling import GROUP, event_of, listing, teller
from .txn_telling import TC, added, end_sent, fenced_now, inst, requests_sent, told_stage
from .txn_state import (ABORT, ABORTABLE, ABORTED, ABORTING, COMMIT, COMMIT_OFFSETS, COMMITTING,
                        FETCH, IN_TXN, INIT, INSTANCES, NOT_SENT, OFF, OFFSETS, OPEN, OUT_STATUS,
                        OUTPUTS, PREP_FENCE,
                        READY, SENT, STAGES, STOPPED, TC_STATES, WRITTEN, INSTANCE, attempts, max_epoch,
                        max_seq, epoch_name, producer_id, route, tid, writes)


# -- the processor instances' state ----------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The processor instances' state (part of the exactly-once schema)."""
    R, E, F, I, O = c.bounds.records, max_epoch(c), max(1, c.bounds.faults), INSTANCES, OUTPUTS
    return [
        num("ps_stage", len(STAGES) - 1, "stage of each processor instance", shape=(I,), labels=STAGES),
        num("ps_epoch", E, "producer epoch the instance holds", shape=(I,)),
        num("ps_seq", max_seq(c), "next sequence number per output partition under the epoch held",
            shape=(I, O)),
        num("ps_pos", R, "the instance's consumer position in the input partition", shape=(I,)),
        num("ps_out", 2, "output status per partition in the current transaction", shape=(I, O),
            labels=OUT_STATUS),
        flag("ps_offsets", "offsets sent to the current transaction", shape=(I,)),
        num("ps_gen", 2 * F + 2, "group generation the instance joined", shape=(I,)),
        flag("ps_lost", "the group told the instance it lost its input partition", shape=(I,)),
        *txn_client.fields(c),
    ]


def running(s: Any, i: int) -> Any:
    """Instance ``i`` has started and has not stopped."""
    return and_(s.ps_stage[i] != OFF, s.ps_stage[i] != STOPPED)


# -- what the client does with an answer ------------------------------------------

# -- the request channels of one instance -----------------------------------------

def give_up_requests(s: Any, c: Any, i: int) -> dict[Any, Any]:
    """Instance ``i`` stops waiting for every request it has in flight (closes its connections).

    The requests stay in the network and may still arrive: late requests.
    An answer a replicated leader still owes it (``pend``) is dropped.
    """
    then: dict[Any, Any] = {("et_live", i): [False] * len(s.et_live[i])}
    for o in range(OUTPUTS):
        then[("rq_live", o, i)] = [False] * len(s.rq_live[o][i])
        if c.variant.replicated:
            then[("pend", o)] = [ite(x == i + 1, 0, x) for x in s.pend[o]]
    return then


def produce_in_flight(s: Any, c: Any, i: int, resent: bool = True) -> Any:
    """A produce request instance ``i`` still waits for is in the network (one being resent
    after ``OUT_OF_ORDER_SEQUENCE_NUMBER`` only if ``resent``), or written and waiting for a
    replicated leader's high watermark."""
    pending = [x == i + 1 for o in range(OUTPUTS) for x in s.pend[o]] if c.variant.replicated else []
    return or_(any_(and_(r != 0, lv, True if resent else not_(s.ps_resent[i][o])) for o in range(OUTPUTS)
                    for r, lv in zip(s.rq_rec[o][i], s.rq_live[o][i])), *pending)


def live_request(s: Any, c: Any, i: int) -> Any:
    """A request instance ``i`` still waits for is in the network, or written and waiting for a
    replicated leader's high watermark (its answer is still to come).

    A produce request refused as out of order and being resent does not
    count: each resend is refused while the gap before it lasts, and its
    delivery time runs out without any fault.
    """
    return or_(produce_in_flight(s, c, i, resent=False),
               any_(and_(k != 0, lv) for k, lv in zip(s.et_kind[i], s.et_live[i])))


# -- the processor's steps ---------------------------------------------------------

@action(scope=transactional, i=INSTANCE)
def processor_start(s, c, i):
    """Instance ``i`` starts and joins the consumer group, which gives it the input partition.

    JoinGroup/SyncGroup: the group's generation is bumped and the member
    that had the input (if any) has lost it, whether it knows or not.  The
    new instance then calls ``initTransactions()``.  Starting a replacement
    while the other instance still runs (the group took it for dead: a
    long GC pause, a network partition) makes that one a zombie and spends
    one fault; replacing a stopped instance is free.
    """
    other = [j for j in range(INSTANCES) if j != i]
    zombie = any_(running(s, j) for j in other)
    startable = or_(s.ps_stage[i] == STOPPED, and_(s.ps_stage[i] == OFF, i != 0))
    return Effect(
        when=and_(startable, or_(not_(zombie), can_fault(s, c))),
        # two instances can knock each other out once per fault, then restart for free
        fits=s.gc_generation < 2 * max(1, c.bounds.faults) + 2,
        then={("ps_stage", i): INIT, ("ps_epoch", i): 0, ("ps_seq", i): [0] * OUTPUTS, ("ps_pos", i): 0,
              ("ps_out", i): [NOT_SENT] * OUTPUTS, ("ps_offsets", i): False, ("ps_lost", i): False,
              ("ps_gen", i): s.gc_generation + 1, "gc_generation": s.gc_generation + 1,
              ("ps_tag", i): 0, **give_up_requests(s, c, i), **txn_client.bump_reset(c, i),
              **txn_client.resends_forgotten(i),
              **({("g_superseded", i): False} if c.mode.txn_id_per_instance else {}),
              "faults": ite(zombie, s.faults + 1, s.faults)})


@action(scope=transactional, i=INSTANCE)
def processor_init(s, c, i):
    """``initTransactions()``: InitProducerId(transactional.id) at the TC.

    Granted: the instance holds the bumped epoch (every older instance of
    this transactional id is now fenced) and goes on to fetch its offsets.
    If the previous instance left a transaction Ongoing, the TC fences and
    aborts it first and the request is retried
    (:func:`coordinator.init_producer_id`).

    The same request ends an abort that owes an epoch bump (KIP-360,
    KAFKA-8805; :func:`txn_client.bumps_after_error`): it then carries the
    producer id and the epoch the instance holds, and the TC bumps that
    epoch only if it is still the current one (``PRODUCER_FENCED``
    otherwise: another instance has taken the id over).  The bumped
    instance goes on as after any abort.
    """
    t = tid(c, i)
    bump = s.ps_bump[i] if txn_client.bumps_after_error(c) else False
    granted, fenced, waits, upd = tc.init_producer_id(s, c, t, expected=(bump, s.ps_epoch[i]))
    epoch = tc.granted_epoch(s, c, t)
    fresh = and_(granted, not_(bump))
    claims = and_(not_(bump), not_(fenced), not_(waits))
    then = {**upd, ("ps_stage", i): ite(granted, ite(bump, txn_client.after_abort(s, c, i), FETCH),
                                        ite(fenced, STOPPED, INIT)),
            ("ps_epoch", i): ite(granted, epoch, s.ps_epoch[i]),
            # a new epoch starts every partition's sequence at 0 (InitProducerIdHandler:
            # resetSequenceNumbers after a bump; a fresh producer has none yet)
            ("ps_seq", i): [ite(granted, 0, q) for q in s.ps_seq[i]],
            **txn_client.told_fenced(s, c, i, fenced),
            # history: from now on anything older of this id must stay invisible (g_fence
            # for the proofs' lemmas, which speak of epochs; g_init_attempt for the promise,
            # which speaks of what happened: every attempt begun so far is now too old).
            # A bump is not initTransactions(): it changes neither.
            ("g_fence", t): ite(fresh, epoch, s.g_fence[t]),
            ("g_init_attempt", t): ite(fresh, s.g_attempts, s.g_init_attempt[t]),
            # history: the id's last caller of initTransactions() (a grant, or a fence of the
            # open transaction it finds; not a bump)
            ("g_owner", t): ite(claims, i + 1, s.g_owner[t]),
            ("g_timed_out", t): and_(s.g_timed_out[t], not_(claims))}
    if txn_client.bumps_after_error(c):
        then[("ps_bump", i)] = and_(bump, not_(granted), not_(fenced))
    return Effect(when=and_(s.ps_stage[i] == INIT, not_(waits)),
                  fits=and_(epoch <= max_epoch(c),
                            tc.fence_updates(s, c, t)[("tc_epoch", t)] <= max_epoch(c)), then=then)


@action(scope=transactional, i=INSTANCE)
def processor_fetch_offsets(s, c, i):
    """OffsetFetch: the instance's position becomes the group's committed offset.

    The fetch asks for stable offsets (KIP-447): while a transaction holds
    pending offsets for the input partition the group coordinator answers
    ``UNSTABLE_OFFSET_COMMIT`` and the consumer retries (the step waits).
    """
    then = {("ps_stage", i): READY, ("ps_pos", i): s.gc_committed}
    if c.mode.txn_id_per_instance:
        # history: the first fetch of the instance that joined the group last takes the input
        # over (the generation counts joins; the rewind after an abort fetches again, having
        # begun an attempt): every other instance has lost it, and every attempt still
        # undecided is an old owner's
        takeover = and_(s.ps_tag[i] == 0, s.ps_gen[i] == s.gc_generation)
        then["g_superseded"] = [or_(x, takeover) if j != i else x
                                for j, x in enumerate(s.g_superseded)]
        then["att_old"] = [x if n == 0 else or_(x, and_(takeover, n <= s.g_attempts,
                                                        s.outcome[n] == OPEN))
                           for n, x in enumerate(s.att_old)]   # attempts are numbered from 1
    return Effect(when=and_(s.ps_stage[i] == FETCH, groups.stable(s, c)), then=then)


@action(scope=transactional, i=INSTANCE)
def processor_begin(s, c, i):
    """``poll()`` returns the next input record and the instance begins a transaction.

    ``beginTransaction()`` is local to the client: the TC hears of the
    transaction with its first AddPartitionsToTxn (or, under TV2, from the
    first partition leader that verifies it).
    """
    n = s.g_attempts + 1
    return Effect(
        when=and_(s.ps_stage[i] == READY, s.ps_pos[i] < c.bounds.records),
        fits=s.g_attempts < attempts(c),
        then={("ps_stage", i): IN_TXN, ("ps_pos", i): s.ps_pos[i] + 1,
              ("ps_out", i): [NOT_SENT] * OUTPUTS, ("ps_offsets", i): False,
              **txn_client.resends_forgotten(i),
              ("ps_tag", i): n, "g_attempts": n,
              # history: an instance that has lost the input begins an old owner's attempt
              **({"att_old": set_(s.att_old, n, s.g_superseded[i])}
                 if c.mode.txn_id_per_instance else {})})


@action(scope=transactional, i=INSTANCE)
def processor_send(s, c, i):
    """``send()`` per output: the instance writes its record's output to the partitions its key maps to.

    Every output partition by default; where the mode routes records by
    key (``Mode.routes``), only the record's own, so a transaction may
    write one partition and not the other.  Under TV1 the instance first
    adds them to the transaction with one AddPartitionsToTxn
    (``PRODUCER_FENCED`` is fatal).  Each produce request carries the
    transactional producer id, the instance's epoch and the partition's
    next sequence number; they go to different leaders and arrive
    independently.
    """
    t = tid(c, i)
    rows = [net.produce_rows(s, o, i) for o in range(OUTPUTS)]
    wants = [writes(c, o, s.ps_pos[i]) for o in range(OUTPUTS)]
    base = and_(s.ps_stage[i] == IN_TXN, *(s.ps_out[i][o] == NOT_SENT for o in range(OUTPUTS)))
    room = and_(*(implies(w, has_room(r)) for w, r in zip(wants, rows)))
    if c.variant.tv2:
        ok, fenced, upd = True, False, {}
    else:
        ok, fenced, upd = tc.add_partitions(s, c, t, range(OUTPUTS), s.ps_epoch[i], s.ps_tag[i],
                                            wanted=wants)
    then = dict(upd)
    for o, w in zip(range(OUTPUTS), wants):
        request = pushed(rows[o], [s.ps_pos[i], s.ps_epoch[i], True, s.ps_tag[i], s.ps_seq[i][o]])
        sends = and_(ok, w)
        then.update(net.produce_update(o, i, [[ite(sends, v, old) for v, old in zip(new, prev)]
                                          for new, prev in zip(request, rows[o])]))
        then[("ps_out", i, o)] = ite(sends, SENT, NOT_SENT)
        then[("ps_seq", i, o)] = ite(sends, s.ps_seq[i][o] + 1, s.ps_seq[i][o])
        room = and_(room, implies(sends, s.ps_seq[i][o] < max_seq(c)))
    then.update({("ps_stage", i): ite(fenced, STOPPED, IN_TXN), **txn_client.told_fenced(s, c, i, fenced)})
    return Effect(when=and_(base, or_(ok, fenced)), fits=room, then=then)


@action(scope=transactional, i=INSTANCE)
def processor_send_offsets(s, c, i):
    """``sendOffsetsToTransaction(offsets, groupMetadata)``: the input offset joins the transaction.

    AddOffsetsToTxn adds the group's offsets partition at the TC
    (``PRODUCER_FENCED`` is fatal); TxnOffsetCommit then stores the offset
    at the group coordinator as *pending* until the marker
    (:func:`groups.txn_offset_commit`): a stale generation (KIP-447, when the
    group metadata is passed) means the instance lost the input, so it must
    abort and leave.  Only when the mode commits offsets in the transaction.
    """
    if not c.mode.offsets_in_txn:
        return Effect(when=False)
    t = tid(c, i)
    ok, fenced, upd = tc.add_partitions(s, c, t, [OFFSETS], s.ps_epoch[i], s.ps_tag[i])
    accepted, lost, gc_fenced, gupd = groups.txn_offset_commit(s, c, i, t, s.ps_epoch[i],
                                                               s.ps_pos[i], ok)
    stage = ite(or_(fenced, gc_fenced), STOPPED, ite(lost, ABORTABLE, IN_TXN))
    return Effect(
        when=and_(s.ps_stage[i] == IN_TXN, not_(s.ps_offsets[i]), or_(ok, fenced)),
        then={**upd, **gupd, ("ps_offsets", i): accepted, ("ps_stage", i): stage,
              ("ps_lost", i): or_(s.ps_lost[i], lost),
              **txn_client.told_fenced(s, c, i, or_(fenced, gc_fenced)),
              "g_fenced": or_(s.g_fenced, fenced, gc_fenced, lost)})


def _end(s: Any, c: Any, i: int, kind: int) -> tuple[Any, dict[Any, Any]]:
    """Room for, and the updates of, sending EndTxn(``kind``) from instance ``i``."""
    rows = net.end_rows(s, i)
    return has_room(rows), net.end_update(i, pushed(rows, [kind, s.ps_epoch[i], True]))


@action(scope=transactional, i=INSTANCE)
def processor_commit(s, c, i):
    """``commitTransaction()``: once every output is acknowledged, the instance sends EndTxn(commit).

    The client sends EndTxn only after all its produce requests completed
    (every output its record writes acknowledged; and, with offsets in the
    transaction, after sending the offsets).
    """
    room, then = _end(s, c, i, COMMIT)
    done = and_(*(implies(writes(c, o, s.ps_pos[i]), s.ps_out[i][o] == WRITTEN)
                  for o in range(OUTPUTS)))
    offsets = s.ps_offsets[i] if c.mode.offsets_in_txn else True
    return Effect(when=and_(s.ps_stage[i] == IN_TXN, done, offsets), fits=room,
                  then={**then, ("ps_stage", i): COMMITTING})


@action(fault=True, scope=transactional, i=INSTANCE)
def processor_abort(s, c, i):
    """``abortTransaction()``: the instance sends EndTxn(abort).

    After an abortable error (a produce timeout, ``INVALID_TXN_STATE``, a
    stale generation) this is how the loop goes on.  An application may
    also abort for its own reasons (a processing error): that spends one
    fault.  Either way EndTxn goes out only once no batch is in flight
    (``TransactionManager.nextRequest``: "Do not send the EndTxn until all
    batches have been flushed"): every write was answered, or its delivery
    time ran out (:func:`processor_timeout`), which leaves the request in
    the network, late.
    """
    room, then = _end(s, c, i, ABORT)
    voluntary = s.ps_stage[i] == IN_TXN
    # abortTransaction() first waits for the produce requests in flight
    settled = all_(s.ps_out[i][o] != SENT for o in range(OUTPUTS))
    # ... after an abortable error too: the Sender sends EndTxn only once every batch is complete
    # (TransactionManager.nextRequest), answered or expired (processor_timeout)
    flushed = not_(produce_in_flight(s, c, i))
    return Effect(
        when=or_(and_(s.ps_stage[i] == ABORTABLE, flushed), and_(voluntary, settled, can_fault(s, c))),
        fits=room,
        then={**give_up_requests(s, c, i), **then, ("ps_stage", i): ABORTING,
              "faults": ite(voluntary, s.faults + 1, s.faults),
              "outcome": set_(s.outcome, s.ps_tag[i], ABORTED)})


@action(fault=True, scope=transactional, i=INSTANCE)
def processor_timeout(s, c, i):
    """``request.timeout.ms`` fires on a request instance ``i`` waits for.

    A produce request: its batch's delivery time runs out and the
    transaction becomes abortable (or, already abortable, the abort can go
    ahead: it waited for that batch); fatal instead, so the instance stops,
    where the batch had been resent after ``OUT_OF_ORDER_SEQUENCE_NUMBER``
    and the client gives up on a resent batch
    (:func:`txn_client.expiry_is_fatal`).  An EndTxn: the
    client resends it on a new connection (the TC answers a retry of the
    same EndTxn as it did the first).  The old requests stay in the
    network and may still arrive, late.  A timeout after a loss is free; a
    timeout while the request is still on its way (a slow network, a GC
    pause) spends one fault.
    """
    t = tid(c, i)
    stage = s.ps_stage[i]
    producing = and_(stage == IN_TXN, any_(s.ps_out[i][o] == SENT for o in range(OUTPUTS)))
    # after an abortable error the client still waits for its batches in flight, until they expire
    flushing = and_(stage == ABORTABLE, produce_in_flight(s, c, i))
    ending = or_(stage == COMMITTING, stage == ABORTING)
    premature = live_request(s, c, i)
    rows = net.end_rows(s, i)
    resend = pushed([rows[0], rows[1], [False] * len(rows[2])],
                    [ite(stage == COMMITTING, COMMIT, ABORT), s.ps_epoch[i], True])
    then = {**give_up_requests(s, c, i),
            **net.end_update(i, [[ite(ending, v, w) for v, w in zip(new, old)]
                             for new, old in zip(resend, [rows[0], rows[1], [False] * len(rows[2])])]),
            ("ps_stage", i): ite(or_(producing, flushing),
                                 ite(txn_client.expiry_is_fatal(s, c, i), STOPPED, ABORTABLE), stage),
            **txn_client.bump_required(s, c, i, or_(producing, flushing)),
            # the connection is closed: a pending EndTxn answer for it is dropped
            ("tc_reply", t): ite(and_(ending, s.tc_reply[t] == i + 1), 0, s.tc_reply[t]),
            "faults": ite(premature, s.faults + 1, s.faults)}
    return Effect(when=and_(or_(producing, flushing, ending), or_(not_(premature), can_fault(s, c))),
                  fits=or_(not_(ending), has_room(rows)), then=then)


@action(scope=transactional, i=INSTANCE)
def processor_commit_offsets(s, c, i):
    """``commitSync()`` after ``commitTransaction()``: offsets committed outside the transaction.

    The pitfall configuration: the output is committed first, the input
    offset only afterwards, by an ordinary OffsetCommit; a stale generation
    is rejected (``ILLEGAL_GENERATION``) and the instance leaves.
    """
    if c.mode.offsets_in_txn:
        return Effect(when=False)
    ok, gupd = groups.offset_commit(s, c, i, s.ps_pos[i])
    return Effect(when=s.ps_stage[i] == COMMIT_OFFSETS,
                  then={**gupd, ("ps_stage", i): ite(ok, READY, STOPPED),
                        ("ps_lost", i): not_(ok), "g_fenced": or_(s.g_fenced, not_(ok))})


ACTIONS = [processor_start, processor_init, processor_fetch_offsets, processor_begin,
           processor_send, processor_send_offsets, processor_commit, processor_abort,
           processor_timeout, processor_commit_offsets]


# -- how the processor's steps are told (stories) and drawn (sequence diagrams) ------------------


@teller
def tell_processor_start(a, b, x, c):
    i = a["i"]
    others = [j for j in range(len(x["ps_stage"])) if j != i and b["ps_stage"][j] not in (0, STOPPED)]
    zombie = f"; {', '.join(inst(j) for j in others)} still runs: a zombie" if others else ""
    return f"{inst(i)} starts and joins the group (generation {x['gc_generation']}){zombie}"


@teller
def tell_processor_init(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    bump = b.get("ps_bump", [False] * (i + 1))[i]
    call = (f"{inst(i)} ends its abort with InitProducerId({epoch_name(c, b['ps_epoch'][i])}) to "
            "bump its epoch" if bump else f"{inst(i)} calls initTransactions()")
    got = epoch_name(c, x["ps_epoch"][i])
    if producer_id(c, x["ps_epoch"][i])[0] != producer_id(c, b["tc_epoch"][t])[0] and b["tc_epoch"][t]:
        got += ": the old producer id's epochs ran out (prepareProducerIdRotation)"
    if x["ps_epoch"][i] != b["ps_epoch"][i] and bump:
        then = ("; it has lost its input, so it stops" if x["ps_stage"][i] == STOPPED
                else told_stage(b, x, i))
        return (f"{call}: the TC gives it {got}, so any request of the aborted attempt still on "
                f"the way is now stale{then}")
    if x["ps_epoch"][i] != b["ps_epoch"][i]:
        return f"{call}: InitProducerId gives it {got}, fencing every older instance"
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        return (f"{call}: the TC's epoch is {epoch_name(c, b['tc_epoch'][t])} now, another instance "
                "has the id, so it answers PRODUCER_FENCED and the instance stops")
    if x["tc_state"][t] == PREP_FENCE != b["tc_state"][t]:
        return (f"{call}: the TC finds a transaction Ongoing, fences "
                f"it ({TC_STATES[PREP_FENCE]}, {epoch_name(c, x['tc_epoch'][t])}) and answers "
                "CONCURRENT_TRANSACTIONS")
    if x["tc_epoch"][t] != b["tc_epoch"][t]:
        return f"{call}: the TC finds a transaction Ongoing and fences it{tc.overflow_told(x, t, c)}"
    return f"{call}: it is answered, and nothing changes"


@teller
def tell_processor_fetch_offsets(a, b, x, c):
    i = a["i"]
    pos = x["ps_pos"][i]
    whose = "the committed input offset" if pos == x["gc_committed"] else \
        f"input offset (the committed offset is {x['gc_committed']})"
    pending = [p - 1 for p in x["gc_pending"] if p]
    unstable = (f"; a transaction's offset {', '.join(map(str, pending))} is still pending, which "
                "the fetch does not wait for" if pending else "")
    return f"{inst(i)} fetches offsets: its position becomes {pos}, {whose}{unstable}"


@teller
def tell_processor_begin(a, b, x, c):
    i = a["i"]
    return (f"{inst(i)} polls r{x['ps_pos'][i]} and begins a transaction "
            f"(attempt #{x['ps_tag'][i]})")


@teller
def tell_processor_send(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    new = added(b, x, t)
    how = f"adds {listing(new)} to the transaction and " if new else ""
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        outs = listing([f"o{o}" for o in route(c, b["ps_pos"][i])])
        return f"{inst(i)} tries to add {outs}: PRODUCER_FENCED, it stops"
    what = requests_sent(b, x, i, c)
    return f"{inst(i)} {how}sends {listing(what) or 'nothing'}"


@teller
def tell_processor_send_offsets(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    adds = " (the TC adds the offsets partition)" if added(b, x, t) else ""
    facts = []
    if x["gc_pending"] != b["gc_pending"] and x["gc_pending"][t]:
        facts.append(f"offset {x['gc_pending'][t] - 1} is pending at the group")
    if x["gc_committed"] != b["gc_committed"]:
        facts.append(f"the committed offset becomes {x['gc_committed']}")
    if facts:
        return f"{inst(i)} sends its offset to the transaction{adds}: {listing(facts)}{told_stage(b, x, i)}"
    if x["ps_lost"][i] and not b["ps_lost"][i]:
        return (f"{inst(i)} sends its offset: ILLEGAL_GENERATION, it has lost the input "
                "and must abort")
    return f"{inst(i)} sends its offset: rejected, nothing is stored{told_stage(b, x, i)}"


@teller
def tell_processor_commit(a, b, x, c):
    i = a["i"]
    return f"{inst(i)} calls commitTransaction(): {end_sent(b, x, i, c) or 'no EndTxn is sent'}"


@teller
def tell_processor_abort(a, b, x, c):
    i = a["i"]
    why = " after an application error" if x["faults"] > b["faults"] else ""
    return (f"{inst(i)} calls abortTransaction(){why}: {end_sent(b, x, i, c) or 'no EndTxn is sent'} "
            f"for attempt #{b['ps_tag'][i]}")


@teller
def tell_processor_timeout(a, b, x, c):
    i = a["i"]
    premature = " while the request is still on its way" if x["faults"] > b["faults"] else ""
    again = end_sent(b, x, i, c)
    if again:
        return f"{inst(i)}'s EndTxn times out{premature}; it sends {again} again"
    bump = (" and, once aborted, bump its epoch" if x.get("ps_bump", [False] * (i + 1))[i]
            and not b["ps_bump"][i] else "")
    if x["ps_stage"][i] == ABORTABLE != b["ps_stage"][i]:
        return (f"{inst(i)}'s produce request times out{premature}: the transaction must "
                f"abort{bump}")
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        return (f"the delivery time of {inst(i)}'s write, resent after OUT_OF_ORDER_SEQUENCE_NUMBER, "
                f"runs out: its sequence is unresolved, and a client before 2.5 fails fatally; "
                f"{inst(i)} stops")
    if b["ps_stage"][i] == ABORTABLE == x["ps_stage"][i]:
        return (f"the delivery time of {inst(i)}'s writes still in flight runs out{premature}: "
                f"its abort can go ahead{bump.replace(', once aborted,', ' then')}")
    return f"{inst(i)}'s request times out{premature}{told_stage(b, x, i)}"


@teller
def tell_processor_commit_offsets(a, b, x, c):
    i = a["i"]
    if x["gc_committed"] != b["gc_committed"]:
        return f"{inst(i)} calls commitSync() after the commit: committed offset {x['gc_committed']}"
    if x["ps_stage"][i] == STOPPED:
        return f"{inst(i)} calls commitSync(): ILLEGAL_GENERATION, it has lost the input"
    return (f"{inst(i)} calls commitSync() after the commit: the committed offset stays "
            f"{x['gc_committed']}{told_stage(b, x, i)}")


@event_of
def ev_processor_start(a, b, x, c):
    return Event(inst(a["i"]), f"join group (gen {x['gc_generation']})",
                 exchanges=(Exchange(GROUP),))


@event_of
def ev_processor_init(a, b, x, c):
    i = a["i"]
    got = (epoch_name(c, x["ps_epoch"][i]) if x["ps_epoch"][i] != b["ps_epoch"][i]
           else "PRODUCER_FENCED" if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]
           else "CONCURRENT_TXNS")
    return Event(inst(i), f"InitProducerId: {got}", exchanges=(Exchange(TC),))


@event_of
def ev_processor_fetch_offsets(a, b, x, c):
    i = a["i"]
    return Event(inst(i), f"fetch offset: {x['ps_pos'][i]}", exchanges=(Exchange(GROUP, inbound=True),))


@event_of
def ev_processor_begin(a, b, x, c):
    i = a["i"]
    return Event(inst(i), f"poll r{x['ps_pos'][i]}, begin #{x['ps_tag'][i]}")


@event_of
def ev_processor_send(a, b, x, c):
    i = a["i"]
    calls = () if c.variant.tv2 else (Exchange(TC),)   # AddPartitionsToTxn (TV1)
    if fenced_now(b, x, i):
        return Event(inst(i), "add partitions: FENCED", exchanges=calls)
    what = f"send r{b['ps_pos'][i]}'s output"
    return Event(inst(i), what if c.variant.tv2 else f"AddPartitions, {what}", exchanges=calls)


@event_of
def ev_processor_send_offsets(a, b, x, c):
    i = a["i"]
    if x["ps_offsets"][i]:
        label = f"send offset {b['ps_pos'][i]}"
    elif x["ps_lost"][i] and not b["ps_lost"][i]:
        label = "send offset: ILLEGAL_GEN"
    else:
        label = "send offset: FENCED"
    return Event(inst(i), label, exchanges=(Exchange(GROUP),))


@event_of
def ev_processor_commit(a, b, x, c):
    return Event(inst(a["i"]), "commitTransaction")


@event_of
def ev_processor_abort(a, b, x, c):
    return Event(inst(a["i"]), "abortTransaction")


@event_of
def ev_processor_timeout(a, b, x, c):
    i = a["i"]
    # an EndTxn times out only when the step sends it again (tell_processor_timeout);
    # every other timeout is of the transaction's writes
    if end_sent(b, x, i, c):
        return Event(inst(i), "EndTxn times out")
    stops = ", stops" if x["ps_stage"][i] == STOPPED != b["ps_stage"][i] else ""
    return Event(inst(i), f"produce times out{stops}")


@event_of
def ev_processor_commit_offsets(a, b, x, c):
    i = a["i"]
    label = "commitSync: ILLEGAL_GEN" if x["ps_stage"][i] == STOPPED else f"commitSync {x['gc_committed']}"
    return Event(inst(i), label, exchanges=(Exchange(GROUP),))
