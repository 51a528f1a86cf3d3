"""The first item of a list that a question does not answer ``unsat``, asked on several cores.

k-induction asks one question per action instance ("can this step break
the invariant?", "can it be blocked?"), and the questions are independent:
each needs only the unrolling's solver, already built.  So ``workers``
processes are forked from this one (the solver and its facts are
inherited, nothing is rebuilt or pickled) and this process works as one of
them.  Each takes the next position from a shared counter, so a worker
held up by a slow question does not hold up the others.  The answer is the
one a sequential scan gives: the first item, in the list's order, whose
answer is not ``unsat`` (``sat`` or ``unknown``).  Positions are handed
out in increasing order and nobody skips one below the best finding so
far, so every position before the reported one was asked.

Which process answered a question is not part of the answer: the caller
derives a counterexample's model again from the item alone, so the trace
reported does not depend on how many workers there were.

Workers are forked processes, so this runs only where ``fork`` exists
(Linux, macOS); elsewhere, or with one worker, the scan is sequential.
Ctrl-C and SIGTERM reach the parent, which stops its workers and answers
``unknown`` for whatever was left undecided.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from typing import Any, Callable, Sequence

import z3

Ask = Callable[[int], tuple[Any, Any]]   # item -> (z3 answer, picklable detail)
Finding = tuple[int, Any, Any, Any]      # (position, answer, item, detail)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def first_not_unsat(items: Sequence[int], ask: Ask, workers: int = 1,
                    interrupted: Callable[[], bool] = lambda: False) -> tuple[Any, int | None, Any]:
    """``(answer, item, detail)`` for the first item ``ask`` does not answer unsat; ``(unsat, None, None)`` if none.

    ``ask`` runs in forked workers when ``workers`` > 1; its detail must be
    picklable.  ``interrupted`` is polled while the workers run.
    """
    items = list(items)
    if workers <= 1 or len(items) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for j in items:
            answer, detail = ask(j)
            if answer != z3.unsat:
                return answer, j, detail
        return z3.unsat, None, None
    ctx = multiprocessing.get_context("fork")
    # the next position to ask, and the smallest one found not unsat
    shared = _Shared(ctx.Value("q", 0), ctx.Value("q", len(items)))
    children = []
    for _ in range(min(workers, len(items)) - 1):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(items, ask, shared, send), daemon=True)
        p.start()
        send.close()
        children.append((p, recv))
    try:
        found = _share(items, ask, shared)   # this process works as one of the workers
        pending = {recv: p for p, recv in children}
        while pending:
            if interrupted():
                found.append((-1, z3.unknown, None, None))
                break
            for recv in wait(list(pending), timeout=0.2):
                try:
                    result = recv.recv()
                except EOFError:
                    code = pending[recv].exitcode
                    raise RuntimeError(f"a proof worker ended without an answer (exit status {code})") from None
                if result[0] == "error":
                    raise RuntimeError(f"a proof worker failed: {result[1]}")
                found.extend(result[1])
                del pending[recv]
    finally:
        for p, recv in children:
            if p.is_alive():
                p.terminate()
            p.join()
            recv.close()
    if not found:
        return z3.unsat, None, None
    _, answer, item, detail = min(found, key=lambda f: f[0])
    return answer, item, detail


class _Shared:
    """Counters in shared memory: the next position to hand out, the best position found."""

    def __init__(self, next_: Any, best: Any):
        self.next, self.best = next_, best

    def take(self) -> int | None:
        """The next position to ask, or None when none is left below the best finding."""
        with self.next.get_lock():
            pos = self.next.value
            self.next.value += 1
        return pos if pos < self.best.value else None

    def found(self, pos: int) -> None:
        with self.best.get_lock():
            self.best.value = min(self.best.value, pos)


def _share(items: Sequence[int], ask: Ask, shared: _Shared) -> list[Finding]:
    """Ask positions from the shared counter until none is left; what was not unsat."""
    out = []
    while (pos := shared.take()) is not None:
        answer, detail = ask(items[pos])
        if answer != z3.unsat:
            shared.found(pos)
            out.append((pos, answer, items[pos], detail))
    return out


def _worker(items: Sequence[int], ask: Ask, shared: _Shared, send: Any) -> None:
    # the parent owns Ctrl-C and SIGTERM (deliverycheck/interrupt.py): it stops the workers
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        send.send(("ok", _share(items, ask, shared)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        send.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        send.close()
