"""How big the replicated worlds are: states, time and memory of each, and how far they grow.

First every replicated (mode, variant) pair ``deliverycheck verify`` checks
by default, at its default bounds; then bigger worlds of a few of them
(two records, a third fault, an unflushed loss, three replicas; the
exactly-once world with min.insync.replicas=2, two records, and the two
faults an unclean election needs), each a
fresh ``deliverycheck verify`` process with a wall-time cap (10 minutes
unless ``--cap`` says otherwise).  A world cut off by the cap is printed as
"incomplete", never with a state count.

    python benchmarks/replication_worlds.py [--cap 600] [--skip-big]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

# (mode, variant, bound overrides) of the bigger worlds, smallest first
BIG = [
    ("at-least-once", "rf2", {"unflushed": 1}),
    ("at-least-once", "rf2-isr2", {"unflushed": 1}),
    ("at-least-once", "rf2-isr2", {"faults": 3}),
    ("idempotent", "rf2", {"records": 2}),
    ("at-least-once", "rf2", {"records": 2}),
    ("at-least-once", "rf2-isr2", {"records": 2}),
    ("at-least-once", "rf3-isr2", {"unflushed": 1}),
    ("at-least-once", "rf3-isr2", {"records": 2}),
    ("at-least-once", "rf2-isr2", {"records": 2, "faults": 3}),
    # exactly-once on replicated output partitions
    ("exactly-once", "rf2-isr2", {}),
    ("exactly-once", "rf2", {"records": 2}),
    ("exactly-once", "rf2-unclean", {"faults": 2}),
]


def verify(mode: str, variant: str, bounds: dict[str, int], cap: float) -> dict | None:
    """The ``--json`` search summary of one verify run, or None if the cap cut it off."""
    args = [sys.executable, "-m", "deliverycheck.cli", "verify", "--quiet", "--json",
            "--mode", mode, "--variant", variant, "--max-seconds", str(cap)]
    for k, v in bounds.items():
        args += ["--bound", f"{k}={v}"]
    with tempfile.TemporaryDirectory(prefix="repl-out-") as out:
        done = subprocess.run([*args, "--out", out], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"verify exited {done.returncode}: {done.stderr[-1000:]}")
    search = json.loads(done.stdout)["searches"][0]
    return search if search["complete"] else None


def show(mode: str, variant: str, bounds: dict[str, int], search: dict | None, wall: float) -> None:
    """One line of figures."""
    label = f"{mode} / {variant}" + (" (" + ", ".join(f"{k}={v}" for k, v in bounds.items()) + ")"
                                     if bounds else "")
    if search is None:
        print(f"{label:<58} incomplete after {wall:.0f} s", flush=True)
        return
    rate = search["states"] / max(search["seconds"] - search["compile_seconds"], 1e-9)
    print(f"{label:<58} {search['states']:>12,} states  depth {search['depth']:>3}  "
          f"{search['seconds']:7.1f} s  {rate:>11,.0f} states/s  {search['peak_memory_mb']:>7,.0f} MB",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=600.0, help="seconds per bigger world (default 600)")
    ap.add_argument("--skip-big", action="store_true", help="only the default worlds")
    a = ap.parse_args()
    from deliverycheck.model import MODES, VARIANTS
    print("default worlds (what deliverycheck verify checks):")
    for v in VARIANTS.values():
        if not v.replicated:
            continue
        for m in v.checked_with:
            start = time.perf_counter()
            show(m, v.name, {}, verify(m, v.name, {}, a.cap), time.perf_counter() - start)
    if a.skip_big:
        return
    print(f"\nbigger worlds (each capped at {a.cap:.0f} s):")
    for m, v, bounds in BIG:
        assert m in MODES and v in VARIANTS
        start = time.perf_counter()
        show(m, v, bounds, verify(m, v, bounds, a.cap), time.perf_counter() - start)


if __name__ == "__main__":
    main()
