"""The partition leader's transactional side: transactional writes, markers, the LSO (docs/protocol.md §7).

Each output partition keeps, per transactional producer, the epoch it has
seen, the first offset of the producer's open transaction and the
coordinator epoch of the last marker (Kafka's ProducerStateManager).  From
those and the log follow the last stable offset (LSO) and the aborted
transactions (the aborted-transaction index), which decide what a
``read_committed`` fetch returns.

Simplifications:

* One replica per partition: the high watermark is the log end.
* A marker for a producer with no open transaction on the partition
  changes no record's fate; Kafka appends it anyway, the model does not
  (it would only take log space).
* A transactional write with a newer epoch while an older epoch's
  transaction is still open on the partition joins that open transaction
  (its first offset stays), which is what keeps the LSO honest.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, implies, ite, ite_list, not_, or_, set_
from deliverycheck.core.spec import Effect, action, value_at

from . import coordinator as tc
from . import processor as client
from .environment import removed
from .modes import transactional
from .txn_state import (COMMIT, DATA, ONGOING, OPEN, PREP_ABORT, PREP_COMMIT,
                        log_capacity, tid, txn_ids, INSTANCE, OUTPUT, SLOT, TXN_IDS)

# -- what a fetch returns (the downstream reader's view) ---------------------------


def fate(s: Any, c: Any, o: int, j: int) -> Any:
    """How the transaction of log entry ``j`` of output ``o`` ended: COMMIT, ABORT or OPEN.

    The first control record of the same producer after the entry decides;
    none yet means the transaction is still open.
    """
    after = s.derived(("next_marker", o), lambda: _next_markers(s, c, o))
    out: Any = after[0][j]
    for pid in range(1, len(after)):
        out = ite(s.ent_pid[o][j] == pid, after[pid][j], out)
    return out


def _next_markers(s: Any, c: Any, o: int) -> list[list[Any]]:
    """Per producer id and log position: the kind of that producer's first marker after it (OPEN if none).

    Built from the log end backwards, each position from the next one, so
    the whole table is linear in the log's length.
    """
    table = []
    for pid in range(max(txn_ids(c), 2)):  # every value the ent_pid field can hold
        row: list[Any] = [OPEN] * log_capacity(c)
        nxt: Any = OPEN
        for m in reversed(range(log_capacity(c))):
            row[m] = nxt
            marker = and_(m < s.log_len[o], s.ent_kind[o][m] != DATA, s.ent_kind[o][m] != 0,
                          s.ent_pid[o][m] == pid)
            nxt = ite(marker, s.ent_kind[o][m], nxt)
        table.append(row)
    return table


def last_stable_offset(s: Any, c: Any, o: int) -> Any:
    """The LSO of output ``o``: the first offset of the oldest open transaction, else the log end."""
    lso = s.log_len[o]
    for t in range(txn_ids(c)):
        first = s.pst_first[o][t]
        lso = ite(and_(first != 0, first - 1 < lso), first - 1, lso)
    return lso


def is_data(s: Any, o: int, j: int) -> Any:
    """Entry ``j`` of output ``o`` is a written data record (not a marker, not free)."""
    return and_(j < s.log_len[o], s.ent_kind[o][j] == DATA)


def committed(s: Any, c: Any, o: int, j: int) -> Any:
    """Entry ``j`` of output ``o`` is a record of a committed transaction."""
    return and_(is_data(s, o, j), fate(s, c, o, j) == COMMIT)


def fetched(s: Any, c: Any, o: int, j: int) -> Any:
    """A downstream consumer with the mode's ``isolation.level`` is returned entry ``j`` of ``o``.

    ``read_committed``: below the LSO, and not in an aborted transaction
    (the aborted-transaction index); ``read_uncommitted``: everything up to
    the high watermark, open and aborted transactions included.  Control
    records are never returned.  A reader that keeps polling is returned
    exactly these records, so the model computes what it has been returned
    instead of stepping it.
    """
    if c.mode.isolation == "read_uncommitted":
        return is_data(s, o, j)
    return and_(committed(s, c, o, j), j < last_stable_offset(s, c, o))


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
    rows = client.produce_rows(s, o, i)
    rec, epoch, live, tag = (row[k] for row in rows)
    ok, invalid, fenced, upd = produce_verdict(s, c, o, t, epoch)
    end = s.log_len[o]
    opens = s.pst_first[o][t] == 0
    then: dict[Any, Any] = {
        **upd,
        **client.produce_update(o, i, removed(rows, k)),
        ("ent_kind", o): _at(s.ent_kind[o], end, DATA, ok),
        ("ent_rec", o): _at(s.ent_rec[o], end, rec, ok),
        ("ent_pid", o): _at(s.ent_pid[o], end, t, ok),
        ("ent_epoch", o): _at(s.ent_epoch[o], end, epoch, ok),
        ("log_len", o): ite(ok, end + 1, end),
        ("pst_epoch", o, t): ite(ok, epoch, s.pst_epoch[o][t]),
        ("pst_first", o, t): ite(and_(ok, opens), end + 1, s.pst_first[o][t]),
        # history: which attempt wrote it, and whether a newer instance already held the id
        ("ent_tag", o): _at(s.ent_tag[o], end, tag, ok),
        ("ent_stale", o): _at(s.ent_stale[o], end, epoch < s.g_fence[t], ok),
        "g_late": or_(s.g_late, not_(live)),
    }
    then.update(client.produce_answered(s, c, i, o, and_(live, ok), and_(live, invalid),
                                        and_(live, fenced)))
    if c.variant.tv2:
        then[("tc_tag", t)] = ite(and_(ok, s.tc_state[t] != ONGOING), tag, s.tc_tag[t])
    return Effect(when=and_(rec != 0, or_(ok, invalid, fenced)),
                  fits=implies(ok, end < log_capacity(c)), then=then)


def _at(row: list[Any], j: Any, v: Any, cond: Any) -> list[Any]:
    """``row`` with position ``j`` set to ``v`` when ``cond`` holds."""
    return ite_list(cond, set_(row, j, v), row)


def marker_verdict(s: Any, c: Any, p: int, k: int, t: int) -> tuple[Any, Any, dict]:
    """A partition's checks on the WriteTxnMarkers request in slot ``k``: ``(accepted, opens, updates)``.

    The marker is rejected if its producer epoch is older than the one the
    partition has seen, or its coordinator epoch older than the last
    marker's (a zombie coordinator).  Accepted, it closes the producer's
    open transaction.  Either way the answer goes back to the coordinator,
    which counts it if it is the coordinator that sent it (the coordinator
    epoch is current).
    """
    kind, epoch, cepoch = s.mk_kind[p][k], s.mk_epoch[p][k], s.mk_cepoch[p][k]
    accepted = and_(epoch >= s.pst_epoch[p][t], cepoch >= s.pst_cepoch[p][t])
    open_ = s.pst_first[p][t] != 0
    ours = and_(cepoch == s.tc_cepoch, s.tc_sent[t],
                s.tc_state[t] == ite(kind == COMMIT, PREP_COMMIT, PREP_ABORT))
    then: dict[Any, Any] = tc.marker_update(p, removed(tc.marker_rows(s, p), k))
    then.update({
        ("pst_first", p, t): ite(accepted, 0, s.pst_first[p][t]),
        ("pst_epoch", p, t): ite(accepted, epoch, s.pst_epoch[p][t]),
        ("pst_cepoch", p, t): ite(accepted, cepoch, s.pst_cepoch[p][t]),
        ("tc_marked", t, p): or_(s.tc_marked[t][p], ours),
    })
    return accepted, and_(accepted, open_), then


@action(scope=transactional, o=OUTPUT, k=SLOT, t=TXN_IDS)
def broker_write_marker(s, c, o, k, t):
    """The leader of output ``o`` handles a WriteTxnMarkers request (slot ``k``) for producer ``t``.

    An accepted COMMIT or ABORT marker is appended as a control record and
    ends the producer's open transaction: its records become committed (or
    aborted, entering the aborted-transaction index) and the LSO moves on.
    """
    accepted, closes, then = marker_verdict(s, c, o, k, t)
    end = s.log_len[o]
    kind = s.mk_kind[o][k]
    then.update({
        ("ent_kind", o): _at(s.ent_kind[o], end, kind, closes),
        ("ent_rec", o): _at(s.ent_rec[o], end, 0, closes),
        ("ent_pid", o): _at(s.ent_pid[o], end, t, closes),
        ("ent_epoch", o): _at(s.ent_epoch[o], end, s.mk_epoch[o][k], closes),
        ("ent_tag", o): _at(s.ent_tag[o], end, 0, closes),
        ("ent_stale", o): _at(s.ent_stale[o], end, False, closes),
        ("log_len", o): ite(closes, end + 1, end),
    })
    return Effect(when=and_(kind != 0, s.mk_pid[o][k] == t),
                  fits=implies(closes, end < log_capacity(c)), then=then)


ACTIONS = [broker_append_txn, broker_write_marker]
