"""Explorer throughput: states, states/s, bytes per stored state, peak memory, time.

``states_per_s`` counts the whole check (search plus deciding the progress
properties on the recorded graph); ``search_states_per_s`` the search alone.

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/explore_throughput.py                 # at-least-once, records=3, capacities 6 (~5.8M states),
                                                            # both explorers, and their ratio
    python benchmarks/explore_throughput.py --explorer native --store fingerprint --bound faults=3
    python benchmarks/explore_throughput.py --runs 5 --bound records=2 --mode idempotent
    python benchmarks/explore_throughput.py --mode exactly-once  # records=3, faults=1 (~0.3M states)
    python benchmarks/explore_throughput.py --baseline      # also: one model vs a hand-written BFS

Each configuration runs in a fresh process (so peak memory is its own) and
the median of ``--runs`` runs is printed; with ``--explorer both`` (the
default) the Python and the native explorer alternate, so both see the
same machine load, and the ratio of their search speeds is printed.  The
native module is built once before the timed runs (``seconds`` excludes
compiling for both explorers; ``compile_seconds`` shows it).  ``--baseline`` compares the
explorer with a hand-written tuple BFS of the same two-phase-commit toy
(tests/twophase.py): the price of writing the model once for every engine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(mode: str, bounds: dict[str, int], backend: str = "python", store: str = "exact") -> dict:
    """Explore once in this process and return the figures."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.engines.explore import explore, rss_mb
    from deliverycheck.model import Config
    sy = System(SPEC, Config.of(mode, **bounds))
    if backend == "python":
        sy.compiled  # compile outside the timed search
    base = rss_mb()
    ex = explore(sy, progress=None, backend=backend, store=store)
    seconds = ex.seconds - ex.compile_seconds
    search = seconds - ex.graph_seconds
    return {"states": ex.states, "depth": ex.depth, "seconds": seconds,
            "compile_seconds": ex.compile_seconds,
            "states_per_s": ex.states / seconds,
            "search_states_per_s": ex.states / search,          # without the progress graph
            "graph_seconds": ex.graph_seconds,                  # deciding progress properties
            "peak_mb": ex.peak_memory_mb,
            "bytes_per_state": (ex.peak_memory_mb - base) * 2**20 / ex.states,
            "width": sy.schema.width, "complete": ex.complete}


def twophase_runs(rms: int) -> dict:
    """The two-phase-commit toy: explorer vs a hand-written tuple BFS."""
    sys.path.insert(0, str(ROOT / "tests"))
    import twophase
    from deliverycheck.core.system import System
    from deliverycheck.engines.explore import explore
    sy = System(twophase.SPEC, twophase.TPConfig(rms=rms))
    sy.compiled
    ex = explore(sy, progress=None, backend="python")   # the price of the one-model design in Python
    t0 = time.perf_counter()
    n = handwritten_twophase(rms)
    hand = time.perf_counter() - t0
    assert n == ex.states, (n, ex.states)
    return {"states": n, "explorer_states_per_s": ex.states / ex.seconds,
            "handwritten_states_per_s": n / hand}


def handwritten_twophase(n: int) -> int:
    """TwoPhase.tla as a direct tuple BFS: (rm states..., tm, prepared..., msgs...)."""
    W, P, C, A = range(4)
    init = (0,) * n + (0,) + (0,) * n + (0,) * n + (0, 0)
    seen = {init}
    frontier = [init]
    while frontier:
        nxt = []
        for s in frontier:
            rm, tm, tp, mp = s[:n], s[n], s[n + 1:2 * n + 1], s[2 * n + 1:3 * n + 1]
            mc, ma = s[3 * n + 1], s[3 * n + 2]
            succ = []
            for i in range(n):
                if tm == 0 and mp[i]:
                    succ.append(rm + (tm,) + tp[:i] + (1,) + tp[i + 1:] + mp + (mc, ma))
                if rm[i] == W:
                    succ.append(rm[:i] + (P,) + rm[i + 1:] + (tm,) + tp + mp[:i] + (1,) + mp[i + 1:] + (mc, ma))
                    succ.append(rm[:i] + (A,) + rm[i + 1:] + (tm,) + tp + mp + (mc, ma))
                if mc:
                    succ.append(rm[:i] + (C,) + rm[i + 1:] + (tm,) + tp + mp + (mc, ma))
                if ma:
                    succ.append(rm[:i] + (A,) + rm[i + 1:] + (tm,) + tp + mp + (mc, ma))
            if tm == 0 and all(tp):
                succ.append(rm + (1,) + tp + mp + (1, ma))
            if tm == 0:
                succ.append(rm + (2,) + tp + mp + (mc, 1))
            for t in succ:
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return len(seen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="at-least-once")
    ap.add_argument("--bound", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--explorer", choices=("both", "python", "native"), default="both")
    ap.add_argument("--store", choices=("exact", "fingerprint"), default="exact",
                    help="how the native explorer keeps states")
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, payload = args.child.split(":", 1)
        spec = json.loads(payload)
        result = one_run(**spec) if kind == "kafka" else twophase_runs(**spec)
        print(json.dumps(result))
        return
    # the world measured in the notes: one more record, capacities as at the
    # delivery path's defaults (other bounds: the mode's own defaults)
    bounds = {"records": 3, "batches": 6, "log": 6, "channel": 6}
    bounds.update({k: int(v) for k, v in (b.split("=") for b in args.bound)})
    backends = ["python", "native"] if args.explorer == "both" else [args.explorer]
    kafka = [("kafka", {"mode": args.mode, "bounds": bounds, "backend": b,
                        "store": args.store if b == "native" else "exact"}) for b in backends]
    if "native" in backends:   # build the module outside the timed runs
        _child("kafka", {**kafka[-1][1], "bounds": {**bounds, "records": 1}})
        _child(*kafka[-1])
    runs: dict[str, list[dict]] = {json.dumps(spec): [] for _, spec in kafka}
    for _ in range(args.runs):   # alternate, so both explorers see the same load
        for kind, spec in kafka:
            runs[json.dumps(spec)].append(_child(kind, spec))
    meds = {}
    for key, rs in runs.items():
        meds[key] = _print_median("kafka", key, rs)
    if len(meds) == 2:
        py, nat = meds.values()
        print(f"native / python search speed: {nat['search_states_per_s'] / py['search_states_per_s']:.1f}x "
              f"(medians; per run: " + ", ".join(
                  f"{n['states'] / n['seconds'] / (p['states'] / p['seconds']):.1f}"
                  for p, n in zip(*runs.values())) + ")")
    if args.baseline:
        rs = [_child("twophase", {"rms": 8}) for _ in range(args.runs)]
        med = _print_median("twophase", json.dumps({"rms": 8}), rs)
        print(f"  {'overhead (hand / explorer)':<26} "
              f"{med['handwritten_states_per_s'] / med['explorer_states_per_s']:.2f}x")


def _child(kind: str, spec: dict) -> dict:
    """One run in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", f"{kind}:{json.dumps(spec)}"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _print_median(kind: str, spec: str, runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "complete"}
    print(f"{kind} {spec}  (median of {len(runs)} runs)")
    for k, v in med.items():
        print(f"  {k:<26} {v:,.1f}" if isinstance(v, float) else f"  {k:<26} {v:,}")
    return med


if __name__ == "__main__":
    main()
