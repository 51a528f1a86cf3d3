"""How long ``deliverycheck verify`` takes on a first run and once its native modules are cached.

Each run is a fresh ``deliverycheck verify`` process (every mode and
default variant unless ``--mode`` is given) with its output thrown away.
*Cold* runs get an empty module cache of their own
(``DELIVERYCHECK_CACHE``), so every native module is generated and built,
as on a new machine; *warm* runs share one cache that a first, untimed run
filled.  Prints each run's wall time and peak memory (of the process and
its children: the compilers) and the medians, and fails if a run's exit
status is not 0 (a verdict or figure that differs from expected.toml).

    python benchmarks/verify_time.py [--runs 3] [--mode idempotent ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def one(args: list[str], cache: str) -> tuple[float, float]:
    """Wall seconds and the peak memory in MB of one ``verify`` run with module cache ``cache``."""
    with tempfile.TemporaryDirectory(prefix="verify-out-") as out:
        env = {**os.environ, "DELIVERYCHECK_CACHE": cache}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "deliverycheck.cli", "verify", "--quiet",
                               "--out", out, *args], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"verify exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    # children's peak so far: the largest of the verify processes (and compilers) up to now
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mode", action="append", default=[], help="mode to verify (repeatable; default all)")
    a = ap.parse_args()
    args = [x for m in a.mode for x in ("--mode", m)]
    figures: dict[str, list[float]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="verify-warm-") as warm:
        one(args, warm)   # fills the shared cache
        for n in range(a.runs):
            with tempfile.TemporaryDirectory(prefix="verify-cold-") as cold:
                wall, peak = one(args, cold)
            figures["cold"].append(wall)
            print(f"run {n + 1}: cold {wall:.1f} s (largest process so far: {peak:.0f} MB)", flush=True)
            wall, peak = one(args, warm)
            figures["warm"].append(wall)
            print(f"run {n + 1}: warm {wall:.1f} s (largest process so far: {peak:.0f} MB)", flush=True)
    for kind, walls in figures.items():
        print(f"{kind}: median {statistics.median(walls):.1f} s of {len(walls)} runs "
              f"({', '.join(f'{w:.1f}' for w in walls)})")


if __name__ == "__main__":
    main()
