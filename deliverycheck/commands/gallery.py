"""``deliverycheck gallery``: regenerate (or, with --check, compare) counterexamples/."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from deliverycheck import cli
from deliverycheck.errors import UsageError
from deliverycheck.source import load_spec


def folder_of(args: argparse.Namespace) -> Path:
    """The gallery folder: --out, else the checkout's counterexamples/, else ./counterexamples."""
    if args.out is not None:
        return Path(args.out)
    root = args.source.root
    return root / cli.DEFAULT_GALLERY if root is not None else Path(cli.DEFAULT_GALLERY)


def run(args: argparse.Namespace) -> int:
    """Regenerate (or compare) the gallery; exit 1 when it, or a verdict, differs."""
    load_spec()
    from deliverycheck import gallery
    from deliverycheck.progress import Progress
    folder = folder_of(args)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {str(folder)!r} exists and is not a directory")
    print(args.source.describe(), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        runs = gallery.default_runs(Path(tmp), progress=lambda n: Progress(n, quiet=args.quiet))
        bad = [f"{r.mode}/{r.variant} {r.property}: {'; '.join(r.differs + r.figures)}"
               for run_ in runs for r in run_.results if not r.matches]
        bad += [f"{run_.mode}/{run_.variant}: {f}" for run_ in runs for f in run_.figures]
        for line in bad:
            print(f"differs from expected.toml: {line}", file=sys.stderr)
        if any(run_.interrupted for run_ in runs):
            print("deliverycheck: interrupted: the gallery was not checked or written", file=sys.stderr)
            return 1
        if args.check:
            diffs = gallery.differences(runs, folder)
            for line in diffs:
                print(line)
            if not diffs:
                print(f"{folder}: up to date ({len(gallery.wanted(runs))} counterexamples, "
                      f"{_histories()})")
            return 1 if diffs or bad else 0
        try:
            note = gallery.write_gallery(runs, folder)
        except gallery.HistoryError as e:
            print(f"deliverycheck: {e}; the gallery was not written", file=sys.stderr)
            return 1
    if note:
        print(note, file=sys.stderr)
    print(f"{folder}: {len(gallery.wanted(runs))} counterexamples and {_histories()} written; "
          f"index in {folder / 'README.md'}")
    return 1 if bad else 0


def _histories() -> str:
    """``2 saved histories`` (the specification's, deliverycheck.histories)."""
    from deliverycheck.histories import paths
    n = len(paths())
    return f"{n} saved histor{'y' if n == 1 else 'ies'}"
