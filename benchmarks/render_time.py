"""How long drawing takes: every gallery trace read, charted, and drawn.

For each trace in counterexamples/ (or the folder given): replaying the
ITF file, building the chart and its DOT and Mermaid text (Python), and
Graphviz laying it out as SVG (one ``dot`` process).  Prints per-trace
medians over ``--runs`` runs and the totals, and the peak memory of this
process.

    python benchmarks/render_time.py [--runs 3] [FOLDER]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from deliverycheck import trace as tr
from deliverycheck.render.files import image, mermaid, sequence
from deliverycheck.replay import load_doc, system_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="counterexamples")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = sorted(Path(args.folder).glob("*/*/*/trace.itf.json"))
    if not files:
        raise SystemExit(f"no */*/*/trace.itf.json under {args.folder}")
    rows = []
    for f in files:
        load, chart, draw = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            doc = load_doc(f)
            trace = tr.from_itf(doc, system_of(doc))
            t1 = time.perf_counter()
            dot = sequence(trace)
            mermaid(trace)
            t2 = time.perf_counter()
            image(dot, "svg")
            t3 = time.perf_counter()
            load.append(t1 - t0), chart.append(t2 - t1), draw.append(t3 - t2)
        rows.append((str(f.parent.relative_to(args.folder)), len(trace), statistics.median(load),
                     statistics.median(chart), statistics.median(draw)))
    print(f"{'counterexample':<58} {'steps':>5} {'replay s':>9} {'chart s':>8} {'dot svg s':>9}")
    for name, steps, a, b, c in rows:
        print(f"{name:<58} {steps:>5} {a:>9.3f} {b:>8.3f} {c:>9.3f}")
    total = [sum(r[k] for r in rows) for k in (2, 3, 4)]
    print(f"{'total (' + str(len(rows)) + ' traces, medians of ' + str(args.runs) + ' runs)':<58} "
          f"{'':>5} {total[0]:>9.2f} {total[1]:>8.2f} {total[2]:>9.2f}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
