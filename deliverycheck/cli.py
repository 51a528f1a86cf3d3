"""The command line: ``deliverycheck verify`` and ``deliverycheck list``.

Exit status: 0 when every verdict matches properties/expected.toml, 1 when
anything differs (each difference is named, with its trace file), 2 for a
usage error (one line on stderr saying what is wrong and how to fix it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Sequence

from deliverycheck import __version__
from deliverycheck.catalog import SPEC
from deliverycheck.engines.explore import Limits
from deliverycheck.expected import ExpectationError, load
from deliverycheck.model import MODES, VARIANTS, Bounds, Config
from deliverycheck.model.bounds import bound_docs, for_mode
from deliverycheck.model.variants import DEFAULT_VARIANT, relevant
from deliverycheck.core.system import ModelError
from deliverycheck.trace import ReplayError
from deliverycheck.prove import TARGETS, prove
from deliverycheck.properties.lemmas import PROPERTIES as _LEMMA_PROPERTIES
from deliverycheck.verify import Run, run, run_smt

JSON_SCHEMA = "deliverycheck.verify/3"
DEFAULT_OUT = "deliverycheck-out"
DEFAULT_DEPTH = 10   # bounded model checking: steps unrolled unless --depth says otherwise
DEFAULT_MAX_K = 3    # k-induction: largest k tried
PROVE_SCHEMA = "deliverycheck.prove/1"
LEMMAS = {p.name for p in _LEMMA_PROPERTIES}  # strengthening lemmas are not proof targets


class UsageError(Exception):
    """A mistake in the command line; the message says how to fix it."""


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
    v.add_argument("--engine", choices=("explore", "smt"), default="explore",
                   help="explore: every bounded history, exhaustively (default); smt: Z3 bounded "
                        "model checking, shortest traces up to --depth steps")
    v.add_argument("--depth", type=_positive_int, metavar="K",
                   help=f"with --engine smt: check histories of up to K steps (default {DEFAULT_DEPTH})")
    v.add_argument("--query-seconds", type=_positive_float, metavar="S",
                   help="with --engine smt: give up on one solver query after S seconds")
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
    runs: list[Run] = []
    for mode, variant in pairs:
        cfg = Config(MODES[mode], VARIANTS[variant], for_mode(MODES[mode], **overrides))
        if args.engine == "smt":
            runs.append(run_smt(cfg, props, expectations.get((mode, variant)), out,
                                args.depth or DEFAULT_DEPTH, args.max_seconds, args.query_seconds))
        else:
            runs.append(run(cfg, props, expectations.get((mode, variant)), out, limits,
                            progress=None if not args.json else False))
        if runs[-1].stop_reason == "interrupted":  # Ctrl-C: report what we have
            break
    if args.json:
        print(json.dumps(to_json(runs, overrides), indent=2))
    else:
        print_table(runs, overrides)
        if args.coverage:
            print_coverage(runs)
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


def _check_engine_options(args: argparse.Namespace) -> None:
    """Options that belong to the other engine are a usage error, not silently ignored."""
    wrong = {"smt": [("--max-states", args.max_states), ("--max-memory", args.max_memory),
                     ("--coverage", args.coverage)],
             "explore": [("--depth", args.depth), ("--query-seconds", args.query_seconds)]}
    for option, value in wrong[args.engine]:
        if value:
            other = "explore" if args.engine == "smt" else "smt"
            raise UsageError(f"{option} applies to --engine {other}, not {args.engine}; "
                             f"drop it or add --engine {other}")


def _search_json(run_: Run) -> dict:
    """One search of the ``--json`` document: the explorer's or the bounded one's figures."""
    head = {"mode": run_.mode, "variant": run_.variant, "engine": run_.engine,
            "bounds": dict(vars(run_.bounds))}
    if run_.bmc is not None:
        b = run_.bmc
        return {**head, "depth": b.depth, "complete": b.complete, "exhausted": b.exhausted,
                "capacity_depth": b.capacity_depth,
                "stop_reason": b.stop_reason, "seconds": round(b.seconds, 3),
                "seconds_per_depth": [round(x, 3) for x in b.seconds_per_depth],
                "z3_statistics": b.statistics, "problems": run_.problems,
                "warnings": run_.warnings}
    e = run_.exploration
    return {**head, "states": e.states, "depth": e.depth,
            "transitions": e.transitions, "terminal": e.terminal, "truncated": e.truncated,
            "complete": e.complete, "stop_reason": e.stop_reason, "seconds": round(e.seconds, 3),
            "peak_memory_mb": round(e.peak_memory_mb, 1), "problems": run_.problems,
            "warnings": run_.warnings,
            "coverage": {a: {"fired": e.coverage.fired[a], "new_states": e.coverage.new[a]}
                         for a in sorted(e.coverage.fired)}}


def to_json(runs: Sequence[Run], overrides: dict[str, int]) -> dict:
    """The stable ``--json`` document (schema ``deliverycheck.verify/2``)."""
    return {
        "schema": JSON_SCHEMA,
        "bounds": dict(overrides),
        "ok": all(r.matches for r in runs),
        "results": [{
            "mode": r.mode, "variant": r.variant, "property": r.property, "kind": r.kind,
            "verdict": r.verdict, "expected": r.expected, "matches": r.matches,
            "problems": r.problems, "states": r.states, "depth": r.depth,
            "length": r.length, "seconds": round(r.seconds, 3), "trace": r.trace, "story": r.story,
        } for run_ in runs for r in run_.results],
        "searches": [_search_json(run_) for run_ in runs],
    }


def _shown(kind: str, verdict: str | None, depth: int | None = None) -> str:
    """A verdict as the table shows it: witnesses are reached or unreachable."""
    if verdict is None:
        return "-"
    if verdict == "bounded":
        return f"{'not reached' if kind == 'sometimes' else 'holds'} to depth {depth}"
    if kind == "sometimes":
        return {"holds": "reached", "violated": "unreachable"}.get(verdict, verdict)
    return verdict


def print_table(runs: Sequence[Run], overrides: dict[str, int]) -> None:
    """The human-readable report."""
    rows = [("mode", "variant", "property", "verdict", "expected", "states", "depth", "seconds")]
    for run_ in runs:
        for r in run_.results:
            mark = "" if r.matches else "  <-- differs"
            rows.append((r.mode, r.variant, r.property, _shown(r.kind, r.verdict, r.depth),
                         _shown(r.kind, r.expected),
                         "-" if r.states is None else f"{r.states:,}", str(r.depth),
                         f"{r.seconds:.2f}{mark}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    given = ", ".join(f"{k}={v}" for k, v in overrides.items())
    print(f"Bounds: each mode's defaults{' with ' + given if given else ''} "
          "(deliverycheck list shows them)")
    for run_ in runs:
        b = run_.bounds
        print(f"{run_.mode}/{run_.variant} (records={b.records}, faults={b.faults}): "
              + _search_line(run_))
        for w in run_.warnings:
            print(f"  warning: {w}")
    broken = [r for run_ in runs for r in run_.results
              if r.verdict == "violated" and r.kind != "sometimes" and r.story]
    if broken:
        print("\nCounterexamples (shortest; story and ITF trace side by side):")
        for r in broken:
            print(f"  {r.mode}/{r.variant} {r.property} ({r.length} step{'s' if r.length != 1 else ''}): {r.story}")
    diffs = [(run_, r) for run_ in runs for r in run_.results if not r.matches]
    run_problems = [(run_, p) for run_ in runs for p in run_.problems]
    print()
    unpinned = sum(len(run_.results) for run_ in runs if not run_.expected)
    if unpinned:
        print(f"{unpinned} verdicts have no expectation in properties/expected.toml "
              "(a mode x variant it does not list): reported, not compared.")
    if not diffs and not run_problems:
        n = sum(len(run_.results) for run_ in runs if run_.expected)
        if n:
            print(f"All {n} verdicts match properties/expected.toml.")
        return
    print(f"{len(diffs) + len(run_problems)} differences from properties/expected.toml:")
    for run_, r in diffs:
        where = f" (trace: {r.trace})" if r.trace else ""
        for p in r.problems:
            print(f"  {r.mode}/{r.variant} {r.property}: {p}{where}")
    for run_, p in run_problems:
        print(f"  {run_.mode}/{run_.variant}: {p}")


def _search_line(run_: Run) -> str:
    """How far one search went, in one line."""
    if run_.bmc is not None:
        m = run_.bmc
        if m.exhausted:
            status = f"exhaustive (no history is longer than {m.depth} steps)"
        elif m.complete:
            status = f"bounded (histories of up to {m.depth} steps)"
        else:
            status = f"INCOMPLETE at depth {m.depth} ({m.stop_reason})"
        return f"bounded model checking to depth {m.depth}, {m.seconds:.2f} s, {status}"
    e = run_.exploration
    status = "complete" if e.complete else f"INCOMPLETE ({e.stop_reason})"
    return (f"{e.states:,} states, depth {e.depth}, "
            f"{e.seconds:.2f} s ({e.states / max(e.seconds, 1e-9):,.0f} states/s), {status}")


def print_coverage(runs: Sequence[Run]) -> None:
    """Per search and action: times fired, new states, capacity blocks."""
    for run_ in runs:
        cov = run_.exploration.coverage
        print(f"\nCoverage of {run_.mode}/{run_.variant}:")
        print(f"  {'action':<24} {'fired':>12} {'new states':>12} {'blocked':>9}")
        for a in cov.fired:
            if a in cov.static_off:
                print(f"  {a:<24} {'off in this mode':>35}")
                continue
            print(f"  {a:<24} {cov.fired[a]:>12,} {cov.new[a]:>12,} {cov.blocked.get(a, 0):>9,}")


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


def cmd_list(args: argparse.Namespace) -> int:
    """Print modes, variants, actions, properties and bounds."""
    print("Modes (--mode):")
    for m in MODES.values():
        own = ", ".join(f"{k}={v}" for k, v in m.bounds)
        print(f"  {m.name:<24} {m.summary}" + (f" [default bounds: {own}]" if own else ""))
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
