"""The group coordinator: committed offsets, transactional offsets, generations (docs/protocol.md §8).

One consumer group reads the one input partition.  The group coordinator
keeps the committed offset, the offsets a transaction has sent but not yet
committed (*pending*, per producer, until the transaction's marker reaches
the group's ``__consumer_offsets`` partition), and the group's generation,
bumped at every rebalance.

Simplifications: the offsets partition has no log in the model, only what
its log would decide (committed and pending offsets, and the producer
state it keeps per transactional producer, ``pst_*[OFFSETS]``); the
generation check stands for the whole KIP-447 group metadata (member id,
generation, group instance id).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, ite, not_
from deliverycheck.core.scene import Event
from deliverycheck.core.schema import Field, num
from deliverycheck.core.spec import Effect, action

from . import broker_txn
from .modes import transactional
from .telling import GROUP, event_of, teller
from .txn_telling import marker_head
from .txn_state import ABORT, COMMIT, OFFSETS, SLOT, TXN_IDS, txn_ids


# -- the group coordinator's state ------------------------------------------------------

def fields(c: Any) -> list[Field]:
    """The group coordinator's state: committed and pending input offsets, the generation."""
    R, T, F = c.bounds.records, txn_ids(c), max(1, c.bounds.faults)
    return [
        num("gc_committed", R, "committed offset of the input partition"),
        num("gc_pending", R + 1, "transactional offset pending per producer, plus one", shape=(T,)),
        num("gc_generation", 2 * F + 2, "the group's generation"),
    ]


def stable(s: Any, c: Any) -> Any:
    """OffsetFetch can answer: no transaction holds pending offsets for the input partition.

    Since KIP-447 (2.5) a read_committed consumer fetches with
    ``RequireStable`` (OffsetFetch v7) and the group coordinator answers
    ``UNSTABLE_OFFSET_COMMIT`` while a transaction's offsets are pending.
    Before it (``stable_offsets`` off) the fetch returns the last committed
    offset at once, pending ones or not.
    """
    if not c.variant.stable_offsets:
        return True
    return all_(p == 0 for p in s.gc_pending)


def txn_offset_commit(s: Any, c: Any, i: int, t: int, epoch: Any, offset: Any,
                      added: Any) -> tuple[Any, Any, Any, dict[Any, Any]]:
    """TxnOffsetCommit from instance ``i`` (producer ``t``, ``epoch``): ``(accepted, lost, fenced, updates)``.

    Runs only once the TC added the offsets partition (``added``).  With the
    consumer's group metadata in the request (KIP-447) a member of an older
    generation is rejected: it has lost the input in a rebalance
    (``ILLEGAL_GENERATION``).  Without it (the older
    ``sendOffsetsToTransaction(offsets, groupId)``) the group coordinator
    cannot tell.  The write to the offsets partition is checked against the
    producer epoch the partition has seen (``INVALID_PRODUCER_EPOCH``).
    Accepted, the offset is *pending* until the transaction's marker.
    """
    lost = and_(added, s.ps_gen[i] != s.gc_generation) if c.variant.group_metadata else False
    seen = s.pst_epoch[OFFSETS][t]
    fenced = and_(added, not_(lost), seen != 0, epoch < seen)
    accepted = and_(added, not_(lost), not_(fenced))
    return accepted, lost, fenced, {
        ("gc_pending", t): ite(accepted, offset + 1, s.gc_pending[t]),
        ("pst_first", OFFSETS, t): ite(accepted, 1, s.pst_first[OFFSETS][t]),
        ("pst_epoch", OFFSETS, t): ite(accepted, epoch, seen)}


def offset_commit(s: Any, c: Any, i: int, offset: Any) -> tuple[Any, dict[Any, Any]]:
    """OffsetCommit (``commitSync``) from instance ``i``: ``(accepted, updates)``.

    An ordinary commit always carries the member's generation; a member of
    an older generation gets ``ILLEGAL_GENERATION``.
    """
    ok = s.ps_gen[i] == s.gc_generation
    return ok, {"gc_committed": ite(ok, offset, s.gc_committed)}


@action(scope=transactional, k=SLOT, t=TXN_IDS)
def groups_write_marker(s, c, k, t):
    """The group's offsets partition handles a WriteTxnMarkers request (slot ``k``) for producer ``t``.

    Checked as any partition checks a marker
    (:func:`broker_txn.marker_verdict`).  An accepted COMMIT makes the
    producer's pending offset the committed offset; an ABORT drops it.
    """
    if not c.mode.offsets_in_txn:  # no transaction ever holds the offsets partition
        return Effect(when=False)
    accepted, _, then = broker_txn.marker_verdict(s, c, OFFSETS, k, t)
    pending = s.gc_pending[t]
    commit = and_(accepted, s.mk_kind[OFFSETS][k] == COMMIT, pending != 0)
    then.update({"gc_committed": ite(commit, pending - 1, s.gc_committed),
                 ("gc_pending", t): ite(accepted, 0, pending)})
    return Effect(when=and_(s.mk_kind[OFFSETS][k] != 0, s.mk_pid[OFFSETS][k] == t), then=then)


ACTIONS = [groups_write_marker]


# -- how the group coordinator's steps are told (stories) and drawn (sequence diagrams) ------------------


@teller
def tell_groups_write_marker(a, b, x, c):
    t = a["t"]
    head, took = marker_head(a, b, x, c, OFFSETS, "the offsets partition",
                             broker_txn.marker_epoch_was_ok(b, c, OFFSETS, a["k"], t))
    if x["gc_committed"] != b["gc_committed"]:
        return f"{head}: committed offset {x['gc_committed']}"
    if x["gc_pending"][t] != b["gc_pending"][t]:
        return f"{head}: the pending offset {b['gc_pending'][t] - 1} is dropped"
    return head if not took else f"{head}: accepted, no offset was pending"


@event_of
def ev_groups_write_marker(a, b, x, c):
    if x["gc_committed"] != b["gc_committed"]:
        return Event(GROUP, f"marker: commit offset {x['gc_committed']}")
    if b["mk_kind"][OFFSETS][a["k"]] == ABORT and x["gc_pending"] != b["gc_pending"]:
        return Event(GROUP, "marker: drop pending")
    return Event(GROUP, "marker")
