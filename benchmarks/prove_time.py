"""k-induction: time for each proof target of `deliverycheck prove` (median of several runs).

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/prove_time.py                 # the default targets, 3 runs each
    python benchmarks/prove_time.py --runs 5 --max-k 2
    python benchmarks/prove_time.py --workers 1           # on one core (default: every core)
    python benchmarks/prove_time.py --runs 1 --max-k 1 --target idempotent-one-in-flight:in_order \
        --bound records=3 --bound faults=2        # a world the explorer cannot enumerate

Each proof runs in a fresh process; printed: verdict, k, the median time,
every run's time, and the median time per k.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys


def one_run(mode: str, prop: str, max_k: int, bounds: dict[str, int], workers: int | None) -> dict:
    """One proof attempt, in this process."""
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    from deliverycheck.prove import prove
    cfg = Config(MODES[mode], VARIANTS["current"], for_mode(MODES[mode], **bounds))
    r = prove(cfg, prop, max_k, out=None, workers=workers)
    return {"verdict": r.proof.headline(), "seconds": r.proof.seconds,
            "seconds_per_k": r.proof.seconds_per_k, "lemmas": r.proof.lemmas}


def main() -> None:
    from deliverycheck.prove import TARGETS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-k", type=int, default=3)
    ap.add_argument("--target", action="append", metavar="MODE:PROPERTY",
                    help="mode:property (repeatable; default the prove targets)")
    ap.add_argument("--bound", action="append", default=[], metavar="NAME=VALUE",
                    help="a bound other than the mode's default (repeatable)")
    ap.add_argument("--workers", type=int, help="cores per proof (default: every core)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child process: MODE:PROPERTY
    a = ap.parse_args()
    bounds = {k: int(v) for k, v in (b.split("=", 1) for b in a.bound)}
    if a.one:
        print(json.dumps(one_run(*a.one.split(":"), a.max_k, bounds, a.workers)))
        return
    targets = [tuple(t.split(":")) for t in a.target] if a.target else list(TARGETS)
    for mode, prop in targets:
        runs = [json.loads(subprocess.run(
            [sys.executable, __file__, "--one", f"{mode}:{prop}", "--max-k", str(a.max_k),
             *[f"--bound={b}" for b in a.bound],
             *([f"--workers={a.workers}"] if a.workers else [])],
            check=True, capture_output=True, text=True).stdout) for _ in range(a.runs)]
        times = [r["seconds"] for r in runs]
        ks = min(len(r["seconds_per_k"]) for r in runs)
        per_k = [statistics.median(r["seconds_per_k"][k] for r in runs) for k in range(ks)]
        print(f"{mode} {prop}{' at ' + ', '.join(a.bound) if a.bound else ''}: {runs[0]['verdict']}, median {statistics.median(times):.1f} s "
              f"(runs: {', '.join(f'{t:.1f}' for t in times)}); per k: "
              f"{', '.join(f'{t:.1f}' for t in per_k)}; lemmas: {', '.join(runs[0]['lemmas']) or 'none'}")


if __name__ == "__main__":
    main()
