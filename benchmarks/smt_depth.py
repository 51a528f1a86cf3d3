"""Z3 bounded model checking: how deep it gets in a time budget, and the time per depth.

For each mode (with its default variant) bounded model checking runs on all
the mode's ``always``, ``sometimes`` and ``final`` properties, as
``deliverycheck verify --engine smt`` does, until the time budget is spent.
Printed per mode: the depth reached, the seconds and the SAT solver's
conflicts at each depth (medians over ``--runs`` runs, each in a fresh
process), and the properties broken with their shortest lengths.  With
``--levels``, also how many distinct states the explorer first reaches at
each depth: what a depth adds to the reachable world, next to what it costs
the solver (docs/smt.md, "What bounds the depth").

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/smt_depth.py                        # every mode, default bounds, 60 s each
    python benchmarks/smt_depth.py --mode exactly-once --bound records=4 --bound faults=2
    python benchmarks/smt_depth.py --runs 3 --seconds 60 --json
    python benchmarks/smt_depth.py --mode exactly-once --levels
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys


def one_run(mode: str, variant: str, bounds: dict[str, int], seconds: float) -> dict:
    """Bounded model checking once, in this process."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.engines.smt import bmc
    from deliverycheck.model import Config
    sy = System(SPEC, Config.of(mode, variant, **bounds))
    props = [p for p in sy.properties if p.kind != "progress"]
    r = bmc(sy, props, 10_000, max_seconds=seconds)
    return {"depth": r.depth, "seconds_per_depth": r.seconds_per_depth,
            "conflicts_per_depth": r.conflicts_per_depth, "exhausted": r.exhausted,
            "found": {k: len(v) for k, v in r.found.items()}, "stop_reason": r.stop_reason,
            "cells": sy.schema.width, "instances": len(sy.instances)}


def level_sizes(mode: str, variant: str, bounds: dict[str, int], depth: int) -> list[int]:
    """Distinct states first reached at each depth 0..``depth`` (breadth-first, the concrete model)."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.model import Config
    sy = System(SPEC, Config.of(mode, variant, **bounds))
    seen, frontier, sizes = {sy.init}, [sy.init], [1]
    for _ in range(depth):
        nxt = []
        for s in frontier:
            for j in range(len(sy.instances)):
                t = sy.step(s, j)
                if isinstance(t, bytes) and t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
        sizes.append(len(nxt))
    return sizes


def main() -> None:
    from deliverycheck.model import MODES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", action="append", help="mode (repeatable; default every mode)")
    ap.add_argument("--variant", default="current")
    ap.add_argument("--bound", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--seconds", type=float, default=60.0, help="budget per mode and run")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--levels", action="store_true",
                    help="also count the distinct states first reached at each depth")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child process
    a = ap.parse_args()
    bounds = {k: int(v) for k, v in (b.split("=", 1) for b in a.bound)}
    if a.one:
        print(json.dumps(one_run(a.mode[0], a.variant, bounds, a.seconds)))
        return
    report = {}
    for mode in a.mode or list(MODES):
        runs = []
        for _ in range(a.runs):
            cmd = [sys.executable, __file__, "--one", "--mode", mode, "--variant", a.variant,
                   "--seconds", str(a.seconds), *[f"--bound={b}" for b in a.bound]]
            runs.append(json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                  text=True).stdout))
        depth = statistics.median(r["depth"] for r in runs)
        reached = min(len(r["seconds_per_depth"]) for r in runs)
        per_depth = [statistics.median(r["seconds_per_depth"][d] for r in runs) for d in range(reached)]
        conflicts = [statistics.median(r["conflicts_per_depth"][d] for r in runs) for d in range(reached)]
        report[mode] = {"depth": depth, "depths": [r["depth"] for r in runs],
                        "median_seconds_per_depth": per_depth,
                        "median_conflicts_per_depth": conflicts, "found": runs[0]["found"],
                        "exhausted": runs[0]["exhausted"], "cells": runs[0]["cells"],
                        "instances": runs[0]["instances"]}
        if a.levels:
            report[mode]["states_first_reached"] = level_sizes(mode, a.variant, bounds, reached - 1)
        if not a.json:
            fig = ", ".join(f"{d}:{s:.2f}" for d, s in enumerate(per_depth))
            found = ", ".join(f"{k}@{v}" for k, v in sorted(runs[0]["found"].items(), key=lambda x: x[1]))
            ex = " (exhausted: no longer history)" if runs[0]["exhausted"] else ""
            print(f"{mode}: depth {depth} in {a.seconds:g} s (runs: {report[mode]['depths']}){ex}; "
                  f"{runs[0]['cells']} cells, {runs[0]['instances']} action instances")
            print(f"  seconds per depth (median of {a.runs}): {fig}")
            print("  SAT conflicts per depth: " + ", ".join(f"{d}:{c:g}" for d, c in enumerate(conflicts)))
            if a.levels:
                print("  distinct states first reached at each depth: "
                      + ", ".join(f"{d}:{n}" for d, n in enumerate(report[mode]["states_first_reached"])))
            print(f"  broken / reached at: {found or 'nothing'}")
    if a.json:
        print(json.dumps({"bounds": bounds, "seconds": a.seconds, "runs": a.runs, "modes": report},
                         indent=1))


if __name__ == "__main__":
    main()
