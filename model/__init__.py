"""What Kafka does: the delivery path as protocol actions over one state.

One module per protocol actor, each holding its state (``fields``), its
steps (``ACTIONS``), and how each step is told (``tell_*``) and drawn
(``ev_*``).  Two worlds are composed from them here, chosen by the mode:

* the delivery path (the at-most-once, at-least-once, at-least-once-acks1
  and idempotent modes): ``producer`` (the application and the producer),
  ``environment`` (the network and the fault budget), ``partition`` (the
  replicated partition: leader, followers, ISR, failover), ``consumer``;
  ``state`` holds their shared constants and the history fields;
* exactly-once, consume-transform-produce: ``processor`` (the processing
  loop), ``txn_client`` (how answers move the transactional client),
  ``coordinator`` (transaction coordinator), ``broker_txn`` (the output
  partitions' leaders' transactional side, on ``partition``), ``groups``
  (group coordinator), ``txn_network`` (requests in flight); ``txn_state``
  holds the constants and the history fields;

and ``modes`` / ``variants`` / ``bounds`` (the configuration knobs).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, or_

from deliverycheck.core.schema import Schema

from . import (broker_txn, consumer, coordinator, environment, groups, partition, processor,
               producer, state, txn_network, txn_state)
from .bounds import Bounds
from .config import Config
from .modes import MODES, Mode
from .state import IDLE, INFLIGHT, QUEUED
from .variants import DEFAULT_VARIANT, VARIANTS, Variant

ACTIONS = [*producer.ACTIONS, *partition.ACTIONS, *consumer.ACTIONS, *environment.ACTIONS,
           *processor.ACTIONS, *coordinator.ACTIONS, *broker_txn.ACTIONS, *groups.ACTIONS]

# The fault budgets: a step that changes one of these fields is a fault.
FAULT_FIELDS = ("faults", "expired", "unflushed")


def schema(c: Any) -> Schema:
    """The state schema of configuration ``c``'s world."""
    if c.mode.transactional:
        # the flat state's layout: processors, coordinator, output partitions, group
        # coordinator, network, fault budget, history, the outputs' replication
        return Schema([*processor.fields(c), *coordinator.fields(c), *broker_txn.fields(c),
                       *groups.fields(c), *txn_network.fields(c), *environment.fault_fields(c),
                       *txn_state.history_fields(c), *partition.txn_fields(c)])
    # the order is the flat state's layout: the application and producer, the network,
    # the partitions, the consumer, the fault budget, history
    return Schema([*producer.fields(c), *environment.network_fields(c), *partition.fields(c),
                   *consumer.fields(c), *environment.fault_fields(c), *state.history_fields(c)])


def init(c: Any) -> dict[str, Any]:
    """The initial field values of configuration ``c``'s world."""
    if c.mode.transactional:
        return {**txn_state.init(c), **(partition.init(c) if partition.replicated(c) else {})}
    return partition.init(c)


def settled(s: Any, c: Any) -> Any:
    """A run has properly ended: nothing is pending anywhere.

    Delivery path: every record was handed to the producer, no batch waits
    for a send or a response, every channel is empty, and the consumer is
    idle at the end of every log.  Exactly-once: every transaction has
    completed, no partition holds an open transaction, nothing is in the
    network, and every instance has stopped or is idle with the whole input
    read.  A terminal state that is not settled is *stuck*.
    """
    if c.mode.transactional:
        return txn_settled(s, c)
    return and_(
        s.handed == c.bounds.records,
        all_(and_(st != QUEUED, st != INFLIGHT) for st in s.b_state),
        all_(slot == 0 for row in s.rq_batch for slot in row),
        all_(slot == 0 for row in s.rs_batch for slot in row),
        s.c_stage == IDLE,
        all_(s.pos[p] == partition.leader_end(s, c, p) for p in range(c.bounds.partitions)),
        partition.settled(s, c))


def txn_settled(s: Any, c: Any) -> Any:
    """The exactly-once world has properly ended (see :func:`settled`)."""
    T = txn_state.txn_ids(c)
    return and_(
        all_(coordinator.completed(s, t) for t in range(T)),
        all_(first == 0 for row in s.pst_first for first in row),
        all_(k == 0 for rows in (s.rq_rec, s.mk_kind) for row in rows for k in _cells(row)),
        all_(k == 0 for row in s.et_kind for k in row),
        all_(or_(st == txn_state.STOPPED, st == txn_state.OFF,
                 and_(st == txn_state.READY, pos == c.bounds.records))
             for st, pos in zip(s.ps_stage, s.ps_pos)),
        partition.settled(s, c))


def _cells(row: Any) -> list[Any]:
    """The scalars of a (nested) list."""
    return [x for r in row for x in _cells(r)] if isinstance(row, list) else [row]


__all__ = ["ACTIONS", "FAULT_FIELDS", "Bounds", "Config", "DEFAULT_VARIANT", "MODES", "Mode",
           "VARIANTS",
           "Variant", "init", "schema", "settled"]
