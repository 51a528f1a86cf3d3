"""The delivery path's actors, channels and steps, for sequence diagrams.

Lanes, left to right in the direction records flow: each producer session
(P1, P2, ...: a restart is a new process with a new producer id), each
partition's leader (or, when partitions are replicated, each broker, and
the controller: model/partition.py), the consumer, the group coordinator.  Produce requests
and responses wait in the ``rq_*``/``rs_*`` fields (one channel per
direction and partition); a step's event names its lane and gives a short
label.  Reads decoded states only (see deliverycheck/core/scene.py), and
what a label states is read from the transition (model/telling.py).
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.scene import Channel, Event, Lane, Scene

from . import partition, producer
from .consumer import CONSUMER
from .state import DUPLICATE, OUT_OF_ORDER, RESPONSE_CODES, RETRIABLE, sizes
from .telling import EVENTS, GROUP

# short names of the response codes, to fit a label
_CODES = {**RESPONSE_CODES, DUPLICATE: "DUPLICATE", RETRIABLE: "NOT_LEADER", OUT_OF_ORDER: "OUT_OF_ORDER"}


def pipeline_lanes(c: Any) -> list[Lane]:
    """Every lane of the delivery path, left to right."""
    S = sizes(c)[-1]
    return ([Lane(producer.lane(q), f"producer P{q + 1}") for q in range(S)]
            + partition.lanes(c)
            + [Lane(CONSUMER, "consumer"), Lane(GROUP, "group coordinator")])


def pipeline_channels(c: Any) -> list[Channel]:
    """Produce requests (producer -> leader) and responses (leader -> producer)."""
    def session(ident: tuple[int, ...], s: dict) -> str:
        return producer.lane(s["b_pid"][ident[0] - 1])
    return [
        Channel("produce", ("rq_batch", "rq_epoch", "rq_seq", "rq_conn"), 4,
                src=lambda ix, v, s: session(v, s),
                dst=lambda ix, v, s: partition.leader_lane(c, ix[0], s),
                label=lambda ix, v, s: f"Produce b{v[0]}"),
        Channel("response", ("rs_batch", "rs_code", "rs_conn"), 3,
                src=lambda ix, v, s: partition.leader_lane(c, ix[0], s) or "",
                dst=lambda ix, v, s: session(v, s),
                label=lambda ix, v, s: f"{_CODES.get(v[1], v[1])} b{v[0]}"),
    ]


def lanes(c: Any) -> list[Lane]:
    """The lanes of configuration ``c``'s world."""
    from .txn_scene import txn_lanes
    return txn_lanes(c) if c.mode.transactional else pipeline_lanes(c)


def channels(c: Any) -> list[Channel]:
    """The channels of configuration ``c``'s world."""
    from .txn_scene import txn_channels
    return txn_channels(c) if c.mode.transactional else pipeline_channels(c)


def event(name: str, args: dict[str, int], before: dict, after: dict, c: Any) -> Event:
    """How the step ``name(args)`` from ``before`` to ``after`` is drawn."""
    return EVENTS[name](args, before, after, c)


def observers(c: Any) -> list:
    """The actors of configuration ``c``'s world that the model computes (the downstream reader)."""
    from .txn_scene import txn_observers
    return txn_observers(c) if c.mode.transactional else []


SCENE = Scene(lanes=lanes, channels=channels, event=event, observers=observers)
