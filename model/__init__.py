"""What Kafka does: the delivery path as protocol actions over one state.

Read in this order: ``state`` (the fields), ``producer``, ``broker``,
``consumer`` (one module per actor), ``environment`` (network and faults),
``modes`` / ``variants`` / ``bounds`` (the configuration knobs).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_

from . import broker, consumer, environment, producer
from .bounds import Bounds
from .config import Config
from .modes import MODES, Mode
from .state import IDLE, INFLIGHT, QUEUED, init, schema
from .variants import DEFAULT_VARIANT, VARIANTS, Variant

ACTIONS = [*producer.ACTIONS, *broker.ACTIONS, *consumer.ACTIONS, *environment.ACTIONS]

# The fault budgets: a step that changes one of these fields is a fault.
FAULT_FIELDS = ("faults", "expired")


def settled(s: Any, c: Any) -> Any:
    """A run has properly ended: nothing is pending anywhere.

    Every record was handed to the producer, no batch waits for a send or a
    response, every channel is empty, and the consumer is idle at the end of
    every log.  A terminal state that is not settled is *stuck*.
    """
    return and_(
        s.handed == c.bounds.records,
        all_(and_(st != QUEUED, st != INFLIGHT) for st in s.b_state),
        all_(slot == 0 for row in s.rq_batch for slot in row),
        all_(slot == 0 for row in s.rs_batch for slot in row),
        s.c_stage == IDLE,
        all_(q == n for q, n in zip(s.pos, s.log_len)))


__all__ = ["ACTIONS", "FAULT_FIELDS", "Bounds", "Config", "DEFAULT_VARIANT", "MODES", "Mode",
           "VARIANTS",
           "Variant", "init", "schema", "settled"]
