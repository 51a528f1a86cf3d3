"""Reachability witnesses: the interesting things really happen.

A promise that holds because nothing interesting is reachable is worthless;
each witness below must be reachable in the modes that claim it, or the
checker reports the model as too weak.
"""

from __future__ import annotations

from deliverycheck.core.ops import and_, any_, or_
from deliverycheck.model.modes import pipeline
from deliverycheck.core.spec import sometimes
from deliverycheck.model.state import ACKED, FAILED, INFLIGHT
from deliverycheck.model import broker_txn
from deliverycheck.model.txn_state import (COMPLETE_ABORT, COMPLETE_COMMIT, INSTANCES, OUTPUTS,
                                           log_capacity, tid)
from deliverycheck.model.modes import transactional
from deliverycheck.model.processor import running
from deliverycheck.model.txn_client import bumps_after_error

from deliverycheck.model.consumer import auto_commits

from .delivery import AUTO_COMMIT_MODES, DELIVERY_MODES as ALL_MODES, NO_LOSS_MODES


@sometimes(scope=pipeline, claims=ALL_MODES)
def witness_processed(s, c):
    """Some record is processed by the consumer."""
    return any_(n >= 1 for n in s.out)


@sometimes(scope=pipeline, claims=NO_LOSS_MODES)
def witness_retry(s, c):
    """The producer sends a batch again after an error or a timeout.

    A batch that used a retry and is now in flight again or acked.
    """
    return any_(and_(t >= 1, or_(st == INFLIGHT, st == ACKED)) for t, st in zip(s.b_tries, s.b_state))


@sometimes(scope=pipeline, claims=NO_LOSS_MODES)
def witness_send_failed(s, c):
    """The producer gives up on a batch and tells the application it failed."""
    return any_(st == FAILED for st in s.b_state)


@sometimes(scope=pipeline, claims=("idempotent", "idempotent-one-in-flight"))
def witness_dedup(s, c):
    """A partition leader recognises a retried batch and discards the duplicate."""
    return s.g_dedup


@sometimes(scope=pipeline, claims=NO_LOSS_MODES)
def witness_producer_restart(s, c):
    """The producer crashes and restarts with a new producer id."""
    return s.session >= 1


@sometimes(scope=pipeline, claims=ALL_MODES)
def witness_consumer_restart(s, c):
    """The consumer crashes and restarts from its committed offsets."""
    return s.g_consumer_restarted


@sometimes(scope=auto_commits, claims=AUTO_COMMIT_MODES)
def witness_auto_commit(s, c):
    """The consumer's auto-commit stores an offset.

    Where the consumer commits by itself nothing else commits, so any
    committed offset above zero is an auto-commit's.
    """
    return any_(d > 0 for d in s.committed)


from .exactly_once import TRANSACTIONAL_MODES as EOS  # noqa: E402  (the witnesses of every EOS mode)
from .exactly_once import own_ids  # noqa: E402


@sometimes(scope=transactional, claims=EOS)
def witness_commit(s, c):
    """A transaction commits: the coordinator reaches CompleteCommit."""
    return any_(st == COMPLETE_COMMIT for st in s.tc_state)


@sometimes(scope=transactional, claims=EOS)
def witness_abort(s, c):
    """A transaction aborts: the coordinator reaches CompleteAbort."""
    return any_(st == COMPLETE_ABORT for st in s.tc_state)


@sometimes(scope=transactional, claims=EOS)
def witness_fence(s, c):
    """A request is rejected for a stale producer epoch or group generation (a zombie is fenced)."""
    return s.g_fenced


@sometimes(scope=transactional, claims=EOS)
def witness_failover_resend(s, c):
    """A coordinator fails over and the new one resends the markers of a prepared transaction."""
    return s.g_resent


@sometimes(scope=transactional, claims=EOS)
def witness_late_request(s, c):
    """A produce or EndTxn request arrives after its sender gave up on it."""
    return s.g_late


def _client_bumps(c) -> bool:
    """The exactly-once world with a client that bumps its epoch after an abortable error."""
    return transactional(c) and bumps_after_error(c)


@sometimes(scope=_client_bumps, claims=("exactly-once",))  # the mode run with TV1
def witness_epoch_bump(s, c):
    """An instance gives up on a write, aborts, and goes on with an epoch it bumped itself.

    A running instance holds an epoch newer than the last one
    initTransactions() handed out for its transactional id: only the
    client's own bump after an abortable error (KIP-360, KAFKA-8805) gives
    it one under TV1.
    """
    return any_(and_(running(s, i), s.ps_epoch[i] > s.g_fence[tid(c, i)]) for i in range(INSTANCES))


def _epochs_run_out(c) -> bool:
    return transactional(c) and bool(c.bounds.epochs)


@sometimes(scope=_epochs_run_out, claims=("exactly-once",))  # the mode run where epochs run out
def witness_new_producer_id(s, c):
    """A record written under a producer id the coordinator moved to is committed.

    Some committed output record carries an epoch of a later producer id
    than the transactional id's first: its epochs ran out, the coordinator
    moved the id on, and the next transaction went through.
    """
    return any_(and_(broker_txn.committed(s, c, o, j),
                     broker_txn.col(s, c, "ent_epoch", o)[j] > c.bounds.epochs)
                for o in range(OUTPUTS) for j in range(log_capacity(c)))


@sometimes(scope=own_ids, claims=("eos-per-instance-id",))
def witness_takeover(s, c):
    """A new instance takes the input over while the old owner's transaction is undecided.

    Some attempt was begun by the old owner and not yet committed or aborted
    when the instance that joined the group after it read the committed
    offsets (``rebalance_fenced`` then says it must not commit).
    """
    return any_(s.att_old[1:])


PROPERTIES = [witness_processed, witness_retry, witness_send_failed, witness_dedup,
              witness_producer_restart, witness_consumer_restart, witness_auto_commit, witness_commit, witness_abort,
              witness_fence, witness_failover_resend, witness_late_request, witness_epoch_bump, witness_new_producer_id,
              witness_takeover]
