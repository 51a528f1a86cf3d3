"""The command line: ``deliverycheck verify``, ``prove``, ``replay`` and ``list``.

Exit status: 0 when every verdict matches properties/expected.toml (every
target proved, the trace still shows what it was saved for), 1 when
anything differs (each difference is named, with its trace file), 2 for a
usage error (one line on stderr saying what is wrong and how to fix it).
The report itself is printed by deliverycheck/report.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import fields
from pathlib import Path
from typing import Sequence

from deliverycheck import __version__
from deliverycheck.catalog import SPEC
from deliverycheck.engines.explore import Limits
from deliverycheck.errors import UsageError
from deliverycheck.expected import ExpectationError, load
from deliverycheck.gallery import write_out
from deliverycheck.model import MODES, VARIANTS, Bounds, Config
from deliverycheck.model.bounds import bound_docs, deep_for_mode, for_mode
from deliverycheck.model.variants import DEFAULT_VARIANT, relevant
from deliverycheck.core.system import ModelError
from deliverycheck.replay import judge
from deliverycheck.trace import ReplayError, from_itf
from deliverycheck.prove import TARGETS, prove
from deliverycheck.properties import LEMMAS
from deliverycheck.render_cli import add_parsers as add_render_parsers, cmd_gallery, cmd_render, read_trace_file
from deliverycheck.report import print_coverage, print_table, to_json
from deliverycheck.engines.stateful import Budget
from deliverycheck.verify import Run, run, run_smt, run_stateful

DEFAULT_OUT = "deliverycheck-out"
DEFAULT_DEPTH = 10   # bounded model checking: steps unrolled unless --depth says otherwise
DEFAULT_MAX_K = 3    # k-induction: largest k tried
DEFAULT_EXAMPLES = 100  # stateful: Hypothesis examples per search
DEFAULT_STEPS = 300     # stateful: steps per example
ENGINES = ("explore", "smt", "stateful")
PROVE_SCHEMA = "deliverycheck.prove/1"
REPLAY_SCHEMA = "deliverycheck.replay/1"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="deliverycheck", description=(
        "Check what Kafka's delivery guarantees really give: an exhaustive search of a "
        "formal model of the producer, partition leader and consumer."))
    p.add_argument("--version", action="version", version=f"deliverycheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    v = sub.add_parser("verify", help="check every mode's promises and compare with the expected verdicts",
                       description="Explore every bounded history of each mode and check every property.")
    v.add_argument("--mode", action="append", metavar="M",
                   help=f"mode to check (repeatable; default all: {', '.join(MODES)})")
    v.add_argument("--variant", action="append", metavar="V",
                   help=f"protocol variant (repeatable; default all: {', '.join(VARIANTS)})")
    v.add_argument("--property", action="append", metavar="P",
                   help="property to check (repeatable; default all; see 'deliverycheck list')")
    v.add_argument("--bound", action="append", metavar="NAME=VALUE", default=[],
                   help="override a bound, e.g. --bound records=3 (see 'deliverycheck list')")
    v.add_argument("--json", action="store_true", help="print results as JSON (schema in docs/cli.md)")
    v.add_argument("--coverage", action="store_true",
                   help="also print, per search, how often each action fired and the new states it produced")
    v.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"where counterexample traces and stories go (default: {DEFAULT_OUT})")
    v.add_argument("--expected", metavar="FILE", type=Path,
                   help="expected verdicts (default: the installed properties/expected.toml)")
    v.add_argument("--engine", choices=ENGINES, default="explore",
                   help="explore: every bounded history, exhaustively (default); smt: Z3 bounded "
                        "model checking, shortest traces up to --depth steps; stateful: Hypothesis "
                        "random histories in a bigger world, shrunk counterexamples")
    v.add_argument("--depth", type=_positive_int, metavar="K",
                   help=f"with --engine smt: check histories of up to K steps (default {DEFAULT_DEPTH})")
    v.add_argument("--query-seconds", type=_positive_float, metavar="S",
                   help="with --engine smt: give up on one solver query after S seconds")
    v.add_argument("--examples", type=_positive_int, metavar="N",
                   help=f"with --engine stateful: Hypothesis examples per search (default {DEFAULT_EXAMPLES})")
    v.add_argument("--steps", type=_positive_int, metavar="N",
                   help=f"with --engine stateful: steps per example (default {DEFAULT_STEPS})")
    v.add_argument("--seed", type=_seed, metavar="S",
                   help="with --engine stateful: Hypothesis seed, an integer or 'random' (default 0; "
                        "the seed is printed, the same seed gives the same histories)")
    v.add_argument("--no-swarm", action="store_true",
                   help="with --engine stateful: every example may use every fault, every action weighs the same")
    v.add_argument("--max-states", type=_positive_int, metavar="N", help="stop each search after N states")
    v.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop each search after S seconds")
    v.add_argument("--max-memory", type=_positive_int, metavar="MB",
                   help="stop a search when the process uses more than MB MiB")
    pr = sub.add_parser("prove", help="prove `always` promises for histories of any length (k-induction)",
                        description="Prove `always` properties by k-induction with Z3, each "
                                    "strengthened by its lemmas (properties/lemmas.py).")
    pr.add_argument("--mode", action="append", metavar="M",
                    help="mode (repeatable); default: the proof targets (docs/smt.md)")
    pr.add_argument("--variant", metavar="V", default=DEFAULT_VARIANT,
                    help=f"protocol variant (default {DEFAULT_VARIANT})")
    pr.add_argument("--property", action="append", metavar="P",
                    help="`always` property to prove (repeatable); default: the mode's proof targets, "
                         "or else every `always` promise it claims")
    pr.add_argument("--bound", action="append", metavar="NAME=VALUE", default=[],
                    help="override a bound, e.g. --bound records=3")
    pr.add_argument("--max-k", type=_positive_int, default=DEFAULT_MAX_K, metavar="K",
                    help=f"try k = 1 .. K (default {DEFAULT_MAX_K})")
    pr.add_argument("--max-seconds", type=_positive_float, metavar="S", help="give up a proof after S seconds")
    pr.add_argument("--query-seconds", type=_positive_float, metavar="S",
                    help="give up a proof when one solver query takes more than S seconds")
    pr.add_argument("--json", action="store_true", help="print results as JSON (schema in docs/cli.md)")
    pr.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                    help=f"where counterexamples go, under DIR/proofs (default: {DEFAULT_OUT})")
    rp = sub.add_parser("replay", help="replay a saved trace and say which properties it breaks",
                        description="Replay a trace file (ITF JSON, from any engine) through the "
                                    "model in the configuration it names and judge every property.")
    rp.add_argument("trace", metavar="TRACE", help="an .itf.json trace file")
    rp.add_argument("--json", action="store_true", help="print the result as JSON (schema in docs/cli.md)")
    add_render_parsers(sub)
    sub.add_parser("list", help="list modes, variants, actions, properties and bounds",
                   description="List modes, variants, actions, properties and bounds with their "
                               "descriptions.")
    return p


def _positive(kind: type, noun: str):
    """An argparse type: a positive ``kind`` (int or float), with a clear error."""
    def parse(text: str):
        try:
            x = kind(text)
        except ValueError:
            x = None
        if x is None or not x > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {text!r}")
        return x
    return parse


_positive_int = _positive(int, "integer")
_positive_float = _positive(float, "number")


def _seed(text: str) -> int:
    """An argparse type: a seed (a non-negative integer), or ``random`` for a fresh one."""
    if text == "random":
        return random.SystemRandom().randrange(2 ** 32)
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer or 'random', got {text!r}")
    return int(text)


def _choose(given: Sequence[str] | None, known: Sequence[str], what: str) -> list[str]:
    if not given:
        return list(known)
    for g in given:
        if g not in known:
            raise UsageError(f"unknown {what} {g!r}; choose from: {', '.join(known)}")
    return list(dict.fromkeys(given))


def parse_bounds(items: Sequence[str]) -> dict[str, int]:
    """``["records=3", ...]`` -> the bounds given, checked, with one-line errors.

    Bounds not given take each mode's defaults (``deliverycheck list``).
    """
    names = [f.name for f in fields(Bounds)]
    over: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--bound expects NAME=VALUE, e.g. --bound records=3; got {item!r}")
        if name not in names:
            raise UsageError(f"unknown bound {name!r}; choose from: {', '.join(names)}")
        try:
            over[name] = int(value)
        except ValueError:
            raise UsageError(f"bound {name} must be an integer, got {value!r}") from None
    for mode in MODES.values():
        try:
            for_mode(mode, **over)
            deep_for_mode(mode, **over)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return over


def plan(modes: Sequence[str], variants: Sequence[str], variants_given: bool) -> list[tuple[str, str]]:
    """The (mode, variant) pairs to check.

    By default each mode runs with the variants that list it (the default
    variant with every mode, the protocol variants with the exactly-once
    modes they change); ``--variant`` runs the given ones with every chosen
    mode they apply to.
    """
    pairs = []
    for m in modes:
        for v in variants:
            var = VARIANTS[v]
            if variants_given:
                if relevant(var, MODES[m].transactional):
                    pairs.append((m, v))
            elif m in var.checked_with or var.name == DEFAULT_VARIANT:
                pairs.append((m, v))
    if not pairs:
        raise UsageError(f"variant {', '.join(variants)} changes only the transactional protocol, "
                         f"which mode {', '.join(modes)} does not use; choose an exactly-once mode")
    return pairs


def cmd_verify(args: argparse.Namespace) -> int:
    """Run the checks, print the table (or JSON), return the exit status."""
    modes = _choose(args.mode, list(MODES), "mode")
    variants = _choose(args.variant, list(VARIANTS), "variant")
    prop_names = _choose(args.property, [p.name for p in SPEC.properties], "property")
    if args.engine == "stateful" and not args.property:
        # the lemmas are statements about the small default world (docs/model.md)
        prop_names = [n for n in prop_names if n not in LEMMAS]
    props = [SPEC.property(n) for n in prop_names]
    overrides = parse_bounds(args.bound)
    pairs = [(m, v) for m, v in plan(modes, variants, bool(args.variant))
             if any(p.applies(Config(MODES[m], VARIANTS[v])) for p in props)]
    if not pairs:
        raise UsageError(f"property {', '.join(prop_names)} is not about mode {', '.join(modes)}; "
                         "see `deliverycheck list` for which properties each mode has")
    if args.expected is not None and not args.expected.is_file():
        raise UsageError(f"expected-verdicts file {str(args.expected)!r} does not exist")
    try:
        expectations = load(args.expected, modes=list(MODES), variants=list(VARIANTS),
                            properties=[p.name for p in SPEC.properties])
    except ExpectationError as e:
        raise UsageError(str(e)) from None
    out = _out_dir(args.out)
    _check_engine_options(args)
    if args.engine == "smt" and all(p.kind == "progress" for p in props):
        raise UsageError(f"{', '.join(prop_names)}: progress properties need the whole state graph; "
                         "check them with --engine explore")
    limits = Limits(args.max_states, args.max_seconds, args.max_memory)
    budget = _budget(args) if args.engine == "stateful" else None
    runs: list[Run] = []
    for mode, variant in pairs:
        bounds = (deep_for_mode if args.engine == "stateful" else for_mode)(MODES[mode], **overrides)
        cfg = Config(MODES[mode], VARIANTS[variant], bounds)
        if args.engine == "stateful":
            runs.append(run_stateful(cfg, props, expectations.get((mode, variant)), out, budget))
        elif args.engine == "smt":
            runs.append(run_smt(cfg, props, expectations.get((mode, variant)), out,
                                args.depth or DEFAULT_DEPTH, args.max_seconds, args.query_seconds))
        else:
            runs.append(run(cfg, props, expectations.get((mode, variant)), out, limits,
                            progress=None if not args.json else False))
        if runs[-1].stop_reason == "interrupted":  # Ctrl-C: report what we have
            break
    note = write_out(out, runs)   # diagrams of every trace and report.html
    if args.json:
        print(json.dumps(to_json(runs, overrides), indent=2))
    else:
        print_table(runs, overrides)
        if args.coverage:
            print_coverage(runs)
        print(f"\nReport: {out / 'report.html'} (every counterexample drawn; diagrams beside each trace)")
    if note:
        print(f"deliverycheck: {note}", file=sys.stderr)
    return 0 if all(r.matches for r in runs) else 1


def _out_dir(name: str) -> Path:
    """The output directory, created; a one-line error when it cannot be."""
    out = Path(name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {name!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create --out directory {name!r}: {e.strerror}; "
                         "choose a writable place") from None
    return out


# which engines each engine-specific option applies to
_ENGINE_OPTIONS = {
    "--max-states": ("explore",), "--max-memory": ("explore",), "--coverage": ("explore", "stateful"),
    "--depth": ("smt",), "--query-seconds": ("smt",),
    "--examples": ("stateful",), "--steps": ("stateful",), "--seed": ("stateful",),
    "--no-swarm": ("stateful",),
}


def _check_engine_options(args: argparse.Namespace) -> None:
    """Options that belong to another engine are a usage error, not silently ignored."""
    for option, engines in _ENGINE_OPTIONS.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if value not in (None, False) and args.engine not in engines:
            raise UsageError(f"{option} applies to --engine {' or '.join(engines)}, not "
                             f"{args.engine}; drop it or add --engine {engines[0]}")


def _budget(args: argparse.Namespace) -> Budget:
    """The stateful engine's budget from the command line."""
    return Budget(examples=args.examples or DEFAULT_EXAMPLES, steps=args.steps or DEFAULT_STEPS,
                  seed=0 if args.seed is None else args.seed, swarm=not args.no_swarm,
                  max_seconds=args.max_seconds)


def proof_plan(modes: Sequence[str] | None, props: Sequence[str] | None, variant: str) -> list[tuple[str, str]]:
    """The (mode, property) pairs ``prove`` works on, with one-line errors for bad choices."""
    chosen = _choose(modes, list(MODES), "mode") if modes else None
    if props:
        for name in props:
            _choose([name], [p.name for p in SPEC.properties], "property")
            if SPEC.property(name).kind != "always":
                raise UsageError(f"{name} is a {SPEC.property(name).kind} property; prove "
                                 "handles `always` properties (use verify for the others)")
    if chosen is None and not props:
        return list(TARGETS)
    pairs = []
    for m in chosen or list(MODES):
        cfg = Config(MODES[m], VARIANTS[variant])
        names = props or [n for mode, n in TARGETS if mode == m] or [
            p.name for p in SPEC.properties if p.kind == "always" and m in p.claims
            and p.applies(cfg) and p.name not in LEMMAS]
        pairs.extend((m, n) for n in names if SPEC.property(n).applies(cfg))
    if not pairs:
        raise UsageError(f"property {', '.join(props or [])} is not about mode "
                         f"{', '.join(chosen or MODES)}; see `deliverycheck list`")
    return pairs


def cmd_prove(args: argparse.Namespace) -> int:
    """Run k-induction on each target; exit 0 only when every one is proved."""
    _choose([args.variant], list(VARIANTS), "variant")
    pairs = proof_plan(args.mode, args.property, args.variant)
    overrides = parse_bounds(args.bound)
    out = _out_dir(args.out)
    results = []
    for mode, prop in pairs:
        cfg = Config(MODES[mode], VARIANTS[args.variant], for_mode(MODES[mode], **overrides))
        if not args.json:
            print(f"{mode}/{args.variant} {prop}: ", end="", flush=True)
        r = prove(cfg, prop, args.max_k, out, args.max_seconds, args.query_seconds)
        results.append(r)
        if not args.json:
            p = r.proof
            lemmas = (" (no lemmas)" if not p.lemmas else f" with {', '.join(p.lemmas)}"
                      if len(p.lemmas) <= 3 else f" with {len(p.lemmas)} lemmas (--json lists them)")
            print(f"{p.headline()}{lemmas}, {p.seconds:.1f} s")
            if r.story:
                what = "counterexample to induction" if p.verdict == "not inductive" else "counterexample"
                print(f"  {what}: {r.story}")
        if r.proof.stop_reason == "interrupted":
            break
    if args.json:
        print(json.dumps({"schema": PROVE_SCHEMA, "bounds": dict(overrides), "results": [{
            "mode": r.mode, "variant": r.variant, "property": r.proof.property,
            "lemmas": r.proof.lemmas, "verdict": r.proof.verdict, "k": r.proof.k,
            "broken": r.proof.broken, "stop_reason": r.proof.stop_reason,
            "seconds": round(r.proof.seconds, 3),
            "seconds_per_k": [round(x, 3) for x in r.proof.seconds_per_k],
            "trace": r.trace, "story": r.story} for r in results]}, indent=2))
    return 0 if all(r.proof.verdict == "proved" for r in results) else 1


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay one trace; exit 0 when it replays and breaks the property it was saved for."""
    doc, system = read_trace_file(args.trace)
    try:
        got = judge(from_itf(doc, system))
    except ReplayError as e:
        # the model changed under the trace (or the file was edited): a finding, not a usage error
        if args.json:
            print(json.dumps({"schema": REPLAY_SCHEMA, "trace": args.trace, "replays": False,
                              "error": str(e)}, indent=2))
        else:
            print(f"{args.trace}: does not replay: {e}")
        return 1
    t, rec, ok = got.trace, got.recorded, got.shows_recorded()
    if args.json:
        print(json.dumps({"schema": REPLAY_SCHEMA, "trace": args.trace, "replays": True,
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


def cmd_list(args: argparse.Namespace) -> int:
    """Print modes, variants, actions, properties and bounds."""
    print("Modes (--mode):")
    for m in MODES.values():
        own = ", ".join(f"{k}={v}" for k, v in m.bounds)
        deep = ", ".join(f"{k}={v}" for k, v in m.deep_bounds)
        print(f"  {m.name:<24} {m.summary}" + (f" [default bounds: {own}]" if own else "")
              + f" [--engine stateful: {deep}]")
    print("\nVariants (--variant; by default each runs with the modes named in brackets):")
    for v in VARIANTS.values():
        runs = "every mode" if v.name == DEFAULT_VARIANT else ", ".join(v.checked_with)
        print(f"  {v.name:<24} {v.summary} [{runs}]")
    print("\nActions (* the environment's faults, which spend the fault budget):")
    for a in SPEC.actions:
        params = ", ".join(a.param_names)
        print(f"  {'*' if a.fault else ' '} {a.name}({params})")
        print(f"  {'':<3}{a.summary}")
    print("\nProperties (--property):")
    for p in SPEC.properties:
        claims = ", ".join(p.claims) or "no mode"
        print(f"  {p.name:<30} {p.kind:<9} claimed by {claims}")
        print(f"  {'':<30} {p.summary}")
    print("\nBounds (--bound NAME=VALUE; defaults shown, unless a mode above sets its own):")
    docs = bound_docs()
    for f in fields(Bounds):
        print(f"  {f.name + ' = ' + str(getattr(Bounds(), f.name)):<15} {docs.get(f.name, '')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deliverycheck`` console script."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "prove":
            return cmd_prove(args)
        if args.command == "replay":
            return cmd_replay(args)
        if args.command == "render":
            return cmd_render(args)
        if args.command == "gallery":
            return cmd_gallery(args)
        return cmd_list(args)
    except UsageError as e:
        print(f"deliverycheck: error: {e}", file=sys.stderr)
        return 2
    except ModelError as e:  # a protocol change that breaks the model's rules
        print(f"deliverycheck: error in the model: {e}", file=sys.stderr)
        return 2
    except ReplayError as e:  # the engines disagree: a bug in deliverycheck itself
        print(f"deliverycheck: internal error, a trace did not replay: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
