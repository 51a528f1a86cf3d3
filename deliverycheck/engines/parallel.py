"""The first item of a list that a question does not answer ``unsat``, asked on several cores.

k-induction asks one question per action instance ("can this step break
the invariant?", "can it be blocked?"), and the questions are independent:
each needs only the unrolling's solver, already built.  So the instances
are dealt round-robin to ``workers`` processes forked from this one (the
solver and its facts are inherited, nothing is rebuilt or pickled), and
the answer is the one a sequential scan gives: the first item, in the
list's order, whose answer is not ``unsat`` (``sat`` or ``unknown``).  A
worker stops at its own first such item; the smallest position wins.

Which solver state answered a question is not part of the answer: the
caller derives a counterexample's model again from the item alone, so the
trace reported does not depend on how many workers there were.

A worker is a forked process, so this runs only where ``fork`` exists
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
        return _scan(items, ask)
    workers = min(workers, len(items))
    ctx = multiprocessing.get_context("fork")
    children = []
    for w in range(1, workers):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(items, w, workers, ask, send), daemon=True)
        p.start()
        send.close()
        children.append((p, recv))
    try:
        # this process takes the first share itself
        found = [_positioned(items, 0, workers, ask)]
        pending = {recv: p for p, recv in children}
        while pending:
            if interrupted():
                found.append((len(items), z3.unknown, None, None))
                break
            for recv in wait(list(pending), timeout=0.2):
                try:
                    result = recv.recv()
                except EOFError:
                    code = pending[recv].exitcode
                    raise RuntimeError(f"a proof worker ended without an answer (exit status {code})") from None
                if result[0] == "error":
                    raise RuntimeError(f"a proof worker failed: {result[1]}")
                found.append(result[1])
                del pending[recv]
    finally:
        for p, recv in children:
            if p.is_alive():
                p.terminate()
            p.join()
            recv.close()
    _, answer, item, detail = min(found, key=lambda f: f[0])
    return answer, item, detail


def _scan(items: Sequence[int], ask: Ask) -> tuple[Any, int | None, Any]:
    for j in items:
        answer, detail = ask(j)
        if answer != z3.unsat:
            return answer, j, detail
    return z3.unsat, None, None


def _positioned(items: Sequence[int], w: int, workers: int, ask: Ask) -> tuple[int, Any, int | None, Any]:
    """Worker ``w``'s share (every ``workers``-th item from position ``w``): its first finding."""
    for pos in range(w, len(items), workers):
        answer, detail = ask(items[pos])
        if answer != z3.unsat:
            return pos, answer, items[pos], detail
    return len(items), z3.unsat, None, None


def _worker(items: Sequence[int], w: int, workers: int, ask: Ask, send: Any) -> None:
    # the parent owns Ctrl-C and SIGTERM (deliverycheck/interrupt.py): it stops the workers
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        pos, answer, item, detail = _positioned(items, w, workers, ask)
        send.send(("ok", (pos, answer, item, detail)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        send.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        send.close()

