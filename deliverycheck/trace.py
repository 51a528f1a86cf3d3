"""The one trace format: steps of (action, parameters, full state), as ITF JSON.

Every engine reports its findings as a :class:`Trace`; every trace is
replayed through the *interpreted* concrete model (``System.step``, not the
compiled code the explorer ran) before it is reported, so a trace is
evidence, not a claim.  Serialisation follows the Informal Trace Format of
Apalache and Quint (ADR-015): ``vars``, ``states``, integers as
``{"#bigint": "n"}``; the action and its parameters sit in each state's
``#meta``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields as dataclass_fields
from pathlib import Path
from typing import Any, Sequence

from deliverycheck.core.compile import FULL
from deliverycheck.core.system import System
from deliverycheck.errors import ReplayError

ITF_FORMAT = "https://apalache-mc.org/docs/adr/015adr-trace.html"
# ITF meta "start" of a counterexample to induction (absent: the initial state)
ARBITRARY_START = "any state satisfying the invariant (counterexample to induction)"


@dataclass
class Step:
    """One step: the action instance taken (None for the initial state) and the state after it."""

    action: str | None
    params: dict[str, int]
    state: bytes


@dataclass
class Trace:
    """A run of one system, with what it shows (a violation or a witness)."""

    system: System
    steps: list[Step]
    property: str | None = None
    verdict: str | None = None   # "violated" (counterexample) or "reached" (witness; "holds" in older files)
    meta: dict[str, Any] = field(default_factory=dict)
    from_init: bool = True       # False: a counterexample to induction, from any state

    def __len__(self) -> int:
        """Number of actions taken (the initial state is not a step)."""
        return len(self.steps) - 1

    def last_state(self) -> bytes:
        """The state the trace ends in."""
        return self.steps[-1].state


def from_path(system: System, path: Sequence[int], start: bytes | None = None, **kw: Any) -> Trace:
    """The trace that takes the action instances ``path`` from the initial state.

    With ``start``, from that state instead: a counterexample to induction
    begins in a state that satisfies the invariant but need not be reachable.
    """
    state = system.init if start is None else system.schema.check(start)
    steps = [Step(None, {}, state)]
    for j in path:
        nxt = system.compiled[j](state)
        if nxt is None or nxt is FULL:
            raise ReplayError(f"step {len(steps)}: {system.instances[j].label()} is not enabled")
        inst = system.instances[j]
        steps.append(Step(inst.name, inst.args, nxt))
        state = nxt
    return replay(Trace(system, steps, from_init=start is None, **kw))


def replay(trace: Trace) -> Trace:
    """Check ``trace`` step by step with the interpreted model; return it.

    The first state must be the initial state (unless the trace is a
    counterexample to induction); each step must be an enabled action
    instance whose successor is exactly the next state.
    """
    system = trace.system
    if trace.from_init and trace.steps[0].state != system.init:
        raise ReplayError("the trace does not start in the initial state")
    index = {(i.name, tuple(sorted(i.args.items()))): j for j, i in enumerate(system.instances)}
    for n, (prev, step) in enumerate(zip(trace.steps, trace.steps[1:]), 1):
        j = index.get((step.action, tuple(sorted(step.params.items()))))
        if j is None:
            raise ReplayError(f"step {n}: no action instance {step.action}{step.params}")
        nxt = system.step(prev.state, j)
        if nxt is None:
            raise ReplayError(f"step {n}: {system.instances[j].label()} is not enabled")
        if nxt is FULL:
            raise ReplayError(f"step {n}: {system.instances[j].label()} exceeds a capacity bound")
        if nxt != step.state:
            diff = [system.schema.cell_name(i) for i, (a, b) in enumerate(zip(nxt, step.state)) if a != b]
            raise ReplayError(f"step {n}: {system.instances[j].label()} gives a different state "
                              f"(differs in {', '.join(diff[:5])})")
    return trace


# -- ITF ----------------------------------------------------------------------

def _itf_value(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    return [_itf_value(x) for x in v]


def _plain(v: Any) -> Any:
    if isinstance(v, dict) and "#bigint" in v:
        return int(v["#bigint"])
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, (bool, int)):
        return v
    raise ValueError(f"unsupported ITF value {v!r}")


def knobs_meta(cfg: Any) -> dict[str, Any]:
    """A mode or variant that is not the named row of its name (one built from a configuration
    file, deliverycheck.config) as its knobs, so that the trace can be replayed."""
    from dataclasses import asdict
    from deliverycheck.model import MODES, VARIANTS
    out = {}
    if MODES.get(cfg.mode.name) != cfg.mode:
        out["mode_knobs"] = asdict(cfg.mode)
    if VARIANTS.get(cfg.variant.name) != cfg.variant:
        out["variant_knobs"] = asdict(cfg.variant)
    return out


def to_itf(trace: Trace) -> dict[str, Any]:
    """The trace as an ITF JSON document (a dict)."""
    schema = trace.system.schema
    cfg = trace.system.cfg
    meta = {
        "format": "ITF",
        "format-description": ITF_FORMAT,
        "source": "deliverycheck",
        "mode": cfg.mode.name,
        "variant": cfg.variant.name,
        **knobs_meta(cfg),
        "bounds": dict(vars(cfg.bounds)),
        **({"property": trace.property} if trace.property else {}),
        **({"verdict": trace.verdict} if trace.verdict else {}),
        **({} if trace.from_init else {"start": ARBITRARY_START}),
        **trace.meta,
    }
    states = []
    for i, step in enumerate(trace.steps):
        m: dict[str, Any] = {"index": i}
        if step.action is not None:
            m["action"] = step.action
            m["params"] = dict(step.params)
        values = schema.shared(step.state)
        states.append({"#meta": m, **{k: _itf_value(v) for k, v in values.items()}})
    return {"#meta": meta, "vars": [f.name for f in schema.fields], "states": states}


def dumps(trace: Trace) -> str:
    """ITF JSON text, deterministic (sorted meta, fixed layout).

    The text is exactly ``json.dumps(to_itf(trace), indent=1)``; it is
    written by :func:`_indented`, because with an indent ``json`` uses its
    pure-Python encoder, which took a tenth of a ``verify`` run.
    """
    out: list[str] = []
    _indented(to_itf(trace), "\n", out, {})
    return "".join(out) + "\n"


def _indented(v: Any, nl: str, out: list[str], bigints: dict[tuple[str, str], str]) -> None:
    """Append ``v`` as ``json.dumps(v, indent=1)`` lays it out at the line start ``nl``.

    ``bigints`` keeps the text of each ITF integer seen at each depth: most
    of a trace is those.
    """
    if isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        if len(v) == 1 and "#bigint" in v:
            key = (v["#bigint"], nl)
            text = bigints.get(key)
            if text is None:
                text = bigints[key] = f'{{{nl} "#bigint": {json.dumps(v["#bigint"])}{nl}}}'
            out.append(text)
            return
        inner = nl + " "
        sep = "{" + inner
        for k, x in v.items():
            out.append(f"{sep}{json.dumps(k)}: ")
            _indented(x, inner, out, bigints)
            sep = "," + inner
        out.append(nl + "}")
    elif isinstance(v, list):
        if not v:
            out.append("[]")
            return
        inner = nl + " "
        sep = "[" + inner
        for x in v:
            out.append(sep)
            _indented(x, inner, out, bigints)
            sep = "," + inner
        out.append(nl + "]")
    else:
        out.append(json.dumps(v))


def from_itf(doc: dict[str, Any], system: System) -> Trace:
    """Read an ITF document written by :func:`to_itf` for ``system`` (then replay it)."""
    names = [f.name for f in system.schema.fields]
    if doc.get("vars") != names:
        raise ReplayError("the trace's variables do not match this model's state fields")
    meta = doc.get("#meta", {})
    cfg = system.cfg
    for key, mine in (("mode", cfg.mode.name), ("variant", cfg.variant.name),
                      ("bounds", dict(vars(cfg.bounds)))):
        if key == "bounds" and isinstance(meta.get(key), dict):
            # a bound added after the trace was made had its default value then
            unset = {f.name: f.default for f in dataclass_fields(cfg.bounds)}
            mine = {k: v for k, v in mine.items() if k in meta[key] or v != unset.get(k)}
        if key in meta and meta[key] != mine:
            raise ReplayError(f"the trace was made with {key} {meta[key]}, not {mine}; "
                              "replay it in the configuration it was made in")
    steps = []
    try:
        for st in doc["states"]:
            m = st.get("#meta", {})
            values = {k: _plain(st[k]) for k in names}
            steps.append(Step(m.get("action"), dict(m.get("params", {})), system.schema.encode(values)))
    except (KeyError, TypeError, ValueError) as e:
        raise ReplayError(f"state {len(steps)} does not fit this model's state: {e}") from None
    return replay(Trace(system, steps, meta.get("property"), meta.get("verdict"),
                        from_init=meta.get("start") != ARBITRARY_START))


def load(path: str | Path, system: System) -> Trace:
    """Read and replay an ITF file."""
    return from_itf(json.loads(Path(path).read_text()), system)
