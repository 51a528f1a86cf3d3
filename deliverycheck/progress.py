"""Progress on stderr: a start and an end line for every search, and a live line on a terminal.

A CI log must show that a long run is alive and which search it is in, so
every search writes two whole lines, whether or not stderr is a terminal::

    [3/13] exactly-once/tv1: started (records=2, faults=1)
    [3/13] exactly-once/tv1: 141,405 states, depth 66, 6.0 s, complete

On a terminal a live line between them is rewritten in place: the search,
the states so far and, where expected.toml pins the state count, the
percentage done.  Elsewhere (a CI log) the same news is written as a
whole line once a minute, so a long compilation or search still shows
life.  ``--quiet`` silences all of it.  The results themselves
go to stdout (the table, or ``--json``), never here.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

LIVE_AFTER = 1.0     # seconds before the live line appears (short searches stay quiet)
LIVE_EVERY = 0.25    # seconds between rewrites (no flicker)
HEARTBEAT = 60.0     # seconds between whole news lines when stderr is not a terminal


class Progress:
    """Reports ``total`` searches, one after another (see the module docstring)."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None,
                 live: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.on = not quiet
        self.live = self.on and (self._isatty() if live is None else live)
        self.total = total
        self.n = 0
        self.label = ""
        self.pinned: int | None = None
        self.started = self.shown_at = 0.0
        self.shown = False

    def _isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def start(self, label: str, detail: str = "", pinned: int | None = None) -> None:
        """A new search begins: ``label`` names it, ``pinned`` is its expected state count."""
        self.n += 1
        self.label, self.pinned = label, pinned
        self.started = self.shown_at = time.perf_counter()
        self._line(f"started{f' ({detail})' if detail else ''}")

    def end(self, summary: str) -> None:
        """The search is over; ``summary`` says how far it got."""
        self._line(summary)

    def note(self, text: str) -> None:
        """A whole line about the current search (for example, an interruption)."""
        self._line(text)

    def compiling(self, done: int, total: int) -> None:
        """Live: the model is being compiled."""
        self._live(f"compiling the model: {done:,} of {total:,} action instances")

    def exploring(self, states: int, depth: int, queue: int) -> None:
        """Live: the explorer's search so far."""
        t = max(time.perf_counter() - self.started, 1e-9)
        done = f" ({min(states / self.pinned, 0.999):.0%} of the expected {self.pinned:,})" \
            if self.pinned else ""
        self._live(f"{states:,} states{done}, depth {depth}, queue {queue:,}, "
                   f"{states / t:,.0f} states/s")

    def working(self, text: str) -> None:
        """Live: any other engine's news (a depth reached, examples run)."""
        self._live(text)

    # -- writing ---------------------------------------------------------------

    def _head(self) -> str:
        return f"[{self.n}/{self.total}] {self.label}: " if self.total > 1 or self.n > 1 \
            else f"{self.label}: "

    def _line(self, text: str) -> None:
        if not self.on:
            return
        self._clear()
        self.stream.write(self._head() + text + "\n")
        self.stream.flush()

    def _live(self, text: str) -> None:
        if not self.on:
            return
        now = time.perf_counter()
        if not self.live:   # a log: a whole line now and then
            if now - self.shown_at >= HEARTBEAT:
                self.shown_at = now
                self._line(text)
            return
        if now - self.started < LIVE_AFTER or now - self.shown_at < LIVE_EVERY:
            return
        self.shown_at = now
        line = self._head() + text
        self.stream.write("\r" + line[:159] + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.shown = False
