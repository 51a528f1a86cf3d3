"""Replaying a saved trace: does it still run, and what does it break?

A trace file (ITF JSON, from any engine) names its mode, variant and
bounds; :func:`replay_file` rebuilds that system, replays every step
through the interpreted model and judges every property on the way:

* an ``always`` property is broken at the first state where it is false;
* a ``final`` or ``progress`` property is broken when the trace ends in a
  terminal state (no action enabled) where it is false - from a terminal
  state nothing else is reachable;
* the ``progress`` property the trace was saved for is also broken when
  no run from its last state that spends no fault reaches a state where
  it holds: the explorer's counterexample ends at the first such state,
  and replaying searches those runs again (:func:`deliverycheck.engines.graph.recovers`; the other
  progress properties are judged at a terminal end only, as each search
  costs time);
* a ``sometimes`` property is reached at the first state where it is true.

This is what ``deliverycheck replay`` prints and what the regression tests
(tests/regressions/) check after a protocol change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deliverycheck import trace as tr
from deliverycheck.catalog import SPEC
from deliverycheck.core.system import System
from deliverycheck.engines.graph import recovers
from deliverycheck.errors import not_a_file
from deliverycheck.model import MODES, VARIANTS, Bounds, Config, Mode, Variant


RECOVERY_STATES = 2_000_000   # a replay's search for a fault-free recovery stops here


class TraceFileError(Exception):
    """The file is not a trace this tool can read (the message says why)."""


@dataclass
class Judgement:
    """What a replayed trace shows about one property."""

    property: str
    kind: str
    step: int        # the step (0 = initial state) where it breaks or is reached


@dataclass
class Replayed:
    """A trace that replayed, and the properties it breaks and reaches."""

    trace: tr.Trace
    broken: list[Judgement]
    reached: list[Judgement]

    @property
    def recorded(self) -> str | None:
        """The property the trace was saved for (its ITF meta), if any."""
        return self.trace.property

    def breaks(self, name: str) -> bool:
        """Whether the trace breaks property ``name``."""
        return any(j.property == name for j in self.broken)

    def shows_recorded(self) -> bool:
        """Whether it still shows what it was saved for: breaks the property, or
        reaches it for a witness (True when no property is recorded)."""
        rec = self.recorded
        if rec is None:
            return True
        if SPEC.property(rec).kind == "sometimes":
            return any(j.property == rec for j in self.reached)
        return self.breaks(rec)


def system_of(doc: dict) -> System:
    """The system a trace document was made in (mode, variant and bounds from its meta; a mode
    or variant built from a configuration file from its knobs)."""
    meta = doc.get("#meta") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or "mode" not in meta:
        raise TraceFileError("not a deliverycheck trace: its #meta names no mode")
    mode, variant = meta.get("mode"), meta.get("variant", "current")
    try:
        m = _row(Mode, meta["mode_knobs"]) if "mode_knobs" in meta else None
        v = _row(Variant, meta["variant_knobs"]) if "variant_knobs" in meta else None
    except (TypeError, ValueError) as e:
        raise TraceFileError(f"the trace's mode or variant knobs are not valid: {e}") from None
    if m is None and mode not in MODES:
        raise TraceFileError(f"the trace's mode {mode!r} is not one of: {', '.join(MODES)}")
    if v is None and variant not in VARIANTS:
        raise TraceFileError(f"the trace's variant {variant!r} is not one of: {', '.join(VARIANTS)}")
    try:
        bounds = Bounds(**meta.get("bounds", {}))
    except (TypeError, ValueError) as e:
        raise TraceFileError(f"the trace's bounds are not valid: {e}") from None
    return System(SPEC, Config(m or MODES[mode], v or VARIANTS[variant], bounds))


def _row(kind: type, knobs: Any) -> Any:
    """A mode or variant row from its knobs in JSON (lists back to tuples)."""
    def tuples(x: Any) -> Any:
        return tuple(tuples(y) for y in x) if isinstance(x, list) else x
    if not isinstance(knobs, dict):
        raise TypeError("knobs must be an object")
    return kind(**{k: tuples(v) for k, v in knobs.items()})


def load_doc(path: str | Path) -> dict:
    """The JSON document in ``path``, with one-line errors for a missing, broken or empty file."""
    p = Path(path)
    why = not_a_file(p)
    if why:
        raise TraceFileError(f"trace file {str(p)!r} {why}")
    try:
        doc = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TraceFileError(f"{str(p)!r} is not a JSON trace file: {e}") from None
    if not isinstance(doc, dict):
        raise TraceFileError(f"{str(p)!r} is not a trace file: it holds no JSON object")
    states = doc.get("states")
    if not isinstance(states, list) or not states:
        raise TraceFileError(f"trace file {str(p)!r} has no states (an ITF trace lists at least "
                             "the initial state under \"states\")")
    return doc


def replay_file(path: str | Path) -> Replayed:
    """Replay the trace in ``path``; :class:`trace.ReplayError` when a step no longer runs."""
    doc = load_doc(path)
    system = system_of(doc)
    return judge(tr.from_itf(doc, system))


def rerecord(path: str | Path) -> int:
    """Take the trace's steps again in the current model and rewrite the file; the step count.

    For a model change that adds, drops or renames state fields (a new
    history field, say), after which the trace no longer replays: it keeps
    its actions and their parameters, its configuration, the property and
    verdict it was saved for and a saved history's title and ``about``, and
    gets every state anew from the model.  ``ReplayError`` (the step) when
    an action is gone or no longer enabled: then the case must be found
    again.
    """
    p = Path(path)
    doc = load_doc(p)
    system = system_of(doc)
    index = {(i.name, tuple(sorted(i.args.items()))): j for j, i in enumerate(system.instances)}
    steps = []
    for n, st in enumerate(doc["states"][1:], 1):
        m = st.get("#meta", {}) if isinstance(st, dict) else {}
        key = (m.get("action"), tuple(sorted(dict(m.get("params", {})).items())))
        if key not in index:
            raise tr.ReplayError(f"step {n}: this model has no action {key[0]} with {dict(key[1])}")
        steps.append(index[key])
    meta = doc["#meta"]
    trace = tr.from_path(system, steps, property=meta.get("property"), verdict=meta.get("verdict"),
                         meta={k: meta[k] for k in ("history", "about") if k in meta})
    p.write_text(tr.dumps(trace))
    return len(trace)


def judge(trace: tr.Trace) -> Replayed:
    """The properties ``trace`` breaks and the witnesses it reaches (see the module docstring)."""
    system = trace.system
    broken, reached = [], []
    last = len(trace)
    terminal = system.terminal(trace.last_state())
    for p in system.properties:
        pred = system.predicate(p)
        step = next((n for n, s in enumerate(trace.steps)
                     if p.shown_by(pred(s.state), terminal and n == last)), None)
        if (step is None and p.kind == "progress" and p.name == trace.property
                and not recovers(system, trace.last_state(), pred, RECOVERY_STATES)):
            step = last
        if step is not None:
            (reached if p.kind == "sometimes" else broken).append(Judgement(p.name, p.kind, step))
    return Replayed(trace, broken, reached)

