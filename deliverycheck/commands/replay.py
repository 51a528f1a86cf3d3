"""``deliverycheck replay``: does a saved trace still run, and what does it break?"""

from __future__ import annotations

import argparse
import json

from deliverycheck.commands.render import read_trace_file
from deliverycheck.errors import ReplayError
from deliverycheck.source import load_spec

REPLAY_SCHEMA = "deliverycheck.replay/1"


def run(args: argparse.Namespace) -> int:
    """Replay one trace; exit 0 when it replays and shows what it was saved for."""
    load_spec()
    from deliverycheck.properties import LEMMAS
    from deliverycheck.replay import judge
    from deliverycheck.trace import from_itf
    doc, system = read_trace_file(args.trace)   # a file that is no trace: a usage error
    if args.rerecord:
        from deliverycheck.replay import rerecord
        try:
            n = rerecord(args.trace)
        except ReplayError as e:
            print(f"{args.trace}: cannot be re-recorded: {e}; find the case again and save it")
            return 1
        if not args.json:
            print(f"{args.trace}: re-recorded in the current model ({n} steps)")
        doc, system = read_trace_file(args.trace)
    source = args.source.as_json()
    if not args.json:
        print(args.source.describe())
    try:
        got = judge(from_itf(doc, system))
    except ReplayError as e:
        # the model changed under the trace (or the file was edited): a finding, not a usage error
        if args.json:
            print(json.dumps({"schema": REPLAY_SCHEMA, "source": source, "trace": args.trace,
                              "replays": False, "error": str(e)}, indent=2))
        else:
            print(f"{args.trace}: does not replay: {e}")
        return 1
    t, rec, ok = got.trace, got.recorded, got.shows_recorded()
    if args.json:
        print(json.dumps({"schema": REPLAY_SCHEMA, "source": source, "trace": args.trace, "replays": True,
                          "mode": t.system.cfg.mode.name, "variant": t.system.cfg.variant.name,
                          "bounds": dict(vars(t.system.cfg.bounds)), "steps": len(t),
                          "recorded": rec, "recorded_shown": ok,
                          "broken": [vars(j) for j in got.broken],
                          "reached": [vars(j) for j in got.reached]}, indent=2))
        return 0 if ok else 1
    cfg = t.system.cfg
    start = "" if t.from_init else " from an arbitrary start state (counterexample to induction)"
    print(f"{args.trace}: replays, {len(t)} steps{start} in {cfg.mode.name}/{cfg.variant.name} "
          f"({', '.join(f'{k}={v}' for k, v in vars(cfg.bounds).items())})")
    for j in got.broken:
        lemma = ", a lemma about the default bounds" if j.property in LEMMAS else ""
        mark = "  <- recorded" if j.property == rec else ""
        print(f"  breaks  {j.property} ({j.kind}{lemma}) at step {j.step}{mark}")
    for j in got.reached:
        print(f"  reaches {j.property} at step {j.step}{'  <- recorded' if j.property == rec else ''}")
    if not got.broken:
        print("  breaks no property")
    if not ok:
        print(f"  the trace was saved for {rec} ({t.verdict}), which it no longer shows")
    return 0 if ok else 1
