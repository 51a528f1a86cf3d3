"""The transactional producer's client side: how an answer moves it (Kafka's TransactionManager).

The coordinator answers EndTxn, and a partition leader a produce request, in
the step that handles the request; what the client does with the answer is
stated here, once, for both.  The application's loop (the requests it
sends) is model/processor.py.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, ite, not_, or_

from deliverycheck.core.schema import Field, flag

from .txn_state import (ABORTABLE, ABORTING, COMMIT, COMMIT_OFFSETS, COMMITTING, FETCH, IN_TXN,
                        INIT, INSTANCES, OUTPUTS, READY, SENT, STOPPED, WRITTEN, tid)


def rewinds(c: Any) -> bool:
    """After an abort the consumer is sought back to the committed offsets."""
    return c.mode.rewind and c.variant.rewind


def bumps_after_error(c: Any) -> bool:
    """After an abortable error the client bumps its epoch once the abort is done.

    KIP-360's client side (KAFKA-8805, Java client 2.5): a failed produce
    request sets TransactionManager's ``epochBumpRequired``, and
    ``abortTransaction()`` then sends InitProducerId with the producer id and
    epoch it holds after EndTxn(abort), so the coordinator bumps the epoch
    and a late write of the aborted attempt is fenced.  Under TV2 EndTxn
    itself bumps the epoch and the client asks for no second bump (KIP-890
    part 2); before 2.5 (``client_bump`` off) nothing bumps it.
    """
    return c.variant.client_bump and not c.variant.tv2


def gives_up_resent_batches(c: Any) -> bool:
    """A resent batch whose delivery time runs out is fatal for the client.

    Every Java client resends a batch refused with
    ``OUT_OF_ORDER_SEQUENCE_NUMBER`` when it is not the batch after the last
    acknowledged one (``TransactionManager.canRetry``; the next batch itself
    fails, which needs a partition that lost acknowledged state: the
    exactly-once world's elections are clean, so that case is left out).
    What differs is the expiry of a resent batch: a client before 2.5 marks
    its sequence unresolved and, being transactional, fails fatally (2.4's
    ``Sender.runOnce``: "It isn't safe to continue"); later clients abort and
    bump the epoch (``maybeResolveSequences``), as after any failed batch.
    """
    return not c.variant.client_bump


def fields(c: Any) -> list[Field]:
    """The client's memory of resent batches, and of a required epoch bump (only where the
    client bumps, see above)."""
    out = [flag("ps_resent", "the batch in flight to each output was refused as out of order "
                "and is being resent", shape=(INSTANCES, OUTPUTS))]
    if bumps_after_error(c):
        out.append(flag("ps_bump", "an abortable error requires an epoch bump once the abort is "
                        "done (KAFKA-8805)", shape=(INSTANCES,)))
    return out


def resends_forgotten(i: int) -> dict[Any, Any]:
    """Instance ``i`` begins a transaction (or starts): none of its batches has been resent."""
    return {("ps_resent", i): [False] * OUTPUTS}


def expiry_is_fatal(s: Any, c: Any, i: int) -> Any:
    """The delivery timeout of instance ``i``'s batches is fatal: one of them was resent, and
    the client gives such a batch up (:func:`gives_up_resent_batches`)."""
    if not gives_up_resent_batches(c):
        return False
    return or_(*(and_(s.ps_out[i][o] == SENT, s.ps_resent[i][o]) for o in range(OUTPUTS)))


def bump_required(s: Any, c: Any, i: int, cond: Any) -> dict[Any, Any]:
    """If ``cond`` (a produce request failed: the transaction is now abortable), instance ``i``
    must bump its epoch when it aborts (``maybeTransitionToErrorState``)."""
    if not bumps_after_error(c):
        return {}
    return {("ps_bump", i): or_(s.ps_bump[i], cond)}


def bump_reset(c: Any, i: int) -> dict[Any, Any]:
    """A newly started instance ``i`` owes no epoch bump."""
    return {("ps_bump", i): False} if bumps_after_error(c) else {}


def after_abort(s: Any, c: Any, i: int) -> Any:
    """Where instance ``i`` goes once its abort (and any epoch bump) is done: it leaves if it
    lost its input, else it fetches the committed offsets (the rewind) or goes on."""
    return ite(s.ps_lost[i], STOPPED, FETCH if rewinds(c) else READY)


def told_fenced(s: Any, c: Any, i: int, fenced: Any) -> dict[Any, Any]:
    """History: instance ``i`` is told (if ``fenced``) that its producer is fenced.

    ``INVALID_PRODUCER_EPOCH``, ``PRODUCER_FENCED`` or
    ``INVALID_PRODUCER_ID_MAPPING``, from the coordinator, a partition or
    the group's offsets partition.  It is a *self*-fence when no other
    instance has called initTransactions() with the id since ``i`` did and
    no coordinator timeout has aborted its transaction since: nothing in
    the history says it should stop.
    """
    t = tid(c, i)
    self_fenced = and_(fenced, s.g_owner[t] == i + 1, not_(s.g_timed_out[t]))
    return {"g_fenced": or_(s.g_fenced, fenced), "g_self_fenced": or_(s.g_self_fenced, self_fenced)}


def end_txn_answered(s: Any, c: Any, i: int, kind: Any, ok: Any, error: Any, fenced: Any,
                     epoch: Any) -> dict[Any, Any]:
    """Instance ``i``'s reaction to the answer to its EndTxn(``kind``).

    Only an instance still waiting for that answer reacts.  ``ok``: a
    commit is done (with offsets outside the transaction, the application
    now commits them), an abort is done and the consumer is sought back to
    the committed offsets (if the application rewinds); under TV2 the
    answer carries the bumped epoch.  ``error`` (``INVALID_TXN_STATE``) and
    ``fenced`` (``PRODUCER_FENCED``) are fatal (``EndTxnHandler`` calls
    ``fatalError`` for both, in every client since 2.5): the instance
    closes its producer and stops.  A done abort that
    owes an epoch bump (:func:`bumps_after_error`) goes on with
    InitProducerId (``processor_init``) instead.
    """
    stage = s.ps_stage[i]
    waiting = stage == ite(kind == COMMIT, COMMITTING, ABORTING)
    after_commit = READY if c.mode.offsets_in_txn else COMMIT_OFFSETS
    aborted = after_abort(s, c, i)
    if bumps_after_error(c):
        aborted = ite(s.ps_bump[i], INIT, aborted)
    ok, error, fenced = and_(waiting, ok), and_(waiting, error), and_(waiting, fenced)
    new_stage = ite(ok, ite(kind == COMMIT, after_commit, aborted),
                    ite(or_(error, fenced), STOPPED, stage))
    then: dict[Any, Any] = {("ps_stage", i): new_stage, **told_fenced(s, c, i, fenced)}
    if c.variant.tv2:
        then[("ps_epoch", i)] = ite(ok, epoch, s.ps_epoch[i])
        # under the new epoch every partition starts at sequence 0 again (the partition
        # refuses anything else at a new epoch: ProducerAppendInfo.checkSequence)
        then[("ps_seq", i)] = [ite(ok, 0, q) for q in s.ps_seq[i]]
    return then


def produce_answered(s: Any, c: Any, i: int, o: int, ok: Any, error: Any,
                     fenced: Any) -> dict[Any, Any]:
    """Instance ``i``'s reaction to the answer to its produce request to output ``o``.

    Acknowledged: the output is written.  ``INVALID_TXN_STATE`` (the
    partition is not in the transaction): the transaction is abortable, and
    the batch, refused for certain, gives its sequence number back
    (``adjustSequencesDueToFailedBatch``: it was the partition's last).
    ``INVALID_PRODUCER_EPOCH``: fatal, the instance stops.  A failed
    request requires an epoch bump (:func:`bump_required`).
    """
    stage = s.ps_stage[i]
    waiting = and_(stage == IN_TXN, s.ps_out[i][o] == SENT)
    ok, error, fenced = and_(waiting, ok), and_(waiting, error), and_(waiting, fenced)
    return {("ps_out", i, o): ite(ok, WRITTEN, s.ps_out[i][o]),
            ("ps_seq", i, o): ite(error, s.ps_seq[i][o] - 1, s.ps_seq[i][o]),
            ("ps_stage", i): ite(error, ABORTABLE, ite(fenced, STOPPED, stage)),
            **told_fenced(s, c, i, fenced), **bump_required(s, c, i, error)}
