"""Strengthening lemmas: invariants that make the promises provable by k-induction.

A promise like ``in_order`` holds in every reachable state, but it is not
*inductive*: some unreachable state satisfies it and has a step out of it
(a request for a batch slot never created, a leader that forgot a PID it
logged).  ``deliverycheck prove`` strengthens the promise with the lemmas
listed in :data:`STRENGTHENING` and proves the conjunction.  Each lemma is
an ordinary ``always`` property: ``deliverycheck verify`` checks it like any
promise, and expected.toml records its verdicts.

The idempotent producer's argument with one request in flight, in four
lemmas (docs/protocol.md §4, KIP-98):

* every batch the network or a log mentions was created by the producer;
* the producer hands out (epoch, sequence) *keys* in increasing order per
  PID and partition: send order is key order;
* the leader remembers, for every batch it logged, a key at least as large;
* so an append (which needs a key above the leader's) is a batch sent
  after everything already logged for that PID, and never a logged one.

Requests and log entries carry their own keys, so two more say that no
epoch bump ever rewrites a batch here (``lemma_one_key_per_batch``) and
that the leader always expects the pending batch
(``lemma_leader_expects_next``).  With them every step that is made keeps
``no_duplicate_send`` and ``in_order``.  The capacity lemmas
(``lemma_cap_*``, below) show that no bound of the model blocks a step from a state that satisfies them all: a fault or an expiry
makes at most one batch of each record fail, so the batch table never
fills (docs/smt.md, "What is proved").
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, count, get, implies, ite, not_, or_, sum_
from deliverycheck.core.spec import always
from deliverycheck.model.modes import pipeline
from deliverycheck.model.partition import failover, rebuilt
from deliverycheck.model.state import (DUPLICATE, FAILED, INFLIGHT, LOST, OK, OUT_OF_ORDER, QUEUED, UNUSED, batch_in, partition_of)

from . import lemmas_txn


# The mode the idempotent lemmas are stated for (and claimed by).
ONE_IN_FLIGHT = "idempotent-one-in-flight"


def _sequenced(cfg: Any) -> bool:
    """Configurations whose batches carry sequence numbers (idempotent delivery path) with one
    request in flight, and partitions whose leader never changes: the lemmas speak of the one
    replica, replica 0.

    With more requests in flight the argument below does not hold: an epoch
    bump rewrites the sequences of the batches still pending, one of which
    may already be written (KAFKA-14034), so keys no longer follow send
    order and ``no_duplicate_send`` itself is broken.
    """
    return (pipeline(cfg) and cfg.mode.idempotence and cfg.mode.max_in_flight == 1
            and not failover(cfg))


def _key_below(e1: Any, q1: Any, e2: Any, q2: Any) -> Any:
    """(epoch e1, sequence q1) comes strictly before (e2, q2)."""
    return or_(e1 < e2, and_(e1 == e2, q1 < q2))


def _same_partition(s: Any, c: Any, k: int, j: int) -> Any:
    return any_(and_(batch_in(s, c, k, p), batch_in(s, c, j, p)) for p in range(c.bounds.partitions))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_batches_exist(s, c):
    """Every batch a request, a response or a log entry names was created.

    Batch ids in the network and in the logs are below the number of
    batches created, every log entry below the log end names a batch, and
    the producer's table holds nothing past the batches it created.
    """
    made = s.nbatches
    B, P = c.bounds.batches, c.bounds.partitions
    return and_(
        all_(implies(s.rq_batch[p][i] != 0, s.rq_batch[p][i] <= made)
             for p in range(P) for i in range(c.bounds.channel)),
        all_(implies(s.rs_batch[p][i] != 0, s.rs_batch[p][i] <= made)
             for p in range(P) for i in range(c.bounds.channel)),
        all_(implies(i < s.log_len[p][0], and_(s.log[p][0][i] != 0, s.log[p][0][i] <= made))
             for p in range(P) for i in range(c.bounds.log)),
        all_(ite(k < made, s.b_rec[k] != 0, s.b_state[k] == UNUSED) for k in range(B)))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_keys_follow_send_order(s, c):
    """Per PID and partition, a batch sent later has a larger (epoch, sequence) key.

    Sequence numbers rise by one per batch and restart at 0 only with a
    bumped epoch (KIP-360); a new session has a new PID.  Also: the
    producer's next key is above every key it has handed out.
    """
    B = c.bounds.batches
    made = s.nbatches
    order = all_(implies(and_(j < made, s.b_pid[k] == s.b_pid[j], _same_partition(s, c, k, j)),
                         _key_below(s.b_epoch[k], s.b_seq[k], s.b_epoch[j], s.b_seq[j]))
                 for j in range(B) for k in range(j))
    ahead = all_(implies(and_(k < made, batch_in(s, c, k, p)),
                         and_(s.b_pid[k] <= s.session,
                              implies(s.b_pid[k] == s.session,
                                      _key_below(s.b_epoch[k], s.b_seq[k], s.epoch, s.next_seq[p]))))
                 for k in range(B) for p in range(c.bounds.partitions))
    return and_(order, ahead)


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_leader_remembers_logged(s, c):
    """For every logged batch, the leader holds its PID's state with a key at least as large.

    ProducerStateManager keeps the epoch and last sequence per PID; an
    append only moves them forward.  (With producer-state expiry, off by
    default, the leader forgets, and this fails: that is the point of
    expiry being a fault.)
    """
    def remembered(p, e):
        k = e - 1
        pid = get(s.b_pid, k)
        st_epoch, last = get(s.ps_epoch[p][0], pid), get(s.ps_seq[p][0], pid)
        return and_(get(s.ps_known[p][0], pid),
                    or_(get(s.b_epoch, k) < st_epoch,
                        and_(get(s.b_epoch, k) == st_epoch, get(s.b_seq, k) <= last)))
    return all_(implies(i < s.log_len[p][0], remembered(p, s.log[p][0][i]))
                for p in range(c.bounds.partitions) for i in range(c.bounds.log))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_one_key_per_batch(s, c):
    """A batch keeps the (epoch, sequence) key it was first sent with: no bump ever rewrites it.

    Every request on the wire and every log entry carries its batch's
    current key, no batch is marked ``sequenceHasBeenReset``, and no
    ``OUT_OF_ORDER_SEQUENCE_NUMBER`` answer for a batch in flight is on the
    wire (:func:`lemma_leader_expects_next`).  With one
    request in flight a partition has one pending batch at a time, each
    sent only once the one before it is done, and the leader's producer
    state is the one its log gives, so the leader always expects the next
    batch: an out-of-order answer, the only way a pending batch is
    rewritten, never comes.
    """
    out = [not_(x) for x in s.b_reset]
    for p in range(c.bounds.partitions):
        # one request in flight: a partition's batches are pending one at a time
        out.append(count(and_(_pending(s, k), batch_in(s, c, k, p)) for k in range(c.bounds.batches))
                   <= c.mode.max_in_flight)
        # the leader's producer state is the one its log gives (no expiry: a lemma for its bounds)
        rows = rebuilt(s, c, s.log[p][0], s.lpe[p][0], s.lseq[p][0], s.log_len[p][0])
        held = (s.ps_known[p][0], s.ps_epoch[p][0], s.ps_first[p][0], s.ps_seq[p][0])
        out += [a == b for row, built in zip(held, rows) for a, b in zip(row, built)]

        for i in range(c.bounds.channel):
            k = s.rq_batch[p][i] - 1
            out.append(implies(s.rq_batch[p][i] != 0,
                               and_(s.rq_epoch[p][i] == get(s.b_epoch, k),
                                    s.rq_seq[p][i] == get(s.b_seq, k))))
            out.append(implies(and_(s.rs_batch[p][i] != 0,
                                    get(s.b_state, s.rs_batch[p][i] - 1) == INFLIGHT),
                               s.rs_code[p][i] != OUT_OF_ORDER))
        for j in range(c.bounds.log):
            k = s.log[p][0][j] - 1
            out.append(implies(j < s.log_len[p][0],
                               and_(s.lpe[p][0][j] == get(s.b_epoch, k),
                                    s.lseq[p][0][j] == get(s.b_seq, k))))
    return and_(*out)


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_leader_expects_next(s, c):
    """The leader expects the producer's next batch: a batch in flight is never out of order.

    Per partition, for the current producer id: while a batch with key
    (e, q) is pending, the leader holds epoch e with last sequence q - 1
    (or q, once the batch is written: always so once a success answer for
    it is on the wire), or, for q = 0, no state of an epoch as new; while
    none is pending, the leader holds the producer's epoch
    and the sequence before its next one (or, at sequence 0, nothing of
    that epoch).  A failed batch bumps the epoch, so the batches of one
    epoch before the pending one were all acknowledged (KIP-98, KIP-360).
    """
    out = []
    for p in range(c.bounds.partitions):
        known = get(s.ps_known[p][0], s.session)
        held, last = get(s.ps_epoch[p][0], s.session), get(s.ps_seq[p][0], s.session)
        mine = [and_(_pending(s, k), s.b_pid[k] == s.session, batch_in(s, c, k, p))
                for k in range(c.bounds.batches)]
        for k, m in enumerate(mine):
            e, q = s.b_epoch[k], s.b_seq[k]
            written = and_(known, held == e, last == q)
            answered = any_(and_(s.rs_batch[p][i] == k + 1, or_(s.rs_code[p][i] == OK,
                                                                 s.rs_code[p][i] == DUPLICATE))
                            for i in range(c.bounds.channel))
            out.append(implies(m, and_(
                # it is the partition's latest batch: the producer's next key follows it
                or_(and_(e == s.epoch, s.next_seq[p] == q + 1), and_(e < s.epoch, s.next_seq[p] == 0)),
                *(not_(and_(j < s.nbatches, s.b_pid[j] == s.session, batch_in(s, c, j, p)))
                  for j in range(k + 1, c.bounds.batches)),
                implies(answered, written),
                ite(q == 0, or_(not_(known), held < e, written),
                    and_(known, held == e, or_(last + 1 == q, last == q))))))
        nxt = s.next_seq[p]
        out.append(implies(not_(any_(mine)),
                           ite(nxt == 0, or_(not_(known), held < s.epoch),
                               and_(known, held == s.epoch, last + 1 == nxt))))
    return and_(*out)


# -- capacities: no bound of the model ever blocks a step ---------------------
#
# The model is finite: a batch table, channels and logs of a few slots,
# sequence numbers, epochs, sessions and connection generations of a small
# range.  A proof must show that none of them ever blocks a step (else it is
# a proof about the truncated system, docs/smt.md).  These lemmas count what
# each capacity is sized by, in terms of the bounds; with them the only step
# k-induction cannot yet show is never blocked is a new batch when the batch
# table is full (docs/smt.md, "What is proved, what is not").

def _pending(s: Any, k: int) -> Any:
    """Batch ``k``'s future is not complete: queued for a (re)try or in flight."""
    return or_(s.b_state[k] == QUEUED, s.b_state[k] == INFLIGHT)


def _records_of(c: Any, p: int) -> list[int]:
    return [r for r in range(c.bounds.records) if partition_of(c, r) == p]


def _in_flight(s: Any, c: Any, p: int) -> Any:
    return count(and_(s.b_state[k] == INFLIGHT, batch_in(s, c, k, p)) for k in range(c.bounds.batches))


def _current(s: Any, c: Any, p: int) -> Any:
    """Requests and responses of the current connection to ``p`` on the wire."""
    C = c.bounds.channel
    return (count(and_(s.rq_batch[p][i] != 0, s.rq_conn[p][i] == s.conn[p]) for i in range(C))
            + count(s.rs_batch[p][i] != 0 for i in range(C)))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_cap_sessions(s, c):
    """A new producer session per spent fault; batches still pending are the current session's.

    A restart (one fault) starts a new PID and loses every pending batch,
    so a lost batch belongs to an earlier session.
    """
    B = c.bounds.batches
    return and_(s.session <= s.faults,
                all_(implies(_pending(s, k), s.b_pid[k] == s.session) for k in range(B)),
                all_(implies(s.b_state[k] == LOST, s.b_pid[k] < s.session) for k in range(B)),
                all_(implies(k < s.nbatches, s.b_pid[k] <= s.session) for k in range(B)))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_cap_records(s, c):
    """A batch carries a record already handed over; a record has one pending batch at most.

    The application sends a record again only once every earlier batch of
    it failed or was lost, so a record's earlier batches are settled, and a
    partition has as many pending batches as records with one pending (the
    count that bounds its requests in flight without a pigeonhole argument).
    """
    B, P = c.bounds.batches, c.bounds.partitions
    handed = all_(implies(s.b_rec[k] != 0, s.b_rec[k] <= s.handed) for k in range(B))
    earlier = all_(implies(and_(k < s.nbatches, s.b_rec[j] == s.b_rec[k]),
                           or_(s.b_state[j] == FAILED, s.b_state[j] == LOST))
                   for k in range(B) for j in range(k))
    one = all_(not_(and_(_pending(s, j), _pending(s, k), s.b_rec[j] == s.b_rec[k]))
               for k in range(B) for j in range(k))
    per_record = all_(
        count(and_(_pending(s, k), batch_in(s, c, k, p)) for k in range(B))
        == count(any_(and_(_pending(s, k), s.b_rec[k] == r + 1) for k in range(B))
                 for r in _records_of(c, p))
        for p in range(P))
    return and_(handed, earlier, one, per_record)


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_cap_sequence_and_epoch(s, c):
    """A sequence number per batch created; an epoch bump per batch of the session given up on.

    The next sequence number of a partition is at most the batches created
    (it restarts at 0 with every epoch); KIP-360 bumps the epoch once per
    give-up, and a given-up batch is failed for good.
    """
    B = c.bounds.batches
    return and_(all_(s.next_seq[p] <= s.nbatches for p in range(c.bounds.partitions)),
                s.epoch <= count(and_(s.b_state[k] == FAILED, s.b_pid[k] == s.session)
                                 for k in range(B)))


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_cap_messages(s, c):
    """The network holds what the producer's state accounts for.

    Per partition: channels are compact (occupied slots first); no message
    travels on a connection not yet opened; every response travels on the
    current connection (the leader answers only on an open one, and closing
    discards what is unread) and carries a code; the current connection
    carries at most one request or response per batch in flight; at most
    ``records`` older requests per spent fault (a premature timeout or a
    restart leaves at most one per pending batch behind); and at most two
    new connections per fault (a timeout is free only after a loss, which
    is a fault: the ``+1`` says a loss awaits its timeout).
    """
    C, R = c.bounds.channel, c.bounds.records
    out = []
    for p in range(c.bounds.partitions):
        stale = count(and_(s.rq_batch[p][i] != 0, s.rq_conn[p][i] != s.conn[p]) for i in range(C))
        waiting = ite(_in_flight(s, c, p) > _current(s, c, p), 1, 0)
        out += [all_(implies(s.rq_batch[p][i] == 0, s.rq_batch[p][i + 1] == 0) for i in range(C - 1)),
                all_(implies(s.rs_batch[p][i] == 0, s.rs_batch[p][i + 1] == 0) for i in range(C - 1)),
                all_(implies(s.rq_batch[p][i] != 0, s.rq_conn[p][i] <= s.conn[p]) for i in range(C)),
                all_(implies(s.rs_batch[p][i] != 0, and_(s.rs_conn[p][i] == s.conn[p],
                                                         s.rs_code[p][i] != 0)) for i in range(C)),
                _current(s, c, p) <= _in_flight(s, c, p),
                stale <= R * s.faults,
                s.conn[p] + waiting <= 2 * s.faults]
    return and_(*out)


def _current_epoch(s: Any, k: Any) -> Any:
    """Batch ``k`` (possibly symbolic) carries the producer's current PID and epoch."""
    return and_(get(s.b_pid, k) == s.session, get(s.b_epoch, k) == s.epoch)


def _undisturbed(s: Any, c: Any, p: int) -> Any:
    """Partition ``p`` looks as a fault-free run of the current epoch leaves it.

    Every batch of the current PID and epoch for ``p`` is acked, or in
    flight with exactly one message on the wire: its request on the current
    connection or an ``OK`` response; none waits for a retry.  The requests
    on the wire carry consecutive sequence numbers in channel order, ending
    at the producer's next one and starting at the one the leader expects
    (the last it appended in this epoch plus one, else 0).  From such a
    state only a fault, a restart or an expiry makes a batch of the epoch fail.
    """
    B, C = c.bounds.batches, c.bounds.channel
    current = [and_(k < s.nbatches, _current_epoch(s, k), batch_in(s, c, k, p)) for k in range(B)]
    rq_current = [and_(s.rq_batch[p][i] != 0, _current_epoch(s, s.rq_batch[p][i] - 1),
                       batch_in(s, c, s.rq_batch[p][i] - 1, p)) for i in range(C)]
    out = []
    for k in range(B):
        requests_k = count(s.rq_batch[p][i] == k + 1 for i in range(C))
        responses_k = count(s.rs_batch[p][i] == k + 1 for i in range(C))
        out.append(implies(current[k], and_(
            s.b_state[k] != QUEUED,
            requests_k + responses_k == ite(s.b_state[k] == INFLIGHT, 1, 0),
            all_(implies(s.rq_batch[p][i] == k + 1, s.rq_conn[p][i] == s.conn[p]) for i in range(C)),
            all_(implies(s.rs_batch[p][i] == k + 1, s.rs_code[p][i] == OK) for i in range(C)))))
    for i in range(C):
        later = count(rq_current[i + 1:])
        out.append(implies(rq_current[i],
                           get(s.b_seq, s.rq_batch[p][i] - 1) + later + 1 == s.next_seq[p]))
    known = get(s.ps_known[p][0], s.session)
    expect = ite(and_(known, get(s.ps_epoch[p][0], s.session) == s.epoch),
                 get(s.ps_seq[p][0], s.session) + 1, 0)
    out.append(count(rq_current) + expect == s.next_seq[p])
    return and_(*out)


@always(scope=_sequenced, claims=(ONE_IN_FLIGHT,))
def lemma_cap_batches(s, c):
    """Each spent fault or expiry makes at most one batch of each record fail or get lost.

    Charge each record its failed and lost batches, one more if a batch of
    it is pending under an epoch already bumped past (it may still be
    fenced), and one more while the current epoch is disturbed (a batch of
    it may still fail); the charge never exceeds the faults and expiries
    spent.  A fault-free step fails a batch only by giving up on a disturbed
    epoch (which bumps it, so the next epoch starts undisturbed) or by
    fencing a batch of an old epoch, and neither raises the charge.  Every
    batch slot taken holds one record, and a record has at most one batch
    that has not failed or been lost, so the batches created are at most
    ``records x (faults + expiries + 1)``; without expiry (the default)
    that is the batch table's size, ``records x (faults + 1)``.
    """
    B, R = c.bounds.batches, c.bounds.records
    allowance = s.faults + s.expired
    out = [s.expired <= c.bounds.expiries]
    made, slack = [], []
    for r in range(R):
        mine = [s.b_rec[k] == r + 1 for k in range(B)]
        bad = count(and_(m, or_(s.b_state[k] == FAILED, s.b_state[k] == LOST))
                    for k, m in enumerate(mine))
        alive = count(and_(m, s.b_state[k] != FAILED, s.b_state[k] != LOST, s.b_state[k] != UNUSED)
                      for k, m in enumerate(mine))
        old = any_(and_(m, _pending(s, k), s.b_epoch[k] != s.epoch) for k, m in enumerate(mine))
        charge = bad + ite(old, 1, 0)
        out += [alive <= 1, charge <= allowance]
        slack.append(charge < allowance)
        made.append(bad + alive)
    out.append(sum_(made) == s.nbatches)
    # the disturbance's charge in one conjunct, not one per record: the
    # proof of a step then asks once whether the step disturbs the epoch
    # (measured: the default no_duplicate_send proof 383 s -> 193 s)
    out.append(or_(all_(slack), all_(_undisturbed(s, c, p) for p in range(c.bounds.partitions))))
    return and_(*out)


CAPACITY = ("lemma_cap_sessions", "lemma_cap_records", "lemma_cap_sequence_and_epoch",
            "lemma_cap_messages", "lemma_cap_batches")


def stated_for(bounds: Any) -> str | None:
    """Why these lemmas are not stated for ``bounds``: they speak of a leader that never changes."""
    if bounds.unflushed:
        return ("the idempotent lemmas speak of a partition whose one replica leads for good; "
                "a lost unflushed suffix (unflushed > 0) changes its leader")
    return None


PROPERTIES = [lemma_batches_exist, lemma_keys_follow_send_order, lemma_leader_remembers_logged,
              lemma_one_key_per_batch, lemma_leader_expects_next, lemma_cap_sessions,
              lemma_cap_records, lemma_cap_sequence_and_epoch, lemma_cap_messages, lemma_cap_batches]

# target property -> the lemmas ``deliverycheck prove`` strengthens it with
# (those of the exactly-once proofs are in lemmas_txn.py)
STRENGTHENING: dict[str, tuple[str, ...]] = {
    # (the key order is what keeps in_order; no_duplicate_send needs it too,
    # for the batch-table capacity: a fault-free epoch sends in key order)
    "no_duplicate_send": ("lemma_batches_exist", "lemma_keys_follow_send_order",
                          "lemma_leader_remembers_logged", "lemma_one_key_per_batch",
                          "lemma_leader_expects_next", *CAPACITY),
    # (in_order also leans on no_duplicate_send: a log of distinct batches
    # never holds more entries than batches were created, so it has room)
    "in_order": ("no_duplicate_send", "lemma_batches_exist", "lemma_keys_follow_send_order",
                 "lemma_one_key_per_batch", "lemma_leader_expects_next", *CAPACITY),
    **lemmas_txn.STRENGTHENING,
}

# target property -> the configurations its lemmas speak of, for the message of a refusal
LEMMA_WORLD = {t: ("one request in flight (the idempotent-one-in-flight mode) and a partition "
                   "whose one replica leads for good") for t in ("no_duplicate_send", "in_order")}

# target property -> why its lemmas are not stated for given bounds (None: they are);
# ``deliverycheck prove`` refuses bounds its lemmas do not speak of
STATED_FOR = {**{t: stated_for for t in ("no_duplicate_send", "in_order")},
              **{t: lemmas_txn.stated_for for t in lemmas_txn.STRENGTHENING}}
