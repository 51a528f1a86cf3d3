"""A trace read as a message sequence chart: lanes, one row per step, arrows.

Everything here comes from the trace and the model's scene vocabulary
(deliverycheck/core/scene.py): the step's lane and label, and the messages
the step put on or took off the wire, found by comparing the channels of
the states around it.  Each message becomes one arrow from the step that
sent it to the step that received it, or to the step that lost it; one
its sender had given up on when it arrived is *late*.  When the promise
speaks of an observer the model computes (the downstream reader), its lane
is drawn too, with an arrow at every step that made something visible to
it.  A broken promise's own account of what is wrong in the last state
(``Property.explain``: what is missing, what appears twice) closes the
chart.  The sequence diagram (DOT) and the Mermaid text are both drawn
from a :class:`Flow`, so they always tell the same story.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from deliverycheck.core.scene import Channel, Event, Lane, Msg
from deliverycheck.core.spec import View
from deliverycheck.render.diff import Change, cells
from deliverycheck.render.story import sentence, shows, wrong_at_end
from deliverycheck.trace import Trace


@dataclass
class Arrow:
    """One message: sent at row ``sent`` (0: already in flight when the trace starts)."""

    src: str
    dst: str
    label: str
    sent: int
    ended: int | None = None      # the row that received or lost it; None: still in flight
    fate: str = ""                # "lost" (by the network) or "discarded" (by an actor); "" arrived
    late: bool = False            # it arrived after its sender had given up on it

    @property
    def lost(self) -> bool:
        """Whether the message never reached its receiver."""
        return bool(self.fate)


@dataclass
class Row:
    """One step: its number, what the model says about it, what it changed."""

    n: int
    action: str
    event: Event
    sentence: str
    changes: list[Change]         # what the step changed, except messages (the arrows show those)
    fault: bool
    sends: list[Arrow] = field(default_factory=list)
    ends: list[Arrow] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The step's short label, marked when it is a crash."""
        return ("crash: " if self.event.crash else "") + self.event.label


@dataclass(frozen=True)
class Read:
    """Something an observer (the downstream reader) is returned, made visible at row ``row``."""

    row: int
    src: str
    dst: str
    label: str


@dataclass
class Flow:
    """The chart: used lanes in drawing order, rows, arrows, and what the trace shows."""

    title: str
    lanes: list[Lane]
    rows: list[Row]
    arrows: list[Arrow]
    property: str | None
    promise: str | None
    shows: str          # "violated", "witnessed", "not inductive" or "" (a plain run): story.shows
    reads: list[Read] = field(default_factory=list)
    ending: list[str] = field(default_factory=list)   # what is wrong at the end (Property.explain)

    @property
    def mark(self) -> int | None:
        """The row where the trace shows what it is about (the last step), if any."""
        return self.rows[-1].n if self.rows and self.property else None

    @property
    def mark_text(self) -> str:
        """What the marked row shows, for its label."""
        if self.shows == "witnessed":
            return f"reached: {self.property}"
        return f"broken: {self.property}"


def flow(trace: Trace) -> Flow:
    """Read ``trace`` as a chart (see the module docstring)."""
    system = trace.system
    cfg = system.cfg
    scene = system.spec.scene
    if scene is None:
        raise ValueError(f"specification {system.spec.name!r} declares no scene to draw")
    channels = scene.channels(cfg)
    wire = {name for ch in channels for name in ch.fields}   # drawn as arrows, not listed
    states = [system.schema.shared(s.state) for s in trace.steps]
    pending: dict[tuple, list[Arrow]] = {}
    unresolved: list[tuple[Arrow, Channel, Msg]] = []   # sent with no receiver known yet
    arrows: list[Arrow] = []
    rows: list[Row] = []
    used: set[str] = set()
    for n in range(1, len(trace.steps)):
        step, before, after = trace.steps[n], states[n - 1], states[n]
        ev = scene.event(step.action, step.params, before, after, cfg)
        row = Row(n, step.action, ev, sentence(trace, n),
                  [c for c in cells(trace, n) if c.field not in wire],
                  system.spends_fault(trace.steps[n - 1].state, step.state))
        for ch in channels:
            old, new = ch.messages(before), ch.messages(after)
            for msg, count in (old - new).items():      # taken off the wire
                for _ in range(count):
                    queue = pending.get(msg)
                    if queue:
                        a = queue.pop(0)
                    else:   # on the wire in the first state (a trace from any state)
                        a = _arrow(ch, msg, before, 0)
                        arrows.append(a)
                    a.ended = n
                    if a.dst is None:   # sent while nobody could receive it: its receiver
                        a.dst = ev.lane or a.src
                    if ev.lane is None:
                        a.fate = "lost"
                    elif ev.discards or ev.lane != a.dst:
                        a.fate = "discarded"
                    else:
                        a.late = ev.late
                    row.ends.append(a)
            for msg, count in (new - old).items():      # put on the wire
                for _ in range(count):
                    a = _arrow(ch, msg, after, n)
                    arrows.append(a)
                    pending.setdefault(msg, []).append(a)
                    if a.dst is None:
                        unresolved.append((a, ch, msg))
                    row.sends.append(a)
        rows.append(row)
        if ev.lane is not None:
            used.add(ev.lane)
        used.update(x.peer for x in ev.exchanges)
    for a, ch, (_, index, ident) in unresolved:
        if a.dst is None:   # still in flight at the end: whoever the last state says receives it
            a.dst = ch.dst(index, ident, states[-1]) or a.src
    for a in arrows:
        used.update((a.src, a.dst))
    prop = system.spec.property(trace.property) if trace.property else None
    watched = [o for o in scene.observers(cfg) if prop is not None and o.id in prop.observes]
    reads = _reads(trace, watched)
    used.update(r.dst for r in reads)
    used.update(r.src for r in reads)
    lanes = [lane for lane in [*scene.lanes(cfg), *(o.lane for o in watched)] if lane.id in used]
    unknown = used - {lane.id for lane in lanes}
    if unknown:
        raise ValueError(f"the scene uses lanes it does not declare: {', '.join(sorted(unknown))}")
    what = shows(trace)
    promise = system.spec.property(trace.property).summary if trace.property else None
    title = f"{cfg.mode.name} / {cfg.variant.name}" + (f": {trace.property} is {what}" if what else "")
    return Flow(title, lanes, rows, arrows, trace.property, promise, what, reads, wrong_at_end(trace))


def _reads(trace: Trace, observers) -> list[Read]:
    """For each step, what it made visible to each observer (new items, as a multiset)."""
    if not observers:
        return []
    system = trace.system
    out = []
    for o in observers:
        seen = Counter(o.returned(View(system.schema, list(trace.steps[0].state)), system.cfg))
        for n in range(1, len(trace.steps)):
            now = Counter(o.returned(View(system.schema, list(trace.steps[n].state)), system.cfg))
            for src, label in sorted((now - seen).elements()):
                out.append(Read(n, src, o.lane.id, label))
            seen = now
    return out


def _arrow(ch: Channel, msg: Msg, state: dict, sent: int) -> Arrow:
    """The arrow of message ``msg`` of channel ``ch``, sent at row ``sent``, read in ``state``."""
    _, index, ident = msg
    return Arrow(ch.src(index, ident, state), ch.dst(index, ident, state), ch.label(index, ident, state), sent)

