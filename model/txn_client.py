"""The transactional producer's client side: how an answer moves it (Kafka's TransactionManager).

The coordinator answers EndTxn, and a partition leader a produce request, in
the step that handles the request; what the client does with the answer is
stated here, once, for both.  The application's loop (the requests it
sends) is model/processor.py.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import and_, ite, or_

from .txn_state import (ABORTABLE, ABORTING, COMMIT, COMMIT_OFFSETS, COMMITTING, FETCH, IN_TXN,
                        READY, SENT, STOPPED, WRITTEN)


def rewinds(c: Any) -> bool:
    """After an abort the consumer is sought back to the committed offsets."""
    return c.mode.rewind and c.variant.rewind


def end_txn_answered(s: Any, c: Any, i: int, kind: Any, ok: Any, error: Any, fenced: Any,
                     epoch: Any) -> dict[Any, Any]:
    """Instance ``i``'s reaction to the answer to its EndTxn(``kind``).

    Only an instance still waiting for that answer reacts.  ``ok``: a
    commit is done (with offsets outside the transaction, the application
    now commits them), an abort is done and the consumer is sought back to
    the committed offsets (if the application rewinds); under TV2 the
    answer carries the bumped epoch.  ``error`` (``INVALID_TXN_STATE``)
    makes the transaction abortable; ``fenced`` (``PRODUCER_FENCED``) is
    fatal: the instance closes its producer and stops.
    """
    stage = s.ps_stage[i]
    waiting = stage == ite(kind == COMMIT, COMMITTING, ABORTING)
    after_commit = READY if c.mode.offsets_in_txn else COMMIT_OFFSETS
    after_abort = ite(s.ps_lost[i], STOPPED, FETCH if rewinds(c) else READY)
    ok, error, fenced = and_(waiting, ok), and_(waiting, error), and_(waiting, fenced)
    new_stage = ite(ok, ite(kind == COMMIT, after_commit, after_abort),
                    ite(error, ite(kind == COMMIT, ABORTABLE, after_abort),
                        ite(fenced, STOPPED, stage)))
    then: dict[Any, Any] = {("ps_stage", i): new_stage, "g_fenced": or_(s.g_fenced, fenced)}
    if c.variant.tv2:
        then[("ps_epoch", i)] = ite(ok, epoch, s.ps_epoch[i])
    return then


def produce_answered(s: Any, c: Any, i: int, o: int, ok: Any, error: Any,
                     fenced: Any) -> dict[Any, Any]:
    """Instance ``i``'s reaction to the answer to its produce request to output ``o``.

    Acknowledged: the output is written.  ``INVALID_TXN_STATE`` (the
    partition is not in the transaction): the transaction is abortable.
    ``INVALID_PRODUCER_EPOCH``: fatal, the instance stops.
    """
    stage = s.ps_stage[i]
    waiting = and_(stage == IN_TXN, s.ps_out[i][o] == SENT)
    ok, error, fenced = and_(waiting, ok), and_(waiting, error), and_(waiting, fenced)
    return {("ps_out", i, o): ite(ok, WRITTEN, s.ps_out[i][o]),
            ("ps_stage", i): ite(error, ABORTABLE, ite(fenced, STOPPED, stage)),
            "g_fenced": or_(s.g_fenced, fenced)}
