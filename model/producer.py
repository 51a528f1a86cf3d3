"""The application and the producer client (KafkaProducer, docs/protocol.md §2-§4).

The application hands records to ``send()`` in order; the producer puts each
in a batch, sends a Produce request to the partition leader, and completes
the batch's future as *acked* or *failed* (the outcome the application is
told).  A batch lost in a crash was never reported: its outcome is unknown.

Simplifications:

* ``send()`` and the sender thread's first transmission are one step; a
  record waits in the application while in-flight requests are at the limit.
* One record per batch, one batch per request.
* A crash and the restart of the producer are one step.  A crash with no
  batch outstanding is not modelled (it only renames later PIDs).
* The idempotent producer's sequence bookkeeping is the Java client's
  (TransactionManager, 2.5 on): a failed batch, or an out-of-order answer
  for the next batch, bumps the epoch and rewrites the sequences of the
  partition's pending batches (:func:`bump_updates`).  A batch given up on
  after its retries (``bounds.retries``, standing for delivery.timeout.ms)
  asks for the bump at once, as ``handleFailedBatch`` does for an error
  that ends a batch's delivery time; the other path, a batch expiring
  while no answer is due, which marks the sequence unresolved and bumps
  only once the partition has nothing in flight, is not modelled.  A
  batch's delivery time outlasts the requests sent before it was created
  (:func:`in_time`).  One epoch serves all partitions (see
  :func:`bump_updates`).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, count, ite, not_, or_
from deliverycheck.core.scene import Event
from deliverycheck.core.schema import Field, flag, num
from deliverycheck.core.spec import Effect, action

from .modes import pipeline
from .environment import (BATCHES, PARTITIONS, SLOTS, can_fault, deliverable, has_room, kept,
                          pushed, removed, request_update, requests, response_update,
                          responses, spend_fault)
from .state import (ACKED, BATCH_STATES, DUPLICATE, FAILED, INFLIGHT, LOST, NOT_ENOUGH, OK,
                    OUT_OF_ORDER, QUEUED, RESPONSE_CODES, RETRIED_CODES, batch_in, max_conn,
                    max_epoch, partition_of, sizes)
from .telling import (batch_label, batch_name, changed, event_of, listing, partitions_of,
                      producer_name, record_name, response_rows, sending, taken, teller, told)


def RECORDS(c: Any) -> range:
    """Every record the application will send."""
    return range(c.bounds.records)


# -- the producer's state ----------------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The application's and the producer's state (part of the delivery path's schema)."""
    R, P, B, L, C, S = sizes(c)
    E = max_epoch(c)
    T = max(1, c.retries)
    return [
        num("handed", R, "records the application has handed to the producer (in order)"),
        num("session", S - 1 or 1, "current producer session; each restart gets a new PID"),
        num("epoch", E, "producer epoch of the session (bumped by KIP-360 after an unknown outcome)"),
        num("next_seq", B, "next sequence number per partition", shape=(P,)),
        num("conn", max_conn(c), "connection generation to each partition leader (new after a timeout)",
            shape=(P,)),
        num("nbatches", B, "batches created so far"),
        num("b_rec", R, "record carried by each batch, plus one (0 = unused)", shape=(B,)),
        num("b_state", 5, "the batch's future: unused/queued/in flight/acked/failed/lost", shape=(B,),
            labels=BATCH_STATES),
        num("b_tries", T, "retries used by each batch", shape=(B,)),
        num("b_seq", B, "sequence number of each batch", shape=(B,)),
        num("b_pid", S - 1 or 1, "producer id (session) of each batch", shape=(B,)),
        num("b_epoch", E, "producer epoch of each batch", shape=(B,)),
        num("b_sent", B, "batches created when the batch's latest request was sent", shape=(B,)),
        flag("b_reset", "the batch's sequence was reassigned by an epoch bump and it has not been "
             "sent since (ProducerBatch.sequenceHasBeenReset)", shape=(B,)),
    ]


# -- what the producer knows about its batches ---------------------------------

def in_flight(s: Any, c: Any, p: int) -> Any:
    """Produce requests to partition ``p`` awaiting a response."""
    return count(and_(s.b_state[k] == INFLIGHT, batch_in(s, c, k, p)) for k in BATCHES(c))


def retry_pending(s: Any, c: Any, p: int, below: int) -> Any:
    """Some batch of partition ``p`` older than ``below`` waits to be retried.

    Retried batches go out before newer ones (the accumulator re-enqueues
    them at the head of the partition's queue), which keeps send order.
    """
    return any_(and_(s.b_state[k] == QUEUED, batch_in(s, c, k, p)) for k in range(below))


def may_transmit(s: Any, c: Any, p: int, below: int) -> Any:
    """The sender may put another request to ``p`` on the wire."""
    return and_(in_flight(s, c, p) < c.mode.max_in_flight, not_(retry_pending(s, c, p, below)))


def acked_through(s: Any, c: Any, p: int) -> Any:
    """The producer's last acknowledged sequence for partition ``p``, plus one (0: none).

    TxnPartitionEntry.lastAckedSequence: the highest sequence of a batch
    the producer completed as acked (``handleCompletedBatch``), forgotten
    when an epoch bump restarts the partition's sequences.  Read from the
    batches: those of this session and epoch completed as acked.
    """
    out: Any = 0
    for k in BATCHES(c):
        mine = and_(s.b_state[k] == ACKED, s.b_pid[k] == s.session, s.b_epoch[k] == s.epoch,
                    batch_in(s, c, k, p))
        out = ite(and_(mine, s.b_seq[k] + 1 > out), s.b_seq[k] + 1, out)
    return out


def gap_found(s: Any, c: Any, p: int, k: int) -> Any:
    """An OUT_OF_ORDER_SEQUENCE_NUMBER answer for batch ``k`` (to ``p``), to be retried, shows a
    real gap in the partition's sequences.

    TransactionManager.canRetry (idempotent producer; Java client 2.5 on,
    KAFKA-8805 with KIP-360): an out-of-order answer for a batch that is
    *not* the next one after the last acknowledged sequence, or whose
    sequence was reassigned since it was sent, is only retried (an earlier
    batch is still on its way); for the next one the producer also bumps
    its epoch (:func:`bump_updates`).
    """
    if not c.mode.idempotence:
        return False
    return and_(s.b_seq[k] == acked_through(s, c, p), not_(s.b_reset[k]))


def bump_updates(s: Any, c: Any, p: int, bump: Any, states: list) -> dict[Any, Any]:
    """KIP-360: if ``bump``, the idempotent producer bumps its epoch and restarts ``p``'s sequences.

    TransactionManager.bumpIdempotentProducerEpoch: the epoch goes up by
    one, and the partition that asked for the bump has the sequences of
    its batches still pending rewritten (``startSequencesAtBeginning``: in
    send order from 0, under the new epoch, each marked
    ``sequenceHasBeenReset``), so they go out again as the new epoch's
    first batches.  ``states`` are the batches' states after the step (a
    batch it fails is no longer pending).  Requests already on the wire
    keep what they were sent with.  The bump is asked for when a batch
    fails (``handleFailedBatch``: the outcome of a batch given up on is
    unknown, so its sequence cannot be reused) and when an out-of-order
    answer shows a gap (:func:`gap_found`).

    Simplification: the model has one epoch for all partitions, so other
    partitions restart at sequence 0 at once and their pending batches keep
    the old epoch (fenced, then resent by the application), where the Java
    client moves each of them to the new epoch once its batches are done
    (``maybeUpdateProducerIdAndEpoch``, KAFKA-12152).
    """
    if not c.mode.idempotence:
        return {}
    pending = [and_(bump, s.b_pid[j] == s.session, batch_in(s, c, j, p),
                    or_(st == QUEUED, st == INFLIGHT)) for j, st in enumerate(states)]
    return {"epoch": ite(bump, s.epoch + 1, s.epoch),
            "next_seq": [ite(bump, count(pending) if q == p else 0, s.next_seq[q])
                         for q in PARTITIONS(c)],
            "b_seq": [ite(m, count(pending[:j]), s.b_seq[j]) for j, m in enumerate(pending)],
            "b_epoch": [ite(m, s.epoch + 1, s.b_epoch[j]) for j, m in enumerate(pending)],
            "b_reset": [ite(m, True, s.b_reset[j]) for j, m in enumerate(pending)]}


def in_time(s: Any, c: Any, p: int, k: int) -> Any:
    """Batch ``k``'s delivery time cannot have run out yet: another batch of its partition
    still waits for the answer to a request sent before ``k`` was created.

    KafkaProducer.configureDeliveryTimeout: ``delivery.timeout.ms`` is at
    least ``linger.ms + request.timeout.ms``, so a request sent before
    batch ``k`` was created times out (or is answered) before ``k``'s
    delivery time runs out.  Retries stand for delivery time in the model
    (``bounds.retries``), so such a batch is retried even past its retries.
    """
    return any_(and_(s.b_state[j] == INFLIGHT, s.b_sent[j] <= k, s.b_pid[j] == s.b_pid[k],
                     batch_in(s, c, j, p)) for j in BATCHES(c) if j != k)


def epoch_fits(s: Any, c: Any, bump: Any) -> Any:
    """The epoch bump, if ``bump``, stays within the bounds' epoch range."""
    return or_(not_(bump), s.epoch < max_epoch(c)) if c.mode.idempotence else True


def NEW_BATCH(c: Any) -> range:
    """Batch slots a new batch can take, plus one past the end.

    The extra slot stands for "the batch table is full": taking it is
    reported as a capacity block, never silently impossible.
    """
    return range(c.bounds.batches + 1)


def _new_batch(s: Any, c: Any, r: int, k: int) -> tuple[Any, Any, dict[Any, Any]]:
    """Guard, capacity and updates for sending record ``r`` as new batch ``k``."""
    p = partition_of(c, r)
    if k == c.bounds.batches:  # the table is full: enabled by the protocol, blocked by the bound
        return and_(s.nbatches == k, may_transmit(s, c, p, k)), False, {}
    seq = s.next_seq[p] if c.mode.idempotence else 0
    fire_and_forget = c.mode.acks == 0
    then = {
        "nbatches": s.nbatches + 1,
        ("b_rec", k): r + 1,
        # acks=0: the future completes as soon as the request is written out
        ("b_state", k): ACKED if fire_and_forget else INFLIGHT,
        ("b_seq", k): seq,
        ("b_pid", k): s.session,
        ("b_epoch", k): s.epoch,
        ("b_sent", k): k,
        **request_update(p, pushed(requests(s, p), [k + 1, s.epoch, seq, s.conn[p]])),
    }
    if c.mode.idempotence:
        then[("next_seq", p)] = s.next_seq[p] + 1
    guard = and_(s.nbatches == k, may_transmit(s, c, p, c.bounds.batches))
    fits = and_(has_room(requests(s, p)), s.next_seq[p] < c.bounds.batches)
    return guard, fits, then


@action(scope=pipeline, r=RECORDS, k=NEW_BATCH)
def producer_send(s, c, r, k):
    """The application calls ``send(r)``; the producer sends it as batch ``k``.

    The Produce request carries the producer id (PID), epoch and the next
    sequence number for the partition (idempotence only; KIP-98).  With
    ``acks=0`` the future completes as acked at once.  Enabled for the next
    record in the application's order, when fewer than
    ``max.in.flight.requests.per.connection`` requests are outstanding and
    no older batch waits for a retry.
    """
    guard, fits, then = _new_batch(s, c, r, k)
    return Effect(when=and_(s.handed == r, guard), fits=fits,
                  then={**then, "handed": s.handed + 1})


@action(scope=pipeline, r=RECORDS, k=NEW_BATCH)
def producer_resend(s, c, r, k):
    """The application sends record ``r`` again, as new batch ``k``.

    An at-least-once application resends a record it was not told was
    written: its send failed (retries or delivery timeout exhausted) or the
    producer crashed before answering.  The resend is a new ``send()``: a
    new batch with a new sequence number, which the leader cannot recognise
    as a duplicate (docs/protocol.md §2, §4).
    """
    if not c.mode.app_resends:
        return Effect(when=False)
    unresolved = and_(*(or_(s.b_rec[j] != r + 1, s.b_state[j] == FAILED, s.b_state[j] == LOST)
                        for j in BATCHES(c)))
    guard, fits, then = _new_batch(s, c, r, k)
    return Effect(when=and_(r < s.handed, unresolved, guard), fits=fits, then=then)


@action(scope=pipeline, k=BATCHES, p=PARTITIONS)
def producer_retry(s, c, k, p):
    """The producer resends batch ``k`` (to partition ``p``) after an error or timeout.

    The retry keeps the batch's PID, epoch and sequence number, so an
    idempotent leader recognises it if the first attempt was written (after
    an OUT_OF_ORDER_SEQUENCE_NUMBER bump they are the ones the bump gave it,
    :func:`bump_updates`; sending it clears ``sequenceHasBeenReset``, as the
    accumulator's drain closes the batch).  Only
    the oldest batch waiting for a retry goes, and only within the in-flight
    limit.  It travels on the current connection.
    """
    if c.mode.acks == 0:  # fire and forget: nothing is ever in flight
        return Effect(when=False)
    rq = requests(s, p)
    return Effect(
        when=and_(s.b_state[k] == QUEUED, batch_in(s, c, k, p), may_transmit(s, c, p, k)),
        fits=has_room(rq),
        then={("b_state", k): INFLIGHT, ("b_reset", k): False, ("b_sent", k): s.nbatches,
              **request_update(p, pushed(rq, [k + 1, s.b_epoch[k], s.b_seq[k], s.conn[p]]))})


def on_the_wire(s: Any, p: int) -> Any:
    """A request or response of the current connection to ``p`` is in the network, or the
    leader owes an acks=all answer on it (the request waits in its purgatory)."""
    return or_(any_(and_(key != 0, conn == s.conn[p])
                    for rows in (requests(s, p), responses(s, p))
                    for key, conn in zip(rows[0], rows[-1])),
               any_(owed == s.conn[p] + 1 for owed in s.pend[p]))


def close_connection(s: Any, p: int) -> dict[Any, Any]:
    """Closing the connection to ``p`` discards the responses still unread on it."""
    rs = responses(s, p)
    return response_update(p, kept(rs, [conn != s.conn[p] for conn in rs[-1]]))


@action(scope=pipeline, fault=True, p=PARTITIONS)
def producer_timeout(s, c, p):
    """``request.timeout.ms`` fires on the connection to partition ``p``'s leader.

    The client closes the connection (NetworkClient disconnects on a request
    timeout) and fails every request in flight on it.  Each batch is queued
    for a retry, or, once it has used its retries (``delivery.timeout.ms``),
    completed as *failed*, an unknown outcome: it may have been written.
    Requests already on the wire may still reach the leader, but responses
    on the closed connection are gone: unread ones now, later ones when the
    leader finds the connection closed.

    A timeout after a loss is how the producer heals, so it is free; a
    timeout while a request or response of the connection is still on the
    wire, or while the leader still owes an acks=all answer (a slow network,
    a GC pause, a slow follower), is premature and spends one fault.
    """
    if c.mode.acks == 0:  # fire and forget: nothing is ever in flight
        return Effect(when=False)
    flying = [and_(s.b_state[k] == INFLIGHT, batch_in(s, c, k, p)) for k in BATCHES(c)]
    more = [s.b_tries[k] < c.retries for k in BATCHES(c)]
    retry = [and_(f, or_(more[k], in_time(s, c, p, k))) for k, f in enumerate(flying)]
    # a batch it fails bumps the epoch (handleFailedBatch)
    bump = any_(and_(f, not_(retry[k])) for k, f in enumerate(flying))
    premature = on_the_wire(s, p)
    states = [ite(f, ite(retry[k], QUEUED, FAILED), s.b_state[k]) for k, f in enumerate(flying)]
    return Effect(
        when=and_(any_(flying), or_(not_(premature), can_fault(s, c))),
        fits=and_(epoch_fits(s, c, bump), s.conn[p] < max_conn(c)),
        then={"b_state": states,
              "b_tries": [ite(and_(retry[k], more[k]), s.b_tries[k] + 1, s.b_tries[k])
                          for k in BATCHES(c)],
              ("conn", p): s.conn[p] + 1,
              **close_connection(s, p),
              "faults": ite(premature, s.faults + 1, s.faults),
              **bump_updates(s, c, p, bump, states)})


@action(scope=pipeline, p=PARTITIONS, i=SLOTS, k=BATCHES)
def producer_receive(s, c, p, i, k):
    """The producer reads the Produce response in slot ``i`` (for batch ``k``).

    ``OK`` (appended, or recognised as a duplicate) completes the future as
    acked; a retriable error (``NOT_LEADER_OR_FOLLOWER``, ``NOT_ENOUGH_REPLICAS``,
    ``NOT_ENOUGH_REPLICAS_AFTER_APPEND``) or ``OUT_OF_ORDER_SEQUENCE_NUMBER`` queues the
    batch for a retry while it has retries left (Sender.canRetry), else fails
    it; ``INVALID_PRODUCER_EPOCH`` fails it.  An idempotent producer bumps
    its epoch when it fails a batch, and when an out-of-order answer for the
    next batch shows a gap (:func:`gap_found`, :func:`bump_updates`).  A
    ``NOT_ENOUGH_REPLICAS`` refusal (nothing appended) is retried without
    using up a retry: the batch waits for the ISR to recover.  Responses only
    arrive on the open connection (see :func:`close_connection`).
    """
    if c.mode.acks == 0:  # fire and forget: nothing is ever in flight
        return Effect(when=False)
    rs = responses(s, p)
    code = s.rs_code[p][i]
    success = or_(code == OK, code == DUPLICATE)
    retriable = or_(*(code == x for x in RETRIED_CODES))
    # a write refused for a small ISR is retried until the ISR recovers: giving up on it
    # (delivery.timeout.ms) would need the follower to stay behind that long, not modelled
    refused = code == NOT_ENOUGH
    more = s.b_tries[k] < c.retries
    retry = and_(retriable, or_(refused, more, in_time(s, c, p, k)))
    state = ite(success, ACKED, ite(retry, QUEUED, FAILED))
    # a failed batch asks for an epoch bump (handleFailedBatch), and so does a gap
    bump = or_(state == FAILED, and_(code == OUT_OF_ORDER, retry, gap_found(s, c, p, k)))
    states = [state if j == k else st for j, st in enumerate(s.b_state)]
    return Effect(
        when=and_(deliverable(rs, i), s.rs_batch[p][i] == k + 1, s.b_state[k] == INFLIGHT),
        fits=epoch_fits(s, c, bump),
        then={**response_update(p, removed(rs, i)),
              ("b_state", k): state,
              ("b_tries", k): ite(and_(retry, not_(refused), more), s.b_tries[k] + 1, s.b_tries[k]),
              **bump_updates(s, c, p, bump, states)})


@action(scope=pipeline, fault=True)
def producer_restart(s, c):
    """The producer process crashes and restarts with a new producer id.

    Without a ``transactional.id`` nothing ties the new session to the old
    one (InitProducerId returns a fresh PID, epoch 0, sequences from 0).
    Batches not yet acked or failed are lost with the process: the
    application never learns their outcome.  Requests already on the wire
    may still be written.  Spends one fault.  With ``acks=0`` every batch
    completes at once, so a crash loses nothing the model tracks (records
    waiting in the client's buffer are not modelled) and is left out.
    """
    if c.mode.acks == 0:  # fire and forget: nothing is ever in flight
        return Effect(when=False)
    pending = any_(or_(st == QUEUED, st == INFLIGHT) for st in s.b_state)
    closed: dict[Any, Any] = {}
    for p in PARTITIONS(c):
        closed.update(close_connection(s, p))
    return Effect(
        when=and_(can_fault(s, c), pending),
        fits=all_(q < max_conn(c) for q in s.conn),
        then={"session": s.session + 1, "epoch": 0,
              "next_seq": [0 for _ in s.next_seq],
              "conn": [q + 1 for q in s.conn], **closed,
              "b_state": [ite(or_(st == QUEUED, st == INFLIGHT), LOST, st) for st in s.b_state],
              **spend_fault(s)})


ACTIONS = [producer_send, producer_resend, producer_retry, producer_timeout,
           producer_receive, producer_restart]


# -- how the producer's steps are told (stories) --------------------------------------


@teller
def tell_producer_send(a, b, x, c):
    k = a["k"]
    return (f"{producer_name(x, k)} sends r{x['b_rec'][k]} as {batch_name(x, k, c)}{sending(b, x)}"
            f"{told(b, x, k)}")


@teller
def tell_producer_resend(a, b, x, c):
    k = a["k"]
    return (f"the application sends r{x['b_rec'][k]} again: {producer_name(x, k)} sends it as new "
            f"{batch_name(x, k, c)}{sending(b, x)}{told(b, x, k)}")


@teller
def tell_producer_retry(a, b, x, c):
    k = a["k"]
    return f"{producer_name(x, k)} retries {batch_name(x, k, c)}{sending(b, x, connection=True)}"


@teller
def tell_producer_timeout(a, b, x, c):
    p = a["p"]
    moved = changed(b["b_state"], x["b_state"])
    fates = ", ".join(f"b{k + 1} {BATCH_STATES[x['b_state'][k]]}" for k in moved) or "no batch changes"
    closes = ("it closes the connection and opens connection " f"{x['conn'][p]}"
              if x["conn"][p] != b["conn"][p] else "its connection stays open")
    dropped = sum(len(taken(response_rows(b, q), response_rows(x, q))) for q in partitions_of(x))
    drop = f", dropping {dropped} unread response{'s' if dropped != 1 else ''}" if dropped else ""
    return f"{producer_name(x)}'s request to partition {p} times out; {closes}{drop} ({fates})" \
           f"{bumped(b, x)}"


@teller
def tell_producer_receive(a, b, x, c):
    p, i, k = a["p"], a["i"], a["k"]
    # .get: a counterexample to induction starts in an arbitrary state, where a
    # response slot may hold a code no reachable state has
    code = RESPONSE_CODES.get(b["rs_code"][p][i], f"code {b['rs_code'][p][i]}")
    if x["b_state"][k] == b["b_state"][k]:
        return f"a {code} response for b{k + 1} arrives and is discarded (b{k + 1} stays " \
               f"{BATCH_STATES[x['b_state'][k]]})"
    fate = {ACKED: "the application is told it is written", QUEUED: "it will be retried",
            FAILED: "the application is told the send failed"}.get(
                x["b_state"][k], BATCH_STATES[x["b_state"][k]])
    return f"{producer_name(x, k)} receives {code} for b{k + 1} ({record_name(x, k)}): {fate}" \
           f"{bumped(b, x)}"


def bumped(b: dict, x: dict) -> str:
    """``; it bumps its epoch to 1 and gives b2 sequence 0``: what a KIP-360 bump changed."""
    if x["epoch"] == b["epoch"]:
        return ""
    moved = [f"b{k + 1} sequence {x['b_seq'][k]}" for k in range(len(x["b_seq"]))
             if (x["b_seq"][k], x["b_epoch"][k]) != (b["b_seq"][k], b["b_epoch"][k])]
    return f"; it bumps its epoch to {x['epoch']}" + (
        f" and gives {listing(moved)} under it" if moved else "")


@teller
def tell_producer_restart(a, b, x, c):
    lost = [f"b{k + 1}" for k in changed(b["b_state"], x["b_state"])]
    new = (f"restarts as {producer_name(x)} with a new producer id" if x["session"] != b["session"]
           else "restarts with the same producer id")
    return f"{producer_name(b)} crashes and {new}; {', '.join(lost) or 'no batch'} lost with it"


# -- how the producer's steps are drawn (sequence diagrams) ------------------------------


def lane(session: int) -> str:
    """Lane id of producer session ``session`` (0-based) in sequence diagrams: P1, P2, ..."""
    return f"P{session + 1}"


@event_of
def ev_producer_send(a, b, x, c):
    k = a["k"]
    return Event(lane(x["b_pid"][k]), f"send r{a['r'] + 1} as {batch_label(k)}")


@event_of
def ev_producer_resend(a, b, x, c):
    k = a["k"]
    return Event(lane(x["b_pid"][k]), f"send r{a['r'] + 1} again as {batch_label(k)}")


@event_of
def ev_producer_retry(a, b, x, c):
    k = a["k"]
    return Event(lane(x["b_pid"][k]), f"retry {batch_label(k)}")


@event_of
def ev_producer_timeout(a, b, x, c):
    return Event(lane(b["session"]), f"timeout: reconnect p{a['p']}", discards=True)


@event_of
def ev_producer_receive(a, b, x, c):
    k, p = a["k"], a["p"]
    if b["rs_conn"][p][a["i"]] != b["conn"][p]:
        return Event(lane(b["b_pid"][k]), f"{batch_label(k)}: closed, dropped")
    return Event(lane(b["b_pid"][k]), f"{batch_label(k)} {BATCH_STATES[x['b_state'][k]]}")


@event_of
def ev_producer_restart(a, b, x, c):
    return Event(lane(b["session"]), f"restart as {lane(x['session'])}",
                 crash=True, discards=True)
