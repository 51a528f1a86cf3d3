"""Bounded model checking with Z3, on the model's Z3 reading (no second copy of the protocol).

The transition relation is unrolled one step at a time on one incremental
solver (:class:`Unrolling`).  After depth ``d`` is added, the solver is
asked whether any open property is broken in exactly ``d`` steps: an
``always`` property false, a ``sometimes`` witness true, a ``final``
property false in a state where no action is enabled.  Depths are tried in
order, so the first answer is a shortest trace; one query covers every open
property, and a model settles each property it breaks.

Each step is the disjunction over action instances of "chosen, guard,
capacity, successor", from :meth:`System.z3_step`, with an integer choice
variable per depth so that a model decodes into the action instances taken.
The trace is rebuilt by :func:`deliverycheck.trace.from_path`, which replays
it through the compiled and the interpreted concrete model, and the
solver's states are compared with the replayed ones: a disagreement is a
bug in the engine or the model, never a reported finding.

Every cell is a bounded integer (its field's range), so the solver is Z3's
finite-domain one (``QF_FD``: bit-blasting to SAT), which measured ten
times faster than the default arithmetic solver on this model.  A step
blocked by a capacity bound is left out, as the explorer leaves it out.
``progress`` properties need the whole state graph and are not decided here.

Capacity bounds (table sizes, the ranges of sequence numbers and epochs)
are watched: the same query asks whether an enabled step can be blocked by
one, and the first depth where that happens is reported
(:attr:`BMCResult.capacity_depth`).  Until then every integer stayed
strictly inside its range, so the run is exactly what it would be with
unbounded integers.  It also asks, at every depth, whether an enabled step
would write a cell out of its range; the first such step is replayed
through the concrete model, which raises the same model error the
explorer would (core/ranges.py), instead of the step being dropped.

When the unrolling itself becomes unsatisfiable - no history is ``d`` steps
long - the bounded search has covered every reachable state, and what it
did not find cannot happen at all (:attr:`BMCResult.exhausted`).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Sequence

import z3

from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.trace import ReplayError, from_path

KINDS = ("always", "sometimes", "final")
CAPACITY = "#capacity"  # not a property name: the "a capacity bound blocks a step" question
OVERFLOW = "#overflow"  # nor is this: "an enabled step writes a cell out of its range"


@dataclass
class BMCResult:
    """What a bounded search found."""

    depth: int                                   # every depth up to this one was checked
    found: dict[str, list[int]] = field(default_factory=dict)  # property -> instance path
    complete: bool = True                        # reached max_depth, or decided everything
    exhausted: bool = False                      # no history is longer than ``depth``
    stop_reason: str | None = None
    seconds: float = 0.0
    seconds_per_depth: list[float] = field(default_factory=list)
    # the SAT solver's conflicts at each depth: how hard its questions were
    # (about twofold per depth on exactly-once: docs/smt.md, "What bounds the depth")
    conflicts_per_depth: list[int] = field(default_factory=list)
    statistics: dict[str, float] = field(default_factory=dict)  # Z3's, at the end
    # first depth at which a capacity bound (a table size, an epoch or
    # sequence range) can block an enabled step; None: none up to ``depth``,
    # so the run is the same as with unbounded integers
    capacity_depth: int | None = None


def as_bool(v: Any) -> Any:
    """A model value (Python or Z3, bool or int) as a Z3 boolean."""
    if isinstance(v, z3.ExprRef):
        return v if z3.is_bool(v) else v != 0
    return z3.BoolVal(bool(v))


def as_int(v: Any) -> Any:
    """A model value (Python or Z3, bool or int) as a Z3 integer."""
    if isinstance(v, z3.ExprRef):
        return z3.If(v, 1, 0) if z3.is_bool(v) else v
    return z3.IntVal(int(v))


def _equal(cell: Any, value: Any) -> Any:
    """``cell == value`` whatever Python or Z3 sort ``value`` comes in."""
    return cell == as_bool(value) if z3.is_bool(cell) else cell == as_int(value)


class Deadline:
    """A time limit per solver query and one over the whole run."""

    def __init__(self, max_seconds: float | None = None, query_seconds: float | None = None):
        self.start = time.perf_counter()
        self.max_seconds, self.query_seconds = max_seconds, query_seconds
        self.interrupted = False   # set by Ctrl-C (see interruptible)
        # the interrupt cancelled a Z3 call outside a query (a push, a pop, an
        # assertion), which raises instead of answering unknown: the search
        # ended there, and its caller must say so (see interruptible)
        self.cut = False

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.start

    def over(self) -> bool:
        """Whether the overall limit has passed."""
        return self.max_seconds is not None and self.elapsed() >= self.max_seconds

    def timeout_ms(self) -> int | None:
        """The solver timeout for the next query (None: no limit)."""
        limits = [x for x in (self.query_seconds,
                              None if self.max_seconds is None else self.max_seconds - self.elapsed())
                  if x is not None]
        return max(1, int(min(limits) * 1000)) if limits else None

    def reason(self) -> str:
        """Why a query came back ``unknown``: Ctrl-C or which time limit."""
        if self.interrupted:
            return "interrupted"
        if self.over():
            return f"time limit ({self.max_seconds:g} s)"
        if self.query_seconds is not None:
            return f"query time limit ({self.query_seconds:g} s per query)"
        return "the solver gave up (unknown)"


@contextmanager
def interruptible(deadline: Deadline):
    """Ctrl-C or SIGTERM ends the current query (Z3 answers ``unknown``) and marks ``deadline``.

    The command line's watcher thread interrupts Z3's context on either
    signal (deliverycheck/interrupt.py).  The Python handlers below only
    record the signal, so the engine can report what it found so far
    instead of a KeyboardInterrupt surfacing at some arbitrary later point.  Z3's own Ctrl-C handling is switched off:
    during a query it would take SIGINT for itself, cancel just that query
    and leave the handlers here unaware of the interruption (the watcher
    thread cancels the query instead).

    The watcher's cancel can also land while Z3 is not answering a query
    (a push, a pop, an assertion), and Z3 then raises "canceled" from that
    call: the block ends there, ``deadline.cut`` is set, and the engine
    reports its search as cut short, never the exception.
    """
    from deliverycheck import interrupt
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def mark(signum, frame):  # noqa: ARG001 - signal handler signature
        deadline.interrupted = True
        interrupt.record(signum)
    z3.set_param("ctrl_c", False)
    old = {sig: signal.signal(sig, mark) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with interrupt.cancelling(z3.main_ctx().interrupt):
            yield
    except z3.Z3Exception as e:
        if "canceled" not in str(e):
            raise
        deadline.interrupted = deadline.cut = True
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class StepTemplate:
    """The model's step, built once over generic cells and reused at every depth.

    Running every action over Z3 terms is the expensive part of building an
    unrolling (1,460 instances at records=4, faults=3); a depth only renames
    the variables, which ``z3.substitute`` does inside Z3.
    """

    def __init__(self, system: System):
        self.system = system
        self.pre, self.post = system.z3_cells("pre"), system.z3_cells("post")
        self.choice = z3.Int("step")
        self.guards: list[Any] = []          # per instance, over ``pre``
        self.fits: list[Any] = []
        self.writes: list[dict[int, Any]] = []   # per instance: cell -> new value
        for j in range(len(system.instances)):
            guard, fits, succ = system.z3_step(j, self.pre)
            self.guards.append(guard)
            self.fits.append(fits)
            # unchanged cells come back as the pre-state's own variables
            self.writes.append({i: new for i, (old, new) in enumerate(zip(self.pre, succ))
                                if new is not old})
        live = [j for j in range(len(self.guards)) if self.guards[j] is not False
                and self.fits[j] is not False]
        same = [_equal(a, b) for a, b in zip(self.post, self.pre)]
        # Full state equations per instance (the frame spelled out) measured
        # faster to solve than per-cell if-then-else chains or explanatory
        # frame axioms; the unchanged-cell equations are built once and shared.
        options = [z3.And(self.choice == j, as_bool(self.guards[j]), as_bool(self.fits[j]),
                          *[_equal(self.post[i], self.writes[j][i]) if i in self.writes[j] else same[i]
                            for i in range(len(self.pre))])
                   for j in live]
        self.relation = z3.And(z3.Or(*options), system.z3_ranges(self.post),
                               self.choice >= 0, self.choice < len(system.instances))
        # per instance: the condition that a step which fits writes out of a cell's range
        # (core/ranges.py: a model error when reachable, a counterexample to induction
        # when an invariant allows it); None when no written cell can leave its range
        self.overflows: list[dict[int, Any]] = [
            system.z3_overflows(self.pre, [self.writes[j].get(i, c) for i, c in enumerate(self.pre)])
            for j in range(len(self.guards))]
        alive = set(live)
        self.overflow = [None if not self.overflows[j] or j not in alive else
                         z3.And(as_bool(self.guards[j]), as_bool(self.fits[j]),
                                z3.Or(*self.overflows[j].values()))
                         for j in range(len(self.guards))]
        self.overflowing = z3.Or(*[o for o in self.overflow if o is not None])
        self.terminal = z3.And(*[z3.Not(as_bool(self.guards[j])) for j in range(len(self.guards))
                                 if self.guards[j] is not False])
        self.blocked = z3.Or(*[z3.And(as_bool(self.guards[j]), z3.Not(as_bool(self.fits[j])))
                               for j in range(len(self.guards))
                               if self.guards[j] is not False and self.fits[j] is not True])

    def at(self, term: Any, pre: Sequence[Any], post: Sequence[Any] = (), choice: Any = None) -> Any:
        """``term`` with the generic cells renamed to ``pre`` (and ``post``, ``choice``)."""
        pairs = [*zip(self.pre, pre), *zip(self.post, post)]
        if choice is not None:
            pairs.append((self.choice, choice))
        return Renaming(pairs)(as_bool(term) if isinstance(term, bool) else term)


class Renaming:
    """A substitution of cells, built once and applied to many terms.

    ``z3.substitute`` checks every pair's sorts in Python on every call;
    with a few hundred cells that dominated k-induction's time (measured:
    105 of 194 s), so the pairs are checked once here and each application
    is one call into Z3.
    """

    def __init__(self, pairs: Sequence[tuple[Any, Any]]):
        pairs = [(a, b) for a, b in pairs if not a.eq(b)]
        for a, b in pairs:
            if not a.sort().eq(b.sort()):
                raise TypeError(f"cannot rename {a} ({a.sort()}) to {b} ({b.sort()})")
        self.n = len(pairs)
        self._from = (z3.Ast * self.n)(*[a.as_ast() for a, _ in pairs])
        self._to = (z3.Ast * self.n)(*[b.as_ast() for _, b in pairs])

    def __call__(self, term: Any) -> Any:
        """``term`` with every cell renamed."""
        if self.n == 0:
            return term
        ctx = term.ctx
        return z3.z3._to_expr_ref(z3.Z3_substitute(ctx.ref(), term.as_ast(), self.n, self._from, self._to),
                               ctx)


class Unrolling:
    """States ``s0 .. sd`` linked by ``d`` steps, on one incremental solver.

    ``from_init`` pins ``s0`` to the initial state (bounded model checking);
    without it ``s0`` is any state within the fields' ranges (the step case
    of k-induction).
    """

    def __init__(self, system: System, from_init: bool = True, template: StepTemplate | None = None,
                 fresh_after: float | None = None):
        self.system = system
        self.template = template or StepTemplate(system)
        self.solver = z3.SolverFor("QF_FD")
        self.facts: list[Any] = []   # everything asserted, to build a fresh solver from
        self.fresh_after = fresh_after
        self.states: list[list[Any]] = [system.z3_cells("0")]
        self.choices: list[Any] = []
        self.add(system.z3_ranges(self.states[0]))
        if from_init:
            self.add(system.z3_state(self.states[0], system.init))

    def add(self, *facts: Any) -> None:
        """Assert ``facts`` on the unrolling, for every later query."""
        self.facts.extend(facts)
        self.solver.add(*facts)

    @property
    def depth(self) -> int:
        """Number of steps unrolled."""
        return len(self.choices)

    def extend(self) -> None:
        """Add one step ``s_d -> s_{d+1}``."""
        d = self.depth
        post, choice = self.system.z3_cells(str(d + 1)), z3.Int(f"step@{d}")
        self.add(self.template.at(self.template.relation, self.states[d], post, choice))
        self.states.append(post)
        self.choices.append(choice)

    def terminal(self, d: int) -> Any:
        """State ``d`` enables no action (capacity-blocked steps count as enabled)."""
        return self.template.at(self.template.terminal, self.states[d])

    def blocked(self, d: int) -> Any:
        """Some instance is enabled in state ``d`` but blocked by a capacity bound."""
        return self.template.at(self.template.blocked, self.states[d])

    def overflowing(self, d: int) -> Any:
        """Some instance enabled in state ``d`` (and fitting) writes a cell out of its range."""
        return self.template.at(self.template.overflowing, self.states[d])

    def overflow_instance(self, model: z3.ModelRef, d: int) -> int:
        """Which instance overflows in state ``d`` of ``model`` (one ``overflowing`` made true)."""
        return next(j for j, o in enumerate(self.template.overflow) if o is not None and
                    z3.is_true(model.eval(self.template.at(o, self.states[d]), model_completion=True)))

    def bad(self, p: Property, d: int) -> Any:
        """What breaks ``p`` in state ``d``: a violation, or a ``sometimes`` witness."""
        holds = as_bool(self.system.z3_holds(p, self.states[d]))
        if p.kind == "sometimes":
            return holds
        if p.kind == "final":
            return z3.And(self.terminal(d), z3.Not(holds))
        return z3.Not(holds)

    def check(self, goal: Any, deadline: Deadline,
              cap_seconds: float | None = None) -> tuple[Any, z3.ModelRef | None]:
        """Is ``goal`` satisfiable on top of the unrolling?  (answer, model)

        The goal lives in a push/pop scope.  (Guarding it by an assumption
        literal instead, to keep learnt clauses, measured several times
        slower on the step case of k-induction.)  ``cap_seconds`` limits
        this one query further: a try whose ``unknown`` the caller handles.

        With ``fresh_after``, a query still open after that many seconds is
        asked again on a fresh solver holding the same facts.  The
        incremental solver answers most of k-induction's thousands of small
        queries in milliseconds, but some far slower than a solver that
        sees the goal from the start (whose preprocessing an incremental
        solver forgoes; measured on the idempotent step case: 2.7 s and
        6.1 s incremental against 0.17 s and 0.14 s fresh).
        """
        start = time.perf_counter()
        limits = [x for x in (deadline.timeout_ms(),
                              None if cap_seconds is None else int(cap_seconds * 1000)) if x is not None]
        limit = min(limits) if limits else None
        first = limit
        if self.fresh_after is not None and (limit is None or limit > self.fresh_after * 1000):
            first = int(self.fresh_after * 1000)
        self.solver.push()
        try:
            self.solver.add(goal)
            answer, model = _solve(self.solver, first)
        finally:
            self.solver.pop()
        if answer == z3.unknown and first != limit and not deadline.interrupted:
            # the fresh_after cap ended it, not a limit: ask a fresh solver for the rest
            spent = int((time.perf_counter() - start) * 1000)
            answer, model = self.check_fresh(goal, None if limit is None else max(1, limit - spent))
        return answer, model

    @contextmanager
    def assuming(self, *facts: Any):
        """Within the block, ``facts`` hold for every query (pushed once; popped after)."""
        self.solver.push()
        self.solver.add(*facts)
        self.facts.extend(facts)
        try:
            yield
        finally:
            del self.facts[len(self.facts) - len(facts):]
            self.solver.pop()

    def check_fresh(self, goal: Any, ms: int | None) -> tuple[Any, z3.ModelRef | None]:
        """``goal`` asked of a new solver holding the unrolling's facts, within ``ms`` ms (None: no limit)."""
        fresh = z3.SolverFor("QF_FD")
        fresh.add(*self.facts, goal)
        return _solve(fresh, ms)

    def check_canonical(self, goal: Any, ms: int | None) -> tuple[Any, z3.ModelRef | None]:
        """Like :meth:`check_fresh`, in a new Z3 context: the model depends on the terms alone.

        Z3's search order follows its internal term ids, which depend on
        every term the context has built before; copied into a new context,
        the facts and the goal get ids from their structure only, so the
        model (a counterexample) is the same whatever queries, and however
        many worker processes, came before.
        """
        ctx = z3.Context()
        fresh = z3.SolverFor("QF_FD", ctx=ctx)
        fresh.add(*[f.translate(ctx) for f in self.facts], goal.translate(ctx))
        answer, model = _solve(fresh, ms)
        return answer, None if model is None else model.translate(self.solver.ctx)

    def path(self, model: z3.ModelRef) -> list[int]:
        """The action instances a model takes."""
        return [model.eval(c, model_completion=True).as_long() for c in self.choices]

    def state(self, model: z3.ModelRef, d: int) -> bytes:
        """State ``d`` of a model, as a concrete state."""
        return self.system.from_model(model, self.states[d])

    def conflicts(self) -> int:
        """The SAT solver's conflicts so far (its work, whatever the machine's speed)."""
        st = self.solver.statistics()
        return int(st.get_key_value("sat conflicts")) if "sat conflicts" in st.keys() else 0

    def statistics(self) -> dict[str, float]:
        """Z3's statistics of the solver so far."""
        st = self.solver.statistics()
        return {k: st.get_key_value(k) for k in st.keys()}


def _solve(solver: Any, ms: int | None) -> tuple[Any, z3.ModelRef | None]:
    """``solver``'s answer within ``ms`` milliseconds (None: no limit), with its model if sat."""
    solver.set("timeout", ms if ms is not None else 4294967295)
    answer = solver.check()
    return answer, solver.model() if answer == z3.sat else None


def bmc(system: System, properties: Sequence[Property], max_depth: int,
        max_seconds: float | None = None, query_seconds: float | None = None,
        progress: Any = None) -> BMCResult:
    """Search for the shortest way to break each property, up to ``max_depth`` steps.

    ``progress``, if given, hears of each depth done
    (:class:`deliverycheck.progress.Progress`).
    """
    deadline = Deadline(max_seconds, query_seconds)
    open_ = [p for p in properties if p.kind in KINDS]
    u = Unrolling(system)
    result = BMCResult(depth=-1)
    with interruptible(deadline):
        for d in range(max_depth + 1):
            t0, c0 = time.perf_counter(), u.conflicts()
            if d:
                u.extend()
                # nothing is d steps long: every reachable state was covered
                # (unless a capacity bound is what ended the histories)
                answer, _ = u.check(z3.BoolVal(True), deadline)
                if answer == z3.unsat:
                    result.exhausted = result.capacity_depth is None
                    break
                if answer == z3.unknown:
                    result.complete, result.stop_reason = False, deadline.reason()
                    break
            while open_:
                bad = {p.name: u.bad(p, d) for p in open_}
                if result.capacity_depth is None:  # asked in the same query: no extra cost
                    bad[CAPACITY] = u.blocked(d)
                bad[OVERFLOW] = u.overflowing(d)
                answer, m = u.check(z3.Or(*bad.values()), deadline)
                if answer != z3.sat:
                    break
                path = u.path(m)
                check_replay(u, m, path)
                if z3.is_true(m.eval(bad[OVERFLOW], model_completion=True)):
                    # a reachable out-of-range write: the concrete model raises the
                    # same error the explorer would (core/ranges.py)
                    from_path(system, [*path, u.overflow_instance(m, d)])
                    raise ReplayError(f"Z3 finds an out-of-range write after {path} that the "
                                      "concrete model does not make")
                if CAPACITY in bad and z3.is_true(m.eval(bad[CAPACITY], model_completion=True)):
                    result.capacity_depth = d
                for p in list(open_):
                    if z3.is_true(m.eval(bad[p.name], model_completion=True)):
                        result.found[p.name] = path
                        open_.remove(p)
            if open_ and answer == z3.unknown:
                result.complete, result.stop_reason = False, deadline.reason()
                break
            result.depth = d
            result.seconds_per_depth.append(time.perf_counter() - t0)
            result.conflicts_per_depth.append(u.conflicts() - c0)
            if progress:
                progress.working(f"every history of up to {d} steps checked "
                                 f"(of {max_depth}), {deadline.elapsed():.1f} s")
            if not open_:
                break
            if (deadline.over() or deadline.interrupted) and d < max_depth:
                result.complete, result.stop_reason = False, deadline.reason()
                break
    if deadline.cut:
        result.complete, result.stop_reason = False, deadline.reason()
    result.seconds = deadline.elapsed()
    result.statistics = u.statistics()
    return result


def check_replay(u: Unrolling, model: z3.ModelRef, path: list[int], start: bytes | None = None) -> None:
    """The solver's states are the concrete model's along ``path`` (else an engine or model bug).

    ``path`` is replayed through the concrete model from the initial state,
    or from ``start`` for a counterexample to induction, whose last step is
    not in the unrolling (only the states the unrolling holds are compared).
    """
    trace = from_path(u.system, path, start=start)
    for n, step in enumerate(trace.steps[:len(u.states)]):
        if u.state(model, n) != step.state:
            raise ReplayError(f"step {n}: the Z3 state differs from the concrete model's")
