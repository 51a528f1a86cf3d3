"""The command line: parsing, choosing the specification, running a command, exit statuses.

This module imports nothing heavy: ``deliverycheck --version`` and a usage
error answer at once, and the specification is chosen
(:mod:`deliverycheck.source`) before anything imports the model.  Each
command lives in :mod:`deliverycheck.commands` and is imported when run.

Exit statuses: 0 when everything matches the expectations (every target
proved, the trace still shows what it was saved for); 1 when a verdict
differs (each named, with its trace file); 3 (verify) when only pinned
figures differ; 2 for a usage error or a model that breaks the
vocabulary's rules (one line on stderr saying what is wrong and how to fix
it); 130 (Ctrl-C) or 143 (SIGTERM) when interrupted, after writing what
was found.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
from typing import Sequence

from deliverycheck import __version__, interrupt
from deliverycheck.errors import ModelError, ReplayError, UsageError
from deliverycheck.render import FORMATS

DEFAULT_OUT = "deliverycheck-out"
DEFAULT_DEPTH = 10   # bounded model checking: steps unrolled unless --depth says otherwise
DEFAULT_MAX_K = 3    # k-induction: largest k tried
DEFAULT_EXAMPLES = 100  # stateful: Hypothesis examples per search
DEFAULT_HUNT = 1000     # stateful: at most this many more examples while an expected finding is missing
HUNT_STEPS = 1000       # stateful: steps per hunting example (longer histories: measured in docs/stateful.md)
DEFAULT_STEPS = 300     # stateful: steps per example
ENGINES = ("explore", "smt", "stateful")
DEFAULT_GALLERY = "counterexamples"

# command -> the module that runs it (deliverycheck.commands.<module>.run)
COMMANDS = {"verify": "verify", "check": "check", "prove": "prove", "mutate": "mutate",
            "replay": "replay", "render": "render", "gallery": "gallery", "list": "listing"}
DEFAULT_MUTANT_SECONDS = 60.0   # mutate: at most this long per search of one mutant


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive(kind: type, noun: str, zero: bool = False):
    """An argparse type: a positive ``kind`` (int or float; or zero), with a clear error."""
    def parse(text: str):
        try:
            x = kind(text)
        except ValueError:
            x = None
        if x is None or not (x >= 0 if zero else x > 0):
            raise argparse.ArgumentTypeError(
                f"expected a {'non-negative' if zero else 'positive'} {noun}, got {text!r}")
        return x
    return parse


positive_int = _positive(int, "integer")
non_negative_int = _positive(int, "integer", zero=True)
positive_float = _positive(float, "number")


def seed(text: str) -> int:
    """An argparse type: a seed (a non-negative integer), or ``random`` for a fresh one."""
    if text == "random":
        return random.SystemRandom().randrange(2 ** 32)
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer or 'random', got {text!r}")
    return int(text)


def _common() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The options several commands share: where the specification is; no progress lines."""
    spec = argparse.ArgumentParser(add_help=False)
    spec.add_argument("--spec", metavar="DIR",
                      help="read model/, properties/ and properties/expected.toml from the checkout "
                           "DIR, or 'installed' for the installed copy (default: the checkout "
                           "containing the working directory, else the installed copy)")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", "-q", action="store_true",
                       help="no progress lines on stderr (a start and an end line per search)")
    return spec, quiet


def _scheduler_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--scheduler ADDRESS``: run ``what`` as tasks on an existing Dask cluster."""
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help=f"run {what} as tasks on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        "(docs/scale-out.md)")


def parser() -> argparse.ArgumentParser:
    """The whole command line (building it imports nothing from the model)."""
    p = _Parser(prog="deliverycheck", description=(
        "Check what Kafka's delivery guarantees really give: a formal model of the producer, "
        "partition leader, coordinators and consumer, checked exhaustively, with Z3 and with "
        "Hypothesis."))
    p.add_argument("--version", action="version", version=f"deliverycheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    spec, quiet = _common()

    v = sub.add_parser("verify", parents=[spec, quiet],
                       help="check every mode's promises and compare with the expected verdicts",
                       description="Explore every bounded history of each mode and check every "
                                   "property; compare with properties/expected.toml.")
    v.add_argument("--mode", action="append", metavar="M",
                   help="mode to check (repeatable; default all; 'deliverycheck list' names them)")
    v.add_argument("--variant", action="append", metavar="V",
                   help="protocol variant (repeatable; default: each with the modes it changes)")
    v.add_argument("--property", action="append", metavar="P",
                   help="property to check (repeatable; default all)")
    v.add_argument("--bound", action="append", metavar="NAME=VALUE", default=[],
                   help="override a bound, e.g. --bound records=3 (see 'deliverycheck list')")
    v.add_argument("--json", action="store_true", help="print results as JSON (schema in docs/cli.md)")
    v.add_argument("--lemmas", action="store_true",
                   help="also show the proof lemmas' rows in the table (--json always has them)")
    v.add_argument("--coverage", action="store_true",
                   help="also print, per search, how often each action fired and the new states it produced")
    v.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"where counterexample traces and stories go (default: {DEFAULT_OUT})")
    v.add_argument("--png", action="store_true",
                   help="also draw each counterexample as PNG beside its SVG (slower: Graphviz takes "
                        "about a fifth of a second per picture)")
    v.add_argument("--expected", metavar="FILE",
                   help="expected verdicts (default: the specification's properties/expected.toml)")
    v.add_argument("--engine", choices=ENGINES, default="explore",
                   help="explore: every bounded history, exhaustively (default); smt: Z3 bounded "
                        "model checking, shortest traces up to --depth steps; stateful: Hypothesis "
                        "random histories in a bigger world, shrunk counterexamples")
    v.add_argument("--depth", type=positive_int, metavar="K",
                   help=f"with --engine smt: check histories of up to K steps (default {DEFAULT_DEPTH})")
    v.add_argument("--query-seconds", type=positive_float, metavar="S",
                   help="with --engine smt: give up on one solver query after S seconds")
    v.add_argument("--examples", type=positive_int, metavar="N",
                   help=f"with --engine stateful: Hypothesis examples per search (default {DEFAULT_EXAMPLES})")
    v.add_argument("--steps", type=positive_int, metavar="N",
                   help=f"with --engine stateful: steps per example (default {DEFAULT_STEPS})")
    v.add_argument("--hunt", type=non_negative_int, metavar="N",
                   help=f"with --engine stateful: after --examples, go on with up to N examples of "
                        f"{HUNT_STEPS:,} steps while a violation or witness expected.toml names is "
                        f"still missing (default {DEFAULT_HUNT}; 0: no hunt)")
    v.add_argument("--seed", type=seed, metavar="S",
                   help="with --engine stateful: Hypothesis seed, an integer or 'random' (default 0; "
                        "the seed is printed, the same seed gives the same histories)")
    v.add_argument("--seeds", type=positive_int, metavar="N",
                   help="with --engine stateful: run each search with N seeds (--seed, --seed + 1, "
                        "...), one task each (on Dask with --dask-workers or --scheduler), and keep "
                        "per property the shortest trace any seed found")
    v.add_argument("--no-swarm", action="store_true",
                   help="with --engine stateful: every example may use every fault, every action weighs the same")
    v.add_argument("--explorer", choices=("auto", "native", "python"),
                   help="with --engine explore: native runs the search as C built from the model "
                        "(needs a C compiler), python in Python; auto (default) is native where a "
                        "compiler builds it, else python with a note. Same results either way")
    v.add_argument("--store", choices=("exact", "fingerprint"),
                   help="with --engine explore: exact (default) keeps every state; fingerprint keeps "
                        "a 64-bit hash of each (a quarter of the memory or less, native explorer "
                        "only) and reports the probability that a hash collision hid a state")
    v.add_argument("--workers", type=positive_int, metavar="N",
                   help="with --engine explore: the native search's threads (default: every core "
                        "this process may use; states, verdicts and traces do not depend on N)")
    v.add_argument("--dask-workers", type=positive_int, metavar="N",
                   help="run the searches as tasks on an embedded Dask cluster of N worker "
                        "processes on this machine, one search per task (docs/scale-out.md)")
    _scheduler_option(v, "the searches")
    v.add_argument("--max-states", type=positive_int, metavar="N", help="stop each search after N states")
    v.add_argument("--max-seconds", type=positive_float, metavar="S", help="stop each search after S seconds")
    v.add_argument("--max-memory", type=positive_int, metavar="MB",
                   help="stop a search when the process uses more than MB MiB (default: half of "
                        "this machine's memory)")

    ck = sub.add_parser("check", parents=[spec, quiet],
                        help="check a Kafka configuration (producer, consumer, topic, broker, "
                             "Streams files) for the promises users rely on",
                        description="Read Kafka's own configuration files and settings, check "
                                    "the model of that configuration, and say for each promise "
                                    "whether it holds, with the shortest story that breaks it "
                                    "and the smallest change of settings that keeps it "
                                    "(docs/config.md).")
    for role, example in (("producer", "producer.properties"), ("consumer", "consumer.properties"),
                          ("topic", "a topic's config overrides"), ("broker", "server.properties"),
                          ("streams", "a Kafka Streams config")):
        ck.add_argument(f"--{role}", action="append", metavar="FILE",
                        help=f"{example} (repeatable: a later file wins)")
    ck.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                    help="a setting by Kafka's name, winning over the files, e.g. --set acks=all")
    ck.add_argument("--kafka", metavar="VERSION",
                    help="the brokers' Kafka version, e.g. 4.1 or 3.6.2 or trunk (default: the "
                         "newest release this tool knows)")
    ck.add_argument("--client", metavar="CLIENT",
                    help="the client, e.g. java-3.9 (default: the brokers' version)")
    ck.add_argument("--engine", choices=ENGINES, default="explore",
                    help="explore (default): every bounded history; smt: Z3 up to --depth steps; "
                         "stateful: Hypothesis random histories")
    ck.add_argument("--bound", action="append", metavar="NAME=VALUE", default=[],
                    help="override a bound of the model's world, e.g. --bound records=3")
    ck.add_argument("--depth", type=positive_int, metavar="K",
                    help=f"with --engine smt: histories of up to K steps (default {DEFAULT_DEPTH})")
    ck.add_argument("--examples", type=positive_int, metavar="N",
                    help=f"with --engine stateful: examples (default {DEFAULT_EXAMPLES})")
    ck.add_argument("--seed", type=seed, metavar="S", help="with --engine stateful: the seed (default 0)")
    ck.add_argument("--no-fixes", action="store_true",
                    help="do not look for changes of settings that keep the violated promises")
    ck.add_argument("--fix-seconds", type=positive_float, default=120.0, metavar="S",
                    help="time for the search for fixes (default 120)")
    ck.add_argument("--max-seconds", type=positive_float, metavar="S",
                    help="stop the check's search after S seconds (its verdicts are then incomplete)")
    ck.add_argument("--no-stories", action="store_true",
                    help="do not print each violation's story after the table")
    ck.add_argument("--json", action="store_true", help="print the result as JSON (schema in docs/config.md)")
    ck.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                    help=f"where traces, diagrams and report.html go (default: {DEFAULT_OUT})")

    pr = sub.add_parser("prove", parents=[spec, quiet],
                        help="prove `always` promises for histories of any length (k-induction)",
                        description="Prove `always` properties by k-induction with Z3, each "
                                    "strengthened by its lemmas (properties/lemmas.py).")
    pr.add_argument("--mode", action="append", metavar="M",
                    help="mode (repeatable); default: the proof targets (docs/smt.md)")
    pr.add_argument("--variant", metavar="V", default="current", help="protocol variant (default current)")
    pr.add_argument("--property", action="append", metavar="P",
                    help="`always` property to prove (repeatable); default: the mode's proof targets, "
                         "or else every `always` promise it claims")
    pr.add_argument("--bound", action="append", metavar="NAME=VALUE", default=[],
                    help="override a bound, e.g. --bound records=3")
    pr.add_argument("--max-k", type=positive_int, default=DEFAULT_MAX_K, metavar="K",
                    help=f"try k = 1 .. K (default {DEFAULT_MAX_K})")
    pr.add_argument("--max-seconds", type=positive_float, metavar="S", help="give up a proof after S seconds")
    pr.add_argument("--query-seconds", type=positive_float, metavar="S",
                    help="give up a proof when one solver query takes more than S seconds")
    pr.add_argument("--workers", type=positive_int, metavar="N",
                    help="ask the step case's questions on N cores (default: every core this "
                         "process may use; the verdict and trace do not depend on N)")
    pr.add_argument("--json", action="store_true", help="print results as JSON (schema in docs/cli.md)")
    pr.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                    help=f"where counterexamples go, under DIR/proofs (default: {DEFAULT_OUT})")

    mu = sub.add_parser("mutate", parents=[spec, quiet],
                        help="mutation testing: which small changes to the model would verify notice?",
                        description="Derive mutants from the model's compiled form (a guard's "
                                    "conjunct dropped, a comparison or constant changed, an update "
                                    "dropped, a choice swapped or fixed), run each through the "
                                    "searches verify runs for its mode, and classify it: killed, "
                                    "killed only by a pinned figure, survived or equivalent "
                                    "(docs/mutation.md).")
    mu.add_argument("--mode", action="append", metavar="M",
                    help="mode whose mutants to check (repeatable; default every mode)")
    mu.add_argument("--action", action="append", metavar="A",
                    help="only the mutants of action A (repeatable; 'deliverycheck list' names them)")
    mu.add_argument("--kind", action="append", metavar="K",
                    help="only mutants of kind K (repeatable): drop-conjunct, drop-disjunct, "
                         "comparison, constant, swap-branches, condition-true, condition-false, "
                         "drop-update")
    mu.add_argument("--mutant", action="append", type=positive_int, metavar="N",
                    help="only mutant N of each chosen mode (repeatable; the M numbers of a report)")
    mu.add_argument("--max-seconds", type=positive_float, metavar="S",
                    help="time budget of the whole run: mutants not finished by then are reported "
                         "as not run (the report says incomplete)")
    mu.add_argument("--mutant-seconds", type=positive_float, metavar="S",
                    default=DEFAULT_MUTANT_SECONDS,
                    help=f"stop one mutant's search after S seconds (default {DEFAULT_MUTANT_SECONDS:g}; "
                         "it is then undecided unless a verdict already changed)")
    mu.add_argument("--workers", type=positive_int, metavar="N",
                    help="run on an embedded Dask cluster of N worker processes on this machine "
                         "(default: every core this process may use)")
    _scheduler_option(mu, "the mutants")
    mu.add_argument("--serial", action="store_true",
                    help="run every mutant in this process, one after another (no Dask)")
    mu.add_argument("--json", action="store_true",
                    help="print the report as JSON (schema in docs/mutation.md)")
    mu.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                    help=f"where mutation.html and the mutants' traces go (default: {DEFAULT_OUT})")

    rp = sub.add_parser("replay", parents=[spec], help="replay a saved trace and say which properties it breaks",
                        description="Replay a trace file (ITF JSON, from any engine) through the "
                                    "model in the configuration it names and judge every property.")
    rp.add_argument("trace", metavar="TRACE", help="an .itf.json trace file")
    rp.add_argument("--json", action="store_true", help="print the result as JSON (schema in docs/cli.md)")
    rp.add_argument("--rerecord", action="store_true",
                    help="first take the trace's steps again in the current model and rewrite "
                         "TRACE (after a change of the model's state fields)")

    r = sub.add_parser("render", parents=[spec],
                       help="draw a saved trace: sequence diagram, Mermaid, HTML, story",
                       description="Draw a saved trace (an .itf.json file from verify, prove or "
                                   "the gallery) in one format.")
    r.add_argument("trace", metavar="TRACE", help="an .itf.json trace file")
    r.add_argument("--format", "-f", choices=FORMATS, default="text", metavar="F",
                   help=f"one of: {', '.join(FORMATS)} (default text: the story; diff: every changed "
                        "field per step; graph: the state graph around the trace, as DOT)")
    r.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")

    g = sub.add_parser("gallery", parents=[spec, quiet],
                       help="regenerate the counterexample gallery (counterexamples/)",
                       description="Run the default verification and write one folder per expected "
                                   "violation: trace, diagram (DOT and SVG) and story with Mermaid.")
    g.add_argument("--out", metavar="DIR",
                   help=f"the gallery folder (default: the checkout's {DEFAULT_GALLERY}/, else "
                        f"./{DEFAULT_GALLERY})")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the gallery differs from what the model produces")

    sub.add_parser("list", parents=[spec], help="list modes, variants, actions, properties and bounds",
                   description="List modes, variants, actions, properties and bounds with their "
                               "descriptions.")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deliverycheck`` console script."""
    interrupt.install()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser().parse_args(argv)
        args.argv = argv
        from deliverycheck import source
        args.source = source.select(getattr(args, "spec", None))
        command = importlib.import_module(f"deliverycheck.commands.{COMMANDS[args.command]}")
        status = command.run(args)
        return interrupt.status() or status
    except UsageError as e:
        print(f"deliverycheck: error: {e}", file=sys.stderr)
        return 2
    except ModelError as e:  # a protocol change that breaks the model's rules
        print(f"deliverycheck: error in the model: {e}", file=sys.stderr)
        return 2
    except ReplayError as e:  # the engines disagree: a bug in deliverycheck itself
        print(f"deliverycheck: internal error, a trace did not replay: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside a search (searches keep what they found themselves)
        print(f"deliverycheck: interrupted ({interrupt.name()})", file=sys.stderr)
        return interrupt.status() or 130
    except BrokenPipeError:  # e.g. piped into head
        return 0
    finally:
        interrupt.restore()


if __name__ == "__main__":
    sys.exit(main())
