"""Bounded model checking with Z3, on the model's Z3 reading (no second copy of the protocol).

The transition relation is unrolled one step at a time on one incremental
solver: after depth ``d`` is added, each open property is asked once (in a
``push``/``pop`` scope) whether a violation (``always``) or a witness
(``sometimes``) is reachable in exactly ``d`` steps.  Depths are tried in
order, so the first answer is a shortest trace.  Each step is the
disjunction over action instances of "guard, capacity and successor" from
:meth:`System.z3_step`, tagged with an integer choice variable per depth so
that a model decodes into the action instances taken; the trace is then
rebuilt by :func:`deliverycheck.trace.from_path`, which replays it through
the compiled and the interpreted concrete model, and its states are checked
against the solver's.

A step blocked by a capacity bound (``fits`` false) is left out, as the
explorer leaves it out.  Only ``always`` and ``sometimes`` properties are
decided here; ``final`` and ``progress`` need the whole state graph.

This is the first part of issue 4 (not yet wired to the command line).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import z3

from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.trace import ReplayError, from_path

KINDS = ("always", "sometimes")


@dataclass
class BMCResult:
    """What a bounded search found."""

    depth: int                                   # every depth up to this one was checked
    found: dict[str, list[int]] = field(default_factory=dict)  # property -> instance path
    complete: bool = True                        # reached max_depth (or decided everything)
    stop_reason: str | None = None
    seconds_per_depth: list[float] = field(default_factory=list)


def _as_bool(v: Any) -> Any:
    if isinstance(v, z3.ExprRef):
        return v if z3.is_bool(v) else v != 0
    return z3.BoolVal(bool(v))


def _as_int(v: Any) -> Any:
    if isinstance(v, z3.ExprRef):
        return z3.If(v, 1, 0) if z3.is_bool(v) else v
    return z3.IntVal(int(v))


def _equal(cell: Any, value: Any) -> Any:
    """``cell == value`` whatever Python or Z3 sort ``value`` comes in."""
    return cell == _as_bool(value) if z3.is_bool(cell) else cell == _as_int(value)


def transition(system: System, pre: Sequence[Any], post: Sequence[Any], choice: Any) -> Any:
    """One step from ``pre`` to ``post``, with ``choice`` the action instance taken."""
    options = []
    for j in range(len(system.instances)):
        guard, fits, succ = system.z3_step(j, pre)
        if guard is False or fits is False:
            continue
        # unchanged cells come back as the pre-state's own variables: the frame
        eqs = [_equal(a, b) for a, b in zip(post, succ)]
        options.append(z3.And(choice == j, _as_bool(guard), _as_bool(fits), *eqs))
    return z3.Or(*options)


def bmc(system: System, properties: Sequence[Property], max_depth: int,
        max_seconds: float | None = None) -> BMCResult:
    """Search for the shortest violation (``always``) or witness (``sometimes``) of each property."""
    start = time.perf_counter()
    open_ = [p for p in properties if p.kind in KINDS]
    solver = z3.Solver()
    states = [system.z3_cells("0")]
    solver.add(system.z3_state(states[0], system.init))
    choices: list[Any] = []
    result = BMCResult(depth=-1)
    for d in range(max_depth + 1):
        t0 = time.perf_counter()
        for p in list(open_):
            holds = _as_bool(system.z3_holds(p, states[d]))
            solver.push()
            solver.add(holds if p.kind == "sometimes" else z3.Not(holds))
            if max_seconds is not None:
                left = max_seconds - (time.perf_counter() - start)
                solver.set("timeout", max(1, int(left * 1000)))
            answer = solver.check()
            if answer == z3.sat:
                m = solver.model()
                result.found[p.name] = [m.eval(c, model_completion=True).as_long() for c in choices]
                _check_states(system, m, states, result.found[p.name])
                open_.remove(p)
            solver.pop()
            if answer == z3.unknown:
                result.complete, result.stop_reason = False, "time limit"
                return result
        result.depth = d
        result.seconds_per_depth.append(time.perf_counter() - t0)
        if not open_ or d == max_depth:
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            result.complete, result.stop_reason = False, "time limit"
            return result
        nxt, choice = system.z3_cells(str(d + 1)), z3.Int(f"step@{d}")
        solver.add(transition(system, states[d], nxt, choice))
        states.append(nxt)
        choices.append(choice)
    return result


def _check_states(system: System, model: Any, states: Sequence[Sequence[Any]], path: list[int]) -> None:
    """The solver's states are the concrete model's states along ``path`` (else a model bug)."""
    trace = from_path(system, path)              # replays through the concrete model
    for n, (step, cells) in enumerate(zip(trace.steps, states)):
        if system.from_model(model, cells) != step.state:
            raise ReplayError(f"step {n}: the Z3 state differs from the concrete model's")
