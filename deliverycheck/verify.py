"""Verification runs: one search per mode x variant, all properties at once.

This is the layer between the CLI and the engines: it builds the system,
runs the explorer (:func:`run`), bounded model checking (:func:`run_smt`)
or the stateful engine (:func:`run_stateful`), turns what it found into
verdicts, rebuilds and replays every trace, writes the trace files and
compares with the expectations of the run's world (deliverycheck/expected.py).

Verdicts (docs/cli.md, "Verdicts"), one vocabulary everywhere:

* ``always`` / ``final`` / ``progress`` promises: ``violated`` with a
  shortest counterexample, else ``holds`` when the search was complete,
  else ``incomplete``;
* ``sometimes`` witnesses: ``reached`` with a shortest witness (in a
  complete search or not), else ``unreachable`` when the search was
  complete, else ``incomplete``;
* with bounded model checking, ``bounded``: nothing found in histories of
  up to ``depth`` steps (a violation deeper down is not ruled out), unless
  no history is that long, which makes the search exhaustive;
* with the stateful engine, ``sampled``: nothing found in the random
  histories it ran (no proof of anything); its counterexamples are short
  (shrunk, 1-minimal) but not necessarily shortest.

Differences from the expectations are of two kinds: a *verdict* that
differs (a promise now broken or now kept, a witness now unreachable, a
search that could not decide) and a *pinned figure* that differs (the
state count, the search depth, a shortest trace's length).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from deliverycheck import trace as tr
from deliverycheck.catalog import SPEC
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.engines.explore import Exploration, Limits, compile_within, explore
from deliverycheck.engines.graph import recovers
from deliverycheck.engines.smt import BMCResult, bmc
from deliverycheck.engines.stateful import Budget, StatefulResult, hunt
from deliverycheck.errors import UsageError
from deliverycheck.expected import Expected
from deliverycheck.model import MODES, VARIANTS, Bounds, Config
from deliverycheck.model.variants import DEFAULT_VARIANT, relevant
from deliverycheck.properties import LEMMAS
from deliverycheck.render.story import story


def found_word(kind: str) -> str:
    """The verdict of a property whose trace was found: a witness is reached, a promise violated."""
    return "reached" if kind == "sometimes" else "violated"


def kept_word(kind: str) -> str:
    """The verdict of a complete search that found no trace: unreachable, or holds."""
    return "unreachable" if kind == "sometimes" else "holds"


@dataclass
class Result:
    """The verdict on one mode x variant x property, and how it compares."""

    mode: str
    variant: str
    property: str
    kind: str
    verdict: str                 # see the module docstring
    expected: str | None         # None: no expectation (none for these bounds, or none listed)
    length: int | None = None    # steps of the counterexample / witness
    expected_length: int | None = None
    trace: str | None = None     # ITF file of the counterexample (or witness)
    story: str | None = None
    differs: list[str] = field(default_factory=list)   # how the verdict differs
    figures: list[str] = field(default_factory=list)   # how a pinned figure (the length) differs
    shown: tr.Trace | None = field(default=None, repr=False)   # the trace itself, for pictures
    itf: str | None = field(default=None, repr=False)   # the trace as ITF, while it crosses processes
    aspect: str = "safety"       # or "availability": printed apart from the safety promises

    @property
    def lemma(self) -> bool:
        """A strengthening lemma of a proof, not a promise users rely on."""
        return self.property in LEMMAS

    @property
    def matches(self) -> bool:
        """Nothing differs from the expectations (trivially, when there are none)."""
        return not self.differs and not self.figures


@dataclass
class Run:
    """One mode x variant: the search and the verdicts it gave."""

    mode: str
    variant: str
    exploration: Exploration | None   # the explorer's search (engine "explore")
    results: list[Result]
    figures: list[str]           # pinned figures of the search that differ (states, depth)
    warnings: list[str]
    bounds: Bounds
    expected: Expected | None    # None: no expectations for this mode x variant at these bounds
    bmc: BMCResult | None = None  # the bounded search (engine "smt")
    stateful: StatefulResult | None = None  # the random search (engine "stateful")

    @property
    def engine(self) -> str:
        """Which engine made this run: ``explore``, ``smt`` or ``stateful``."""
        return "smt" if self.bmc is not None else "stateful" if self.stateful else "explore"

    @property
    def search(self) -> Any:
        """The engine's own result (Exploration, BMCResult or StatefulResult)."""
        return self.bmc or self.stateful or self.exploration

    @property
    def stop_reason(self) -> str | None:
        """Why the search stopped early (None when it ran to its end)."""
        return self.search.stop_reason

    @property
    def complete(self) -> bool:
        """The search ran to its end (no limit, no interruption)."""
        return self.search.complete

    @property
    def interrupted(self) -> bool:
        """Ctrl-C or SIGTERM ended the search."""
        return bool(self.stop_reason) and self.stop_reason.startswith("interrupted")

    @property
    def compared(self) -> bool:
        """expected.toml has expectations for this run's world."""
        return self.expected is not None

    @property
    def verdicts_differ(self) -> list[Result]:
        """The results whose verdict differs from the expectation."""
        return [r for r in self.results if r.differs]

    @property
    def matches(self) -> bool:
        return not self.figures and all(r.matches for r in self.results)


def plan(modes: Sequence[str], variants: Sequence[str], variants_given: bool) -> list[tuple[str, str]]:
    """The (mode, variant) pairs to check.

    By default each mode runs with the variants that list it (the default
    variant with every mode, the protocol variants with the exactly-once
    modes they change, the replication variants with the delivery modes
    whose verdicts they change); ``--variant`` runs the given ones with
    every chosen mode they apply to.
    """
    pairs = []
    for m in modes:
        for v in variants:
            var = VARIANTS[v]
            if variants_given:
                if relevant(var, MODES[m].transactional):
                    pairs.append((m, v))
            elif m in var.checked_with or var.name == DEFAULT_VARIANT:
                pairs.append((m, v))
    if not pairs:
        # only a variant of the transactional protocol alone is irrelevant to some mode (a
        # replicated variant changes every world's partitions)
        raise UsageError(f"variant {', '.join(variants)} changes only the transactional protocol, "
                         f"which mode {', '.join(modes)} does not use; choose an exactly-once mode")
    return pairs


def run(cfg: Config, properties: Sequence[Property], expected: Expected | None,
        out: Path | None, limits: Limits | None = None, progress: Any = None,
        backend: str = "auto", store: str = "exact", workers: int | None = None) -> Run:
    """Check ``properties`` in ``cfg`` with the explorer and compare with ``expected``.

    ``backend``, ``store`` and ``workers`` choose the explorer, how it keeps
    states and its threads (:func:`deliverycheck.engines.explore.explore`).
    """
    system = System(SPEC, cfg)
    properties = [p for p in properties if p.applies(cfg)]
    ex = explore(system, properties, limits, progress=progress, backend=backend, store=store,
                 workers=workers)
    results, figures, warnings = judge(system, ex, properties, expected, folder_of(out, cfg))
    return Run(cfg.mode.name, cfg.variant.name, ex, results, figures, warnings, cfg.bounds, expected)


def judge(system: System, ex: Exploration, properties: Sequence[Property], expected: Expected | None,
          folder: Path | None, traces: bool = True) -> tuple[list[Result], list[str], list[str]]:
    """An exploration's verdicts compared with ``expected``: the results, the pinned figures
    that differ (states, depth, actions that never fired) and the warnings.

    Every trace is rebuilt and replayed through ``system`` (written to
    ``folder`` unless it is None); without ``traces``, only the lengths of
    the paths are taken.  Mutation testing judges its mutants here too, so a
    mutant is killed exactly when verify would fail.
    """
    results = [_result(system, ex, p, expected, folder, traces) for p in properties]
    figures, warnings = [], []
    if expected is not None and ex.complete:
        if expected.states is not None and expected.states != ex.states:
            figures.append(f"{ex.states:,} distinct states, expected {expected.states:,}")
        if expected.depth is not None and expected.depth != ex.depth:
            figures.append(f"search depth {ex.depth}, expected {expected.depth}")
    if not ex.complete:
        warnings.append(f"search stopped early: {ex.stop_reason}")
    for name in ex.undecided:
        warnings.append(f"{name} is incomplete: it fails only where a capacity bound cut the "
                        "search short; raise the capacities to decide it")
    never = ex.coverage.never_fired()
    pinned = expected.never_fired if expected is not None else None
    if ex.complete and pinned is not None and never != pinned:
        figures.append(f"actions that never fired: {', '.join(never) or 'none'}, expected "
                       f"{', '.join(pinned) or 'none'}")
    elif never and ex.complete and pinned is None:
        warnings.append("actions that never fired: " + ", ".join(never))
    if ex.coverage.blocked:
        warnings.append("capacity bounds reached (raise them with --bound): " + ", ".join(
            f"{a} blocked {n:,} times" for a, n in sorted(ex.coverage.blocked.items()))
            + f"; {ex.truncated:,} states truncated")
    return results, figures, warnings


def prebuild(cfgs: Sequence[Config], properties: Sequence[Property], backend: str = "auto") -> None:
    """Start building the native modules of the explorer searches of ``cfgs``, in the background.

    A first run's time is mostly the C compiler (one module per
    configuration); built ahead, while the first searches run, the modules
    are ready when their turn comes (:func:`deliverycheck.native.build.prebuild`).
    """
    if backend == "python":
        return
    from deliverycheck.native.search import prebuild as start
    start((lambda cfg=cfg: (System(SPEC, cfg), [p for p in properties if p.applies(cfg)]))
          for cfg in cfgs)


def folder_of(out: Path | None, cfg: Config) -> Path | None:
    """Where the traces of ``cfg`` go, emptied of an earlier run's trace files."""
    if out is None:
        return None
    folder = out / cfg.mode.name / cfg.variant.name
    _clear(folder)
    return folder


def _result(system: System, ex: Exploration, prop: Property, expected: Expected | None,
            folder: Path | None, traces: bool = True) -> Result:
    idx = ex.violations.get(prop.name)
    path = ex.path(idx) if idx is not None else None
    if path is None and (not ex.complete or prop.name in ex.undecided):
        verdict = "incomplete"
    else:
        verdict = found_word(prop.kind) if path is not None else kept_word(prop.kind)
    return _finish(system, prop, verdict, path, expected, folder, depth=ex.depth, traces=traces)


def _finish(system: System, prop: Property, verdict: str, path: Sequence[int] | None,
            expected: Expected | None, folder: Path | None, depth: int,
            meta: dict | None = None, lengths: bool = True, traces: bool = True) -> Result:
    """Rebuild, replay and write the trace of ``path``; compare with the expectation.

    ``lengths``: whether the engine's traces are shortest, so that a pinned
    length means something (not for the stateful engine's shrunk traces).
    ``traces``: False takes the path's length and builds no trace.
    """
    cfg = system.cfg
    trace = None
    if path is not None and traces:
        shown = "reached" if prop.kind == "sometimes" else "violated"
        trace = tr.from_path(system, path, property=prop.name, verdict=shown, meta=meta or {})
        _confirm(system, prop, trace)
    exp = expected.verdicts.get(prop.name) if expected else None
    exp_len = expected.lengths.get(prop.name) if expected and lengths else None
    r = Result(cfg.mode.name, cfg.variant.name, prop.name, prop.kind, verdict, exp,
               length=len(trace) if trace else len(path) if path is not None else None,
               expected_length=exp_len, aspect=prop.aspect)
    if trace is not None and folder is not None:
        write_trace(r, tr.dumps(trace), trace, folder)
    r.shown = trace
    if expected is None:
        return r
    if exp is None:
        r.differs.append("no expected verdict in expected.toml")
    elif verdict == "bounded":
        # consistent unless the expected trace is short enough to have been found
        if exp == found_word(prop.kind) and exp_len is not None and exp_len <= depth:
            r.differs.append(f"nothing found up to depth {depth}, but the expected shortest "
                             f"trace has {exp_len} steps")
    elif verdict == "sampled":
        pass  # nothing found by sampling contradicts nothing; run_stateful warns
    elif verdict != exp:
        r.differs.append(f"{verdict}, expected {exp}")
    if exp_len is not None and r.length is not None and exp_len != r.length:
        r.figures.append(f"shortest trace has {r.length} steps, expected {exp_len}")
    return r


def write_trace(r: Result, text: str, trace: tr.Trace, folder: Path) -> None:
    """Write ``r``'s trace (its ITF ``text``) and story under ``folder`` and name them in ``r``."""
    sub = folder if r.kind != "sometimes" else folder / "witnesses"
    sub.mkdir(parents=True, exist_ok=True)
    itf = sub / f"{r.property}.itf.json"
    itf.write_text(text)
    (sub / f"{r.property}.story.txt").write_text(story(trace))
    r.trace, r.story = str(itf), str(sub / f"{r.property}.story.txt")


def run_smt(cfg: Config, properties: Sequence[Property], expected: Expected | None,
            out: Path | None, depth: int, max_seconds: float | None = None,
            query_seconds: float | None = None, progress: Any = None,
            limits: Limits | None = None) -> Run:
    """Bounded model checking of ``properties`` in ``cfg`` up to ``depth`` steps.

    ``progress`` properties need the whole state graph: they are not
    checked, and a warning names them.
    """
    system = System(SPEC, cfg)
    graph_only = [p.name for p in properties if p.applies(cfg) and p.kind == "progress"]
    properties = [p for p in properties if p.applies(cfg) and p.kind != "progress"]
    start = time.perf_counter()
    stopped = compile_within(system, limits or Limits(max_seconds=max_seconds), progress)
    if stopped:
        found = BMCResult(depth=-1, complete=False, stop_reason=stopped,
                          seconds=time.perf_counter() - start)
    else:
        found = bmc(system, properties, depth, max_seconds=max_seconds,
                    query_seconds=query_seconds, progress=progress)
    folder = folder_of(out, cfg)
    results = []
    for p in properties:
        path = found.found.get(p.name)
        if path is not None or found.exhausted:
            verdict = found_word(p.kind) if path is not None else kept_word(p.kind)
        else:
            verdict = "bounded" if found.complete else "incomplete"
        results.append(_finish(system, p, verdict, path, expected, folder, depth=found.depth))
    warnings = [] if found.complete else [f"search stopped early at depth {max(found.depth, 0)}: "
                                          f"{found.stop_reason}"]
    if found.capacity_depth is not None:
        warnings.append(f"a capacity bound can block a step after {found.capacity_depth} steps: "
                        "longer histories are cut there (raise it with --bound)")
    if graph_only:
        warnings.append("not checked (a progress property needs the whole state graph; "
                        f"use --engine explore): {', '.join(graph_only)}")
    return Run(cfg.mode.name, cfg.variant.name, None, results, [], warnings, cfg.bounds,
               expected, bmc=found)


def run_stateful(cfg: Config, properties: Sequence[Property], expected: Expected | None,
                 out: Path | None, budget: Budget, progress: Any = None,
                 limits: Limits | None = None) -> Run:
    """Random histories of ``cfg`` (Hypothesis stateful testing) against ``properties``.

    A counterexample is shrunk, replayed and written like the other
    engines'; its ITF meta holds the seed and the swarm's switched-off
    faults, so the run reproduces.  Nothing found is ``sampled`` (no proof
    of anything), except where expected.toml says a violation or witness
    exists: not finding it within the budget makes that property
    ``incomplete``, a difference, so a budget too small to find what is
    there fails the run instead of passing it.
    """
    system = System(SPEC, cfg)
    properties = [p for p in properties if p.applies(cfg)]
    if expected is not None:  # the hunt goes on for what the expectations say exists
        budget = replace(budget, wanted=frozenset(
            p.name for p in properties if expected.verdicts.get(p.name) == found_word(p.kind)))
    start = time.perf_counter()
    stopped = compile_within(system, limits or Limits(max_seconds=budget.max_seconds), progress)
    if stopped:
        found = StatefulResult({}, {}, {}, {}, {}, set(), 0, 0, 0, 0, time.perf_counter() - start,
                               budget, complete=False, stop_reason=stopped)
    else:
        found = hunt(system, properties, budget, progress=progress)
    folder = folder_of(out, cfg)
    results, missed = [], []
    for p in properties:
        finding = found.found.get(p.name)
        path = found.witnesses.get(p.name) if p.kind == "sometimes" else finding and finding.path
        meta = {"engine": "stateful", "seed": budget.seed}
        if finding is not None:
            meta.update(switched_off=finding.switched_off)
        exp = expected.verdicts.get(p.name) if expected else None
        if path is not None:
            verdict = found_word(p.kind)
        elif found.complete and exp != found_word(p.kind):
            verdict = "sampled"
        else:
            # a violation (or witness) the expectations say exists and the budget
            # did not find: the sample cannot stand for a verdict on it
            verdict = "incomplete"
            if found.complete:
                missed.append(p.name)
        r = _finish(system, p, verdict, path, expected, folder,
                    depth=len(path) if path is not None else budget.steps, meta=meta, lengths=False)
        results.append(r)
    warnings = [] if found.complete else [f"search stopped early: {found.stop_reason}"]
    if missed:
        warnings.append("expected but not found within the budget, so incomplete (raise "
                        "--examples or --steps, or try another --seed): " + ", ".join(missed))
    warnings.extend(_starved(found))
    return Run(cfg.mode.name, cfg.variant.name, None, results, [], warnings, cfg.bounds,
               expected, stateful=found)


def merge_seeds(runs: Sequence[Run]) -> Run:
    """One stateful run of a search from the runs of a swarm of seeds (``verify --seeds``).

    Per property the shortest trace any seed found (the lowest seed among
    equals), else the first seed's verdict, but ``incomplete`` when any seed
    says so (a search that could not decide is not outweighed by one that
    sampled); the counts are summed, the warnings kept once each.  Each
    trace's ITF meta names the seed that found it, which reproduces it.
    """
    first = runs[0]
    results = []
    for k, r0 in enumerate(first.results):
        seen = [run.results[k] for run in runs]
        found = [r for r in seen if r.verdict in ("violated", "reached")]
        undecided = [r for r in seen if r.verdict == "incomplete"]
        results.append(min(found, key=lambda r: r.length or 0) if found else
                       undecided[0] if undecided else r0)
    parts = [run.stateful for run in runs]
    merged = replace(
        first.stateful,
        examples=sum(p.examples for p in parts), histories=sum(p.histories for p in parts),
        ended=sum(p.ended for p in parts), steps=sum(p.steps for p in parts),
        seconds=sum(p.seconds for p in parts), complete=all(p.complete for p in parts),
        stop_reason=next((p.stop_reason for p in parts if p.stop_reason), None),
        seeds=tuple(p.budget.seed for p in parts),
        **{name: {a: sum(getattr(p, name).get(a, 0) for p in parts) for a in getattr(first.stateful, name)}
           for name in ("fired", "enabled", "blocked")})
    warnings = list(dict.fromkeys(w for run in runs for w in run.warnings))
    return replace(first, results=results, warnings=warnings, stateful=merged)


def _starved(found: StatefulResult) -> list[str]:
    """Warnings about actions the random runs never took (what sampling could not reach)."""
    if not found.examples:
        return []
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
    """The replayed trace's last state really shows what the engine claimed."""
    last = trace.last_state()
    ok = system.holds(prop, last)
    if prop.kind == "final":
        if ok or not system.terminal(last):
            raise tr.ReplayError(f"{prop.name}: the trace does not end in a violating terminal state")
    elif prop.kind == "progress":
        if recovers(system, last, system.predicate(prop)):
            raise tr.ReplayError(f"{prop.name}: a good state is reachable from the trace's last "
                                 "state after all")
    elif ok != (prop.kind == "sometimes"):
        raise tr.ReplayError(f"{prop.name}: the interpreted model disagrees with the engine "
                             "on the trace's last state")


# what a run writes per trace (ITF, story; diagrams by deliverycheck.gallery.write_out)
TRACE_FILES = (".itf.json", ".story.txt", ".dot", ".mmd", ".md", ".svg", ".png")


def _clear(folder: Path) -> None:
    """Remove trace files of an earlier run, so no stale counterexample survives."""
    for sub in (folder, folder / "witnesses"):
        if sub.is_dir():
            for f in sub.iterdir():
                if f.name.endswith(TRACE_FILES):
                    f.unlink()
