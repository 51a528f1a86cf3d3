"""``deliverycheck verify``: run the searches, write the traces and the report, compare.

Each mode x variant is one search (:mod:`deliverycheck.verify`); its
verdicts are compared with the expectations of its world
(:meth:`deliverycheck.expected.Expectations.find`).  Progress goes to
stderr, the table or ``--json`` to stdout, traces and ``report.html`` to
``--out``.  An interruption (Ctrl-C, SIGTERM) stops the current search;
what was found is still written and reported as ``incomplete
(interrupted)``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from deliverycheck import __version__, cli, interrupt
from deliverycheck.commands.options import choose, input_file, out_dir, parse_bounds
from deliverycheck.errors import UsageError
from deliverycheck.engines.explore import COMPILE_INTERRUPTED
from deliverycheck.source import file_hash, load_spec

# which engines each engine-specific option applies to
ENGINE_OPTIONS = {
    "--max-states": ("explore",), "--coverage": ("explore", "stateful"),
    "--explorer": ("explore",), "--store": ("explore",), "--workers": ("explore",),
    "--depth": ("smt",), "--query-seconds": ("smt",),
    "--examples": ("stateful",), "--steps": ("stateful",), "--seed": ("stateful",),
    "--hunt": ("stateful",), "--seeds": ("stateful",),
    "--no-swarm": ("stateful",),
}


def check_engine_options(args: argparse.Namespace) -> None:
    """Options that belong to another engine are a usage error, not silently ignored."""
    for option, engines in ENGINE_OPTIONS.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if value not in (None, False) and args.engine not in engines:
            raise UsageError(f"{option} applies to --engine {' or '.join(engines)}, not "
                             f"{args.engine}; drop it or add --engine {engines[0]}")
    if args.dask_workers and args.scheduler:
        raise UsageError("--dask-workers starts a cluster on this machine, --scheduler uses an "
                         "existing one; give one of them")
    if args.workers and (args.dask_workers or args.scheduler):
        raise UsageError("--workers sets one search's threads; on Dask each search runs on one "
                         "worker thread: drop --workers")
    if args.workers and args.explorer == "python":
        raise UsageError("--workers sets the native explorer's threads; drop it or --explorer python")
    if args.store == "fingerprint" and args.explorer == "python":
        raise UsageError("--store fingerprint needs the native explorer; "
                         "drop --explorer python or use --store exact")


def command_line(args: argparse.Namespace) -> str:
    """The command as typed (for the report's first line)."""
    return "deliverycheck " + " ".join(shlex.quote(a) for a in args.argv)


def run(args: argparse.Namespace) -> int:
    """Run the checks, print the table (or JSON), return the exit status."""
    spec = load_spec()
    from deliverycheck.engines.explore import Limits
    from deliverycheck.engines.stateful import Budget
    from deliverycheck.expected import ExpectationError, load
    from deliverycheck.gallery import write_out
    from deliverycheck.memory import default_cap_mb
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import deep_for_mode, for_mode
    from deliverycheck.progress import Progress
    from deliverycheck.properties import LEMMAS
    from deliverycheck.report import Context, print_coverage, print_table, search_line, to_json
    from deliverycheck.verify import plan, prebuild, run as explore_run, run_smt, run_stateful

    modes = choose(args.mode, list(MODES), "mode")
    variants = choose(args.variant, list(VARIANTS), "variant")
    prop_names = choose(args.property, [p.name for p in spec.properties], "property")
    if args.engine == "stateful" and not args.property:
        # the lemmas are statements about the small default world (docs/model.md)
        prop_names = [n for n in prop_names if n not in LEMMAS]
    props = [spec.property(n) for n in prop_names]
    overrides = parse_bounds(args.bound)
    pairs = [(m, v) for m, v in plan(modes, variants, bool(args.variant))
             if any(p.applies(Config(MODES[m], VARIANTS[v])) for p in props)]
    if not pairs:
        raise UsageError(f"property {', '.join(prop_names)} is not about mode {', '.join(modes)}; "
                         "see `deliverycheck list` for which properties each mode has")
    path = input_file(args.expected, "--expected") if args.expected is not None else None
    try:
        expectations = load(path, modes=MODES, variants=list(VARIANTS),
                            kinds={p.name: p.kind for p in spec.properties})
    except ExpectationError as e:
        raise UsageError(str(e)) from None
    out = out_dir(args.out)
    check_engine_options(args)
    if args.engine == "smt" and all(p.kind == "progress" for p in props):
        raise UsageError(f"{', '.join(prop_names)}: progress properties need the whole state graph; "
                         "check them with --engine explore")
    cap = args.max_memory or default_cap_mb()
    limits = Limits(args.max_states, args.max_seconds, cap)
    budget = Budget(examples=args.examples or cli.DEFAULT_EXAMPLES, steps=args.steps or cli.DEFAULT_STEPS,
                    seed=0 if args.seed is None else args.seed, swarm=not args.no_swarm,
                    max_seconds=args.max_seconds,
                    hunt_examples=cli.DEFAULT_HUNT if args.hunt is None else args.hunt,
                    hunt_steps=cli.HUNT_STEPS)
    ctx = Context(command_line(args), __version__, args.source, expectations.path,
                  file_hash(expectations.path), overrides, cap)
    progress = Progress(len(pairs), quiet=args.quiet)
    runs = []
    noted: set[str] = set()   # the native explorer's fallback note, once per distinct reason
    bounds_of = deep_for_mode if args.engine == "stateful" else for_mode
    cfgs = [Config(MODES[m], VARIANTS[v], bounds_of(MODES[m], VARIANTS[v], **overrides))
            for m, v in pairs]
    tasked = bool(args.dask_workers or args.scheduler or args.seeds)
    if tasked:
        runs = _tasks(args, pairs, cfgs, props, overrides, expectations, out, limits, budget, progress)
    elif args.engine == "explore" and len(cfgs) > 1:
        prebuild(cfgs, props, args.explorer or "auto")
    for (mode, variant), cfg in zip(pairs, cfgs):
        if tasked:
            break
        bounds = cfg.bounds
        exp = expectations.find(MODES[mode], variant, bounds, args.engine)
        progress.start(f"{mode}/{variant}", f"records={bounds.records}, faults={bounds.faults}, "
                                            f"{args.engine}",
                       pinned=exp.states if exp is not None and args.engine == "explore" else None)
        try:
            if args.engine == "stateful":
                r = run_stateful(cfg, props, exp, out, budget, progress, limits)
            elif args.engine == "smt":
                r = run_smt(cfg, props, exp, out, args.depth or cli.DEFAULT_DEPTH, args.max_seconds,
                            args.query_seconds, progress, limits)
            else:
                r = explore_run(cfg, props, exp, out, limits, progress,
                                backend=args.explorer or "auto", store=args.store or "exact",
                                workers=args.workers)
                if r.exploration.note and r.exploration.note not in noted:
                    noted.add(r.exploration.note)
                    progress.note(r.exploration.note)
        except KeyboardInterrupt:  # after the search, while its traces were written
            progress.note("interrupted while writing its traces; not reported")
            break
        runs.append(r)
        progress.end(search_line(r))
        if r.interrupted:
            break
    if runs and runs[-1].stop_reason == COMPILE_INTERRUPTED:
        # stopped before its first step: nothing of it to report
        runs.pop()
        if not runs:
            print(f"deliverycheck: interrupted ({interrupt.name()}) while compiling the model of "
                  f"{pairs[0][0]}/{pairs[0][1]}; nothing was checked", file=sys.stderr)
            return interrupt.status() or 130
    done = {(r.mode, r.variant) for r in runs}
    skipped = [pair for pair in pairs if pair not in done]
    try:
        note = write_out(out, runs, ctx, png=args.png)   # diagrams of every trace and report.html
    except KeyboardInterrupt:
        note = "interrupted while drawing: some diagrams and report.html are missing"
    if args.json:
        print(json.dumps(to_json(runs, ctx), indent=2))
        status = _status(runs)
    else:
        status = print_table(runs, ctx, lemmas=args.lemmas).status
        if args.coverage:
            print_coverage(runs)
        if skipped:
            print(f"Not run (interrupted): {', '.join(f'{m}/{v}' for m, v in skipped)}")
        print(f"\nReport: {out / 'report.html'} (every counterexample drawn; diagrams beside each trace)")
    if note:
        print(f"deliverycheck: {note}", file=sys.stderr)
    return status


def _tasks(args, pairs, cfgs, props, overrides, expectations, out, limits, budget, progress) -> list:
    """The searches as tasks, one per mode x variant (and per seed of ``--seeds``): on Dask
    (docs/scale-out.md) or, for a swarm of seeds alone, in this process.  The runs in plan
    order, as a run in this process makes them; Ctrl-C keeps the searches that finished."""
    from contextlib import ExitStack
    from dataclasses import replace

    from deliverycheck import cluster, remote
    from deliverycheck.model import MODES
    from deliverycheck.report import search_line
    from deliverycheck.verify import merge_seeds
    seeds = [budget.seed + k for k in range(args.seeds or 1)]
    items = [(i, seed) for i in range(len(pairs)) for seed in seeds]
    tasks = [(pairs[i][0], pairs[i][1], args.engine, [p.name for p in props], overrides,
              expectations.find(MODES[pairs[i][0]], pairs[i][1], cfgs[i].bounds, args.engine), limits,
              replace(budget, seed=seed), args.depth or cli.DEFAULT_DEPTH, args.query_seconds,
              args.explorer or "auto", args.store or "exact")
             for i, seed in items]
    parts: dict[int, dict[int, object]] = {}
    got = {}
    with ExitStack() as stack:
        if args.dask_workers or args.scheduler:
            pool = stack.enter_context(cluster.Pool(args.dask_workers, args.scheduler,
                                                    (args.source.model, args.source.properties)))
            progress.note(f"{len(tasks)} searches on {pool.size} Dask workers")
            stream = pool.run(remote.search_task, tasks, [f"{m}-{v}-{s}" for (m, v, *_), (_, s)
                                                          in zip(tasks, items)])
        else:
            stream = cluster.serial(remote.search_task, tasks)
        try:
            for k, r in stream:
                i, seed = items[k]
                parts.setdefault(i, {})[seed] = remote.restore(r)
                if len(parts[i]) < len(seeds):
                    continue
                runs = [parts[i][s] for s in seeds]
                got[i] = remote.write_traces(merge_seeds(runs) if len(runs) > 1 else runs[0], out)
                progress.start(f"{got[i].mode}/{got[i].variant}", f"records={got[i].bounds.records}, "
                                                                  f"faults={got[i].bounds.faults}, "
                                                                  f"{args.engine}")
                progress.end(search_line(got[i]))
        except cluster.WorkerError as e:
            raise UsageError(str(e)) from None
        except KeyboardInterrupt:
            progress.note(f"interrupted: {len(got)} of {len(pairs)} searches finished")
    return [got[i] for i in sorted(got)]


def _status(runs) -> int:
    from deliverycheck.report import outcome
    return outcome(runs).status
