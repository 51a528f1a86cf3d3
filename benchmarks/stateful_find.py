"""The stateful engine: time to find each expected counterexample, and its shrunk length.

For every mode x variant pair in properties/expected.toml, at the default
(exhaustive) bounds, the stateful engine hunts the properties the explorer
finds violated - ``always``, ``final`` and ``progress`` - with a large
budget and stops when all are found.  Printed per property: the seconds to
the first violating state and the shrunk length next to the explorer's
shortest length (expected.toml); per pair: steps per second.  Each seed runs
in a fresh process; medians over ``--seeds`` seeds.

Then, with ``--deep``, the same per mode in its stateful default world
(``deliverycheck list``): steps per second and what is found there.

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/stateful_find.py                          # every pair, seeds 0 1 2
    python benchmarks/stateful_find.py --mode exactly-once --variant tv1 --seeds 5
    python benchmarks/stateful_find.py --deep --examples 100 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys


def one_run(mode: str, variant: str, seed: int, examples: int, steps: int, deep: bool) -> dict:
    """One hunt, in this process."""
    import resource
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.engines.stateful import Budget, hunt
    from deliverycheck.expected import load
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import deep_for_mode
    from deliverycheck.properties import LEMMAS
    exp = load(None, modes=list(MODES), variants=list(VARIANTS),
               kinds={p.name: p.kind for p in SPEC.properties}).get((mode, variant))
    cfg = Config.of(mode, variant) if not deep else Config(MODES[mode], VARIANTS[variant],
                                                             deep_for_mode(MODES[mode]))
    sy = System(SPEC, cfg)
    if deep:
        props = [p for p in sy.properties if p.name not in LEMMAS]
    else:  # the violations the explorer finds
        props = [p for p in sy.properties if p.kind != "sometimes"
                 and exp and exp.verdicts.get(p.name) == "violated"]
    if not props:
        return {"skipped": True}
    r = hunt(sy, props, Budget(examples=examples, steps=steps, seed=seed))
    return {"steps_per_second": r.steps_per_second, "seconds": r.seconds, "steps": r.steps,
            "histories": r.histories, "complete": r.complete,
            "wanted": [p.name for p in props if p.kind != "sometimes"],
            "found": {k: {"seconds": f.first_seconds, "length": len(f.path),
                          "first_length": f.first_length, "shrink_seconds": f.shrink_seconds}
                      for k, f in r.found.items()},
            "shortest": dict(exp.lengths) if exp else {},
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    from deliverycheck.model import MODES, VARIANTS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", action="append", help="mode (repeatable; default: every pair)")
    ap.add_argument("--variant", action="append", help="variant (repeatable)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 (default 3)")
    ap.add_argument("--examples", type=int, default=20000, help="budget per hunt (default 20000)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--deep", action="store_true", help="each mode in its stateful default world")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # child: MODE VARIANT
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one_run(a.one[0], a.one[1], a.seed, a.examples, a.steps, a.deep)))
        return
    from deliverycheck.expected import load
    from deliverycheck.catalog import SPEC
    pairs = sorted(load(None, modes=list(MODES), variants=list(VARIANTS),
                        kinds={p.name: p.kind for p in SPEC.properties}), key=lambda mv: (
        list(MODES).index(mv[0]), list(VARIANTS).index(mv[1])))
    if a.deep:
        pairs = [(m, "current") for m in MODES]
    pairs = [(m, v) for m, v in pairs if (not a.mode or m in a.mode) and (not a.variant or v in a.variant)]
    report = {}
    for mode, variant in pairs:
        runs = []
        for seed in range(a.seeds):
            cmd = [sys.executable, __file__, "--one", mode, variant, "--seed", str(seed),
                   "--examples", str(a.examples), "--steps", str(a.steps)] + (["--deep"] if a.deep else [])
            runs.append(json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                  text=True).stdout))
            if runs[-1].get("skipped"):
                break
        if runs[-1].get("skipped"):
            if not a.json:
                print(f"{mode}/{variant}: the explorer finds no violation here")
            continue
        report[f"{mode}/{variant}"] = runs
        if not a.json:
            _print(mode, variant, runs)
    if a.json:
        print(json.dumps(report, indent=2))


def _print(mode: str, variant: str, runs: list[dict]) -> None:
    """One pair's figures: medians over the seeds."""
    med = statistics.median
    print(f"{mode}/{variant}: {med(r['steps_per_second'] for r in runs):,.0f} steps/s, "
          f"{med(r['seconds'] for r in runs):.1f} s per hunt, peak "
          f"{max(r['peak_memory_mb'] for r in runs):.0f} MB (median of {len(runs)} seeds)")
    names = sorted({n for r in runs for n in r["wanted"]} | {n for r in runs for n in r["found"]})
    quiet = []
    for name in names:
        hits = [r["found"][name] for r in runs if name in r["found"]]
        if not hits:
            quiet.append(name)
            continue
        times = ", ".join(f"{r['found'][name]['seconds']:.1f}" if name in r["found"] else "-"
                          for r in runs)
        shortest = runs[0]["shortest"].get(name, "-")
        print(f"  {name:<24} found by {len(hits)}/{len(runs)} seeds, first violation after "
              f"{med(h['seconds'] for h in hits):.1f} s ({times}); shrunk length "
              f"{med(h['length'] for h in hits):g} (from {med(h['first_length'] for h in hits):g}; "
              f"explorer's shortest {shortest})")
    if quiet:
        print(f"  not violated with any seed: {', '.join(quiet)}")


if __name__ == "__main__":
    main()
