"""The explicit-state explorer: breadth-first over every bounded history.

Breadth-first order with a parent pointer and the action instance that led
to each state, so the first violation found of each property is reached by
a shortest trace.  One pass checks every property: ``always`` properties on
each new state, ``sometimes`` witnesses until found, ``final`` properties in
terminal states (no action enabled).  A state where an action is enabled by
the protocol but blocked by a capacity bound is *truncated*: it is counted
and never mistaken for a terminal state.

The search stores states as ``bytes`` in one dict (state -> index) plus two
compact arrays (parent index, action instance); traces are rebuilt by
re-running the recorded instances from the initial state.

By default this search runs natively: :mod:`deliverycheck.native` spells
the same compiled model in C and runs this loop in C, step for step, so
both number the states alike (tests/test_native.py); this module's loop
runs where no C compiler is found, or when asked for (``backend``).

Limits on states, time and memory end the search early with ``complete =
False``; so does Ctrl-C (or SIGTERM, which the command line turns into
the same interruption).  The limits on time and memory also apply while
the model compiles, which at big bounds can take minutes and gigabytes.
Whatever was found before is kept.
"""

from __future__ import annotations

import time
from array import array
from itertools import chain
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from deliverycheck.core.compile import FULL
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.engines.graph import co_reachable
from deliverycheck.errors import Stopped, UsageError
from deliverycheck.memory import rss_mb


@dataclass
class Limits:
    """When to stop early; ``None`` means no limit."""

    max_states: int | None = None
    max_seconds: float | None = None
    max_memory_mb: int | None = None


@dataclass
class Coverage:
    """Per action: instances fired, and new states they produced."""

    fired: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, int] = field(default_factory=dict)  # capacity-limited
    static_off: set[str] = field(default_factory=set)       # disabled by the mode

    def never_fired(self) -> list[str]:
        """Actions the configuration allows that never fired: a warning sign."""
        return sorted(a for a, n in self.fired.items() if n == 0 and a not in self.static_off)


@dataclass
class Exploration:
    """What one search found."""

    states: int
    depth: int
    transitions: int
    seconds: float
    complete: bool
    stop_reason: str | None
    terminal: int
    truncated: int
    coverage: Coverage
    violations: dict[str, int]   # property -> index of the first bad (or witness) state
    checked: list[str]           # properties evaluated
    peak_memory_mb: float
    parents: array
    via: array
    system: System
    edges: tuple[array, array] | None = None  # fault-free (sources, targets), if recorded
    undecided: list[str] = field(default_factory=list)  # progress properties a capacity bound hid
    graph_seconds: float = 0.0   # of ``seconds``, spent deciding progress properties
    compile_seconds: float = 0.0  # of ``seconds``, spent compiling the model
    backend: str = "python"      # which explorer searched: "python" or "native"
    store: str = "exact"         # how visited states were kept: "exact" or "fingerprint"
    note: str | None = None      # why the native explorer was not used, when it was asked for
    collision_probability: float | None = None  # fingerprint store: TLC's optimistic estimate
    workers: int = 1             # threads the search ran on

    def path(self, index: int) -> list[int]:
        """Action-instance indices leading from the initial state to ``index``."""
        steps = []
        while index > 0:
            steps.append(self.via[index])
            index = self.parents[index]
        return steps[::-1]


BACKENDS = ("auto", "native", "python")


def explore(system: System, properties: Sequence[Property] | None = None,
            limits: Limits | None = None, progress: Any = None,
            backend: str = "auto", store: str = "exact", workers: int | None = None) -> Exploration:
    """Breadth-first search of every state reachable in ``system``.

    Returns the first (shortest) violating state of each ``always``,
    ``final`` and ``progress`` property and the first witness state of each
    ``sometimes`` property, with coverage and counts.  ``progress``
    properties are decided on the recorded transition graph once the search
    is complete (:mod:`deliverycheck.engines.graph`).  ``progress``, if
    given, is told how compilation and the search go
    (:class:`deliverycheck.progress.Progress`).

    ``backend``: ``"native"`` runs the search as generated C
    (:mod:`deliverycheck.native`), ``"python"`` in this process's Python,
    ``"auto"`` natively where a C compiler builds the model and in Python
    otherwise (``note`` says why).  Both number the states alike and give
    the same result.  ``store``: ``"exact"`` keeps every state,
    ``"fingerprint"`` (native only) keeps a 64-bit hash of each.
    ``workers``: threads of the native search (default: every core this
    process may use); the result does not depend on it.
    """
    limits = limits or Limits()
    start = time.perf_counter()
    if store not in ("exact", "fingerprint") or backend not in BACKENDS:
        raise ValueError(f"unknown store {store!r} or explorer {backend!r}")
    if store == "fingerprint" and backend == "python":
        raise UsageError("the fingerprint store needs the native explorer; "
                         "drop --explorer python or use --store exact")
    note = None
    if backend != "python":
        from deliverycheck.native.search import explore_native
        from deliverycheck.engines.parallel import default_workers
        result = explore_native(system, properties, limits, progress, start, store,
                                required=backend == "native" or store == "fingerprint",
                                workers=workers or default_workers())
        if isinstance(result, Exploration):
            return result
        note = result
    ex = _explore_python(system, properties, limits, progress, start)
    ex.note = note
    return ex


def _explore_python(system: System, properties: Sequence[Property] | None, limits: Limits,
                    progress: Any, start: float) -> Exploration:
    """The search in Python (see :func:`explore`)."""
    stopped = compile_within(system, limits, progress, start)
    if stopped:
        return stopped_early(system, properties, stopped, start)
    compile_seconds = time.perf_counter() - start
    props = list(system.properties if properties is None else properties)
    invariants = [p for p in props if p.kind == "always"]
    witnesses = [p for p in props if p.kind == "sometimes"]
    finals = [p for p in props if p.kind == "final"]
    check = {p.name: system.predicate(p) for p in props}
    fns = system.compiled
    keyed, unkeyed = system.dispatch()
    names = [inst.name for inst in system.instances]
    n_inst = len(fns)

    fired = [0] * n_inst
    new = [0] * n_inst
    blocked = [0] * n_inst
    found: dict[str, int] = {}
    pending_inv = [(p.name, check[p.name]) for p in invariants]
    pending_wit = [(p.name, check[p.name]) for p in witnesses]
    pending_fin = [(p.name, check[p.name]) for p in finals]
    progress_props = [p for p in props if p.kind == "progress"]
    # the transitions that spend no fault: only recorded when a progress
    # property needs the graph
    edges = bool(progress_props)
    esrc, edst = array("l"), array("l")
    capped_at = array("l")  # states where a capacity bound blocked some step
    may_spend, spends_fault = system.may_spend, system.spends_fault

    def scan(state: bytes, idx: int) -> None:
        nonlocal pending_inv, pending_wit
        for name, fn in pending_inv:
            if not fn(state):
                found[name] = idx
        for name, fn in pending_wit:
            if fn(state):
                found[name] = idx
        if found:
            pending_inv = [x for x in pending_inv if x[0] not in found]
            pending_wit = [x for x in pending_wit if x[0] not in found]

    init = system.init
    seen: dict[bytes, int] = {init: 0}
    parents, via = array("l", [0]), array("l", [-1])
    scan(init, 0)
    frontier: list[bytes] = [init]
    depth, transitions, terminal, truncated = 0, 0, 0, 0
    complete, reason = True, None
    count = expanded = 1
    max_states = limits.max_states or float("inf")
    peak = rss_mb()
    try:
        while frontier:
            nxt: list[bytes] = []
            for state in frontier:
                idx = seen[state]
                enabled = False
                capped = False
                for j in chain(*[by_value[state[c]] for c, by_value in keyed], unkeyed):
                    succ = fns[j](state)
                    if succ is None:
                        continue
                    if succ is FULL:
                        blocked[j] += 1
                        capped = True
                        continue
                    enabled = True
                    fired[j] += 1
                    transitions += 1
                    t = seen.get(succ)
                    if t is None:
                        t = seen[succ] = count
                        parents.append(idx)
                        via.append(j)
                        new[j] += 1
                        if pending_inv or pending_wit:
                            scan(succ, count)
                        count += 1
                        nxt.append(succ)
                    if edges and not (may_spend[j] and spends_fault(state, succ)):
                        esrc.append(idx)
                        edst.append(t)
                if capped and edges:
                    capped_at.append(idx)
                if not enabled:
                    if capped:
                        truncated += 1
                    else:
                        terminal += 1
                        for name, fn in pending_fin:
                            if not fn(state):
                                found[name] = idx
                        if found:
                            pending_fin = [x for x in pending_fin if x[0] not in found]
                expanded += 1
                if (expanded & 0x3FF) == 0 or count >= max_states:
                    stop = limit_hit(limits, count, start)
                    if stop is None and (expanded & 0x1FFF) == 0:
                        peak = max(peak, rss_mb())
                        if limits.max_memory_mb and peak > limits.max_memory_mb:
                            stop = memory_reason(limits)
                    if stop:
                        complete, reason = False, stop
                        raise _Stop
                    if progress:
                        progress.exploring(count, depth + 1, len(nxt))
            frontier = nxt
            if nxt:
                depth += 1
                stop = limit_hit(limits, count, start)
                if stop:
                    complete, reason = False, stop
                    raise _Stop
    except _Stop:
        pass
    except KeyboardInterrupt:
        complete, reason = False, "interrupted"
    except MemoryError:  # the cap is checked now and then; between two checks the machine ran out
        complete, reason = False, memory_reason(limits)
    undecided: list[str] = []
    graph_start = time.perf_counter()
    if progress_props and complete:
        try:
            undecided = _check_progress(system, seen, progress_props, esrc, edst, capped_at, found)
        except KeyboardInterrupt:   # the search is done; only the graph question is not
            complete, reason = False, "interrupted"
    graph_seconds = time.perf_counter() - graph_start
    peak = max(peak, rss_mb())
    cov = coverage_of(names, fired, new, blocked, system.static_off)
    return Exploration(
        states=count, depth=depth, transitions=transitions,
        seconds=time.perf_counter() - start, complete=complete, stop_reason=reason,
        terminal=terminal, truncated=truncated, coverage=cov, violations=found,
        checked=[p.name for p in props], peak_memory_mb=peak,
        parents=parents, via=via, system=system,
        edges=(esrc, edst) if edges else None, undecided=undecided,
        graph_seconds=graph_seconds, compile_seconds=compile_seconds)


def coverage_of(names: Sequence[str], fired: Sequence[int], new: Sequence[int],
                blocked: Sequence[int], static_off: Sequence[bool]) -> Coverage:
    """Per-action coverage from per-instance counts (``names[j]``: instance j's action)."""
    static = set(names) - {names[j] for j in range(len(names)) if not static_off[j]}
    return Coverage(fired=_by_name(names, fired), new=_by_name(names, new),
                    blocked={a: n for a, n in _by_name(names, blocked).items() if n},
                    static_off=static)


def _check_progress(system: System, seen: dict[bytes, int], progress: Sequence[Property],
                    esrc: array, edst: array, capped_at: array,
                    found: dict[str, int]) -> list[str]:
    """Decide each progress property on the recorded graph (see :func:`decide_progress`)."""
    n = len(seen)

    def first_stuck(name: str, capped: bool) -> int:
        pred = system.predicate(name)
        goal = bytearray(1 if pred(s) else 0 for s in seen)  # dict order = index order
        if capped:
            for i in capped_at:
                goal[i] = 1
        return co_reachable(n, esrc, edst, goal).find(0)

    return decide_progress([p.name for p in progress], first_stuck, found)


def decide_progress(names: Sequence[str], first_stuck: Callable[[str, bool], int],
                    found: dict[str, int]) -> list[str]:
    """Decide each progress property; record violations in ``found``, return the undecided.

    ``first_stuck(name, capped)`` is the first state (in BFS order) from
    which no fault-free path reaches the property's goal, or -1; with
    ``capped``, states where a capacity bound blocked a step count as goals.
    Where a bound blocked a step the graph is cut short, so those states
    "might still recover": a violation is reported only if it stands even
    then, and a property that fails only because of such cuts is undecided
    at these bounds.  Both explorers decide progress properties here.
    """
    undecided = []
    for name in names:
        if first_stuck(name, False) < 0:
            continue
        sure = first_stuck(name, True)
        if sure >= 0:
            found[name] = sure
        else:
            undecided.append(name)
    return undecided


class _Stop(Exception):
    pass


COMPILE_INTERRUPTED = "interrupted, while compiling the model"


def memory_reason(limits: Limits) -> str:
    return f"memory limit ({limits.max_memory_mb:,} MiB)" if limits.max_memory_mb else "memory limit"


def compile_within(system: System, limits: Limits, progress: Any = None,
                   start: float | None = None) -> str | None:
    """Compile ``system`` within the time and memory limits (counted from ``start``).

    Returns why compilation stopped (a limit, Ctrl-C), or None when it is done.
    """
    start = time.perf_counter() if start is None else start
    try:
        system.compile(tick=compile_tick(limits, start, progress))
    except Stopped as e:
        return e.reason
    except KeyboardInterrupt:
        return COMPILE_INTERRUPTED
    except MemoryError:
        return f"{memory_reason(limits)}, while compiling the model"
    return None


def compile_tick(limits: Limits, start: float, progress: Any):
    """The compiler's per-chunk callback: report, and stop at the time or memory limit."""
    def tick(done: int, total: int) -> None:
        if progress:
            progress.compiling(done, total)
        stop = limit_hit(Limits(max_seconds=limits.max_seconds), 0, start)
        if stop is None and limits.max_memory_mb and rss_mb() > limits.max_memory_mb:
            stop = memory_reason(limits)
        if stop:
            raise Stopped(f"{stop}, while compiling the model ({done:,} of {total:,} action instances)")
    return tick


def stopped_early(system: System, properties: Sequence[Property] | None, reason: str,
                   start: float) -> Exploration:
    """The result of a search that ended before its first step (while compiling)."""
    props = list(system.properties if properties is None else properties)
    return Exploration(
        states=0, depth=0, transitions=0, seconds=time.perf_counter() - start, complete=False,
        stop_reason=reason, terminal=0, truncated=0, coverage=Coverage(), violations={},
        checked=[p.name for p in props], peak_memory_mb=rss_mb(), parents=array("l"),
        via=array("l"), system=system)


def limit_hit(limits: Limits, count: int, start: float) -> str | None:
    if limits.max_states and count >= limits.max_states:
        return f"state limit ({limits.max_states:,})"
    if limits.max_seconds and time.perf_counter() - start > limits.max_seconds:
        return f"time limit ({limits.max_seconds:g} s)"
    return None


def _by_name(names: Sequence[str], counts: Sequence[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, k in zip(names, counts):
        out[n] = out.get(n, 0) + k
    return out
