"""The ``render`` and ``gallery`` commands: pictures of traces, and the committed gallery."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from deliverycheck import gallery
from deliverycheck.core.system import System
from deliverycheck.errors import UsageError
from deliverycheck.render.files import FORMATS, NoGraphviz, render
from deliverycheck.render.stategraph import TooLarge
from deliverycheck.replay import TraceFileError, load_doc, system_of
from deliverycheck.trace import ReplayError, from_itf

DEFAULT_GALLERY = "counterexamples"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``render`` and ``gallery`` to the command line."""
    r = sub.add_parser("render", help="draw a saved trace: sequence diagram, Mermaid, HTML, story",
                       description="Draw a saved trace (an .itf.json file from verify, prove or "
                                   "the gallery) in one format.")
    r.add_argument("trace", metavar="TRACE", help="an .itf.json trace file")
    r.add_argument("--format", "-f", choices=FORMATS, default="text", metavar="F",
                   help=f"one of: {', '.join(FORMATS)} (default text: the story; diff: every changed "
                        "field per step; graph: the state graph around the trace, as DOT)")
    r.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    g = sub.add_parser("gallery", help="regenerate the counterexample gallery (counterexamples/)",
                       description="Run the default verification and write one folder per expected "
                                   "violation: trace, diagram (DOT and SVG) and story with Mermaid.")
    g.add_argument("--out", metavar="DIR", default=DEFAULT_GALLERY,
                   help=f"the gallery folder (default: {DEFAULT_GALLERY})")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the gallery differs from what the model produces")


def read_trace_file(path: str) -> tuple[dict, System]:
    """A trace file's document and the system it was made in; a usage error when it is no trace."""
    try:
        doc = load_doc(path)
        return doc, system_of(doc)
    except TraceFileError as e:
        raise UsageError(str(e)) from None


def cmd_render(args: argparse.Namespace) -> int:
    """Draw one trace in one format."""
    doc, system = read_trace_file(args.trace)
    if args.output is not None and not Path(args.output).parent.is_dir():
        raise UsageError(f"--output {args.output!r}: folder {str(Path(args.output).parent)!r} "
                         "does not exist")
    if args.format == "png" and args.output is None and sys.stdout.isatty():
        raise UsageError("PNG is binary: write it to a file with --output FILE (or redirect it)")
    try:
        trace = from_itf(doc, system)
    except ReplayError as e:
        print(f"{args.trace}: does not replay in the current model: {e}", file=sys.stderr)
        return 1
    try:
        data = render(trace, args.format)
    except (NoGraphviz, TooLarge) as e:
        raise UsageError(str(e)) from None
    if args.output is not None:
        Path(args.output).write_bytes(data if isinstance(data, bytes) else data.encode())
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data)
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    """Regenerate (or, with --check, compare) the gallery."""
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {args.out!r} exists and is not a directory")
    with tempfile.TemporaryDirectory() as tmp:
        runs = gallery.default_runs(Path(tmp))
        bad = [f"{r.mode}/{r.variant} {r.property}: {'; '.join(r.problems)}"
               for run_ in runs for r in run_.results if not r.matches]
        for line in bad:
            print(f"differs from expected.toml: {line}", file=sys.stderr)
        if args.check:
            diffs = gallery.differences(runs, folder)
            for line in diffs:
                print(line)
            if not diffs:
                print(f"{folder}: up to date ({len(gallery.wanted(runs))} counterexamples)")
            return 1 if diffs or bad else 0
        note = gallery.write_gallery(runs, folder)
    if note:
        print(note, file=sys.stderr)
    print(f"{folder}: {len(gallery.wanted(runs))} counterexamples written; index in {folder / 'README.md'}")
    return 1 if bad else 0
