"""``deliverycheck render``: one saved trace drawn in one format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deliverycheck.errors import ReplayError, UsageError
from deliverycheck.source import load_spec


def read_trace_file(path: str):
    """A trace file's document and the system it was made in; a usage error when it is no trace."""
    load_spec()
    from deliverycheck.replay import TraceFileError, load_doc, system_of
    try:
        doc = load_doc(path)
        return doc, system_of(doc)
    except TraceFileError as e:
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    """Draw one trace in one format."""
    doc, system = read_trace_file(args.trace)
    from deliverycheck.render.files import NoGraphviz, render
    from deliverycheck.render.stategraph import TooLarge
    from deliverycheck.trace import from_itf
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
