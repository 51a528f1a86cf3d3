"""The partition leader's transactional side: transactional writes, markers, the LSO (docs/protocol.md §7).

Each output partition keeps, per transactional producer, the epoch it has
seen, the sequence number it expects next, the first offset of the
producer's open transaction and the coordinator epoch of the last marker
(Kafka's ProducerStateManager).  From
those and the log follow the last stable offset (LSO) and the aborted
transactions (the aborted-transaction index), which decide what a
``read_committed`` fetch returns.

The output partitions are the replicated partition of model/partition.py:
each step here acts on the leader's log (``ent_*[o][r]``, ``log_len[o][r]``),
followers copy it, and a reader sees only what is below the leader's high
watermark.  With replicas the leader answers a write or a marker (both
``acks=all``: the transactional producer requires it, and WriteTxnMarkers
is appended with ``requiredAcks = -1``, KafkaApis.handleWriteTxnMarkersRequest)
once the high watermark has passed it (:func:`leader_answer_txn`).

Simplifications:

* One replica by default: the high watermark is the log end.
* With one replica, a marker for a producer with no open transaction on
  the partition changes no record's fate; Kafka appends it anyway, the
  model does not (it would only take log space).  With replicas it is
  appended, since a new leader rebuilds producer state from its log.
* The group's ``__consumer_offsets`` partition has one replica.
* A transactional write with a newer epoch while an older epoch's
  transaction is still open on the partition joins that open transaction
  (its first offset stays), which is what keeps the LSO honest.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from deliverycheck.core.ops import and_, implies, ite, ite_list, not_, or_, set_
from deliverycheck.core.scene import Event, Exchange
from deliverycheck.core.schema import Field, num
from deliverycheck.core.spec import Effect, action, value_at

from . import coordinator as tc
from . import partition as part
from . import txn_client
from . import txn_network as net
from .environment import has_room, pushed, removed
from .modes import transactional
from .telling import event_of, leader_index, listing, teller, written
from .txn_telling import (TC, fenced_now, inst, late, marker_head, marker_taken, out_lane, produce_detail,
                          produce_msgs, told_stage)
from .txn_state import (COMMIT, DATA, END_KINDS, ENTRY_KINDS, INSTANCES, OUTPUTS, ONGOING, OPEN, epoch_name,
                        WRITTEN, log_capacity, max_epoch, max_seq, tid, txn_ids, INSTANCE, OUTPUT, SLOT,
                        TXN_IDS)

# ``pend`` for a marker: the coordinator waits for the WriteTxnMarkers answer
MARKER_ANSWER = INSTANCES + 1


# -- the output partitions' state ------------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The output partitions' logs (every replica's) and the producer state each partition keeps."""
    R, T, E, L, F = c.bounds.records, txn_ids(c), max_epoch(c), log_capacity(c), max(1, c.bounds.faults)
    O, B = OUTPUTS, c.variant.replicas
    return [
        num("ent_kind", 3, "kind of each log entry", shape=(O, B, L), labels=ENTRY_KINDS),
        num("ent_rec", R, "input record an output record derives from, plus one", shape=(O, B, L)),
        num("ent_pid", T - 1 or 1, "producer (transactional id) of each entry", shape=(O, B, L)),
        num("ent_epoch", E, "producer epoch of each entry", shape=(O, B, L)),
        num("log_len", L, "log end offset of each replica of each output partition", shape=(O, B)),
        num("pst_epoch", E, "producer epoch each partition has seen per producer (0: none yet; epochs start at 1)",
            shape=(O + 1, T)),
        num("pst_first", L, "first offset of the producer's open transaction, plus one (0: none)",
            shape=(O + 1, T)),
        num("pst_cepoch", F, "coordinator epoch of the last marker per producer",
            shape=(O + 1, T)),
        num("pst_seq", max_seq(c), "sequence number each output partition expects next per producer "
            "at the epoch it has seen (the last written plus one; 0 when none is written at it)",
            shape=(O, T)),
    ] + ([num("ent_seq", max_seq(c), "sequence number of each data record (a new leader rebuilds "
              "producer state from it)", shape=(O, B, L))] if part.replicated(c) else [])


# -- the leader's log -------------------------------------------------------------

def col(s: Any, c: Any, name: str, o: int) -> list[Any]:
    """Column ``name`` (``ent_kind``, ``ent_rec``, ...) of output ``o``'s leader log, per offset."""
    return part.leader_column(s, c, name, o)


def end(s: Any, c: Any, o: int) -> Any:
    """The log end offset of output ``o``'s leader."""
    return part.leader_end(s, c, o)


# -- what a fetch returns (the downstream reader's view) ---------------------------


def fate(s: Any, c: Any, o: int, j: int) -> Any:
    """How the transaction of log entry ``j`` of output ``o`` ended: COMMIT, ABORT or OPEN.

    The first control record of the same producer after the entry decides;
    none yet means the transaction is still open.
    """
    after = s.derived(("next_marker", o), lambda: _next_markers(s, c, o))
    out: Any = after[0][j]
    for pid in range(1, len(after)):
        out = ite(col(s, c, "ent_pid", o)[j] == pid, after[pid][j], out)
    return out


def _next_markers(s: Any, c: Any, o: int) -> list[list[Any]]:
    """Per producer id and log position: the kind of that producer's first marker after it (OPEN if none).

    Built from the log end backwards, each position from the next one, so
    the whole table is linear in the log's length.
    """
    table = []
    kind, pids, n = col(s, c, "ent_kind", o), col(s, c, "ent_pid", o), end(s, c, o)
    for pid in range(max(txn_ids(c), 2)):  # every value the ent_pid field can hold
        row: list[Any] = [OPEN] * log_capacity(c)
        nxt: Any = OPEN
        for m in reversed(range(log_capacity(c))):
            row[m] = nxt
            marker = and_(m < n, kind[m] != DATA, kind[m] != 0, pids[m] == pid)
            nxt = ite(marker, kind[m], nxt)
        table.append(row)
    return table


def last_stable_offset(s: Any, c: Any, o: int) -> Any:
    """The LSO of output ``o``: the first offset of the oldest open transaction, else the log end."""
    lso = end(s, c, o)
    for t in range(txn_ids(c)):
        first = s.pst_first[o][t]
        lso = ite(and_(first != 0, first - 1 < lso), first - 1, lso)
    return lso


def readable(s: Any, c: Any) -> Any:
    """Every output partition has a leader, so a reader can fetch from both (while one is
    offline a reader waits on it, and what it has been returned from it is the last leader's)."""
    return and_(*(part.online(s, c, o) for o in OUTPUT(c)))


def is_data(s: Any, c: Any, o: int, j: int) -> Any:
    """Entry ``j`` of output ``o``'s leader log is a written data record (not a marker, not free)."""
    return and_(j < end(s, c, o), col(s, c, "ent_kind", o)[j] == DATA)


def committed(s: Any, c: Any, o: int, j: int) -> Any:
    """Entry ``j`` of output ``o`` is a record of a committed transaction."""
    return and_(is_data(s, c, o, j), fate(s, c, o, j) == COMMIT)


def fetched(s: Any, c: Any, o: int, j: int) -> Any:
    """A downstream consumer with the mode's ``isolation.level`` is returned entry ``j`` of ``o``.

    ``read_committed``: below the LSO, and not in an aborted transaction
    (the aborted-transaction index); ``read_uncommitted``: everything below
    the high watermark, open and aborted transactions included.  Control
    records are never returned.  A reader that keeps polling is returned
    exactly these records from the current leader, so the model computes
    what it is returned instead of stepping it.  (A record returned before
    a failover and missing from the new leader is what the replication
    promises speak of; here the reader's view is the current leader's.)
    """
    visible = j < part.leader_hw(s, c, o) if part.replicated(c) else True
    if c.mode.isolation == "read_uncommitted":
        return and_(is_data(s, c, o, j), visible)
    return and_(committed(s, c, o, j), j < last_stable_offset(s, c, o), visible)


# -- the steps ---------------------------------------------------------------------

def produce_verdict(s: Any, c: Any, o: int, t: int, epoch: Any) -> tuple[Any, Any, Any, dict]:
    """The leader's checks on a transactional write: ``(ok, invalid, fenced, coordinator updates)``.

    1. An epoch older than the one the partition has seen:
       ``INVALID_PRODUCER_EPOCH`` (fenced, fatal for the client).
    2. The first write of a transaction (no open transaction for this
       producer here, or a new epoch) is verified with the TC when
       verification is on (KIP-890 part 1): a stale epoch is fenced; the
       partition must be in the producer's Ongoing transaction, else
       ``INVALID_TXN_STATE`` (abortable).  Under TV2 the leader adds the
       partition to the transaction itself (KIP-890 part 2), which the TC
       refuses for a stale epoch (fenced).  While the TC has a transition
       in flight the write waits.
    3. Otherwise the write is appended.
    """
    seen = s.pst_epoch[o][t]
    stale = and_(seen != 0, epoch < seen)
    first = or_(s.pst_first[o][t] == 0, epoch != seen)
    if c.variant.tv2:
        added, refused, upd = tc.add_partitions(s, c, t, [o], epoch, 0)
        fenced = or_(stale, and_(first, refused))
        ok = and_(not_(fenced), or_(not_(first), added))
        return ok, False, fenced, {k: ite(first, v, value_at(s, k)) for k, v in upd.items()}
    if c.variant.verification:
        fenced = or_(stale, and_(first, s.tc_epoch[t] != epoch))
        in_txn = and_(s.tc_state[t] == ONGOING, s.tc_parts[t][o])
        ok = and_(not_(fenced), or_(not_(first), in_txn))
        return ok, and_(not_(fenced), not_(ok)), fenced, {}
    return not_(stale), False, stale, {}


def sequence_was_ok(b: dict, c: Any, o: int, t: int, epoch: int, seq: int) -> bool:
    """:func:`sequence_ok` read from a story's before-state ``b`` (a story explains a refusal by
    the rule the step applied)."""
    return bool(sequence_ok(SimpleNamespace(**b), c, o, t, epoch, seq))


def sequence_ok(s: Any, c: Any, o: int, t: int, epoch: Any, seq: Any) -> Any:
    """Output ``o`` takes sequence number ``seq`` from producer ``t`` at ``epoch`` (not older than
    the one it has seen: that is fenced first).

    ``ProducerAppendInfo.checkSequence``: at the epoch the partition has seen,
    the sequence must be the next one (the last written plus one; 0 when none
    is written at that epoch, as after a marker that moved the epoch, which
    clears the producer's batch metadata); a newer epoch starts at 0; a
    producer the partition does not know may start anywhere.  Anything else is
    ``OUT_OF_ORDER_SEQUENCE_NUMBER``.  A duplicate (a sequence already
    written, answered with the first write's offset) needs two copies of one
    request, which the model does not send (docs/model.md).  Since
    KAFKA-18202 a TV2 partition also refuses a non-zero sequence from a
    producer it does not know; no TV2 request of the model carries one (each
    transaction has a new epoch and writes a partition once), so the rule is
    left out.
    """
    seen = s.pst_epoch[o][t]
    return or_(seen == 0, ite(epoch == seen, seq == s.pst_seq[o][t], seq == 0))


def sequence_unknown(s: Any, c: Any, o: int, t: int, epoch: Any, seq: Any) -> Any:
    """Output ``o`` answers ``UNKNOWN_PRODUCER_ID`` to sequence ``seq`` (brokers 2.1 to 2.4).

    KAFKA-7298: a non-zero sequence from a producer the partition does not
    know, or at the epoch it has seen when it knows no sequence at that
    epoch (only a marker of the producer is left), is answered
    ``UNKNOWN_PRODUCER_ID`` so that the client can start the partition's
    sequences again from 0.  KIP-360 (2.5) replaced it by
    :func:`sequence_ok`'s rules (``Variant.seq_after_marker``).
    """
    if c.variant.seq_after_marker:
        return False
    seen = s.pst_epoch[o][t]
    return and_(seq != 0, or_(seen == 0, and_(epoch == seen, s.pst_seq[o][t] == 0)))


@action(scope=transactional, o=OUTPUT, i=INSTANCE, k=SLOT)
def broker_append_txn(s, c, o, i, k):
    """The leader of output ``o`` handles the produce request in slot ``k`` from instance ``i``.

    It runs the transactional checks (:func:`produce_verdict`); an accepted
    record is appended at the log end and, if the producer had no open
    transaction here, opens one at that offset (which holds the LSO).  The
    answer reaches the instance only if it still waits for it; a request
    its sender gave up on is a *late* request.
    """
    t = tid(c, i)
    rows = net.produce_rows(s, o, i)
    rec, epoch, live, tag, seq = (row[k] for row in rows)
    checked, invalid, fenced, upd = produce_verdict(s, c, o, t, epoch)
    unknown = and_(checked, sequence_unknown(s, c, o, t, epoch, seq))
    in_seq = and_(sequence_ok(s, c, o, t, epoch, seq), not_(unknown))
    ok = and_(checked, in_seq)
    out_of_order = and_(checked, not_(in_seq), not_(unknown))
    # the client resends a live request refused as out of order (txn_client.gives_up_resent_batches):
    # it stays in the network, marked as resent; a late one is dropped
    resent = and_(out_of_order, live)
    # UNKNOWN_PRODUCER_ID: the client (2.4's canRetry: nothing acknowledged on the partition is
    # above its log start) starts the partition's sequences at 0 again and resends the batch
    # with sequence 0 (its only one there)
    restart = and_(unknown, live)
    n = end(s, c, o)
    opens = s.pst_first[o][t] == 0
    # acks=all with followers: the acknowledgement waits for the high watermark
    waits = part.replicated(c)
    entry = {"ent_kind": DATA, "ent_rec": rec, "ent_pid": t, "ent_epoch": epoch,
             # history: which attempt wrote it, and whether a newer instance already held the id
             "ent_tag": tag, "ent_stale": tag <= s.g_init_attempt[t]}
    if part.replicated(c):
        entry["ent_seq"] = seq
    then: dict[Any, Any] = {
        **upd,
        **net.produce_update(o, i, [ite_list(restart, again, ite_list(resent, row, gone))
                                    for row, again, gone in zip(rows, net.with_seq(rows, k, 0),
                                                                removed(rows, k))]),
        **_append(s, c, o, entry, ok, and_(live, ok) if waits else False, i + 1),
        ("pst_epoch", o, t): ite(ok, epoch, s.pst_epoch[o][t]),
        ("pst_seq", o, t): ite(ok, seq + 1, s.pst_seq[o][t]),
        ("pst_first", o, t): ite(and_(ok, opens), n + 1, s.pst_first[o][t]),
        "g_late": or_(s.g_late, not_(live)),
    }
    then.update(txn_client.produce_answered(s, c, i, o, and_(live, ok, not waits), and_(live, invalid),
                                        and_(live, fenced)))
    then[("ps_resent", i, o)] = or_(s.ps_resent[i][o], resent)
    if not c.variant.seq_after_marker:
        then[("ps_seq", i, o)] = ite(restart, 1, s.ps_seq[i][o])
    if c.variant.tv2:
        then[("tc_tag", t)] = ite(and_(ok, s.tc_state[t] != ONGOING), tag, s.tc_tag[t])
    return Effect(when=and_(rec != 0, part.online(s, c, o),
                            or_(ok, invalid, fenced, unknown, and_(out_of_order, not_(live)),
                                and_(resent, not_(s.ps_resent[i][o])))),
                  fits=implies(ok, n < log_capacity(c)), then=then)


def _at(row: list[Any], j: Any, v: Any, cond: Any) -> list[Any]:
    """``row`` with position ``j`` set to ``v`` when ``cond`` holds."""
    return ite_list(cond, set_(row, j, v), row)


def _append(s: Any, c: Any, o: int, entry: dict[str, Any], cond: Any, wait: Any,
            waiter: int) -> dict[Any, Any]:
    """The updates that append ``entry`` (its columns' values) to output ``o``'s leader log if
    ``cond``; with followers, stamped with the leader epoch, the high watermark moved
    (Partition.appendRecordsToLeader), and if ``wait`` the answer owed to ``waiter`` recorded."""
    if not part.replicated(c):
        n = s.log_len[o][0]
        out = {(name, o, 0): _at(getattr(s, name)[o][0], n, v, cond) for name, v in entry.items()}
        out[("log_len", o, 0)] = ite(cond, n + 1, n)
        return out
    out = {}
    entry = {**entry, "lep": s.lepoch[o], "ent_cepoch": entry.get("ent_cepoch", 0),
             "ent_seq": entry.get("ent_seq", 0)}
    for r in part.REPLICAS(c):
        here = and_(cond, part.leads(s, o, r))
        n = s.log_len[o][r]
        out.update({(name, o, r): _at(getattr(s, name)[o][r], n, v, here) for name, v in entry.items()})
        leo = ite(here, n + 1, n)
        out[("log_len", o, r)] = leo
        out[("hw", o, r)] = ite(here, part.advanced_hw(s, c, o, r, leo, s.seen[o], s.isr[o]),
                                s.hw[o][r])
    n = end(s, c, o)
    out[("pend", o)] = _at(s.pend[o], n, waiter, and_(cond, wait))
    return out


def marker_epoch_ok(s: Any, c: Any, p: int, t: int, epoch: Any, open_: Any) -> Any:
    """Partition ``p`` accepts a marker of producer ``t`` with producer epoch ``epoch``.

    ``ProducerAppendInfo.appendEndTxnMarker`` / ``checkProducerEpoch``: the
    epoch must not be older than the one the partition has seen.  Under TV2
    every marker carries the epoch EndTxn bumped, so since KIP-1228 (4.2,
    WriteTxnMarkers v2 carries the transaction version) the partition asks
    for a newer one: a late copy of the previous transaction's marker, which
    has the epoch the next transaction writes with, is refused instead of
    closing that transaction.  KAFKA-19999 then let an equal epoch through
    when no transaction is open, as the retry of a marker already written
    (after a lost answer or a coordinator failover); without it such a retry
    is refused for ever.  TV1 and TV2 before KIP-1228: ``>=``.
    """
    seen = s.pst_epoch[p][t]
    if not (c.variant.tv2 and c.variant.strict_markers):
        return epoch >= seen
    retry = and_(epoch == seen, not_(open_)) if c.variant.marker_retry_ok else False
    return or_(epoch > seen, retry)


def marker_epoch_was_ok(b: dict, c: Any, p: int, k: int, t: int) -> bool:
    """:func:`marker_epoch_ok` for the marker in slot ``k``, read from a story's before-state ``b``
    (so a story explains a refusal by the rule the step applied, not by a copy of it)."""
    return bool(marker_epoch_ok(SimpleNamespace(**b), c, p, t, b["mk_epoch"][p][k],
                                b["pst_first"][p][t] != 0))


def marker_verdict(s: Any, c: Any, p: int, k: int, t: int,
                   accepted_answers_now: bool = True) -> tuple[Any, Any, dict]:
    """A partition's checks on the WriteTxnMarkers request in slot ``k``: ``(accepted, opens, updates)``.

    The marker is rejected if its producer epoch does not pass
    :func:`marker_epoch_ok`, or its coordinator epoch is older than the last
    marker's (a zombie coordinator).  Accepted, it closes the producer's
    open transaction.  The answer goes back to the coordinator, which counts
    an acceptance if it is the coordinator that sent it
    (:func:`coordinator.counts_marker`): at once, unless
    ``accepted_answers_now`` is false (a replicated leader answers once the
    marker is below the high watermark, :func:`leader_answer_txn`).  A
    rejection is not counted: the coordinator gives the transaction's
    markers up, and the transaction stays prepared.
    """
    kind, epoch, cepoch = s.mk_kind[p][k], s.mk_epoch[p][k], s.mk_cepoch[p][k]
    open_ = s.pst_first[p][t] != 0
    accepted = and_(marker_epoch_ok(s, c, p, t, epoch, open_), cepoch >= s.pst_cepoch[p][t])
    # a refusal (INVALID_PRODUCER_EPOCH, COORDINATOR_FENCED) makes the coordinator stop sending
    # this transaction's markers, and it never completes it (TransactionMarkerRequestCompletion-
    # Handler: removeMarkersForTxn, "this txn can now be ignored")
    ours = and_(accepted, tc.counts_marker(s, t, kind, cepoch)) if accepted_answers_now else False
    then: dict[Any, Any] = net.marker_update(p, removed(net.marker_rows(s, p), k))
    then.update({
        ("pst_first", p, t): ite(accepted, 0, s.pst_first[p][t]),
        ("pst_epoch", p, t): ite(accepted, epoch, s.pst_epoch[p][t]),
        ("pst_cepoch", p, t): ite(accepted, cepoch, s.pst_cepoch[p][t]),
        ("tc_marked", t, p): or_(s.tc_marked[t][p], ours),
    })
    if p < OUTPUTS:
        # a marker that moves the producer's epoch clears its batch metadata: the next write at
        # that epoch must start at sequence 0 (ProducerStateEntry.maybeUpdateProducerEpoch)
        then[("pst_seq", p, t)] = ite(and_(accepted, epoch != s.pst_epoch[p][t]), 0, s.pst_seq[p][t])
    return accepted, and_(accepted, open_), then


@action(scope=transactional, o=OUTPUT, k=SLOT, t=TXN_IDS)
def broker_write_marker(s, c, o, k, t):
    """The leader of output ``o`` handles a WriteTxnMarkers request (slot ``k``) for producer ``t``.

    An accepted COMMIT or ABORT marker is appended as a control record and
    ends the producer's open transaction: its records become committed (or
    aborted, entering the aborted-transaction index) and the LSO moves on.
    """
    accepted, closes, then = marker_verdict(s, c, o, k, t,
                                            accepted_answers_now=not part.replicated(c))
    n = end(s, c, o)
    kind = s.mk_kind[o][k]
    entry = {"ent_kind": kind, "ent_rec": 0, "ent_pid": t, "ent_epoch": s.mk_epoch[o][k],
             "ent_tag": 0, "ent_stale": False}
    if part.replicated(c):
        # every accepted marker is appended, as in Kafka (a new leader rebuilds producer state
        # from its log), and answered once below the high watermark (leader_answer_txn)
        closes = accepted
        entry["ent_cepoch"] = s.mk_cepoch[o][k]
    then.update(_append(s, c, o, entry, closes, True, MARKER_ANSWER))
    return Effect(when=and_(kind != 0, s.mk_pid[o][k] == t, part.online(s, c, o)),
                  fits=implies(closes, n < log_capacity(c)), then=then)


@action(scope=part.replicated_txn, o=OUTPUT, j=part.OFFSETS)
def leader_answer_txn(s, c, o, j):
    """The leader of output ``o`` answers the write or the marker at offset ``j``.

    DelayedProduce completes once the high watermark has passed the entry
    (both are ``acks=all``): the instance that wrote a record learns it is
    written; the coordinator counts a marker's partition as done if the
    marker is from its current prepared transaction (its coordinator epoch
    is current).  An instance that stopped waiting (a timeout, an abort)
    is owed no answer any more (:func:`processor.give_up_requests`).
    """
    who = s.pend[o][j]
    kind, pid, cepoch = (col(s, c, name, o)[j] for name in ("ent_kind", "ent_pid", "ent_cepoch"))
    then: dict[Any, Any] = {("pend", o, j): 0}
    for i in range(INSTANCES):
        then.update(txn_client.produce_answered(s, c, i, o, who == i + 1, False, False))
    for t in range(txn_ids(c)):
        ours = and_(who == MARKER_ANSWER, pid == t, tc.counts_marker(s, t, kind, cepoch))
        then[("tc_marked", t, o)] = or_(s.tc_marked[t][o], ours)
    return Effect(when=and_(who != 0, j < part.leader_hw(s, c, o)), then=then)


def leader_lost(s: Any, c: Any, o: int, led: Any) -> tuple[dict[Any, Any], Any]:
    """What the crash of output ``o``'s leader (when ``led``) does to the exactly-once world:
    ``(updates, fits)``.

    Its connections break: produce requests on the way to it are lost (the
    instance's request times out), and so are the answers it owed.  The
    coordinator resends a marker whose answer it did not get to the new
    leader (TransactionMarkerChannelManager retries until the marker is
    written), so a marker still waiting for the high watermark goes back
    into the network, unchanged.
    """
    then: dict[Any, Any] = {}
    for i in range(INSTANCES):
        rows = net.produce_rows(s, o, i)
        then.update(net.produce_update(o, i, [ite_list(led, [0] * len(row), row) for row in rows]))
    rows = net.marker_rows(s, o)
    kind, pid, epoch, cepoch = (col(s, c, name, o) for name in
                                ("ent_kind", "ent_pid", "ent_epoch", "ent_cepoch"))
    fits: list[Any] = []
    for j in part.OFFSETS(c):
        back = and_(led, s.pend[o][j] == MARKER_ANSWER)
        fits.append(implies(back, has_room(rows)))
        rows = [ite_list(back, new, old) for new, old in
                zip(pushed(rows, [kind[j], pid[j], epoch[j], cepoch[j]]), rows)]
    then.update(net.marker_update(o, rows))
    then[("pend", o)] = [ite(led, 0, x) for x in s.pend[o]]
    return then, and_(*fits)


def producer_state_of(s: Any, c: Any, o: int, r: int) -> dict[Any, Any]:
    """Output ``o``'s producer state rebuilt from replica ``r``'s log, for ``r`` as new leader.

    A follower keeps producer state as it appends (UnifiedLog.appendAsFollower),
    which is a function of its log: per producer, the epoch of its last
    entry, the sequence after its last record at that epoch, the first
    offset of its data after its last marker (the open transaction, which
    holds the LSO), and the coordinator epoch of its last marker
    (ProducerStateManager).
    """
    then: dict[Any, Any] = {}
    n = s.log_len[o][r]
    for t in range(txn_ids(c)):
        epoch, seq, first, cepoch = 0, 0, 0, 0
        for j in part.OFFSETS(c):
            mine = and_(j < n, s.ent_pid[o][r][j] == t, s.ent_kind[o][r][j] != 0)
            data = s.ent_kind[o][r][j] == DATA
            e = s.ent_epoch[o][r][j]
            seq = ite(mine, ite(data, s.ent_seq[o][r][j] + 1, ite(e != epoch, 0, seq)), seq)
            epoch = ite(mine, e, epoch)
            first = ite(mine, ite(data, ite(first == 0, j + 1, first), 0), first)
            cepoch = ite(and_(mine, not_(data)), s.ent_cepoch[o][r][j], cepoch)
        then.update({("pst_epoch", o, t): epoch, ("pst_seq", o, t): seq, ("pst_first", o, t): first,
                     ("pst_cepoch", o, t): cepoch})
    return then


ACTIONS = [broker_append_txn, broker_write_marker, leader_answer_txn]


part.TXN_HOOKS.update(leader_lost=leader_lost, new_leader=producer_state_of)


# -- how the partition leaders' transactional steps are told (stories) and drawn (sequence diagrams) ------------------


@teller
def tell_leader_answer_txn(a, b, x, c):
    o, j = a["o"], a["j"]
    r = leader_index(b, c, o)
    who = b["pend"][o][j]
    head = (f"offset {j} of o{o} is below the high watermark {b['hw'][o][r]}: broker {r}, its "
            f"leader, answers")
    if who > len(b["ps_stage"]):
        marked = [t for t in range(len(x["tc_marked"])) if x["tc_marked"][t][o] != b["tc_marked"][t][o]]
        counted = "; the TC counts o{o} as marked".format(o=o) if marked else \
            " (the TC no longer waits for it)"
        return f"{head} the {END_KINDS[b['ent_kind'][o][r][j]].upper()} marker{counted}"
    i = who - 1
    told = (f"; {inst(i)} gets the acknowledgement" if x["ps_out"][i][o] != b["ps_out"][i][o]
            else f" ({inst(i)} no longer waits for it)")
    return f"{head} {inst(i)}'s write{told}"


@teller
def tell_broker_append_txn(a, b, x, c):
    o, i, k = a["o"], a["i"], a["k"]
    rec, epoch, live, tag, seq = (row[k] for row in produce_msgs(b, o, i))
    what = f"r{rec}'s output from {inst(i)} ({produce_detail(c, epoch, seq, tag)})"
    told = ""
    if x["ps_out"][i][o] != b["ps_out"][i][o]:
        told = f"; {inst(i)} gets the acknowledgement" \
            if x["ps_out"][i][o] == WRITTEN else ""
    told = told or told_stage(b, x, i)
    at = written(b, x, "ent_kind", "log_len", o, leader_index(b, c, o))
    if at:
        return f"o{o} appends {what} at offset {listing([str(j) for j in at])}{late(live)}{told}"
    t = tid(c, i)
    why = ""
    if x["rq_rec"][o][i][k] and x["rq_seq"][o][i][k] != seq:   # UNKNOWN_PRODUCER_ID: restarted
        return (f"o{o} answers UNKNOWN_PRODUCER_ID to {what}: it knows no sequence of the producer "
                f"at {epoch_name(c, epoch)}; {inst(i)} starts o{o}'s sequences at 0 again and "
                f"will send it as seq {x['rq_seq'][o][i][k]}")
    if not sequence_was_ok(b, c, o, t, epoch, seq):
        expected = b["pst_seq"][o][t] if epoch == b["pst_epoch"][o][t] else 0
        why = (": a duplicate of a record it has, not written again" if seq < expected else
               f": out of order, o{o} expects seq {expected} from {epoch_name(c, epoch)}")
    elif x["rq_rec"][o][i][k] == 0 and not live and b["pst_epoch"][o][t] and \
            bool(sequence_unknown(SimpleNamespace(**b), c, o, t, epoch, seq)):
        why = f": UNKNOWN_PRODUCER_ID, it knows no sequence of the producer at {epoch_name(c, epoch)}"
    if x["rq_rec"][o][i][k]:   # still in the network: the client resends it
        return f"o{o} refuses {what}{why}; {inst(i)} will send it again"
    return f"o{o} rejects {what}{why}{late(live)}{told}"


@teller
def tell_broker_write_marker(a, b, x, c):
    o, t = a["o"], a["t"]
    head, took = marker_head(a, b, x, c, o, f"o{o}", marker_epoch_was_ok(b, c, o, a["k"], a["t"]))
    at = written(b, x, "ent_kind", "log_len", o, leader_index(b, c, o))
    if at:
        ends = ", the transaction ends there" if x["pst_first"][o][t] == 0 != b["pst_first"][o][t] else ""
        return f"{head}: written at offset {listing([str(j) for j in at])}{ends}"
    if took:
        return f"{head}: accepted, no open transaction there, nothing written"
    return head


@event_of
def ev_broker_append_txn(a, b, x, c):
    o, i, k = a["o"], a["i"], a["k"]
    at = written(b, x, "ent_kind", "log_len", o, leader_index(b, c, o))
    if at:
        label = f"append @{','.join(map(str, at))}"
    else:
        label = "reject: FENCED" if fenced_now(b, x, i) else "reject"
        if x["rq_rec"][o][i][k]:
            label = ("UNKNOWN_PRODUCER_ID: resend from seq 0"
                     if x["rq_seq"][o][i][k] != b["rq_seq"][o][i][k] else "OUT_OF_ORDER: resend")
        elif not sequence_was_ok(b, c, o, tid(c, i), b["rq_epoch"][o][i][k], b["rq_seq"][o][i][k]):
            label = "reject: OUT_OF_ORDER"
    late = not b["rq_live"][o][i][k]
    # a late request's sender no longer waits: no answer is drawn back to it
    # with replicas the answer waits for the high watermark (leader_answer_txn)
    answer = () if late or c.variant.replicated else (Exchange(inst(i)),)
    return Event(out_lane(c, o, b), label, exchanges=answer, late=late)


@event_of
def ev_broker_write_marker(a, b, x, c):
    o, t = a["o"], a["t"]
    at = written(b, x, "ent_kind", "log_len", o, leader_index(b, c, o))
    if at:
        return Event(out_lane(c, o, b), f"write marker @{','.join(map(str, at))}")
    took = marker_taken(b, x, o, t)
    # nothing written: the partition either took it with no transaction open, or changed nothing
    return Event(out_lane(c, o, b), "marker: nothing open" if took else "marker: no change")


@event_of
def ev_leader_answer_txn(a, b, x, c):
    o, j = a["o"], a["j"]
    who = b["pend"][o][j]
    to = inst(who - 1) if who <= INSTANCES else TC
    return Event(out_lane(c, o, b), f"@{j} committed: answer", exchanges=(Exchange(to),))
