"""The native explorer: the Python explorer's search, run by generated C.

:func:`explore_native` builds (or loads from the cache) the C module of a
system and its properties, drives the C search in slices, and returns the
same :class:`~deliverycheck.engines.explore.Exploration` the Python
explorer returns: the same states in the same order, so the same counts,
coverage, first violations, shortest traces and progress verdicts.  The
limits (states, time, memory), Ctrl-C and the progress line are handled
here between slices, exactly where the Python loop handles them.

Traces are not produced here: a violation is an index, and its path is
rebuilt from the parent pointers and replayed through the concrete model
before it is reported (deliverycheck/verify.py), as for the Python explorer.
"""

from __future__ import annotations

import ctypes
import dataclasses
import subprocess
import time
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from deliverycheck.core.ranges import Overflow
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.errors import Stopped, UsageError
from deliverycheck.memory import rss_mb
from deliverycheck.native.build import QUICK_MARK, build, prebuild as start_builds
from deliverycheck.native.emit import Module, model_c

ST_MORE, ST_LEVEL, ST_DONE, ST_OVERFLOW, ST_NOMEM, ST_CHECK, ST_TOOMANY, ST_IOERR = range(8)
STOPS = {   # the codes that end a search early, and why (None: the memory limit's words)
    ST_NOMEM: None,
    ST_IOERR: "cannot write the transition file (is the temporary folder full?)",
    ST_TOOMANY: "the native search's limit of 2^31 - 2 states",
}
MAX_WORKERS = 64   # DC_MAX_WORKERS in search.c


class Native:
    """A built module and the ``ctypes`` signatures of its interface."""

    def __init__(self, module: Module, lib: ctypes.CDLL, cached: bool):
        self.module, self.lib, self.cached = module, lib, cached
        p, i64 = ctypes.c_void_p, ctypes.c_int64
        ptr64 = ctypes.POINTER(ctypes.c_int64)
        lib.dc_new.restype, lib.dc_new.argtypes = p, [ctypes.c_int, ctypes.c_int, i64, ctypes.c_int,
                                                      ctypes.POINTER(ctypes.c_uint8)]
        lib.dc_run.restype, lib.dc_run.argtypes = ctypes.c_int, [p]
        lib.dc_free.restype, lib.dc_free.argtypes = None, [p]
        lib.dc_finish.restype, lib.dc_finish.argtypes = None, [p]
        lib.dc_stats.restype, lib.dc_stats.argtypes = None, [p, ptr64]
        lib.dc_counters.restype, lib.dc_counters.argtypes = None, [p, ptr64, ptr64, ptr64, ptr64]
        lib.dc_parents.restype, lib.dc_parents.argtypes = ctypes.POINTER(ctypes.c_int32), [p]
        lib.dc_vias.restype, lib.dc_vias.argtypes = ctypes.POINTER(ctypes.c_uint16), [p]
        lib.dc_first_stuck.restype, lib.dc_first_stuck.argtypes = i64, [p, ctypes.c_int, ctypes.c_int]
        lib.dc_divergence.restype, lib.dc_divergence.argtypes = None, [p, ptr64]


def module_of(system: System, properties: Sequence[Property], tick: Any = None) -> Module:
    """The generated C of ``system`` for a search of ``properties``.

    Every property of the configuration has a predicate, whichever are
    checked: one module serves every choice of properties (a search says
    which it asks, see :class:`Search`).
    """
    names = {p.name for p in system.properties}
    module = model_c(system, list(system.properties) + [p for p in properties if p.name not in names],
                     tick)
    # a Kafka configuration at its row's default bounds is a small world: built quickly
    # (build.QUICK_FLAGS); another specification's (its cfg None) and bigger worlds at -O1
    # (mutation testing's modules run hundreds of searches each: they are optimised)
    if getattr(system.cfg, "default_bounds", False) and not getattr(system, "optimize", False):
        module = dataclasses.replace(module, source=QUICK_MARK + module.source)
    return module


def prebuild(searches: Iterable[Callable[[], tuple[System, Sequence[Property]]]]) -> None:
    """Start compiling, in the background, the modules of the searches a run is about to make.

    Each element gives (when called, in the background) a search's system
    and properties; see :func:`deliverycheck.native.build.prebuild`.
    """
    start_builds(lambda make=make: module_of(*make()).source for make in searches)


def load(system: System, properties: Sequence[Property], tick: Any = None,
         timeout: float | None = None) -> Native:
    """Generate, build (or load from the cache) the native module of ``system``.

    Raises :class:`~deliverycheck.native.build.BuildError`,
    :class:`~deliverycheck.native.emit.Unsupported`, or
    :class:`~deliverycheck.errors.Stopped` when ``timeout`` runs out.
    """
    module = module_of(system, properties, tick)
    try:
        lib, cached = build(module.source, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Stopped("time limit, while building the native module") from None
    return Native(module, lib, cached)


class Stats(NamedTuple):
    """What ``dc_stats`` reports, in its order."""

    states: int
    depth: int
    transitions: int
    terminal: int
    truncated: int
    queue: int            # states found for the next level so far
    overflow_instance: int
    overflow_cell: int
    overflow_value: int


class Search:
    """One native search: owns the C state and frees it when dropped."""

    def __init__(self, native: Native, asked: Sequence[str], fingerprint: bool, max_states: int,
                 workers: int):
        self.native = native
        self.lib = native.lib
        module = native.module
        self.progress = [name for name in asked if name in module.progress]   # in the asked order
        mask = (ctypes.c_uint8 * max(1, len(module.predicates)))(
            *[int(name in asked) for name in module.predicates])
        self.ptr = self.lib.dc_new(int(fingerprint), int(bool(self.progress)), max_states, workers, mask)
        if not self.ptr:
            raise MemoryError("out of memory starting the native search")

    def __del__(self):
        if getattr(self, "ptr", None):
            self.lib.dc_free(self.ptr)
            self.ptr = None

    def run(self) -> int:
        """Expand states until the search has news (an ``ST_*`` code)."""
        return self.lib.dc_run(self.ptr)

    def stats(self) -> "Stats":
        """The search's counts so far."""
        out = (ctypes.c_int64 * len(Stats._fields))()
        self.lib.dc_stats(self.ptr, out)
        return Stats(*out)

    def counters(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """Per instance: fired, new states, blocked; per predicate slot: first state found (-1)."""
        n, k = len(self.native.module.labels), len(self.native.module.predicates)
        fired, made, blocked = ((ctypes.c_int64 * max(1, n))() for _ in range(3))
        found = (ctypes.c_int64 * max(1, k))()
        self.lib.dc_counters(self.ptr, fired, made, blocked, found)
        return list(fired)[:n], list(made)[:n], list(blocked)[:n], list(found)[:k]

    def array(self, getter: str, ctype: Any, n: int) -> "NativeArray":
        """A read-only view of a per-state array of ``n`` entries (kept alive with the search)."""
        base = getattr(self.lib, getter)(self.ptr)
        return NativeArray(self, ctypes.cast(base, ctypes.POINTER(ctype * n)).contents if n else [])

    def divergence(self) -> tuple[int, int, int, int] | None:
        """Mutant modules only: ``(state, instance, mutant's outcome, model's outcome)`` of the
        first step that differs from the model's (outcomes: 0 off, 1 blocked, 2 a step,
        3 an overflow), or None."""
        out = (ctypes.c_int64 * 4)()
        self.lib.dc_divergence(self.ptr, out)
        return None if out[0] < 0 else (out[0], out[1], out[2], out[3])

    def finish(self) -> None:
        """Free what only the search needed (the visited set, the frontier)."""
        self.lib.dc_finish(self.ptr)

    def first_stuck(self, goal: int, capped: bool) -> int:
        """The first state from which no fault-free path reaches goal ``goal`` (-1: none)."""
        bad = self.lib.dc_first_stuck(self.ptr, goal, int(capped))
        if bad == -2:
            raise MemoryError("out of memory deciding a progress property")
        if bad == -3:
            raise OSError("cannot read back the transition file deciding a progress property")
        return bad


class NativeArray:
    """Indexable per-state values living in a native search's memory."""

    def __init__(self, owner: Search, values: Any):
        self._owner, self._values = owner, values

    def __getitem__(self, i: int) -> int:
        return self._values[i]

    def __len__(self) -> int:
        return len(self._values)


def collision_probability(states: int, transitions: int) -> float:
    """TLC's optimistic estimate of a fingerprint collision in a run: n(t - n) / 2^64.

    Each of the ``t - n`` transitions that led to a state already seen
    could have been a new state whose 64-bit fingerprint matched one of
    the ``n`` stored ones.
    """
    return max(0, states) * max(0, transitions - states) / 2.0 ** 64


def overflow(native: Native, system: System, stats: Stats) -> Overflow:
    """The model error for an overflow the C search stopped at."""
    cell = stats.overflow_cell
    return Overflow(native.module.labels[stats.overflow_instance], native.module.cell_names[cell],
                    stats.overflow_value, system.schema.hi[cell])


def run_search(native: Native, system: System, props: Sequence[Property], limits: Any,
               progress: Any, start: float, store: str, workers: int,
               watch: Callable[["Search", bool], str | None] | None = None) -> Any:
    """Drive the C search for ``props`` to the end or to a limit: the Exploration.

    ``watch(search, final)``, when given, is asked between slices whether to
    stop (a reason, or None) and told once more (``final``) when the search
    has ended, while its state is still readable: mutation testing stops a
    mutant's search at its first wrong verdict and reads where it first
    stepped unlike the model.
    """
    from deliverycheck.engines import explore as ex
    module = native.module
    search = Search(native, [p.name for p in props], store == "fingerprint", limits.max_states or 0,
                    workers)
    compile_seconds = time.perf_counter() - start
    complete, reason = True, None
    peak = rss_mb()
    try:
        while (st := search.run()) != ST_DONE:
            if st == ST_OVERFLOW:
                raise overflow(native, system, search.stats())
            if st in STOPS:
                complete, reason = False, STOPS[st] or ex.memory_reason(limits)
                break
            stats = search.stats()
            stop = ex.limit_hit(limits, stats.states, start)
            if stop is None and watch is not None:
                stop = watch(search, False)
            if st == ST_CHECK:
                if stop is None:
                    peak = max(peak, rss_mb())
                    if limits.max_memory_mb and peak > limits.max_memory_mb:
                        stop = ex.memory_reason(limits)
                if stop is None and progress:
                    progress.exploring(stats.states, stats.depth + 1, stats.queue)
            if stop:
                complete, reason = False, stop
                break
    except KeyboardInterrupt:
        complete, reason = False, "interrupted"
    stats = search.stats()
    fired, made, blocked, found_at = search.counters()
    found = {name: at for name, at in zip(module.predicates, found_at) if at >= 0}
    undecided: list[str] = []
    graph_start = time.perf_counter()
    if complete:
        search.finish()
        try:
            undecided = ex.decide_progress(
                search.progress, lambda name, capped: search.first_stuck(module.progress.index(name), capped),
                found)
        except KeyboardInterrupt:
            complete, reason = False, "interrupted"
        except (MemoryError, OSError) as e:
            complete, reason = False, str(e)
    if watch is not None:
        watch(search, True)
    n = stats.states
    return ex.Exploration(
        states=n, depth=stats.depth, transitions=stats.transitions, terminal=stats.terminal,
        truncated=stats.truncated, seconds=time.perf_counter() - start, complete=complete,
        stop_reason=reason,
        coverage=ex.coverage_of([inst.name for inst in system.instances], fired, made, blocked,
                                module.static_off),
        violations=found, checked=[p.name for p in props], peak_memory_mb=max(peak, rss_mb()),
        parents=search.array("dc_parents", ctypes.c_int32, n),
        via=search.array("dc_vias", ctypes.c_uint16, n), system=system, undecided=undecided,
        graph_seconds=time.perf_counter() - graph_start, compile_seconds=compile_seconds,
        backend="native", store=store, workers=workers,
        collision_probability=collision_probability(n, stats.transitions) if store == "fingerprint" else None)


class NativeUnavailable(UsageError):
    """The native explorer was required but cannot run here; the message is one line (exit 2)."""


def explore_native(system: System, properties: Sequence[Property] | None, limits: Any,
                   progress: Any, start: float, store: str, required: bool, workers: int) -> Any:
    """The native search of ``system``: an Exploration, or (when not ``required``) a one-line
    note saying why the Python explorer runs instead.

    Raises :class:`NativeUnavailable` when ``required`` and the module
    cannot be built.  Limits and Ctrl-C while generating or building end
    the search as incomplete, as they do while the Python back end compiles.
    """
    from deliverycheck.engines import explore as ex
    from deliverycheck.native.build import BuildError
    from deliverycheck.native.emit import Unsupported
    props = list(system.properties if properties is None else properties)
    workers = max(1, min(workers, MAX_WORKERS))
    try:
        tick = ex.compile_tick(limits, start, progress)
        remaining = None if limits.max_seconds is None else max(
            0.1, limits.max_seconds - (time.perf_counter() - start))
        native = load(system, props, tick, timeout=remaining)
    except (BuildError, Unsupported) as e:
        if required:
            raise NativeUnavailable(f"native explorer unavailable: {e}; "
                                    "or run the Python explorer (--explorer python)") from None
        return f"native explorer unavailable: {e}; the Python explorer runs instead"
    except (Stopped, KeyboardInterrupt, MemoryError) as e:
        reason = (e.reason if isinstance(e, Stopped) else ex.COMPILE_INTERRUPTED
                  if isinstance(e, KeyboardInterrupt)
                  else f"{ex.memory_reason(limits)}, while compiling the model")
        out = ex.stopped_early(system, props, reason, start)
        out.backend, out.store, out.workers = "native", store, workers
        return out
    return run_search(native, system, props, limits, progress, start, store, workers)
