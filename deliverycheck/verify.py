"""Verification runs: one exhaustive search per mode x variant, all properties at once.

This is the layer between the CLI and the engines: it builds the system,
runs the explorer (:func:`run`) or bounded model checking (:func:`run_smt`),
turns what it found into verdicts, rebuilds and replays every trace, writes
the trace files and compares with expected.toml.

Verdicts (DESIGN.md, principle 7):

* ``always`` / ``final``: ``violated`` with a shortest counterexample, else
  ``holds`` when the search was complete, else ``incomplete``;
* ``sometimes``: ``holds`` with a shortest witness, else ``violated``
  (unreachable) when the search was complete, else ``incomplete``;
* with bounded model checking, ``bounded``: nothing found in histories of
  up to ``depth`` steps (a violation deeper down is not ruled out), unless
  no history is that long, which makes the search exhaustive;
* with the stateful engine, ``sampled``: nothing found in the random
  histories it ran (no proof of anything); its counterexamples are short
  (shrunk, 1-minimal) but not necessarily shortest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from deliverycheck import trace as tr
from deliverycheck.catalog import SPEC
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.engines.explore import Exploration, Limits, explore
from deliverycheck.engines.smt import BMCResult, bmc
from deliverycheck.engines.stateful import Budget, StatefulResult, hunt
from deliverycheck.expected import Expected
from deliverycheck.model import Bounds, Config
from deliverycheck.render.story import story


@dataclass
class Result:
    """The verdict on one mode x variant x property."""

    mode: str
    variant: str
    property: str
    kind: str
    verdict: str                 # holds | violated | incomplete | bounded
    expected: str | None
    states: int | None           # None for bounded model checking, which counts no states
    depth: int                   # trace length when a trace exists, else search depth
    seconds: float
    length: int | None = None    # counterexample / witness length
    expected_length: int | None = None
    trace: str | None = None     # ITF file of the counterexample (or witness)
    story: str | None = None
    problems: list[str] = field(default_factory=list)
    shown: tr.Trace | None = field(default=None, repr=False)   # the trace itself, for pictures

    @property
    def matches(self) -> bool:
        return not self.problems


@dataclass
class Run:
    """One mode x variant: the search and the verdicts it gave."""

    mode: str
    variant: str
    exploration: Exploration | None   # the explorer's search (engine "explore")
    results: list[Result]
    problems: list[str]          # differences not tied to one property (state counts)
    warnings: list[str]
    bounds: Bounds
    expected: bool = True        # expected.toml lists this mode x variant
    bmc: BMCResult | None = None  # the bounded search (engine "smt")
    stateful: StatefulResult | None = None  # the random search (engine "stateful")

    @property
    def engine(self) -> str:
        """Which engine made this run: ``explore``, ``smt`` or ``stateful``."""
        return "smt" if self.bmc is not None else "stateful" if self.stateful else "explore"

    @property
    def stop_reason(self) -> str | None:
        """Why the search stopped early (None when it ran to its end)."""
        return (self.bmc or self.stateful or self.exploration).stop_reason  # type: ignore[union-attr]

    @property
    def matches(self) -> bool:
        return not self.problems and all(r.matches for r in self.results)


def run(cfg: Config, properties: Sequence[Property], expected: Expected | None,
        out: Path | None, limits: Limits | None = None, progress: bool | None = None) -> Run:
    """Check ``properties`` in ``cfg`` and compare with ``expected``."""
    system = System(SPEC, cfg)
    properties = [p for p in properties if p.applies(cfg)]
    ex = explore(system, properties, limits, progress=progress)
    pinned = cfg.default_bounds
    folder = out / cfg.mode.name / cfg.variant.name if out else None
    if folder:
        _clear(folder)
    results = [_result(system, ex, p, expected, pinned, folder) for p in properties]
    problems, warnings = [], []
    if expected and pinned and ex.complete:
        if expected.states is not None and expected.states != ex.states:
            problems.append(f"{ex.states:,} distinct states, expected {expected.states:,}")
        if expected.depth is not None and expected.depth != ex.depth:
            problems.append(f"search depth {ex.depth}, expected {expected.depth}")
    if not ex.complete:
        warnings.append(f"search stopped early: {ex.stop_reason}")
    for name in ex.undecided:
        warnings.append(f"{name} is incomplete: it fails only where a capacity bound cut the "
                        "search short; raise the capacities to decide it")
    never = ex.coverage.never_fired()
    if never and ex.complete:
        warnings.append("actions that never fired: " + ", ".join(never))
    if ex.coverage.blocked:
        warnings.append("capacity bounds reached (raise them with --bound): " + ", ".join(
            f"{a} blocked {n:,} times" for a, n in sorted(ex.coverage.blocked.items()))
            + f"; {ex.truncated:,} states truncated")
    return Run(cfg.mode.name, cfg.variant.name, ex, results, problems, warnings, cfg.bounds,
               expected is not None)


def _result(system: System, ex: Exploration, prop: Property, expected: Expected | None,
            pinned: bool, folder: Path | None) -> Result:
    idx = ex.violations.get(prop.name)
    path = ex.path(idx) if idx is not None else None
    if path is None and (not ex.complete or prop.name in ex.undecided):
        verdict = "incomplete"
    else:
        verdict = _found_or_not(prop, path is not None)
    return _finish(system, prop, verdict, path, expected, pinned, folder,
                   states=ex.states, depth=ex.depth, seconds=ex.seconds)


def _found_or_not(prop: Property, found: bool) -> str:
    """The verdict of a complete search: a trace breaks ``always``/``final`` and shows ``sometimes``."""
    return ("holds" if prop.kind == "sometimes" else "violated") if found else \
        ("violated" if prop.kind == "sometimes" else "holds")


def _finish(system: System, prop: Property, verdict: str, path: Sequence[int] | None,
            expected: Expected | None, pinned: bool, folder: Path | None,
            states: int | None, depth: int, seconds: float, meta: dict | None = None) -> Result:
    """Rebuild, replay and write the trace of ``path``; compare with the expectation."""
    cfg = system.cfg
    trace = None
    if path is not None:
        trace = tr.from_path(system, path, property=prop.name, verdict=verdict, meta=meta or {})
        _confirm(system, prop, trace)
    exp = expected.verdicts.get(prop.name) if expected else None
    exp_len = expected.lengths.get(prop.name) if expected and pinned else None
    r = Result(cfg.mode.name, cfg.variant.name, prop.name, prop.kind, verdict, exp,
               states, len(trace) if trace else depth, seconds,
               length=len(trace) if trace else None, expected_length=exp_len)
    if trace is not None and folder is not None:
        sub = folder if verdict == "violated" else folder / "witnesses"
        sub.mkdir(parents=True, exist_ok=True)
        itf = sub / f"{prop.name}.itf.json"
        itf.write_text(tr.dumps(trace))
        (sub / f"{prop.name}.story.txt").write_text(story(trace))
        r.trace, r.story = str(itf), str(sub / f"{prop.name}.story.txt")
    r.shown = trace
    if exp is None and expected is not None:
        r.problems.append("no expected verdict in expected.toml")
    elif verdict == "bounded":
        # consistent unless the expected trace is short enough to have been found
        broken = exp == ("holds" if prop.kind == "sometimes" else "violated")
        if broken and exp_len is not None and exp_len <= depth:
            r.problems.append(f"nothing found up to depth {depth}, but the expected shortest "
                              f"trace has {exp_len} steps")
    elif verdict == "sampled":
        pass  # nothing found by sampling contradicts nothing; run_stateful warns
    elif exp is not None and verdict != exp:
        r.problems.append(f"{verdict}, expected {exp}")
    if exp_len is not None and r.length is not None and exp_len != r.length:
        r.problems.append(f"shortest trace has {r.length} steps, expected {exp_len}")
    return r


def run_smt(cfg: Config, properties: Sequence[Property], expected: Expected | None,
            out: Path | None, depth: int, max_seconds: float | None = None,
            query_seconds: float | None = None) -> Run:
    """Bounded model checking of ``properties`` in ``cfg`` up to ``depth`` steps.

    ``progress`` properties need the whole state graph: they are not
    checked, and a warning names them.
    """
    system = System(SPEC, cfg)
    graph_only = [p.name for p in properties if p.applies(cfg) and p.kind == "progress"]
    properties = [p for p in properties if p.applies(cfg) and p.kind != "progress"]
    found = bmc(system, properties, depth, max_seconds=max_seconds, query_seconds=query_seconds)
    folder = out / cfg.mode.name / cfg.variant.name if out else None
    if folder:
        _clear(folder)
    results = []
    for p in properties:
        path = found.found.get(p.name)
        if path is not None or found.exhausted:
            verdict = _found_or_not(p, path is not None)
        else:
            verdict = "bounded" if found.complete else "incomplete"
        results.append(_finish(system, p, verdict, path, expected, cfg.default_bounds, folder,
                               states=None, depth=found.depth, seconds=found.seconds))
    warnings = [] if found.complete else [f"search stopped early at depth {found.depth}: "
                                          f"{found.stop_reason}"]
    if found.capacity_depth is not None:
        warnings.append(f"a capacity bound can block a step after {found.capacity_depth} steps: "
                        "longer histories are cut there (raise it with --bound)")
    if graph_only:
        warnings.append("not checked (a progress property needs the whole state graph; "
                        f"use --engine explore): {', '.join(graph_only)}")
    return Run(cfg.mode.name, cfg.variant.name, None, results, [], warnings, cfg.bounds,
               expected is not None, bmc=found)


def run_stateful(cfg: Config, properties: Sequence[Property], expected: Expected | None,
                 out: Path | None, budget: Budget) -> Run:
    """Random histories of ``cfg`` (Hypothesis stateful testing) against ``properties``.

    A counterexample is shrunk, replayed and written like the other
    engines'; its ITF meta holds the seed and the swarm's switched-off
    faults, so the run reproduces.  Not finding an expected violation (or
    not reaching an expected witness) is a warning, not a difference: a
    sample proves nothing either way.
    """
    system = System(SPEC, cfg)
    properties = [p for p in properties if p.applies(cfg)]
    expected = expected.deep() if expected is not None else None
    found = hunt(system, properties, budget)
    folder = out / cfg.mode.name / cfg.variant.name if out else None
    if folder:
        _clear(folder)
    results, missed = [], []
    for p in properties:
        finding = found.found.get(p.name)
        path = found.witnesses.get(p.name) if p.kind == "sometimes" else finding and finding.path
        meta = {"engine": "stateful", "seed": budget.seed}
        if finding is not None:
            meta.update(switched_off=finding.switched_off)
        if path is not None:
            verdict = _found_or_not(p, True)
        else:
            verdict = "sampled" if found.complete else "incomplete"
        r = _finish(system, p, verdict, path, expected, False, folder, states=None,
                    depth=len(path) if path is not None else budget.steps, seconds=found.seconds,
                    meta=meta)
        results.append(r)
        if verdict == "sampled" and r.expected == ("holds" if p.kind == "sometimes" else "violated"):
            missed.append(p.name)
    warnings = [] if found.complete else [f"search stopped early: {found.stop_reason}"]
    if missed:
        warnings.append("expected but not found in these runs (raise --examples or --steps, or "
                        "try another --seed): " + ", ".join(missed))
    warnings.extend(_starved(found))
    return Run(cfg.mode.name, cfg.variant.name, None, results, [], warnings, cfg.bounds,
               expected is not None, stateful=found)


def _starved(found: StatefulResult) -> list[str]:
    """Warnings about actions the random runs never took (what sampling could not reach)."""
    out = []
    never = [a for a, n in found.enabled.items() if n == 0]
    untaken = [a for a, n in found.fired.items() if n == 0 and found.enabled[a] > 0]
    if never:
        out.append("actions never enabled in any run: " + ", ".join(never))
    if untaken:
        out.append("actions enabled but never taken: " + ", ".join(
            f"{a} ({found.enabled[a]:,} times enabled)" for a in untaken))
    if found.blocked:
        out.append("capacity bounds reached (raise them with --bound): " + ", ".join(
            f"{a} blocked {n:,} times" for a, n in sorted(found.blocked.items())))
    return out


def _confirm(system: System, prop: Property, trace: tr.Trace) -> None:
    """The replayed trace's last state really shows what the explorer claimed."""
    last = trace.last_state()
    ok = system.holds(prop, last)
    if prop.kind == "final":
        if ok or not system.terminal(last):
            raise tr.ReplayError(f"{prop.name}: the trace does not end in a violating terminal state")
    elif prop.kind == "progress":
        if _fault_free_reach(system, last, system.predicate(prop)):
            raise tr.ReplayError(f"{prop.name}: a good state is reachable from the trace's last "
                                 "state after all")
    elif ok != (prop.kind == "sometimes"):
        raise tr.ReplayError(f"{prop.name}: the interpreted model disagrees with the explorer "
                             "on the trace's last state")


def _fault_free_reach(system: System, start: bytes, goal) -> bool:
    """Whether ``goal`` holds somewhere reachable from ``start`` without faults.

    An independent forward search, to confirm a progress counterexample.
    """
    seen, todo = {start}, [start]
    while todo:
        s = todo.pop()
        if goal(s):
            return True
        for fn in system.compiled:
            t = fn(s)
            if isinstance(t, bytes) and t not in seen and not system.spends_fault(s, t):
                seen.add(t)
                todo.append(t)
    return False


# what a run writes per trace (ITF, story; diagrams by deliverycheck.gallery.write_out)
TRACE_FILES = (".itf.json", ".story.txt", ".dot", ".mmd", ".md", ".svg", ".png")


def _clear(folder: Path) -> None:
    """Remove trace files of an earlier run, so no stale counterexample survives."""
    for sub in (folder, folder / "witnesses"):
        if sub.is_dir():
            for f in sub.iterdir():
                if f.name.endswith(TRACE_FILES):
                    f.unlink()
