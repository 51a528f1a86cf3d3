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

from deliverycheck.core.scene import Channel, Event, Exchange, Lane, Scene

from .state import BATCH_STATES, DUPLICATE, OUT_OF_ORDER, RESPONSE_CODES, RETRIABLE, sizes
from . import partition
from .telling import EVENTS, event_of


CONSUMER, GROUP = "C", "GC"
# short names of the response codes, to fit a label
_CODES = {**RESPONSE_CODES, DUPLICATE: "DUPLICATE", RETRIABLE: "NOT_LEADER", OUT_OF_ORDER: "OUT_OF_ORDER"}


def producer(session: int) -> str:
    """Lane id of producer session ``session`` (0-based): P1, P2, ..."""
    return f"P{session + 1}"


def pipeline_lanes(c: Any) -> list[Lane]:
    """Every lane of the delivery path, left to right."""
    S = sizes(c)[-1]
    return ([Lane(producer(q), f"producer P{q + 1}") for q in range(S)]
            + partition.lanes(c)
            + [Lane(CONSUMER, "consumer"), Lane(GROUP, "group coordinator")])


def pipeline_channels(c: Any) -> list[Channel]:
    """Produce requests (producer -> leader) and responses (leader -> producer)."""
    def session(ident: tuple[int, ...], s: dict) -> str:
        return producer(s["b_pid"][ident[0] - 1])
    return [
        Channel("produce", ("rq_batch", "rq_conn"), 2,
                src=lambda ix, v, s: session(v, s),
                dst=lambda ix, v, s: partition.leader_lane(c, ix[0], s),
                label=lambda ix, v, s: f"Produce b{v[0]}"),
        Channel("response", ("rs_batch", "rs_code", "rs_conn"), 3,
                src=lambda ix, v, s: partition.leader_lane(c, ix[0], s) or "",
                dst=lambda ix, v, s: session(v, s),
                label=lambda ix, v, s: f"{_CODES.get(v[1], v[1])} b{v[0]}"),
    ]


def _b(k: int) -> str:
    return f"b{k + 1}"


@event_of
def ev_producer_send(a, b, x, c):
    k = a["k"]
    return Event(producer(x["b_pid"][k]), f"send r{a['r'] + 1} as {_b(k)}")


@event_of
def ev_producer_resend(a, b, x, c):
    k = a["k"]
    return Event(producer(x["b_pid"][k]), f"send r{a['r'] + 1} again as {_b(k)}")


@event_of
def ev_producer_retry(a, b, x, c):
    k = a["k"]
    return Event(producer(x["b_pid"][k]), f"retry {_b(k)}")


@event_of
def ev_producer_timeout(a, b, x, c):
    return Event(producer(b["session"]), f"timeout: reconnect p{a['p']}", discards=True)


@event_of
def ev_producer_receive(a, b, x, c):
    k, p = a["k"], a["p"]
    if b["rs_conn"][p][a["i"]] != b["conn"][p]:
        return Event(producer(b["b_pid"][k]), f"{_b(k)}: closed, dropped")
    return Event(producer(b["b_pid"][k]), f"{_b(k)} {BATCH_STATES[x['b_state'][k]]}")


@event_of
def ev_producer_restart(a, b, x, c):
    return Event(producer(b["session"]), f"restart as {producer(x['session'])}",
                 crash=True, discards=True)


@event_of
def ev_consumer_poll(a, b, x, c):
    p = a["p"]
    return Event(CONSUMER, f"poll r{x['c_rec']} @{b['pos'][p]} of p{p}",
                 exchanges=(Exchange(partition.lane(c, p, a["r"]), inbound=True),))


@event_of
def ev_consumer_reset(a, b, x, c):
    p = a["p"]
    return Event(CONSUMER, f"out of range: reset p{p} to {x['pos'][p]}",
                 exchanges=(Exchange(partition.lane(c, p, a["r"]), inbound=True),))


@event_of
def ev_consumer_process(a, b, x, c):
    times, before = x["out"][a["r"]], b["out"][a["r"]]
    # the ghost count stops at "more than once" (model/consumer.py)
    note = "" if times == 1 else f" (time {times})" if times > before else " (again)"
    return Event(CONSUMER, f"process r{a['r'] + 1}{note}")


@event_of
def ev_consumer_commit(a, b, x, c):
    offsets = ",".join(str(o) for o in x["committed"])
    return Event(CONSUMER, f"commit offsets {offsets}", exchanges=(Exchange(GROUP),))


@event_of
def ev_consumer_restart(a, b, x, c):
    offsets = ",".join(str(o) for o in x["pos"])
    return Event(CONSUMER, f"resume at {offsets}", crash=True,
                 exchanges=(Exchange(GROUP, inbound=True),))


@event_of
def ev_network_lose_request(a, b, x, c):
    return Event(None, f"request {_b(a['k'])} lost")


@event_of
def ev_network_lose_response(a, b, x, c):
    return Event(None, f"response {_b(a['k'])} lost")


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

# The exactly-once world's events register themselves in the same table.
from . import txn_scene  # noqa: E402,F401
