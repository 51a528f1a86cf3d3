"""What ``deliverycheck verify`` prints: the verdict table, coverage, and the JSON document.

Every engine's run (:class:`deliverycheck.verify.Run`) is reported the same
way: one row per property, then one line per search saying how far it went
(states for the explorer, depth for bounded model checking, histories and
steps for the stateful engine), its warnings, and the counterexamples.
"""

from __future__ import annotations

from typing import Sequence

from deliverycheck.verify import Run

JSON_SCHEMA = "deliverycheck.verify/4"


def _search_json(run_: Run) -> dict:
    """One search of the ``--json`` document: the explorer's or the bounded one's figures."""
    head = {"mode": run_.mode, "variant": run_.variant, "engine": run_.engine,
            "bounds": dict(vars(run_.bounds))}
    if run_.bmc is not None:
        b = run_.bmc
        return {**head, "depth": b.depth, "complete": b.complete, "exhausted": b.exhausted,
                "capacity_depth": b.capacity_depth,
                "stop_reason": b.stop_reason, "seconds": round(b.seconds, 3),
                "seconds_per_depth": [round(x, 3) for x in b.seconds_per_depth],
                "z3_statistics": b.statistics, "problems": run_.problems,
                "warnings": run_.warnings}
    if run_.stateful is not None:
        f = run_.stateful
        b = f.budget
        return {**head, "seed": b.seed, "examples": b.examples, "steps": b.steps, "swarm": b.swarm,
                "examples_run": f.examples, "histories": f.histories, "ended": f.ended,
                "steps_taken": f.steps, "steps_per_second": round(f.steps_per_second),
                "complete": f.complete, "stop_reason": f.stop_reason,
                "seconds": round(f.seconds, 3), "problems": run_.problems, "warnings": run_.warnings,
                "findings": [{"property": x.property, "length": len(x.path),
                              "first_length": x.first_length, "switched_off": x.switched_off,
                              "first_seconds": round(x.first_seconds, 3),
                              "shrink_seconds": round(x.shrink_seconds, 3)}
                             for x in f.found.values()],
                "coverage": {a: {"fired": f.fired[a], "enabled": f.enabled[a],
                                 "blocked": f.blocked.get(a, 0)} for a in sorted(f.fired)}}
    e = run_.exploration
    return {**head, "states": e.states, "depth": e.depth,
            "transitions": e.transitions, "terminal": e.terminal, "truncated": e.truncated,
            "complete": e.complete, "stop_reason": e.stop_reason, "seconds": round(e.seconds, 3),
            "peak_memory_mb": round(e.peak_memory_mb, 1), "problems": run_.problems,
            "warnings": run_.warnings,
            "coverage": {a: {"fired": e.coverage.fired[a], "new_states": e.coverage.new[a]}
                         for a in sorted(e.coverage.fired)}}


def to_json(runs: Sequence[Run], overrides: dict[str, int]) -> dict:
    """The stable ``--json`` document (schema ``deliverycheck.verify/4``, docs/cli.md)."""
    return {
        "schema": JSON_SCHEMA,
        "bounds": dict(overrides),
        "ok": all(r.matches for r in runs),
        "results": [{
            "mode": r.mode, "variant": r.variant, "property": r.property, "kind": r.kind,
            "verdict": r.verdict, "expected": r.expected, "matches": r.matches,
            "problems": r.problems, "states": r.states, "depth": r.depth,
            "length": r.length, "seconds": round(r.seconds, 3), "trace": r.trace, "story": r.story,
        } for run_ in runs for r in run_.results],
        "searches": [_search_json(run_) for run_ in runs],
    }


def verdict_text(kind: str, verdict: str | None, depth: int | None = None) -> str:
    """A verdict as the table shows it: witnesses are reached or unreachable."""
    if verdict is None:
        return "-"
    if verdict == "bounded":
        return f"{'not reached' if kind == 'sometimes' else 'holds'} to depth {depth}"
    if verdict == "sampled":
        return "not reached (sampled)" if kind == "sometimes" else "not found (sampled)"
    if kind == "sometimes":
        return {"holds": "reached", "violated": "unreachable"}.get(verdict, verdict)
    return verdict


def print_table(runs: Sequence[Run], overrides: dict[str, int]) -> None:
    """The human-readable report."""
    rows = [("mode", "variant", "property", "verdict", "expected", "states", "depth", "seconds")]
    if runs and all(r.stateful is not None for r in runs):  # no states, no depth: trace lengths
        rows = [("mode", "variant", "property", "verdict", "expected", "length", "seconds")]
    for run_ in runs:
        for r in run_.results:
            mark = "" if r.matches else "  <-- differs"
            cells = ("-" if r.states is None else f"{r.states:,}", str(r.depth))
            if len(rows[0]) == 7:
                cells = ("-" if r.length is None else str(r.length),)
            rows.append((r.mode, r.variant, r.property, verdict_text(r.kind, r.verdict, r.depth),
                         verdict_text(r.kind, r.expected), *cells, f"{r.seconds:.2f}{mark}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    given = ", ".join(f"{k}={v}" for k, v in overrides.items())
    which = "stateful defaults" if any(r.stateful for r in runs) else "defaults"
    print(f"Bounds: each mode's {which}{' with ' + given if given else ''} "
          "(deliverycheck list shows them)")
    for run_ in runs:
        b = run_.bounds
        print(f"{run_.mode}/{run_.variant} (records={b.records}, faults={b.faults}): "
              + _search_line(run_))
        for w in run_.warnings:
            print(f"  warning: {w}")
    broken = [r for run_ in runs for r in run_.results
              if r.verdict == "violated" and r.kind != "sometimes" and r.story]
    if broken:
        kind = "shrunk" if any(r.stateful for r in runs) else "shortest"
        print(f"\nCounterexamples ({kind}; story and ITF trace side by side):")
        for r in broken:
            print(f"  {r.mode}/{r.variant} {r.property} ({r.length} step{'s' if r.length != 1 else ''}): {r.story}")
    diffs = [(run_, r) for run_ in runs for r in run_.results if not r.matches]
    run_problems = [(run_, p) for run_ in runs for p in run_.problems]
    print()
    unpinned = sum(len(run_.results) for run_ in runs if not run_.expected)
    if unpinned:
        print(f"{unpinned} verdicts have no expectation in properties/expected.toml "
              "(a mode x variant it does not list): reported, not compared.")
    if not diffs and not run_problems:
        n = sum(len(run_.results) for run_ in runs if run_.expected)
        if n:
            print(f"All {n} verdicts match properties/expected.toml.")
        return
    print(f"{len(diffs) + len(run_problems)} differences from properties/expected.toml:")
    for run_, r in diffs:
        where = f" (trace: {r.trace})" if r.trace else ""
        for p in r.problems:
            print(f"  {r.mode}/{r.variant} {r.property}: {p}{where}")
    for run_, p in run_problems:
        print(f"  {run_.mode}/{run_.variant}: {p}")


def _search_line(run_: Run) -> str:
    """How far one search went, in one line."""
    if run_.stateful is not None:
        f = run_.stateful
        b = f.budget
        status = "complete" if f.complete else f"INCOMPLETE ({f.stop_reason})"
        return (f"stateful, seed {b.seed}: {f.examples:,} examples of up to {b.steps} steps, "
                f"{f.histories:,} histories ({f.ended:,} ran to the end), {f.steps:,} steps, "
                f"{f.seconds:.2f} s ({f.steps_per_second:,.0f} steps/s), {status}")
    if run_.bmc is not None:
        m = run_.bmc
        if m.exhausted:
            status = f"exhaustive (no history is longer than {m.depth} steps)"
        elif m.complete:
            status = f"bounded (histories of up to {m.depth} steps)"
        else:
            status = f"INCOMPLETE at depth {m.depth} ({m.stop_reason})"
        return f"bounded model checking to depth {m.depth}, {m.seconds:.2f} s, {status}"
    e = run_.exploration
    status = "complete" if e.complete else f"INCOMPLETE ({e.stop_reason})"
    return (f"{e.states:,} states, depth {e.depth}, "
            f"{e.seconds:.2f} s ({e.states / max(e.seconds, 1e-9):,.0f} states/s), {status}")


def print_coverage(runs: Sequence[Run]) -> None:
    """Per search and action: times fired, new states, capacity blocks."""
    for run_ in runs:
        if run_.stateful is not None:
            _stateful_coverage(run_)
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
