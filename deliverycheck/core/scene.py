"""Who does what to whom: the vocabulary the sequence diagrams are drawn from.

A specification that wants its traces drawn declares a :class:`Scene`:

* ``lanes(cfg)``: every actor that can appear, in the order the lanes are
  drawn left to right (each producer instance, each partition leader, the
  coordinators, the consumer), with a title for each;
* ``channels(cfg)``: where messages wait in the state.  A channel is a group
  of parallel array fields whose last dimension holds message slots; a slot
  whose first field is non-zero holds a message.  From two states around a
  step the renderer sees which messages the step put on the wire and which
  it took off, and draws each message as one arrow from the step that sent
  it to the step that received (or lost) it;
* ``event(action, args, before, after, cfg)``: the lane a step happens on,
  a short label for it, and what the channels cannot show (a crash; a
  request answered within the step, drawn as a horizontal arrow; a late
  message);
* ``observers(cfg)``: actors the model does not step but computes, such as
  a downstream reader that keeps polling: for a state, what the observer
  has been returned, each item with the lane it came from.  A
  counterexample to a promise that ``observes`` one draws its lane and an
  arrow for every item at the step that made it visible.

Like ``describe`` for stories, these read decoded states and change nothing:
the protocol itself stays in the actions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import product
from typing import Any, Callable, Sequence

Msg = tuple[str, tuple[int, ...], tuple[int, ...]]   # (channel, index, identifying values)


@dataclass(frozen=True)
class Lane:
    """One actor's lane: a short id (also Mermaid's participant id) and its title."""

    id: str
    title: str


@dataclass(frozen=True)
class Exchange:
    """A request answered within one step (a call), drawn as a horizontal arrow.

    ``inbound``: the arrow points from ``peer`` to the step's lane (data or an
    answer arriving); otherwise from the step's lane to ``peer``.
    """

    peer: str
    inbound: bool = False


@dataclass(frozen=True)
class Event:
    """How one step is drawn.

    ``lane`` is None for the network itself (a loss); ``discards`` says that
    the messages this step takes off the wire are thrown away (a closed
    connection), not received; ``late`` says that the message it handles
    was sent by a request its sender had already given up on (a late
    message, drawn so that it stands out).
    """

    lane: str | None
    label: str
    exchanges: tuple[Exchange, ...] = ()
    crash: bool = False
    discards: bool = False
    late: bool = False


@dataclass(frozen=True)
class Channel:
    """Messages waiting in the parallel fields ``fields`` (same shape; last dimension = slots).

    ``ident`` is how many of the fields, from the first, identify a message
    (later ones may change while it is in flight, e.g. "its sender still
    waits").  ``src``/``dst`` give the lanes a message goes between and
    ``label`` a short name for it, from ``(index, values, state)`` (the
    state after the step that sent it).  ``dst`` may be None when nobody can
    receive the message yet (a request to a partition with no leader): the
    lane of the step that takes it off the wire is its receiver.
    """

    name: str
    fields: tuple[str, ...]
    ident: int
    src: Callable[[tuple[int, ...], tuple[int, ...], dict], str]
    dst: Callable[[tuple[int, ...], tuple[int, ...], dict], str | None]
    label: Callable[[tuple[int, ...], tuple[int, ...], dict], str]

    def messages(self, state: dict) -> Counter:
        """The messages in ``state`` (a decoded state), as a multiset of :data:`Msg`."""
        first = state[self.fields[0]]
        out: Counter = Counter()
        for index in _indices(first):
            rows = [_at(state[f], index) for f in self.fields[:self.ident]]
            for slot in range(len(rows[0])):
                if rows[0][slot]:
                    out[(self.name, index, tuple(r[slot] for r in rows))] += 1
        return out


def _indices(value: Any) -> list[tuple[int, ...]]:
    """Every index of the rows of a nested list (all dimensions but the last)."""
    shape = []
    while isinstance(value, list) and value and isinstance(value[0], list):
        shape.append(len(value))
        value = value[0]
    return list(product(*(range(n) for n in shape)))


def _at(value: Any, index: tuple[int, ...]) -> Any:
    for k in index:
        value = value[k]
    return value


@dataclass(frozen=True)
class Observer:
    """An actor computed from the state: ``returned(view, cfg)`` lists ``(source lane, label)``
    of everything it has been returned in the state ``view`` (a concrete state view)."""

    id: str
    lane: Lane
    returned: Callable[[Any, Any], Sequence[tuple[str, str]]]


@dataclass
class Scene:
    """A specification's actors, channels and step events (see the module docstring)."""

    lanes: Callable[[Any], Sequence[Lane]]
    channels: Callable[[Any], Sequence[Channel]]
    event: Callable[[str, dict[str, int], dict, dict, Any], Event]
    observers: Callable[[Any], Sequence[Observer]] = lambda cfg: ()
