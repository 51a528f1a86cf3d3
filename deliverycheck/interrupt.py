"""Ctrl-C and SIGTERM are one thing: stop the search, keep what it found.

A CI system cancels a job with SIGTERM (and ``timeout`` sends it too);
left alone it would kill the process with nothing written.  While a
command runs, SIGTERM raises ``KeyboardInterrupt`` like Ctrl-C does, so
every engine's interruption handling (stop, mark the search ``incomplete
(interrupted)``, report what was found) serves both.  The exit status is
then 128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM.

A Python signal handler runs only between bytecodes, so it cannot stop a
long call into native code, such as a Z3 query.  The interpreter does write
each signal's number to a wake-up file descriptor at once, though: a
watcher thread reads it and calls whatever cancels the work in progress
(:func:`cancelling`; the Z3 engine registers ``z3.Context.interrupt``),
after which the main thread returns to Python and the handler runs.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

_received: int | None = None
_previous: dict[int, object] = {}
_cancel: list[Callable[[], None]] = []
_wakeup: tuple[int, int] | None = None
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _handler(signum, frame):  # noqa: ARG001 - signal API
    record(signum)
    raise KeyboardInterrupt


def record(signum: int) -> None:
    """Note that ``signum`` interrupted the command (for the exit status)."""
    global _received
    _received = signum


def install() -> None:
    """Take Ctrl-C and SIGTERM for this command (only the main thread can)."""
    global _received, _wakeup
    _received = None
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        _previous[sig] = signal.signal(sig, _handler)
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    _wakeup = (r, w)
    threading.Thread(target=_watch, args=(r,), name="deliverycheck-interrupt", daemon=True).start()


def _watch(r: int) -> None:
    """Cancel the native work in progress whenever a signal arrives (until the pipe closes)."""
    while True:
        try:
            data = os.read(r, 64)
        except OSError:
            return
        if not data:
            return
        if any(b in (signal.SIGINT, signal.SIGTERM) for b in data):
            for cancel in list(_cancel):
                try:
                    cancel()
                except Exception:  # noqa: BLE001 - cancelling is best effort
                    pass


@contextmanager
def cancelling(cancel: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a Ctrl-C or SIGTERM also calls ``cancel`` (from another thread)."""
    _cancel.append(cancel)
    try:
        yield
    finally:
        _cancel.remove(cancel)


def restore() -> None:
    """Give the signals back (tests run many commands in one process)."""
    global _wakeup
    for sig, old in list(_previous.items()):
        signal.signal(sig, old)  # type: ignore[arg-type]
    _previous.clear()
    if _wakeup is not None:
        signal.set_wakeup_fd(-1)
        r, w = _wakeup
        os.close(w)   # the watcher reads end-of-file and ends
        _wakeup = None


def received() -> bool:
    """Whether a command was interrupted."""
    return _received is not None


def name() -> str:
    """The signal that interrupted the command, as a user knows it."""
    return "SIGTERM" if _received == signal.SIGTERM else "Ctrl-C"


def status() -> int | None:
    """The exit status of an interrupted command (128 + signal), or None."""
    return None if _received is None else 128 + _received
