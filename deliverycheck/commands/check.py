"""``deliverycheck check``: Kafka's own configuration files in, guarantees and fixes out.

Reads the files and ``--set`` pairs (:func:`deliverycheck.config.load`),
runs one engine over the model of that configuration and looks for fixes
(:func:`deliverycheck.checking.check`), prints the report
(:mod:`deliverycheck.check_report`) or ``--json``, and writes each
violation's trace, story and diagram, and ``report.html``, to ``--out``.

Exit status: 0 when every promise the configuration is checked for holds
(or does not apply), 1 when one is violated or could not be decided, 2 for
a configuration Kafka would refuse or a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

from deliverycheck import __version__, cli
from deliverycheck.commands.options import out_dir, parse_bounds
from deliverycheck.errors import UsageError

ROLE_OPTIONS = ("producer", "consumer", "topic", "broker", "streams")


def run(args: argparse.Namespace) -> int:
    """Check the configuration, print the report, return the exit status."""
    from deliverycheck import check_report
    from deliverycheck.checking import check
    from deliverycheck.config import ConfigError, load
    from deliverycheck.engines.explore import Limits
    from deliverycheck.gallery import write_out
    from deliverycheck.memory import default_cap_mb
    from deliverycheck.progress import Progress

    files = {role: getattr(args, role) for role in ROLE_OPTIONS if getattr(args, role)}
    try:
        conf = load(files, args.set, kafka=args.kafka, client=args.client)
    except ConfigError as e:
        for line in e.problems:
            print(f"deliverycheck: {line}", file=sys.stderr)
        return 2
    bounds = parse_bounds(args.bound)
    if args.engine != "smt" and args.depth is not None:
        raise UsageError("--depth applies to --engine smt; drop it or add --engine smt")
    if args.engine != "stateful" and (args.examples is not None or args.seed is not None):
        raise UsageError("--examples and --seed apply to --engine stateful; drop them or add "
                         "--engine stateful")
    out = out_dir(args.out)
    progress = Progress(1, quiet=args.quiet)
    progress.start("check", f"Kafka {conf.kafka}, {conf.client}, {args.engine}")
    result = check(conf, engine=args.engine, bounds=bounds, fixes=not args.no_fixes,
                   fix_seconds=args.fix_seconds, out=out,
                   limits=Limits(max_seconds=args.max_seconds, max_memory_mb=default_cap_mb()),
                   depth=args.depth or cli.DEFAULT_DEPTH, examples=args.examples or cli.DEFAULT_EXAMPLES,
                   seed=args.seed or 0, progress=progress)
    progress.end(f"{len(result.violated)} of {len(result.promises)} promises violated")
    try:
        note = write_out(out, [result.run], about=check_report.about(result),
                         title="deliverycheck check")
    except KeyboardInterrupt:
        note = "interrupted while drawing: some diagrams and report.html are missing"
    if args.json:
        print(json.dumps(check_report.to_json(result, args.source.describe()), indent=2))
    else:
        print(check_report.text(result, stories=not args.no_stories,
                                header=f"deliverycheck {__version__}: {args.source.describe()}"), end="")
        print(f"\nReport: {out / 'report.html'} (each violation drawn; traces beside it)")
    if note:
        print(f"deliverycheck: {note}", file=sys.stderr)
    undecided = [p for p in result.promises if p.verdict in ("incomplete",)]
    return 1 if result.violated or undecided else 0
