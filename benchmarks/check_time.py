"""How long ``deliverycheck check`` takes on each example configuration, and its search for fixes.

Each run is a fresh ``deliverycheck check --json`` process on one folder of
``examples/`` (every ``*.properties`` file passed with the option of its
name), with the native modules cached by a first, untimed run.  Prints per
example the mode and variant it was checked as, the states of the check's
own search, and the medians of the wall time, the check's time and the
fix search's time.

    python benchmarks/check_time.py [--runs 3] [--kafka 3.9] [--example at-least-once-pipeline ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROLES = ("producer", "consumer", "topic", "broker", "streams")


def command(folder: Path, kafka: str, out: str) -> list[str]:
    """The check of one example folder."""
    args = ["deliverycheck", "check", "--kafka", kafka, "--json", "-q", "--out", out]
    for role in ROLES:
        f = folder / f"{role}.properties"
        if f.is_file():
            args += [f"--{role}", str(f)]
    return args


def main() -> None:
    """Time each example's check (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kafka", default="3.9")
    ap.add_argument("--example", action="append", help="an examples/ folder (default: all)")
    args = ap.parse_args()
    folders = [EXAMPLES / e for e in args.example] if args.example else sorted(
        p for p in EXAMPLES.iterdir() if p.is_dir())
    print(f"{'example':28} {'checked as':44} {'states':>10} {'wall s':>7} {'check s':>8} {'fixes s':>8}")
    for folder in folders:
        with tempfile.TemporaryDirectory(prefix="check-out-") as out:
            cmd = command(folder, args.kafka, out)
            subprocess.run(cmd, capture_output=True, check=False)   # builds the native modules
            walls, checks, fixes, doc = [], [], [], {}
            for _ in range(args.runs):
                start = time.perf_counter()
                p = subprocess.run(cmd, capture_output=True, text=True, check=False)
                walls.append(time.perf_counter() - start)
                if p.returncode not in (0, 1):
                    raise SystemExit(f"{folder.name}: exit {p.returncode}: {p.stderr.strip()}")
                doc = json.loads(p.stdout)
                checks.append(doc["seconds"])
                fixes.append(doc["fix_seconds"])
        model = doc["model"]
        print(f"{folder.name:28} {model['mode'] + ' / ' + model['variant']:44} "
              f"{model['states'] or 0:>10,} {statistics.median(walls):>7.1f} "
              f"{statistics.median(checks):>8.1f} {statistics.median(fixes):>8.1f}")


if __name__ == "__main__":
    main()
