"""Reachability witnesses: the interesting things really happen.

A promise that holds because nothing interesting is reachable is worthless;
each witness below must be reachable in the modes that claim it, or the
checker reports the model as too weak.
"""

from __future__ import annotations

from deliverycheck.core.ops import and_, any_, or_
from deliverycheck.core.spec import sometimes
from deliverycheck.model.state import ACKED, FAILED, INFLIGHT

ALL_MODES = ("at-most-once", "at-least-once", "idempotent")


@sometimes(claims=ALL_MODES)
def witness_processed(s, c):
    """Some record is processed by the consumer."""
    return any_(n >= 1 for n in s.out)


@sometimes(claims=("at-least-once", "idempotent"))
def witness_retry(s, c):
    """The producer sends a batch again after an error or a timeout.

    A batch that used a retry and is now in flight again or acked.
    """
    return any_(and_(t >= 1, or_(st == INFLIGHT, st == ACKED)) for t, st in zip(s.b_tries, s.b_state))


@sometimes(claims=("at-least-once", "idempotent"))
def witness_send_failed(s, c):
    """The producer gives up on a batch and tells the application it failed."""
    return any_(st == FAILED for st in s.b_state)


@sometimes(claims=("idempotent",))
def witness_dedup(s, c):
    """A partition leader recognises a retried batch and discards the duplicate."""
    return s.g_dedup


@sometimes(claims=("at-least-once", "idempotent"))
def witness_producer_restart(s, c):
    """The producer crashes and restarts with a new producer id."""
    return s.session >= 1


@sometimes(claims=ALL_MODES)
def witness_consumer_restart(s, c):
    """The consumer crashes and restarts from its committed offsets."""
    return s.g_consumer_restarted


PROPERTIES = [witness_processed, witness_retry, witness_send_failed, witness_dedup,
              witness_producer_restart, witness_consumer_restart]
