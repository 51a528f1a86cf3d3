"""``deliverycheck mutate``: mutation testing of the model (docs/mutation.md)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from deliverycheck.commands.options import choose, out_dir
from deliverycheck.errors import UsageError
from deliverycheck.source import load_spec


def run(args: argparse.Namespace) -> int:
    """Check the chosen mutants; print the report; write mutation.html and the traces."""
    spec = load_spec()
    from deliverycheck import cluster
    from deliverycheck.engines.parallel import default_workers
    from deliverycheck.model import MODES
    from deliverycheck.mutate import report
    from deliverycheck.mutate.sites import KINDS
    from deliverycheck.mutate.tasks import mutant_task

    if args.serial and (args.workers or args.scheduler):
        raise UsageError("--serial runs in this process; drop --workers and --scheduler, or --serial")
    if args.workers and args.scheduler:
        raise UsageError("--workers starts a cluster on this machine, --scheduler uses an existing "
                         "one; give one of them")
    modes = choose(args.mode, list(MODES), "mode")
    actions = choose(args.action, [a.name for a in spec.actions], "action") if args.action else []
    kinds = choose(args.kind, list(KINDS), "mutant kind") if args.kind else []
    out = out_dir(args.out)
    say = (lambda text: None) if args.quiet else (lambda text: print(f"mutate: {text}", file=sys.stderr))
    print(args.source.describe(), file=sys.stderr)

    workers = 0 if args.serial else (args.workers or default_workers())
    if args.scheduler:   # a scheduler that cannot be reached is told before the modes are prepared
        cluster.reachable(args.scheduler)
    # the modes are prepared before a cluster starts: preparing holds this process's
    # interpreter for minutes, and an embedded scheduler lives in this process too
    results, tasks, where = _plan(modes, actions, kinds, args.mutant, args.mutant_seconds, say)
    with contextlib.ExitStack() as stack:
        pool = None
        if not args.serial:
            pool = stack.enter_context(cluster.Pool(workers, args.scheduler,
                                                    (args.source.model, args.source.properties)))
            if args.scheduler:
                workers = pool.size
        stopped, start, counts = "", time.perf_counter(), {}
        try:
            if pool is None:
                stream = cluster.serial(mutant_task, tasks, failures=True)
            else:
                say(f"{len(tasks)} mutants on {workers} Dask worker{'s' * (workers != 1)}")
                stream = pool.run(mutant_task, tasks, [f"M{m.id}-{r.mode}" for r, m in where],
                                  failures=True)
            finished = _collect(stream, where, start, args.max_seconds, say, counts)
        except cluster.WorkerError as e:
            raise UsageError(str(e)) from None
        except KeyboardInterrupt:
            finished, stopped = False, "interrupted"
        seconds = time.perf_counter() - start
    if finished is False and not stopped:
        stopped = f"time budget of {args.max_seconds:g} s"
    done = sum(len(r.outcomes) for r in results)
    run_info = {"mutants": len(tasks), "not_run": len(tasks) - done, "stopped": stopped or None,
                "workers": workers, "scheduler": args.scheduler, "seconds": round(seconds, 2),
                "per_minute": round(60 * done / seconds, 1) if seconds > 0 else 0.0}
    root = args.source.model.parent
    _write_traces(results, out)
    (out / "mutation.html").write_text(report.page(results, root, run_info, "deliverycheck mutate", out))
    if args.json:
        print(json.dumps(report.to_json(results, root, run_info, args.source.as_json()), indent=2))
    else:
        print(args.source.describe())
        print(report.text(results, root, run_info), end="")
        print(f"Report: {out / 'mutation.html'}")
    return 130 if stopped == "interrupted" else 0


def _plan(modes, actions, kinds, ids, mutant_seconds, say):
    """The chosen mutants of each mode: the report's rows, the tasks, and which row each task fills."""
    from deliverycheck.mutate import report
    from deliverycheck.mutate.tasks import prepared_mode
    results, tasks, where = [], [], []
    for mode in modes:
        start = time.perf_counter()
        prepared, mutants = prepared_mode(mode)
        chosen = [m for m in mutants
                  if (not actions or set(m.actions) & set(actions)) and (not kinds or m.key.kind in kinds)
                  and (not ids or m.id in ids)]
        searches = [f"{p.mode}/{p.variant}" for p in prepared]
        say(f"{mode}: {len(mutants)} mutants in {len(searches)} searches, {len(chosen)} chosen "
            f"(ready in {time.perf_counter() - start:.1f} s)")
        if not chosen:
            continue
        r = report.ModeResult(mode, searches, chosen, total=len(mutants))
        results.append(r)
        states = {p.variant: p.states for p in prepared}
        for m in chosen:
            tasks.append((mode, m.id, m.key, states, mutant_seconds))
            where.append((r, m))
    if not tasks:
        raise UsageError("no mutant matches the chosen modes, actions and kinds; "
                         "`deliverycheck list` names each mode's actions")
    return results, tasks, where


def _collect(stream, where, start, budget, say, counts) -> bool:
    """Take outcomes as they come; False when the time budget ran out first."""
    last = time.perf_counter()
    from deliverycheck.cluster import WorkerError
    from deliverycheck.mutate.run import Outcome
    for i, outcome in stream:
        r, m = where[i]
        if isinstance(outcome, WorkerError):   # a bug: reported with the others, the run goes on
            outcome = Outcome(m.id, "error", reasons=[str(outcome)])
        r.outcomes[m.id] = outcome
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        now = time.perf_counter()
        if now - last > 10:
            last = now
            done = sum(counts.values())
            say(f"{done}/{len(where)} done, " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                + f" ({60 * done / (now - start):.0f} per minute)")
        if budget is not None and now - start > budget:
            return False
    return True


def _write_traces(results, out: Path) -> None:
    """Each killed mutant's counterexample as ITF and story, under out/mutants/MODE/; the
    outcome then names the files instead of holding them."""
    for r in results:
        folder = out / "mutants" / r.mode
        if folder.is_dir():
            for old in folder.iterdir():
                old.unlink()
        for mid, o in sorted(r.outcomes.items()):
            if o.trace is None or not o.trace.lstrip().startswith("{"):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            itf = folder / f"M{mid}-{o.property}.itf.json"
            told = folder / f"M{mid}-{o.property}.story.txt"
            itf.write_text(o.trace)
            told.write_text(o.story or "")
            o.trace, o.story = str(itf), str(told)
