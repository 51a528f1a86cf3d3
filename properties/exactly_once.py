"""What Kafka promises about exactly-once processing (PROTOCOL.md §7).

The reader's view is what a downstream consumer with the mode's
``isolation.level`` is returned (:func:`broker_txn.fetched`); "committed"
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
from deliverycheck.model.txn_state import ABORTED, ONGOING, OUTPUTS, attempts, log_capacity, txn_ids

# The configurations that promise exactly-once (the pitfall modes are run to
# show what they break, not because they promise it).
EOS = ("exactly-once", "eos-per-instance-id")
# Every transactional mode, for the witnesses.
TRANSACTIONAL_MODES = (*EOS, "eos-read-uncommitted", "eos-no-rewind", "eos-offsets-outside-txn")


def _entries(c: Any):
    """Every (output partition, log position)."""
    return [(o, j) for o in range(OUTPUTS) for j in range(log_capacity(c))]


def _seen(s: Any, c: Any, o: int, n: int) -> Any:
    """The reader has been returned a record of attempt ``n`` from output ``o``."""
    return any_(and_(s.ent_tag[o][j] == n, broker_txn.fetched(s, c, o, j))
                for j in range(log_capacity(c)))


def _copies(s: Any, c: Any, o: int, r: int) -> Any:
    """Committed copies of input record ``r``'s output on output ``o``."""
    return count(and_(broker_txn.committed(s, c, o, j), s.ent_rec[o][j] == r + 1)
                 for j in range(log_capacity(c)))


def _quiet(s: Any, c: Any) -> Any:
    """No transaction is between EndTxn and its completion (every id Empty, Ongoing or Complete*)."""
    return all_(or_(coordinator.completed(s, t), and_(s.tc_state[t] == ONGOING, not_(s.tc_pending[t])))
                for t in range(txn_ids(c)))


@always(claims=EOS, scope=transactional)
def atomic_transactions(s, c):
    """Each transaction's records are seen on both output partitions or on neither.

    Whenever no transaction is open or completing (every transactional id
    Empty or Complete*), for every transaction attempt the downstream
    reader has been returned a record of it from output partition 0 if and
    only if it has been returned one from output partition 1.  Kafka
    promises no snapshot across partitions: while the markers are being
    written, or while another producer's open transaction holds one
    partition's LSO back, a reader may see one partition's records first.
    A transaction that never completes on one partition (a hanging
    transaction) keeps them apart for good, and is caught.
    """
    done = all_(coordinator.completed(s, t) for t in range(txn_ids(c)))
    return implies(done, all_(_seen(s, c, 0, n) == _seen(s, c, 1, n)
                              for n in range(1, attempts(c) + 1)))


@always(claims=EOS, scope=transactional)
def no_aborted_read(s, c):
    """The downstream reader is never returned a record of an aborted transaction.

    No record the reader has been returned was written by a transaction
    attempt that the application aborted or the coordinator aborted.
    """
    return all_(implies(broker_txn.fetched(s, c, o, j), get(s.outcome, s.ent_tag[o][j]) != ABORTED)
                for o, j in _entries(c))


@always(claims=EOS, scope=transactional)
def offsets_match_outputs(s, c):
    """Input offsets are committed if and only if the outputs derived from them are.

    Whenever no transaction is between EndTxn and its completion, for every
    input record: its offset is committed (the group's committed offset is
    past it) exactly when its output is committed on both output partitions.
    """
    return implies(_quiet(s, c), all_(
        (r < s.gc_committed) == and_(*(_copies(s, c, o, r) >= 1 for o in range(OUTPUTS)))
        for r in range(c.bounds.records)))


@always(claims=EOS, scope=transactional)
def zombie_fenced(s, c):
    """Once a new instance holds epoch e, nothing written with an older epoch becomes visible.

    No record the reader has been returned was appended, with an epoch
    older than e, after InitProducerId had given e to an instance of the
    same transactional id.  (A transaction the old instance had already
    prepared to commit is decided and may still complete: InitProducerId
    waits for it.)
    """
    return all_(implies(s.ent_stale[o][j], not_(broker_txn.fetched(s, c, o, j)))
                for o, j in _entries(c))


@final(claims=EOS, scope=transactional)
def exactly_once(s, c):
    """End to end, each input record's effect is committed exactly once.

    In every terminal state, for every input record, its output is
    committed exactly once on each output partition.
    """
    return all_(_copies(s, c, o, r) == 1 for r in range(c.bounds.records) for o in range(OUTPUTS))


@progress(claims=EOS, scope=transactional)
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
              exactly_once, no_hanging_transaction]
