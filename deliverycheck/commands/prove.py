"""``deliverycheck prove``: k-induction on each target, with progress and counterexamples."""

from __future__ import annotations

import argparse
import json
from typing import Sequence

from deliverycheck import __version__
from deliverycheck.commands.options import choose, out_dir, parse_bounds
from deliverycheck.errors import UsageError
from deliverycheck.source import load_spec

PROVE_SCHEMA = "deliverycheck.prove/3"


def world(bounds) -> str:
    """The bounds a proof is about, as ``records=2, faults=2, ...`` (every bound)."""
    return ", ".join(f"{k}={v}" for k, v in vars(bounds).items())


def blocking(proof) -> str:
    """Whether a capacity bound or a cell's range could stop a step the proof covers."""
    if proof.blocked is not None:
        return "a step can be blocked (see the counterexample to induction)"
    if proof.can_block is not None:
        return f"a step can also be blocked ({proof.can_block})"
    if proof.verdict in ("proved", "not inductive"):
        return "no capacity or range blocks any step from an invariant state"
    return "capacities and ranges: not decided"


def capacity_json(proof) -> dict:
    """``capacity`` in --json: whether blocks were ruled out, and the one found if any."""
    found = proof.can_block
    return {"blocks_ruled_out": proof.verdict == "proved" or (
                proof.verdict == "not inductive" and found is None),
            "blocked_step": found, "kind": proof.block_kind}


def proof_plan(modes: Sequence[str] | None, props: Sequence[str] | None, variant: str) -> list[tuple[str, str]]:
    """The (mode, property) pairs ``prove`` works on, with one-line errors for bad choices."""
    spec = load_spec()
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.properties import LEMMAS
    from deliverycheck.prove import TARGETS
    chosen = choose(modes, list(MODES), "mode") if modes else None
    if props:
        for name in props:
            choose([name], [p.name for p in spec.properties], "property")
            if spec.property(name).kind != "always":
                raise UsageError(f"{name} is a {spec.property(name).kind} property; prove "
                                 "handles `always` properties (use verify for the others)")
    if chosen is None and not props:
        return list(TARGETS)
    pairs = []
    for m in chosen or list(MODES):
        cfg = Config(MODES[m], VARIANTS[variant])
        names = props or [n for mode, n in TARGETS if mode == m] or [
            p.name for p in spec.properties if p.kind == "always" and m in p.claims
            and p.applies(cfg) and p.name not in LEMMAS]
        pairs.extend((m, n) for n in names if spec.property(n).applies(cfg))
    if not pairs:
        raise UsageError(f"property {', '.join(props or [])} is not about mode "
                         f"{', '.join(chosen or MODES)}; see `deliverycheck list`")
    return pairs


def run(args: argparse.Namespace) -> int:
    """Run k-induction on each target; exit 0 only when every one is proved."""
    load_spec()
    from deliverycheck.commands.verify import command_line
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    from deliverycheck.progress import Progress
    from deliverycheck.engines.parallel import default_workers
    from deliverycheck.prove import prove
    from deliverycheck.report import Context
    choose([args.variant], list(VARIANTS), "variant")
    pairs = proof_plan(args.mode, args.property, args.variant)
    overrides = parse_bounds(args.bound)
    out = out_dir(args.out)
    ctx = Context(command_line(args), __version__, args.source, overrides=overrides)
    from deliverycheck.prove import not_stated
    configs = {}
    for mode, prop in pairs:
        cfg = Config(MODES[mode], VARIANTS[args.variant], for_mode(MODES[mode], VARIANTS[args.variant], **overrides))
        why = not_stated(cfg, prop)
        if why:
            raise UsageError(f"the lemmas of {mode} {prop} are not stated for these bounds: "
                             f"{why}; prove it at the bounds they speak of, or check these "
                             "bounds with `deliverycheck verify`")
        configs[mode, prop] = cfg
    if not args.json:
        for line in ctx.header():
            print(line)
    progress = Progress(len(pairs), quiet=args.quiet)
    workers = args.workers or default_workers()
    results = []
    for mode, prop in pairs:
        cfg = configs[mode, prop]
        progress.start(f"{mode}/{args.variant} {prop}", f"records={cfg.bounds.records}, "
                                                        f"faults={cfg.bounds.faults}")
        r = prove(cfg, prop, args.max_k, out, args.max_seconds, args.query_seconds, workers)
        results.append(r)
        p = r.proof
        progress.end(f"{p.headline()}, {p.seconds:.1f} s")
        if not args.json:
            lemmas = ("no lemmas" if not p.lemmas else f"lemmas {', '.join(p.lemmas)}"
                      if len(p.lemmas) <= 3 else f"{len(p.lemmas)} lemmas (--json lists them)")
            print(f"{mode}/{args.variant} {prop}: {p.headline()} at {world(r.bounds)}; "
                  f"{blocking(p)}; {lemmas}; {p.seconds:.1f} s")
            if r.story:
                what = "counterexample to induction" if p.verdict == "not inductive" else "counterexample"
                print(f"  {what}: {r.story}")
        if p.stop_reason == "interrupted":
            break
    if args.json:
        print(json.dumps({"schema": PROVE_SCHEMA, **ctx.as_json(), "workers": workers, "results": [{
            "mode": r.mode, "variant": r.variant, "property": r.proof.property,
            "bounds": dict(vars(r.bounds)),
            "lemmas": r.proof.lemmas, "verdict": r.proof.verdict, "k": r.proof.k,
            "broken": r.proof.broken, "stop_reason": r.proof.stop_reason,
            "capacity": capacity_json(r.proof),
            "seconds": round(r.proof.seconds, 3),
            "seconds_per_k": [round(x, 3) for x in r.proof.seconds_per_k],
            "trace": r.trace, "story": r.story} for r in results]}, indent=2))
    return 0 if results and all(r.proof.verdict == "proved" for r in results) \
        and len(results) == len(pairs) else 1
