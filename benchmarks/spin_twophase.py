"""The native explorer against SPIN on the two-phase-commit toy, in the same run.

The toy is Lamport's TwoPhase.tla (tests/twophase.py); its Promela twin is
written below for N resource managers: one process whose loop offers every
action of the model as a ``d_step`` (one atomic, indivisible step), so SPIN
stores exactly one state per model state and both tools must report the
same count (1,745,408 at N = 8).  SPIN runs as a plain safety search
without partial-order reduction (``-DSAFETY -DNOREDUCE``), which is what
the explorer does too; its hash table gets 2^``--hash-bits`` slots.

Usage (from the repository root; SPIN from Debian's ``spin`` package)::

    python benchmarks/spin_twophase.py              # N = 8, median of 3 runs each
    python benchmarks/spin_twophase.py --rms 9 --runs 5

Prints, per tool, the states, the median search time and memory, and the
ratio native / SPIN; the native explorer runs on one thread (as pan does)
and on every core.  Times exclude building (SPIN's pan.c and the native
module are compiled once before the timed runs); the native figure is the
search alone, as pan's "elapsed time" is.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from deliverycheck.engines.parallel import default_workers  # noqa: E402


def promela(n: int) -> str:
    """TwoPhase.tla for ``n`` resource managers in Promela (states as in tests/twophase.py)."""
    rm = "".join(
        f"  :: d_step {{ tm == 0 && mprep[{i}] -> tprep[{i}] = 1 }}\n"     # TMRcvPrepared
        f"  :: d_step {{ rm[{i}] == 0 -> rm[{i}] = 1; mprep[{i}] = 1 }}\n"  # RMPrepare
        f"  :: d_step {{ rm[{i}] == 0 -> rm[{i}] = 3 }}\n"                  # RMChooseToAbort
        f"  :: d_step {{ mcommit -> rm[{i}] = 2 }}\n"                       # RMRcvCommitMsg
        f"  :: d_step {{ mabort -> rm[{i}] = 3 }}\n"                        # RMRcvAbortMsg
        for i in range(n))
    ready = " && ".join(f"tprep[{i}]" for i in range(n))
    return (f"#define N {n}\n"
            "byte rm[N]; byte tm; bool tprep[N]; bool mprep[N]; bool mcommit; bool mabort;\n"
            "active proctype twophase() {\n"
            "end:\n"
            "  do\n"
            f"{rm}"
            f"  :: d_step {{ tm == 0 && {ready} -> tm = 1; mcommit = 1 }}\n"   # TMCommit
            "  :: d_step { tm == 0 -> tm = 2; mabort = 1 }\n"                  # TMAbort
            "  od\n"
            "}\n")


def build_spin(n: int, folder: Path) -> Path:
    """pan for the Promela twin, built with -DSAFETY -DNOREDUCE."""
    (folder / "twophase.pml").write_text(promela(n))
    subprocess.run(["spin", "-a", "twophase.pml"], cwd=folder, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"],
                   cwd=folder, check=True, capture_output=True)
    return folder / "pan"


def run_spin(pan: Path, hash_bits: int) -> dict:
    """One pan run: states stored, elapsed seconds, total memory (MB)."""
    out = subprocess.run([str(pan), "-m100000", f"-w{hash_bits}"], cwd=pan.parent,
                         capture_output=True, text=True, check=True).stdout
    states = int(re.search(r"(\d+) states, stored", out).group(1))
    seconds = float(re.search(r"elapsed time ([\d.e+-]+) seconds", out).group(1))
    memory = float(re.search(r"([\d.]+)\s+total actual memory usage", out).group(1))
    return {"states": states, "seconds": seconds, "memory_mb": memory}


def run_native(n: int, workers: int) -> dict:
    """One native search on ``workers`` threads, in a fresh process (so its memory is its own)."""
    code = (
        "import json, sys; sys.path.insert(0, 'tests'); import twophase\n"
        "from deliverycheck.core.system import System\n"
        "from deliverycheck.engines.explore import explore\n"
        "from deliverycheck.memory import rss_mb\n"
        f"sy = System(twophase.SPEC, twophase.TPConfig(rms={n}))\n"
        "base = rss_mb()\n"
        f"ex = explore(sy, backend='native', workers={workers})\n"
        "print(json.dumps({'states': ex.states, 'seconds': ex.seconds - ex.compile_seconds,\n"
        "                  'memory_mb': ex.peak_memory_mb - base, 'backend': ex.backend}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rms", type=int, default=8, help="resource managers (default 8)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool; medians are printed")
    ap.add_argument("--hash-bits", type=int, default=24, help="SPIN's -w (default 24)")
    args = ap.parse_args()
    if not shutil.which("spin") or not shutil.which("gcc"):
        sys.exit("spin_twophase.py: needs spin and gcc (apt-get install spin gcc)")
    with tempfile.TemporaryDirectory(prefix="dc-spin-") as tmp:
        pan = build_spin(args.rms, Path(tmp))
        cores = default_workers()
        run_native(args.rms, 1)   # builds (or loads) the native module outside the timed runs
        native = {"native, 1 thread": 1, f"native, {cores} threads": cores}
        rows: dict[str, list[dict]] = {"spin": [], **{k: [] for k in native}}
        for _ in range(args.runs):   # interleaved, so all see the same machine load
            rows["spin"].append(run_spin(pan, args.hash_bits))
            for name, w in native.items():
                rows[name].append(run_native(args.rms, w))
    med = {tool: {k: statistics.median(r[k] for r in runs) for k in ("states", "seconds", "memory_mb")}
           for tool, runs in rows.items()}
    counts = {int(m["states"]) for m in med.values()}
    if len(counts) != 1:
        sys.exit("state counts differ: " + ", ".join(f"{t} {int(m['states']):,}" for t, m in med.items()))
    print(f"two-phase commit, {args.rms} resource managers: {counts.pop():,} states "
          f"in every tool (median of {args.runs} runs each)")
    for tool, m in med.items():
        print(f"  {tool:<18} {m['seconds']:7.2f} s  {m['states'] / m['seconds']:>12,.0f} states/s  "
              f"{m['memory_mb']:8.1f} MB")
    for name in native:
        ratios = [n["seconds"] / s["seconds"] for s, n in zip(rows["spin"], rows[name])]
        print(f"  {name} / SPIN time: {med[name]['seconds'] / med['spin']['seconds']:.2f}x "
              f"(per run: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
