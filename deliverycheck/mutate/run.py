"""Checking mutants: each through the searches verify runs for its mode, judged as verify judges.

A mode's searches are verify's default plan for it (the mode with each
variant that runs with it, at default bounds).  For each search the model
is lowered once with origins, its mutants found (:mod:`.sites`) and all of
them compiled into one native module behind switches (:mod:`.rewrite`).
The module with switch 0 is the model as written: that *baseline* must
match expected.toml, or there is nothing to measure against.

A mutant runs in each search where it occurs, in plan order, until one
kills it.  Its verdicts and figures are compared with expected.toml by
:func:`deliverycheck.verify.judge`, the very comparison verify makes, so a
mutant is classified by what the gate would say:

* ``killed``: a promise or witness verdict differs (which, with the trace
  when the mutant has one), or the model stops (a value out of range);
* ``killed-by-figure``: every verdict matches, but a pinned figure (the
  state count, the depth, a shortest trace's length, the actions that never
  fire) differs;
* ``survived``: everything verify compares matches, yet the mutant behaves
  differently: the search ran each changed step also as the model has it,
  and names the first reachable state whose successors differ;
* ``equivalent``: in every search, every reachable state has exactly the
  model's successors (and blocks a step exactly where the model does), so
  by induction both have the same reachable state graph (decided, not
  guessed; a step may be taken by another instance of an action, as when
  a parameter only names what the state already says);
* ``undecided``: a search hit the per-mutant limits before any of the above
  could be told (never counted as killed or survived).
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from deliverycheck import trace as tr
from deliverycheck.core.ranges import Overflow
from deliverycheck.core.system import FULL, System
from deliverycheck.engines.explore import Limits
from deliverycheck.errors import UsageError
from deliverycheck.render.story import story

from .rewrite import MutantSystem, SwitchedSystem, key_path, key_touched
from .sites import Finder, Key, Mutant, Occurrence

STATUSES = ("killed", "killed-by-figure", "survived", "equivalent", "undecided", "error")
THREADS = 1            # one search thread per worker: workers are the unit of parallelism
STATE_FACTOR = 8       # a mutant's search stops at this many times the model's states
MIN_STATES = 100_000


@dataclass
class Prepared:
    """One search of a mode, ready to run any of its mutants."""

    mode: str
    variant: str
    system: System
    lowered: list
    found: dict[Key, Occurrence]
    switched: SwitchedSystem
    native: Any
    properties: list
    expected: Any
    paths: dict[int, list]
    states: int = 0            # the model's, from the baseline run
    ids: dict[Key, int] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one mutant did: its class, why, and what shows it (plain data: it crosses processes)."""

    id: int
    status: str
    search: str = ""                  # mode/variant that decided it
    reasons: list[str] = field(default_factory=list)
    property: str | None = None       # the property whose verdict changed first
    trace: str | None = None          # ITF of the mutant's counterexample or witness
    story: str | None = None
    difference: dict | None = None    # survived: the first step unlike the model's
    states: dict[str, int] = field(default_factory=dict)   # per search: the mutant's states
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The outcome as JSON-ready data (docs/mutation.md, "JSON")."""
        return {k: v for k, v in self.__dict__.items()}


def searches_of(mode: str) -> list[tuple[str, str]]:
    """verify's default plan for ``mode``: (mode, variant) pairs."""
    from deliverycheck.model import VARIANTS
    from deliverycheck.verify import plan
    return plan([mode], list(VARIANTS), False)


def lay_out(mode: str, variant: str, expectations: Any, model_dir: Any,
            finder: Finder | None = None) -> Prepared:
    """The model of one search lowered, its mutants found and put behind switches (not built)."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    cfg = Config(MODES[mode], VARIANTS[variant], for_mode(MODES[mode], VARIANTS[variant]))
    system = System(SPEC, cfg)
    finder = finder or Finder(model_dir)
    lowered = finder.lower_all(system)
    found = finder.find(system, lowered)
    keys = sorted(found)
    ids = {k: i + 1 for i, k in enumerate(keys)}   # this search's switches (not the mode's ids)
    at_node: dict[int, list] = {}
    at_cell: dict[int, dict[int, list[int]]] = {}
    for key in keys:
        for j, nodes in found[key].nodes.items():
            if key.kind == "drop-update":
                for i in nodes:
                    at_cell.setdefault(j, {}).setdefault(i, []).append(ids[key])
            else:
                for n in nodes:
                    at_node.setdefault(id(n), []).append((ids[key], key))
    switched = SwitchedSystem(system, lowered, at_node, at_cell)
    props = [p for p in SPEC.properties if p.applies(cfg)]
    expected = expectations.find(MODES[mode], variant, cfg.bounds)
    paths = {j: key_path(low.guard) for j, low in enumerate(lowered) if low is not None}
    return Prepared(mode, variant, system, lowered, found, switched, None, props, expected, paths,
                    ids=ids)


def build(prep: Prepared, baseline: bool = True) -> Prepared:
    """Build (or load from the cache) the native module of a search laid out by :func:`lay_out`;
    with ``baseline``, check that switch 0 is the model as expected.toml has it."""
    from deliverycheck.native.search import load
    prep.native = load(prep.switched, prep.properties)
    _signatures(prep.native.lib)
    mode, variant = prep.mode, prep.variant
    if baseline:
        out = _run(prep, None, Limits())
        if out.status != "equivalent":
            raise UsageError(f"{mode}/{variant} does not match expected.toml as written "
                             f"({'; '.join(out.reasons) or out.status}); run `deliverycheck verify "
                             f"--mode {mode}` and fix that first")
        prep.states = out.states[f"{mode}/{variant}"]
    return prep


def _signatures(lib: Any) -> None:
    i32p = ctypes.POINTER(ctypes.c_int32)
    lib.dc_set_mutant.restype = None
    lib.dc_set_mutant.argtypes = [ctypes.c_int, ctypes.c_int, i32p, ctypes.c_int, i32p]


def mutants_of(prepared: Sequence[Prepared], finder: Finder) -> list[Mutant]:
    """A mode's mutants: the union over its searches, ordered by key, numbered from 1.

    The numbers do not depend on which mutants a run selects, so M17 of a
    mode is the same change in every run of the same model.
    """
    keys = sorted({k for p in prepared for k in p.found})
    out = []
    for i, key in enumerate(keys, 1):
        text, change = finder.texts[key]
        out.append(Mutant(i, key, text, change, sorted(finder.actions.get(key, ()))))
    return out


def check(prepared: Sequence[Prepared], mutant: Mutant, max_seconds: float | None = None) -> Outcome:
    """Run ``mutant`` through the searches where it occurs, in order, until one kills it."""
    start = time.perf_counter()
    order = {"killed": 0, "killed-by-figure": 1, "undecided": 2, "survived": 3, "equivalent": 4}
    best: Outcome | None = None
    states: dict[str, int] = {}
    # the smallest searches first: most mutants are killed in the first search that has them
    for prep in sorted(prepared, key=lambda p: p.states):
        if mutant.key not in prep.found:
            continue
        limits = Limits(max_states=max(STATE_FACTOR * prep.states, MIN_STATES), max_seconds=max_seconds)
        out = _run(prep, mutant.key, limits)
        states.update(out.states)
        if best is None or order[out.status] < order[best.status]:
            best = out
        if out.status == "killed":
            break
    assert best is not None   # every mutant occurs in some search of its mode
    best.id, best.states, best.seconds = mutant.id, states, time.perf_counter() - start
    return best


def _run(prep: Prepared, key: Key | None, limits: Limits) -> Outcome:
    """One search of one mutant (``key``; None: the model as written)."""
    from deliverycheck.native.search import run_search
    from deliverycheck.verify import judge
    lib, name = prep.native.lib, f"{prep.mode}/{prep.variant}"
    if key is None:
        touched, rekey, switch, system = [], [], 0, prep.system
    else:
        occ = prep.found[key]
        touched = sorted(occ.nodes)
        rekey = [j for j in touched if key_touched(prep.system, prep.paths[j], key, occ.nodes[j])]
        switch = prep.ids[key]
        system = MutantSystem(prep.system, prep.lowered, key, occ.nodes)
    arr = (ctypes.c_int32 * max(1, len(touched)))(*touched)
    rarr = (ctypes.c_int32 * max(1, len(rekey)))(*rekey)
    lib.dc_set_mutant(switch, len(touched), arr, len(rekey), rarr)
    expected = prep.expected
    kept = {p.name for p in prep.properties
            if expected is not None and expected.verdicts.get(p.name) in ("holds", "unreachable")}
    slots = prep.native.module.predicates
    seen: dict[str, Any] = {}

    def watch(search: Any, final: bool) -> str | None:
        if final:
            seen["divergence"] = search.divergence()
            return None
        found = search.counters()[3]
        if any(at >= 0 and name in kept for name, at in zip(slots, found)):
            return "a verdict differs from expected.toml"
        return None

    try:
        ex = run_search(prep.native, system, prep.properties, limits, None, time.perf_counter(),
                        "exact", THREADS, watch=watch)
    except Overflow as e:
        return Outcome(0, "killed", name, [f"the model stops: {e}"], states={name: 0})
    # lengths only: the trace of the one verdict that kills is built below
    results, figures, _ = judge(system, ex, prep.properties, expected, None, traces=False)
    out = Outcome(0, "equivalent", name, states={name: ex.states})
    if ex.complete:
        verdicts = [r for r in results if r.differs]
        figures = figures + [f"{r.property}: {f}" for r in results for f in r.figures]
    else:
        verdicts = [r for r in results if r.length is not None and r.differs]
    if verdicts:
        out.status = "killed"
        out.reasons = [f"{r.property}: {r.verdict}, expected {r.expected}" for r in verdicts]
        first = next((r for r in verdicts if r.length is not None), verdicts[0])
        out.property = first.property
        if first.length is not None:
            shown = tr.from_path(system, ex.path(ex.violations[first.property]), property=first.property,
                                 verdict=first.verdict, meta={"mutant": {"file": key.file, "line": key.line, "kind": key.kind,
                                                "detail": list(key.detail)}} if key else {})
            out.trace, out.story = tr.dumps(shown), told(shown)
        return out
    if not ex.complete:
        pinned = expected.states if expected is not None else None
        if pinned is not None and ex.states > pinned:
            out.status = "killed-by-figure"
            out.reasons = [f"over {ex.states:,} distinct states when its search stopped "
                           f"({ex.stop_reason}), expected {pinned:,}"]
        else:
            out.status = "undecided"
            out.reasons = [f"search stopped early: {ex.stop_reason}"]
        return out
    if figures:
        out.status, out.reasons = "killed-by-figure", figures
        return out
    div = seen.get("divergence")
    if div is not None:
        out.status = "survived"
        out.difference = difference(prep, system, key, ex, div)
        out.reasons = [out.difference["summary"]]
    return out


def told(trace: Any) -> str:
    """The story of a mutant's trace; where the model's sentences cannot tell a mutant's step
    (a state the model never reaches), each step as the cells it changed."""
    try:
        return story(trace)
    except Exception:  # noqa: BLE001 - the tellers are written for the model's own states
        names = trace.system.schema
        lines = []
        for n, (a, b) in enumerate(zip(trace.steps, trace.steps[1:]), 1):
            cells = ", ".join(f"{names.cell_name(i)} {x} -> {y}"
                              for i, (x, y) in enumerate(zip(a.state, b.state)) if x != y)
            args = ", ".join(f"{k}={v}" for k, v in b.params.items())
            lines.append(f"{n}. {b.action}({args}): {cells}")
        return "\n".join(lines) + "\n"


def difference(prep: Prepared, system: MutantSystem, key: Key, ex: Any,
               div: tuple[int, int, int, int]) -> dict:
    """The first reachable state whose successors differ between the mutant and the model, told:
    the steps that lead there (the same in both) and the successors only one of them has."""
    at = div[0]
    path = ex.path(at)
    trace = tr.from_path(system, path)   # every state before this one steps alike in both
    state = trace.last_state()
    touched = set(prep.found[key].nodes)
    model: dict[Any, list[str]] = {}
    mutant: dict[Any, list[str]] = {}
    for j, inst in enumerate(prep.system.instances):
        if prep.lowered[j] is None:
            continue
        theirs = prep.system.step(state, j)
        mine = system.step(state, j) if j in touched else theirs
        for got, into in ((theirs, model), (mine, mutant)):
            if got is not None:
                into.setdefault("blocked" if got is FULL else got, []).append(inst.label())
    names = prep.system.schema

    def cells(a: bytes, b: bytes) -> str:
        return ", ".join(f"{names.cell_name(i)} {x} -> {y}" for i, (x, y) in enumerate(zip(a, b)) if x != y)

    def step_text(succ: Any, labels: list[str]) -> str:
        if succ == "blocked":
            return f"{labels[0]}, blocked by a capacity bound"
        return f"{labels[0]} ({cells(state, succ)})"

    only_mutant = {k: v for k, v in mutant.items() if k not in model}
    only_model = {k: v for k, v in model.items() if k not in mutant}
    n = len(path)
    lead = f"after {n} step{'s' * (n != 1)}"
    pairs = [(a, b) for a in only_model for b in only_mutant
             if a != "blocked" and b != "blocked" and model[a][0] == mutant[b][0]]
    if len(only_model) == len(only_mutant) == 1 and pairs:
        a, b = pairs[0]
        summary = (f"{lead}, {model[a][0]} writes "
                   + "; ".join(f"{names.cell_name(i)} = {x} in the model, {y} in the mutant"
                               for i, (x, y) in enumerate(zip(a, b)) if x != y))
    else:
        parts = []
        if only_mutant:
            parts.append("only the mutant takes " + "; ".join(step_text(k, v) for k, v in only_mutant.items()))
        if only_model:
            parts.append("only the model takes " + "; ".join(step_text(k, v) for k, v in only_model.items()))
        summary = f"{lead}, " + (", and ".join(parts) or "the successors differ")
    only_mutant_told = [step_text(k, v) for k, v in only_mutant.items()]
    only_model_told = [step_text(k, v) for k, v in only_model.items()]
    return {"summary": summary, "steps": n, "only_mutant": only_mutant_told, "only_model": only_model_told,
            "story": told(trace) if path else "", "search": f"{prep.mode}/{prep.variant}"}


__all__ = ["Outcome", "Prepared", "STATUSES", "build", "check", "lay_out", "mutants_of", "searches_of"]
