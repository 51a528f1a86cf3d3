"""How fast ``deliverycheck mutate`` checks a mode's mutants, on one Dask worker and on more.

Runs ``deliverycheck mutate --mode MODE --json`` once per worker count
(default 1 and 2; the native modules are cached by a first, untimed run
with ``--mutant 1``), in the same invocation of this script, and prints per
worker count the wall time of the whole command, the mutants checked, the
mutants per minute the command measured (from the first task to the last
result), and the speed-up over the first worker count.  Every worker count
must give the same classes for the same mutants; the script says so, and
fails if not.

    python benchmarks/mutate_scale.py [--mode idempotent] [--workers 1 2] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time


def run(mode: str, workers: int, out: str) -> tuple[float, dict]:
    """One timed mutate run: (wall seconds, its JSON report)."""
    start = time.perf_counter()
    p = subprocess.run(["deliverycheck", "mutate", "--mode", mode, "--workers", str(workers), "--json",
                        "-q", "--out", out], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(p.stdout)


def main() -> None:
    """Time the runs (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="idempotent")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["deliverycheck", "mutate", "--mode", args.mode, "--mutant", "1", "--serial", "-q",
                        "--out", out], capture_output=True, check=True)
        rows, classes = [], {}
        for n in args.workers:
            walls, rates = [], []
            for _ in range(args.runs):
                wall, doc = run(args.mode, n, out)
                walls.append(wall)
                rates.append(doc["run"]["per_minute"])
                got = {m["id"]: m["status"] for mode in doc["modes"] for m in mode["mutants"]}
                classes.setdefault("first", got)
                if got != classes["first"]:
                    sys.exit(f"{n} workers classified the mutants differently")
            counts = doc["modes"][0]["counts"]
            rows.append((n, statistics.median(walls), doc["run"]["mutants"], statistics.median(rates), counts))
    base = rows[0][3]
    print(f"deliverycheck mutate --mode {args.mode} (medians of {args.runs} run(s); same classes at every "
          "worker count)")
    for n, wall, mutants, rate, counts in rows:
        print(f"  {n} worker{'s' * (n != 1)}: {wall:6.1f} s wall, {mutants} mutants, {rate:6.1f} mutants/min, "
              f"speed-up {rate / base:.2f}x  ({', '.join(f'{k} {v}' for k, v in counts.items() if v)})")


if __name__ == "__main__":
    main()
