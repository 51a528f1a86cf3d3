"""What Kafka promises about exactly-once processing (docs/protocol.md §10).

The reader's view is what a downstream consumer with the mode's
``isolation.level`` is returned (:func:`broker_txn.fetched`; the promises
that speak of it ``observe`` the scene's reader, so their pictures draw
it); "committed"
means the record's transaction ended with a COMMIT marker.  A *transaction
attempt* is one processor's begin ... commit or abort, tagged in history
fields; its outcome is what the application decided or the coordinator
wrote (PrepareCommit / PrepareAbort).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, count, get, implies, not_, or_
from deliverycheck.core.spec import always, final, progress
from deliverycheck.model import broker_txn, coordinator
from deliverycheck.model.modes import transactional
from deliverycheck.model.txn_state import (ABORTED, COMMITTED, ONGOING, OUTCOMES, OUTPUTS,
                                           TC_STATES, attempts, log_capacity, route, txn_ids)

# The configurations that promise exactly-once (the pitfall modes are run to
# show what they break, not because they promise it).
EOS = ("exactly-once", "eos-keyed-outputs", "eos-per-instance-id")
# Every transactional mode, for the witnesses.
TRANSACTIONAL_MODES = (*EOS, "eos-read-uncommitted", "eos-no-rewind", "eos-offsets-outside-txn")
BOTH = tuple(range(OUTPUTS))   # a record whose output goes to every output partition


def _entries(c: Any):
    """Every (output partition, log position)."""
    return [(o, j) for o in range(OUTPUTS) for j in range(log_capacity(c))]


def _seen(s: Any, c: Any, o: int, n: int) -> Any:
    """The reader has been returned a record of attempt ``n`` from output ``o``."""
    return any_(and_(broker_txn.col(s, c, "ent_tag", o)[j] == n, broker_txn.fetched(s, c, o, j))
                for j in range(log_capacity(c)))


def _copies(s: Any, c: Any, o: int, r: int) -> Any:
    """Committed copies of input record ``r``'s output on output ``o``."""
    return count(and_(broker_txn.committed(s, c, o, j), broker_txn.col(s, c, "ent_rec", o)[j] == r + 1)
                 for j in range(log_capacity(c)))


def _quiet(s: Any, c: Any) -> Any:
    """No transaction is between EndTxn and its completion (every id Empty, Ongoing or Complete*)."""
    return all_(or_(coordinator.completed(s, t), and_(s.tc_state[t] == ONGOING, not_(s.tc_pending[t])))
                for t in range(txn_ids(c)))


# -- what a broken promise shows (concrete states only: plain Python is fine here) --

def _returned(s: Any, c: Any) -> list[tuple[int, int]]:
    """(output, offset) of every record the downstream reader has been returned."""
    return [(o, j) for o, j in _entries(c) if broker_txn.fetched(s, c, o, j)]


def _tag(s: Any, c: Any, o: int, j: int) -> Any:
    """The attempt that wrote entry ``j`` of output ``o``'s leader log."""
    return broker_txn.col(s, c, "ent_tag", o)[j]


def _record(s: Any, c: Any, o: int, j: int) -> str:
    rec = broker_txn.col(s, c, "ent_rec", o)[j]
    return f"r{rec} at offset {j} of o{o} (attempt #{_tag(s, c, o, j)})"


def _explain_atomic(s, c):
    seen = {o: {_tag(s, c, o, j) for oo, j in _returned(s, c) if oo == o} for o in range(OUTPUTS)}
    recs = {_tag(s, c, o, j): broker_txn.col(s, c, "ent_rec", o)[j] for o, j in _returned(s, c)}
    out = []
    for n in sorted(seen[0] ^ seen[1]):
        if route(c, recs[n]) != BOTH:
            continue   # the record's key maps it to one partition: nothing to see on the other
        has, lacks = (0, 1) if n in seen[0] else (1, 0)
        out.append(f"the reader has been returned attempt #{n}'s record from o{has} but none "
                   f"from o{lacks}")
    return out


def _explain_aborted(s, c):
    return [f"the reader has been returned {_record(s, c, o, j)}, and attempt #{_tag(s, c, o, j)} was "
            f"{OUTCOMES[s.outcome[_tag(s, c, o, j)]]}" for o, j in _returned(s, c)
            if s.outcome[_tag(s, c, o, j)] == ABORTED]


def _explain_offsets(s, c):
    out = []
    for r in range(c.bounds.records):
        offset = r < s.gc_committed
        mine = route(c, r + 1)
        outputs = [o for o in mine if _copies(s, c, o, r) >= 1]
        if offset and len(outputs) < len(mine):
            missing = [f"o{o}" for o in mine if o not in outputs]
            out.append(f"r{r + 1}'s offset is committed (committed offset {s.gc_committed}) but its "
                       f"output is not committed on {' and '.join(missing)}")
        elif not offset and len(outputs) == len(mine):
            out.append(f"r{r + 1}'s output is committed on {' and '.join(f'o{o}' for o in mine)} "
                       f"but its offset is not (committed offset {s.gc_committed})")
    return out


def _explain_zombie(s, c):
    return [f"the reader has been returned {_record(s, c, o, j)}, appended after an "
            "initTransactions() that completed once its transaction had begun"
            for o, j in _returned(s, c) if broker_txn.col(s, c, "ent_stale", o)[j]]


def _explain_self_fenced(s, c):
    return ["an instance was told its producer is fenced although no other instance had called "
            "initTransactions() with its transactional id since it did, and no coordinator timeout "
            "had aborted its transaction"] if s.g_self_fenced else []


def _explain_rebalance(s, c):
    return [f"attempt #{n} committed although it was still undecided when another instance took "
            "the input over, or was begun by an instance that had lost it"
            for n in range(1, len(s.outcome)) if s.att_old[n] and s.outcome[n] == COMMITTED]


def _explain_exactly_once(s, c):
    return [f"r{r + 1}'s output is committed {n} time{'s' if n != 1 else ''} on o{o}"
            + ("" if o in route(c, r + 1) else f" (its key maps it to {_names(route(c, r + 1))} only)")
            for r in range(c.bounds.records) for o in range(OUTPUTS)
            for n in [_copies(s, c, o, r)] if n != _wanted(c, o, r)]


def _names(outputs: tuple[int, ...]) -> str:
    return " and ".join(f"o{o}" for o in outputs)


def _wanted(c: Any, o: int, r: int) -> int:
    """Committed copies of input record ``r``'s (from 0) output that output ``o`` should hold."""
    return 1 if o in route(c, r + 1) else 0


def _explain_hanging(s, c):
    out = [f"transactional id {t} is {TC_STATES[s.tc_state[t]]}"
           + (" with a state change pending" if s.tc_pending[t] else "")
           for t in range(txn_ids(c)) if not coordinator.completed(s, t)]
    for o in range(OUTPUTS):
        for t in range(txn_ids(c)):
            if s.pst_first[o][t]:
                out.append(f"o{o} holds an open transaction of producer {t} from offset "
                           f"{s.pst_first[o][t] - 1}: its last stable offset stays there while its "
                           f"log ends at {broker_txn.end(s, c, o)}")
    out += [f"the offsets partition holds an open transaction of producer {t}"
            for t in range(txn_ids(c)) if s.pst_first[OUTPUTS][t]]
    return out


@always(claims=EOS, scope=transactional, observes=("reader",), explain=_explain_atomic)
def atomic_transactions(s, c):
    """Each transaction's records are seen on both output partitions or on neither.

    Whenever no transaction is open or completing (every transactional id
    Empty or Complete*), for every transaction attempt the downstream
    reader has been returned a record of it from output partition 0 if and
    only if it has been returned one from output partition 1 (where records
    are routed by key: for every attempt whose record's key maps it to
    both).  Kafka
    promises no snapshot across partitions: while the markers are being
    written, or while another producer's open transaction holds one
    partition's LSO back, a reader may see one partition's records first.
    A transaction that never completes on one partition (a hanging
    transaction) keeps them apart for good, and is caught.  With replicated
    outputs it is checked while both have a leader (the reader waits on an
    offline one).
    """
    done = and_(broker_txn.readable(s, c), *(coordinator.completed(s, t) for t in range(txn_ids(c))))
    if all(route(c, r) == BOTH for r in range(1, c.bounds.records + 1)):
        # every record writes both outputs: per attempt (the formula the exactly-once proofs'
        # lemmas were built on; the one below says the same there, entry by entry)
        return implies(done, all_(_seen(s, c, 0, n) == _seen(s, c, 1, n)
                                  for n in range(1, attempts(c) + 1)))
    # records routed by key: a record returned from one partition has its attempt's record on the
    # other too, if its key maps it to both
    return implies(done, all_(
        implies(and_(broker_txn.fetched(s, c, o, j), broker_txn.col(s, c, "ent_rec", o)[j] == r),
                _seen(s, c, 1 - o, _tag(s, c, o, j)))
        for o, j in _entries(c) for r in range(1, c.bounds.records + 1) if route(c, r) == BOTH))


@always(claims=EOS, scope=transactional, observes=("reader",), explain=_explain_aborted)
def no_aborted_read(s, c):
    """The downstream reader is never returned a record of an aborted transaction.

    No record the reader has been returned was written by a transaction
    attempt that the application aborted or the coordinator aborted.
    """
    return all_(implies(broker_txn.fetched(s, c, o, j), get(s.outcome, broker_txn.col(s, c, "ent_tag", o)[j]) != ABORTED)
                for o, j in _entries(c))


@always(claims=EOS, scope=transactional, explain=_explain_offsets)
def offsets_match_outputs(s, c):
    """Input offsets are committed if and only if the outputs derived from them are.

    Whenever no transaction is between EndTxn and its completion, for every
    input record: its offset is committed (the group's committed offset is
    past it) exactly when its output is committed on both output partitions
    (on those its key maps it to, where records are routed by key; read
    from their leaders, so while both have one).
    """
    return implies(and_(_quiet(s, c), broker_txn.readable(s, c)), all_(
        (r < s.gc_committed) == and_(*(_copies(s, c, o, r) >= 1 for o in route(c, r + 1)))
        for r in range(c.bounds.records)))


@always(claims=EOS, scope=transactional, observes=("reader",), explain=_explain_zombie)
def zombie_fenced(s, c):
    """Once an instance has called initTransactions(), nothing begun before becomes visible later.

    No record the reader has been returned belongs to a transaction begun
    before an initTransactions() of its transactional id completed, and was
    appended after it: the instance that called it has taken over, and the
    one that began that transaction is a zombie (or the same process's
    earlier life).  Stated in terms of what happened (which transaction
    began, which initTransactions() completed, when a record was appended),
    not of the epochs meant to keep it, so a fault that hands a zombie a
    current epoch is caught too.  (A transaction already prepared to commit
    is decided and may still complete: InitProducerId waits for it, and its
    records were appended before.)
    """
    return all_(implies(broker_txn.col(s, c, "ent_stale", o)[j], not_(broker_txn.fetched(s, c, o, j)))
                for o, j in _entries(c))


@always(claims=EOS, scope=transactional, explain=_explain_self_fenced)
def fenced_only_by_successor(s, c):
    """An instance is told it is fenced only when something in the history fences it.

    No instance is told its producer is fenced (``PRODUCER_FENCED``,
    ``INVALID_PRODUCER_EPOCH``, ``INVALID_PRODUCER_ID_MAPPING``) while it is
    the last to have called initTransactions() with its transactional id
    and no coordinator timeout has aborted a transaction of the id since.
    Fencing is what stops a zombie; a producer fenced with no successor
    and no timeout has lost its work for nothing (and the application its
    producer, which it must close).  Stated through what happened (which
    instance called initTransactions() last, which timeouts fired, what
    each instance was told), not through the epochs or producer ids that
    are meant to keep it.
    """
    return not_(s.g_self_fenced)


def own_ids(c: Any) -> bool:
    """The exactly-once world where each instance has its own transactional id (KIP-447)."""
    return transactional(c) and c.mode.txn_id_per_instance


@always(claims=("eos-per-instance-id",), scope=own_ids, explain=_explain_rebalance)
def rebalance_fenced(s, c):
    """Once a new instance has taken the input over, the old owner commits nothing more.

    An instance takes the input over when, having joined the group, it has
    read the committed input offset (its first OffsetFetch).  No transaction
    attempt still undecided at that moment, and none begun afterwards by an
    instance that had joined before (it lost the input in that rebalance:
    a zombie), is ever decided to commit: the new owner starts from the
    committed offset and the old owner's work must not be added to it.
    Stated through what happened (joins, fetches, begins and the commit
    decision), not through generations or epochs: whichever mechanism keeps
    it (KIP-447's generation check and stable-offset fetch), its failure is
    caught.  Checked where each instance has its own ``transactional.id``;
    with a shared one the instance that called initTransactions() last owns
    the id whatever the group decided (an older member that calls it after
    the new one is a zombie only to the group: the new member is then
    fenced and stops), and ``zombie_fenced`` states what that promises.
    """
    return all_(implies(s.att_old[n], s.outcome[n] != COMMITTED) for n in range(1, attempts(c) + 1))


@final(claims=EOS, scope=transactional, explain=_explain_exactly_once)
def exactly_once(s, c):
    """End to end, each input record's effect is committed exactly once.

    In every terminal state, for every input record, its output is
    committed exactly once on each output partition (where records are
    routed by key: once on each partition its key maps it to, and never on
    another).
    """
    return all_(_copies(s, c, o, r) == _wanted(c, o, r)
                for r in range(c.bounds.records) for o in range(OUTPUTS))


@progress(claims=EOS, scope=transactional, explain=_explain_hanging)
def no_hanging_transaction(s, c):
    """Once faults stop, every transaction can complete and every LSO catch up.

    From every reachable state a state is reachable, without faults, in
    which every transactional id is Empty or Complete* with nothing
    pending, and no partition (output or offsets) holds an open
    transaction, so each last stable offset equals its log end.
    """
    return and_(all_(coordinator.completed(s, t) for t in range(txn_ids(c))),
                all_(first == 0 for row in s.pst_first for first in row))


PROPERTIES = [atomic_transactions, no_aborted_read, offsets_match_outputs, zombie_fenced,
              fenced_only_by_successor, rebalance_fenced, exactly_once, no_hanging_transaction]
