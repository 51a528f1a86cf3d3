"""What ``deliverycheck verify`` prints: the header, the verdict table, the differences, JSON.

Every engine's run (:class:`deliverycheck.verify.Run`) is reported the same
way.  The header says what was checked (the model's folders and content
hash, the expectations file, the memory cap); then, per search, one line
with how far it went (states and depth for the explorer, depth for bounded
model checking, histories and steps for the stateful engine) followed by
one row per property: verdict, expectation, and the steps of its trace.
*Depth* always means how many steps from the initial state a search went:
the last level of the explorer's breadth-first search (every reachable
state is at most that many steps away), or the steps bounded model
checking unrolled.  A trace's length is its *steps*.

Differences from expected.toml come in two sections, verdicts and pinned
figures, and :func:`outcome` turns them into the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from deliverycheck.verify import Result, Run

JSON_SCHEMA = "deliverycheck.verify/5"

# exit statuses of verify (docs/cli.md)
EXIT_OK = 0          # every verdict and pinned figure matches (or nothing was compared)
EXIT_VERDICTS = 1    # a verdict differs, or a search could not decide one
EXIT_FIGURES = 3     # every verdict matches, but a pinned figure (states, depth, length) differs


@dataclass
class Context:
    """What a run was: the command, where the specification came from, the limits."""

    command: str
    version: str
    source: Any                      # deliverycheck.source.Source
    expectations: Path | None = None
    expectations_hash: str | None = None
    overrides: dict[str, int] = field(default_factory=dict)
    memory_cap_mb: int | None = None

    def header(self) -> list[str]:
        """The lines that open every report: what was checked, with what."""
        out = [f"deliverycheck {self.version}: {self.source.describe()}"]
        if self.source.engine_differs:
            out.append("  note: the checker running is not this checkout's deliverycheck/ "
                       "(install the checkout with pip install -e . to run its engines too)")
        if self.expectations is not None:
            out.append(f"expectations: {self.expectations} ({self.expectations_hash})")
        if self.memory_cap_mb:
            out.append(f"memory cap: {self.memory_cap_mb:,} MiB (--max-memory)")
        return out

    def as_json(self) -> dict:
        return {"version": self.version, "command": self.command, "source": self.source.as_json(),
                "expectations": None if self.expectations is None else {
                    "path": str(self.expectations), "hash": self.expectations_hash},
                "bounds": dict(self.overrides), "memory_cap_mb": self.memory_cap_mb}


@dataclass
class Outcome:
    """How a set of runs compares with the expectations, and the exit status it gives."""

    verdicts: list[tuple[Run, Result]]   # results whose verdict differs
    figures: list[tuple[Run, str]]       # pinned figures that differ (run-level and lengths)
    undecided: list[tuple[Run, Result]]  # incomplete promises where nothing is compared
    compared: int                        # verdicts compared
    pinned: int                          # pinned figures compared
    uncompared: list[Run]                # runs with no expectations for their bounds
    interrupted: bool

    @property
    def status(self) -> int:
        if self.verdicts or self.undecided:
            return EXIT_VERDICTS
        if self.figures:
            return EXIT_FIGURES
        return EXIT_OK

    def _exit(self) -> str:
        """`` (exit N)``, or nothing for an interrupted run (whose status is 128 + the signal)."""
        return "" if self.interrupted else f" (exit {self.status})"

    def summary(self, name: str) -> str:
        """The last line of the report."""
        end = " The run was interrupted." if self.interrupted else ""
        if self.verdicts:
            figures = f" and {_n(len(self.figures), 'pinned figure')}" if self.figures else ""
            verb = "differs" if len(self.verdicts) == 1 and not self.figures else "differ"
            return (f"{_n(len(self.verdicts), 'verdict')}{figures} {verb} from {name}"
                    f"{self._exit()}.{end}")
        lines = []
        if self.figures:
            verb = "differs" if len(self.figures) == 1 else "differ"
            lines.append(f"All {_n(self.compared, 'verdict')} match, but {_n(len(self.figures), 'pinned figure')} "
                         f"{verb} from {name}{self._exit()}.")
        elif self.compared:
            figures = f" and {_n(self.pinned, 'pinned figure')}" if self.pinned else ""
            lines.append(f"All {_n(self.compared, 'verdict')}{figures} match {name}.")
        if self.uncompared:
            n = sum(len(r.results) for r in self.uncompared)
            lines.append(f"No expectations for these bounds: {_n(n, 'verdict')} of "
                         f"{_n(len(self.uncompared), 'search', 'es')} not compared.")
        if self.undecided:
            lines.append(f"{_n(len(self.undecided), 'verdict')} undecided: a search was cut short"
                         f"{self._exit()}.")
        return (" ".join(lines) or "Nothing was checked.") + end


def _n(k: int, word: str, plural: str = "s") -> str:
    return f"{k:,} {word}{'' if k == 1 else plural}"


def outcome(runs: Sequence[Run]) -> Outcome:
    """Compare every run with its expectations (see :class:`Outcome`)."""
    verdicts, figures, undecided, uncompared = [], [], [], []
    compared = pinned = 0
    for run_ in runs:
        if not run_.compared:
            uncompared.append(run_)
            undecided += [(run_, r) for r in run_.results if r.verdict == "incomplete"]
            continue
        compared += len(run_.results)
        exp = run_.expected
        if run_.engine == "explore" and run_.complete:
            pinned += (exp.states is not None) + (exp.depth is not None)
        pinned += sum(r.expected_length is not None and r.length is not None for r in run_.results)
        figures += [(run_, f) for f in run_.figures]
        for r in run_.results:
            if r.differs:
                verdicts.append((run_, r))
            figures += [(run_, f"{r.property}: {f}") for f in r.figures]
    return Outcome(verdicts, figures, undecided, compared, pinned, uncompared,
                   any(r.interrupted for r in runs))


# -- JSON ------------------------------------------------------------------------

def _search_json(run_: Run) -> dict:
    """One search of the ``--json`` document: how far it went, in the engine's terms."""
    head = {"mode": run_.mode, "variant": run_.variant, "engine": run_.engine,
            "bounds": dict(vars(run_.bounds)),
            "world": run_.expected.world if run_.expected is not None else None,
            "compared": run_.compared, "complete": run_.complete, "stop_reason": run_.stop_reason,
            "figures_differ": run_.figures, "warnings": run_.warnings}
    if run_.bmc is not None:
        b = run_.bmc
        return {**head, "depth": b.depth, "exhausted": b.exhausted,
                "capacity_depth": b.capacity_depth, "seconds": round(b.seconds, 3),
                "seconds_per_depth": [round(x, 3) for x in b.seconds_per_depth],
                "conflicts_per_depth": b.conflicts_per_depth,
                "z3_statistics": b.statistics}
    if run_.stateful is not None:
        f = run_.stateful
        b = f.budget
        return {**head, "seed": b.seed, "examples": b.examples, "steps": b.steps, "swarm": b.swarm,
                "hunt_examples": b.hunt_examples, "hunt_steps": b.hunt_steps,
                "hunted_for": sorted(b.wanted),
                "examples_run": f.examples, "histories": f.histories, "ended": f.ended,
                "steps_taken": f.steps, "steps_per_second": round(f.steps_per_second),
                "seconds": round(f.seconds, 3),
                "findings": [{"property": x.property, "length": len(x.path),
                              "first_length": x.first_length, "switched_off": x.switched_off,
                              "first_seconds": round(x.first_seconds, 3),
                              "shrink_seconds": round(x.shrink_seconds, 3)}
                             for x in f.found.values()],
                "coverage": {a: {"fired": f.fired[a], "enabled": f.enabled[a],
                                 "blocked": f.blocked.get(a, 0)} for a in sorted(f.fired)}}
    e = run_.exploration
    return {**head, "states": e.states, "depth": e.depth, "transitions": e.transitions,
            "terminal": e.terminal, "truncated": e.truncated, "seconds": round(e.seconds, 3),
            "compile_seconds": round(e.compile_seconds, 3),
            "peak_memory_mb": round(e.peak_memory_mb, 1),
            "explorer": e.backend, "store": e.store, "workers": e.workers,
            "collision_probability": e.collision_probability,
            "coverage": {a: {"fired": e.coverage.fired[a], "new_states": e.coverage.new[a]}
                         for a in sorted(e.coverage.fired)}}


def to_json(runs: Sequence[Run], ctx: Context) -> dict:
    """The stable ``--json`` document (schema ``deliverycheck.verify/5``, docs/cli.md)."""
    o = outcome(runs)
    return {
        "schema": JSON_SCHEMA, **ctx.as_json(),
        "ok": o.status == EXIT_OK and not o.interrupted, "exit_status": o.status,
        "interrupted": o.interrupted,
        "differences": {"verdicts": len(o.verdicts), "figures": len(o.figures)},
        "results": [{
            "mode": r.mode, "variant": r.variant, "property": r.property, "kind": r.kind,
            "lemma": r.lemma, "aspect": r.aspect, "verdict": r.verdict, "expected": r.expected,
            "compared": run_.compared, "matches": r.matches, "differs": r.differs,
            "figures_differ": r.figures, "length": r.length, "expected_length": r.expected_length,
            "trace": r.trace, "story": r.story,
        } for run_ in runs for r in run_.results],
        "searches": [_search_json(run_) for run_ in runs],
    }


# -- the table ---------------------------------------------------------------------

def verdict_text(kind: str, verdict: str | None, depth: int | None = None) -> str:
    """A verdict as the table shows it (the one vocabulary, with the engines' qualifiers)."""
    if verdict is None:
        return "-"
    if verdict == "bounded":
        return f"{'not reached' if kind == 'sometimes' else 'holds'} to depth {depth}"
    if verdict == "sampled":
        return "not reached (sampled)" if kind == "sometimes" else "not found (sampled)"
    return verdict


def search_line(run_: Run, timings: bool = True) -> str:
    """How far one search went, in one line (also the progress end line).

    Without ``timings`` (for files, which must be the same for the same
    inputs) the seconds and rates are left out.
    """
    if run_.stateful is not None:
        f = run_.stateful
        b = f.budget
        status = "complete" if f.complete else f"INCOMPLETE ({f.stop_reason})"
        speed = f", {f.seconds:.2f} s ({f.steps_per_second:,.0f} steps/s)" if timings else ""
        planned = b.examples * max(1, len(f.seeds))   # each seed of a swarm runs the budget
        hunt = max(0, f.examples - planned)
        hunted = f" + {hunt:,} hunting of up to {b.hunt_steps:,}" if hunt else ""
        seeds = (f"seeds {f.seeds[0]}-{f.seeds[-1]}" if len(f.seeds) > 1 else f"seed {b.seed}")
        examples = min(f.examples, planned)
        return (f"stateful, {seeds}: {examples:,} examples of up to "
                f"{b.steps} steps{hunted}, "
                f"{f.histories:,} histories ({f.ended:,} ran to the end), {f.steps:,} steps"
                f"{speed}, {status}")
    if run_.bmc is not None:
        m = run_.bmc
        if not m.complete:
            status = f"INCOMPLETE at depth {max(m.depth, 0)} ({m.stop_reason})"
        elif m.exhausted:
            status = f"exhaustive (no history is longer than {m.depth} steps)"
        else:
            status = f"bounded (every history of up to {m.depth} steps)"
        speed = f", {m.seconds:.2f} s" if timings else ""
        return f"bounded model checking to depth {max(m.depth, 0)}{speed}, {status}"
    e = run_.exploration
    status = "complete" if e.complete else f"INCOMPLETE ({e.stop_reason})"
    # which explorer ran changes only the speed, so files (no timings) do not say it
    threads = f", {e.workers} {'thread' if e.workers == 1 else 'threads'}" if e.backend == "native" else ""
    # the rate is the search's; compiling (a native module's first build: seconds) is named apart
    search = max(e.seconds - e.compile_seconds, 1e-9)
    building = f", {e.compile_seconds:.1f} s compiling" if e.compile_seconds >= 0.5 else ""
    speed = (f", {e.seconds:.2f} s ({e.states / search:,.0f} states/s, {e.backend}{threads}{building})"
             if timings else "")
    store = ""
    if e.collision_probability is not None:
        store = (f"; fingerprints: collision probability {fmt_probability(e.collision_probability)} "
                 "(optimistic estimate)")
    return f"{e.states:,} states, depth {e.depth}{speed}, {status}{store}"


def fmt_probability(p: float) -> str:
    """A probability as a reader wants it: ``1.2e-07``, ``0``, or ``< 1e-300``."""
    return "0" if p == 0 else f"{p:.1e}" if p >= 1e-300 else "< 1e-300"


def world_text(run_: Run) -> str:
    """Which world's expectations a run is compared with, and its main bounds."""
    b = run_.bounds
    bounds = f"records={b.records}, faults={b.faults}"
    if run_.expected is None:
        return f"{bounds}: no expectations for these bounds, not compared"
    return f"{bounds}, {run_.expected.world} world"


def print_table(runs: Sequence[Run], ctx: Context, lemmas: bool = False) -> Outcome:
    """The human-readable report; returns the outcome (whose status is the exit status)."""
    for line in ctx.header():
        print(line)
    rows_of = {}
    for run_ in runs:
        shown = [r for r in run_.results if lemmas or not r.lemma]
        rows_of[id(run_)] = shown
    width = max([len(r.property) for run_ in runs for r in rows_of[id(run_)]] + [8])
    vwidth = max([len(verdict_text(r.kind, r.verdict, _depth(run_)))
                  for run_ in runs for r in rows_of[id(run_)]] + [11])
    for run_ in runs:
        print()
        print(f"{run_.mode} / {run_.variant} ({world_text(run_)}): {search_line(run_)}")
        for w in run_.warnings:
            print(f"  warning: {w}")
        shown = rows_of[id(run_)]
        if shown:
            print(f"  {'property':<{width}}  {'verdict':<{vwidth}}  {'expected':<{vwidth}}  steps")
        # safety promises and witnesses first, then availability under its own heading
        ordered = ([r for r in shown if r.aspect != "availability"]
                   + [r for r in shown if r.aspect == "availability"])
        for n, r in enumerate(ordered):
            if r.aspect == "availability" and (n == 0 or ordered[n - 1].aspect != "availability"):
                print("  availability (not safety):")
            mark = "  <-- verdict differs" if r.differs else "  <-- figure differs" if r.figures else ""
            steps = "" if r.length is None else str(r.length)
            print(f"  {r.property:<{width}}  {verdict_text(r.kind, r.verdict, _depth(run_)):<{vwidth}}  "
                  f"{verdict_text(r.kind, r.expected):<{vwidth}}  {steps:<5}{mark}".rstrip())
        hidden = len(run_.results) - len(shown)
        if hidden:
            print(f"  ({hidden} lemma row{'s' if hidden != 1 else ''} hidden; --lemmas shows "
                  f"{'them' if hidden != 1 else 'it'})")
    broken = [r for run_ in runs for r in run_.results
              if r.verdict == "violated" and r.story and (lemmas or not r.lemma or r.differs)]
    if broken:
        kind = "shrunk" if any(r.stateful for r in runs) else "shortest"
        print(f"\nCounterexamples ({kind}; story and ITF trace side by side):")
        for r in broken:
            print(f"  {r.mode}/{r.variant} {r.property} ({r.length} step{'s' if r.length != 1 else ''}): {r.story}")
    o = outcome(runs)
    name = _name(ctx)
    if o.verdicts:
        print(f"\nVerdicts that differ from {name} ({len(o.verdicts)}):")
        for run_, r in o.verdicts:
            where = f" (trace: {r.trace})" if r.trace else ""
            for p in r.differs:
                print(f"  {r.mode}/{r.variant} {r.property}: {p}{where}")
    if o.figures:
        print(f"\nPinned figures that differ from {name} ({len(o.figures)}):")
        for run_, f in o.figures:
            print(f"  {run_.mode}/{run_.variant} {f}")
    if o.undecided:
        print("\nUndecided (the search was cut short):")
        for run_, r in o.undecided:
            print(f"  {r.mode}/{r.variant} {r.property}: incomplete ({run_.stop_reason})")
    print()
    print(o.summary(name))
    return o


def _depth(run_: Run) -> int | None:
    return run_.bmc.depth if run_.bmc is not None else None


def _name(ctx: Context) -> str:
    """How the expectations file is called in the report."""
    if ctx.expectations is None:
        return "the expectations"
    p = ctx.expectations
    return "properties/expected.toml" if p.name == "expected.toml" and p.parent.name == "properties" \
        else str(p)


def print_coverage(runs: Sequence[Run]) -> None:
    """Per search and action: times fired, new states, capacity blocks."""
    for run_ in runs:
        if run_.stateful is not None:
            _stateful_coverage(run_)
            continue
        if run_.exploration is None:
            continue
        cov = run_.exploration.coverage
        print(f"\nCoverage of {run_.mode}/{run_.variant}:")
        print(f"  {'action':<24} {'fired':>12} {'new states':>12} {'blocked':>9}")
        for a in cov.fired:
            if a in cov.static_off:
                print(f"  {a:<24} {'off in this mode':>35}")
                continue
            print(f"  {a:<24} {cov.fired[a]:>12,} {cov.new[a]:>12,} {cov.blocked.get(a, 0):>9,}")


def _stateful_coverage(run_: Run) -> None:
    """How often each action was taken in the random runs, against how often it could be."""
    f = run_.stateful
    print(f"\nCoverage of {run_.mode}/{run_.variant} ({f.steps:,} steps in {f.histories:,} histories):")
    print(f"  {'action':<26} {'taken':>10} {'enabled':>10} {'taken/enabled':>14} {'blocked':>9}")
    for a in f.fired:
        share = f"{f.fired[a] / f.enabled[a]:.0%}" if f.enabled[a] else "never enabled"
        print(f"  {a:<26} {f.fired[a]:>10,} {f.enabled[a]:>10,} {share:>14} "
              f"{f.blocked.get(a, 0):>9,}")
    for a in sorted(f.off):
        print(f"  {a:<26} {'off in this mode':>35}")
