"""The network and the fault budget: what the world does to the protocol.

Network assumptions (docs/protocol.md §3):

* Each producer has one TCP connection per partition leader; a connection
  is FIFO.  A new connection (after a request timeout or a restart) is a
  different connection, so its messages can overtake those still in flight
  on the old one: a message is deliverable when no earlier message on the
  same connection is still in the channel.
* Any message can be lost.  The model loses only deliverable messages: a
  loss is observed by nobody until the message would have arrived, so
  losing it earlier adds no behaviour, only states.  Losing one message
  while a later one on the same connection arrives is more than TCP allows
  (a broken connection loses everything after the break); the model
  over-approximates here, so what it proves still holds for real TCP.
* Delay is implicit: any other step may happen while a message is in the
  channel.

Faults (losses, premature timeouts, transient errors, crashes) all spend
one shared budget, ``bounds.faults``; what heals (delivery, retries, a
timeout after a loss, recovery after a restart) is never bounded.
Producer-state expiry has its own budget, ``bounds.expiries``, off by
default.  Connections, channels and responses live here because both ends
use them.
"""

from __future__ import annotations

from typing import Any, Sequence

from deliverycheck.core.ops import and_, count, ite
from deliverycheck.core.scene import Event
from deliverycheck.core.schema import Field, num
from deliverycheck.core.spec import Effect, action

from .modes import pipeline
from .state import RESPONSE_CODES, max_conn, max_epoch, sizes
from .telling import (batch_label, event_of, listing, record_name, request_rows, response_rows,
                      taken, teller)

# -- parameter domains --------------------------------------------------------


def PARTITIONS(c: Any) -> range:
    """Every partition."""
    return range(c.bounds.partitions)


def SLOTS(c: Any) -> range:
    """Every message slot of one channel."""
    return range(c.bounds.channel)


def BATCHES(c: Any) -> range:
    """Every batch slot of the producer (a message names the batch it carries)."""
    return range(c.bounds.batches)


# -- the fault budget -----------------------------------------------------------

def can_fault(s: Any, c: Any) -> Any:
    """The fault budget is not yet spent."""
    return s.faults < c.bounds.faults


def spend_fault(s: Any) -> dict[str, Any]:
    """The update that spends one unit of the fault budget."""
    return {"faults": s.faults + 1}


# -- the network's state ----------------------------------------------------------

def network_fields(c: Any) -> list[Field]:
    """The produce requests and responses in flight, per partition leader (the delivery path)."""
    R, P, B, L, C, S = sizes(c)
    return [
        num("rq_batch", B, "produce requests in flight: batch plus one (0 = empty)", shape=(P, C)),
        num("rq_epoch", max_epoch(c), "producer epoch each request carries (idempotence; fixed when "
            "sent, a later bump does not change a request on the wire)", shape=(P, C)),
        num("rq_seq", B, "sequence number each request carries (idempotence)", shape=(P, C)),
        num("rq_conn", max_conn(c), "connection each request travels on", shape=(P, C)),
        num("rs_batch", B, "produce responses in flight: batch plus one", shape=(P, C)),
        num("rs_code", len(RESPONSE_CODES), "error code of each response", shape=(P, C),
            labels=("-",) + tuple(RESPONSE_CODES.values())),
        num("rs_conn", max_conn(c), "connection each response travels on", shape=(P, C)),
    ]


def fault_fields(c: Any) -> list[Field]:
    """The fault budget spent so far (every world)."""
    return [num("faults", max(1, c.bounds.faults), "faults spent from the budget")]


# -- channels: parallel rows of one field per message attribute ---------------
# A channel of capacity C is a list of rows (one per attribute) of C slots,
# kept compact: occupied slots first, in sending order.  The first row is the
# key (batch plus one; 0 marks an empty slot), the last one the connection.

def deliverable(rows: Sequence[Sequence[Any]], i: int) -> Any:
    """Slot ``i`` holds a message and is the oldest on its connection."""
    key, conn = rows[0], rows[-1]
    return and_(key[i] != 0, *(conn[j] != conn[i] for j in range(i)))


def removed(rows: Sequence[Sequence[Any]], i: int) -> list[list[Any]]:
    """The channel with slot ``i`` taken out (later slots move up)."""
    return [list(row[:i]) + list(row[i + 1:]) + [0] for row in rows]


def pushed(rows: Sequence[Sequence[Any]], values: Sequence[Any]) -> list[list[Any]]:
    """The channel with a message appended in the first empty slot."""
    key = rows[0]
    first_empty = [and_(key[j] == 0, key[j - 1] != 0) if j else key[0] == 0
                   for j in range(len(key))]
    return [[ite(first_empty[j], v, row[j]) for j in range(len(row))]
            for row, v in zip(rows, values)]


def kept(rows: Sequence[Sequence[Any]], keep: Sequence[Any]) -> list[list[Any]]:
    """The channel with only the slots where ``keep`` holds, compacted in order."""
    n = len(rows[0])
    out = []
    for row in rows:
        new = []
        for j in range(n):
            # slot j receives the element i whose rank among the kept ones is j
            v = 0
            for i in reversed(range(j, n)):
                rank = count(keep[:i])
                v = ite(and_(keep[i], rank == j), row[i], v)
            new.append(v)
        out.append(new)
    return out


def has_room(rows: Sequence[Sequence[Any]]) -> Any:
    """The channel has a free slot."""
    return rows[0][-1] == 0


def requests(s: Any, p: int) -> list[list[Any]]:
    """The produce-request channel to partition ``p``'s leader: batch, epoch, sequence, connection."""
    return [s.rq_batch[p], s.rq_epoch[p], s.rq_seq[p], s.rq_conn[p]]


def responses(s: Any, p: int) -> list[list[Any]]:
    """The produce-response channel from partition ``p``'s leader."""
    return [s.rs_batch[p], s.rs_code[p], s.rs_conn[p]]


def request_update(p: int, rows: Sequence[Sequence[Any]]) -> dict[Any, Any]:
    """``Effect.then`` entries writing the request channel of ``p``."""
    return {("rq_batch", p): rows[0], ("rq_epoch", p): rows[1], ("rq_seq", p): rows[2],
            ("rq_conn", p): rows[3]}


def response_update(p: int, rows: Sequence[Sequence[Any]]) -> dict[Any, Any]:
    """``Effect.then`` entries writing the response channel of ``p``."""
    return {("rs_batch", p): rows[0], ("rs_code", p): rows[1], ("rs_conn", p): rows[2]}


# -- faults of the network ------------------------------------------------------

@action(scope=pipeline, fault=True, p=PARTITIONS, i=SLOTS, k=BATCHES)
def network_lose_request(s, c, p, i, k):
    """The network loses the produce request in slot ``i`` (batch ``k``) to partition ``p``.

    The leader never sees it; the producer learns nothing until its request
    timeout fires.  Spends one fault.
    """
    rq = requests(s, p)
    return Effect(
        when=and_(can_fault(s, c), deliverable(rq, i), rq[0][i] == k + 1),
        then={**request_update(p, removed(rq, i)), **spend_fault(s)})


@action(scope=pipeline, fault=True, p=PARTITIONS, i=SLOTS, k=BATCHES)
def network_lose_response(s, c, p, i, k):
    """The network loses the produce response in slot ``i`` (batch ``k``) from partition ``p``.

    The leader has already acted on the request (appended it, or not); the
    producer cannot tell, and its request timeout will fire.  Spends one fault.
    """
    if c.mode.acks == 0:  # no responses with acks=0
        return Effect(when=False)
    rs = responses(s, p)
    return Effect(
        when=and_(can_fault(s, c), deliverable(rs, i), rs[0][i] == k + 1),
        then={**response_update(p, removed(rs, i)), **spend_fault(s)})


ACTIONS = [network_lose_request, network_lose_response]


# -- how the network's faults are told (stories) --------------------------------------


def _lost(b: dict, x: dict, rows) -> str:
    """``b1 (r1)``: the batches of the messages the step took off the channel ``rows`` reads."""
    gone = taken(rows(b), rows(x))
    return listing([f"b{m[0]} ({record_name(b, m[0] - 1)})" for m in gone]) or "nothing"


@teller
def tell_network_lose_request(a, b, x, c):
    p = a["p"]
    return (f"the network loses the request carrying {_lost(b, x, lambda s: request_rows(s, p))} "
            f"to partition {p}")


@teller
def tell_network_lose_response(a, b, x, c):
    p = a["p"]
    return (f"the network loses the response for {_lost(b, x, lambda s: response_rows(s, p))} "
            f"from partition {p}")


# -- how the network's faults are drawn (sequence diagrams) ------------------------------


@event_of
def ev_network_lose_request(a, b, x, c):
    return Event(None, f"request {batch_label(a['k'])} lost")


@event_of
def ev_network_lose_response(a, b, x, c):
    return Event(None, f"response {batch_label(a['k'])} lost")
