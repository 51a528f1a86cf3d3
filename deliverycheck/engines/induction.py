"""Proofs for histories of any length: k-induction with Z3, on the same unrolling as BMC.

To prove an ``always`` property P (with strengthening lemmas L1..Ln, all
``always`` properties; write I = P and L1 and ... and Ln), k-induction
checks two things for k = 1, 2, ...:

* **base case**: I holds in every state reachable from the initial state
  in fewer than k steps (bounded model checking, one depth per k); a
  failure is a real counterexample from the initial state: ``violated``;
* **step case**: from *any* states s0 .. s_{k-1} in the fields' ranges,
  linked by steps, pairwise distinct, with I in each, every step leads to
  a state s_k where I still holds.  If so, I holds in every reachable
  state, for histories of any length: ``proved``.

If the step case still has a model at the largest k tried, the model is a
*counterexample to induction*: k states that satisfy I and a step out of
it.  Its first state need not be reachable; it shows what I fails to rule
out, and is the hint for the next lemma.  The verdict is then ``not
inductive at k``, which says nothing about P being true or false.  A
query that times out ends in ``incomplete``: never a proof.

Requiring the states of the step case to be pairwise distinct (a simple
path) is sound and makes k-induction complete for finite systems: a
property that holds is eventually k-inductive for a large enough k.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import z3

from deliverycheck.core.ranges import Overflow
from deliverycheck.core.spec import Property
from deliverycheck.core.system import FULL, System
from deliverycheck.engines.smt import (Deadline, Renaming, StepTemplate, Unrolling, as_bool, as_int,
                                       check_replay, interruptible)
from deliverycheck.engines.parallel import default_workers, first_not_unsat
from deliverycheck.errors import ReplayError


@dataclass
class Proof:
    """The outcome of k-induction for one property and its lemmas."""

    property: str
    lemmas: list[str]
    verdict: str                  # proved | not inductive | violated | incomplete
    k: int                        # proved at k / not inductive at k / last k tried
    broken: str | None = None     # the conjunct of the invariant that fails
    path: list[int] | None = None         # violated: instances from the initial state
    cti: tuple[bytes, list[int]] | None = None  # not inductive: start state and instances
    # not inductive because this instance, enabled in the CTI's last state, is
    # blocked by a capacity or would write out of range (``broken`` says which)
    blocked: int | None = None
    # the smallest k at which every step that is made keeps the invariant (then
    # only a blocked step can stand between it and a proof); None: not shown
    preserved_at: int | None = None
    # at the last k: the step a capacity or range could block, also when the
    # counterexample reported is another one (a step made that breaks I)
    can_block: str | None = None
    block_kind: str | None = None  # what ``can_block`` is: "capacity" or "overflow"
    stop_reason: str | None = None
    seconds: float = 0.0
    seconds_per_k: list[float] = field(default_factory=list)

    def headline(self) -> str:
        """The verdict as one phrase: ``proved (k=2)``, ``not inductive at k=3``, ..."""
        if self.verdict == "proved":
            return f"proved (k={self.k})"
        if self.verdict == "not inductive":
            if self.blocked is None:
                return f"not inductive at k={self.k}"
            return (f"not inductive at k={self.k} ({self.broken}"
                    + (f"; every step made keeps the invariant from k={self.preserved_at})"
                       if self.preserved_at is not None else ")"))
        if self.verdict == "violated":
            return "violated" if self.broken == self.property else f"violated (lemma {self.broken})"
        return f"incomplete at k={self.k} ({self.stop_reason})"


def k_induction(system: System, target: Property, lemmas: Sequence[Property] = (),
                max_k: int = 4, max_seconds: float | None = None,
                query_seconds: float | None = None, workers: int | None = None) -> Proof:
    """Try to prove ``target`` (strengthened by ``lemmas``) by k-induction, k = 1 .. max_k.

    The step case's questions are asked on ``workers`` cores (default: all
    this process may use); the verdict and any counterexample are the same
    for every number of workers.
    """
    workers = default_workers() if workers is None else workers
    for p in (target, *lemmas):
        if p.kind != "always":
            raise ValueError(f"{p.name} is a {p.kind} property; k-induction proves `always` ones")
    deadline = Deadline(max_seconds, query_seconds)
    invariant = [target, *lemmas]
    proof = Proof(target.name, [p.name for p in lemmas], "incomplete", 0)
    template = StepTemplate(system)
    base = Unrolling(system, template=template)
    step, obligations = step_case(system, invariant, template)
    suspects: list[int] = []

    def holds(u: Unrolling, d: int) -> dict[str, Any]:
        return {p.name: as_bool(system.z3_holds(p, u.states[d])) for p in invariant}

    with interruptible(deadline):
        for k in range(1, max_k + 1):
            t0 = time.perf_counter()
            proof.k = k
            # base case: no state k-1 steps from the initial state breaks I
            if k > 1:
                base.extend()
            now = holds(base, k - 1)
            answer, m = base.check(z3.Or(*[z3.Not(h) for h in now.values()]), deadline)
            if answer == z3.sat:
                proof.verdict, proof.path = "violated", base.path(m)
                proof.broken = _first_false(m, now)
                check_replay(base, m, proof.path)
                break
            if answer == z3.unknown:
                proof.verdict, proof.stop_reason = "incomplete", deadline.reason()
                break
            # step case: I in s0..s_{k-1} (linked by steps, distinct); does one more step keep I?
            if k > 1:
                step.extend()
                new = step.states[-1]
                step.add(*[_differ(old, new) for old in step.states[:-1]])
            step.add(*holds(step, k - 1).values())
            # can a step from the last state be enabled and not made?  (cheap: one
            # query per instance with a capacity or a write that may leave its range)
            answer, block, kind = _first_block(step, deadline, suspects, workers)
            cti = None
            if answer != z3.unknown and proof.preserved_at is None:
                # does every step that is made keep I?  Once it does at some k it does
                # at every larger k (the step case only assumes more), so it is asked once
                answer, cti = _step_case(step, obligations, deadline, suspects, workers)
                if answer == z3.unsat:
                    proof.preserved_at = k
            proof.seconds_per_k.append(time.perf_counter() - t0)
            if answer == z3.unknown:
                proof.verdict, proof.stop_reason = "incomplete", deadline.reason()
                break
            proof.can_block, proof.block_kind = (block[0], kind) if block else (None, None)
            cti = cti or block
            if cti is None:
                proof.verdict, proof.cti, proof.broken, proof.blocked = "proved", None, None, None
                break
            proof.verdict, (proof.broken, proof.cti, proof.blocked) = "not inductive", cti
            # the step that broke I (or could not be made): try it first next time
            suspects.insert(0, cti[2] if cti[2] is not None else cti[1][1][-1])
            if deadline.over() or deadline.interrupted:
                if k < max_k:
                    proof.verdict, proof.stop_reason = "incomplete", deadline.reason()
                break
    if deadline.cut:
        proof.verdict, proof.stop_reason = "incomplete", deadline.reason()
    proof.seconds = deadline.elapsed()
    return proof


@dataclass
class _Obligation:
    """One conjunct of the invariant, to hold again after every step."""

    property: str
    at: Any                 # the conjunct over the template's generic cells
    reads: frozenset[int]   # the cells it reads


def step_case(system: System, invariant: Sequence[Property],
              template: StepTemplate) -> tuple[Unrolling, list[_Obligation]]:
    """The step case's unrolling (one state, unconstrained but in range) and the invariant's conjuncts.

    The caller asserts the invariant in the states it adds (k_induction:
    in every state before the last step).
    """
    step = Unrolling(system, False, template, fresh_after=FRESH_AFTER)
    return step, _obligations(system, invariant, template.pre)


def touches(u: Unrolling, parts: list[_Obligation], j: int) -> bool:
    """Instance ``j`` can fire and writes a cell some conjunct of the invariant reads."""
    return bool(_step_goals(u, parts, j))


def _obligations(system: System, invariant: Sequence[Property],
                 cells: Sequence[Any]) -> list[_Obligation]:
    """The invariant split into its top-level conjuncts, each with the cells it reads.

    Checking "one step keeps I" conjunct by conjunct and instance by
    instance, and skipping an instance that writes no cell a conjunct
    reads, turns one hard query into many easy ones (measured: 842 s ->
    seconds for the idempotent producer's in_order).
    """
    index = {c.get_id(): i for i, c in enumerate(cells)}
    out = []
    for p in invariant:
        for part in _conjuncts(as_bool(system.z3_holds(p, cells))):
            out.append(_Obligation(p.name, part, frozenset(_reads(part, index))))
    return out


def _conjuncts(e: Any) -> list[Any]:
    if z3.is_and(e):
        return [x for child in e.children() for x in _conjuncts(child)]
    return [e]


def _reads(e: Any, index: dict[int, int]) -> set[int]:
    """Cells (by position) a Z3 term mentions."""
    seen, found, todo = set(), set(), [e]
    while todo:
        x = todo.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if x.get_id() in index:
            found.add(index[x.get_id()])
        todo.extend(x.children())
    return found


def _step_goals(u: Unrolling, parts: list[_Obligation], j: int) -> list[tuple[str, Any, list[Any]]]:
    """For instance ``j``: ``(property, step, conjuncts)`` per property whose conjuncts its step writes.

    ``step`` says that instance ``j`` makes its step from the unrolling's
    last state (guard, capacity, every written cell in range, a new state);
    ``conjuncts`` are the property's conjuncts that read a written cell,
    over the successor.  Empty when the instance never fires or writes
    nothing the invariant reads.
    """
    t = u.template
    if t.guards[j] is False or t.fits[j] is False:
        return []
    written = t.writes[j]
    touched = [ob for ob in parts if ob.reads & written.keys()]
    if not touched:
        return []
    last = u.states[-1]
    post = list(last)
    now = Renaming(list(zip(t.pre, last)))
    for i, value in written.items():
        post[i] = now(as_bool(value) if z3.is_bool(last[i]) else as_int(value))
    # a step that would write out of range is not made (it is _block's
    # counterexample, a different kind); here: the steps that are made
    in_range = [z3.Not(now(c)) for c in t.overflows[j].values()]
    step_ok = z3.And(now(as_bool(t.guards[j])), now(as_bool(t.fits[j])), *in_range,
                     *[_differ(s, post) for s in u.states])
    then = Renaming(list(zip(t.pre, post)))
    return [(name, step_ok, [then(ob.at) for ob in touched if ob.property == name])
            for name in dict.fromkeys(ob.property for ob in touched)]


def _step_case(u: Unrolling, parts: list[_Obligation], deadline: Deadline,
               suspects: Sequence[int] = (), workers: int = 1) -> tuple[Any, Any]:
    """Does every step from the unrolling's last state keep every conjunct?

    Only steps that are made are asked about; whether a step can be
    enabled and not made is :func:`_first_block`'s question.  Instances are
    asked in order (those that broke the invariant at a smaller k first: a
    CTI is found sooner, and most of the work of a proof is the instances
    that keep I), on ``workers`` cores (engines/parallel.py).

    Returns (unsat, None) when every step keeps I, (sat, (property,
    (start, path), None)) with a counterexample to induction, or
    (unknown, None) at a limit.
    """
    t = u.template
    order = list(dict.fromkeys([*suspects, *range(len(t.guards))]))
    slow: Counter[str] = Counter()
    answer, j, name = first_not_unsat(order, lambda j: step_keeps(u, parts, j, deadline, slow),
                                      workers, lambda: deadline.interrupted)
    if answer != z3.sat:
        return answer, None
    step_ok, group = next((st, g) for n, st, g in _step_goals(u, parts, j) if n == name)
    found = _witness(u, z3.And(step_ok, z3.Not(z3.And(*group))), deadline)
    if found is None:
        return z3.unknown, None
    _, start, path = found
    return z3.sat, (name, (start, [*path, j]), None)


def step_keeps(u: Unrolling, parts: list[_Obligation], j: int, deadline: Deadline,
               slow: Counter[str]) -> tuple[Any, str | None]:
    """Does instance ``j``'s step from the unrolling's last state keep every conjunct?  (answer, property)

    ``unsat`` when it does; else the answer and the first property whose
    conjuncts it may break.  ``slow`` counts, per property, the joint
    queries that ran out of time (see :func:`_breaks`).
    """
    goals = _step_goals(u, parts, j)
    if not goals:
        return z3.unsat, None
    # every property's question shares the step: the solver takes it in once
    with u.assuming(goals[0][1]):
        for name, _, group in goals:
            answer, _ = _breaks(u, group, deadline, slow[name] >= GIVE_UP)
            if answer == z3.unknown and not (deadline.over() or deadline.interrupted):
                slow[name] += 1  # after a few slow joint queries, ask per conjunct at once
                answer, _ = _breaks(u, group, deadline, True)
            if answer != z3.unsat:
                return answer, name
    return z3.unsat, None


def _witness(u: Unrolling, goal: Any, deadline: Deadline) -> tuple[Any, bytes, list[int]] | None:
    """A model of ``goal`` (Unrolling.check_canonical: the same whoever found it), its first state and path, replayed.

    None when the query does not finish within the limits.
    """
    answer, m = u.check_canonical(goal, deadline.timeout_ms())
    if answer != z3.sat:
        if answer == z3.unsat:
            raise ReplayError("a fresh solver finds no model for a counterexample the search found")
        return None
    start, path = u.state(m, 0), u.path(m)
    check_replay(u, m, path, start)
    return m, start, path


def _first_block(u: Unrolling, deadline: Deadline, suspects: Sequence[int] = (),
                 workers: int = 1) -> tuple[Any, Any, str | None]:
    """The first instance that can be enabled in the last state and not make its step.

    Two ways: a capacity bound blocks it (``Effect.fits`` false: a table is
    full, an epoch range used up), or it would write a cell out of its range
    (core/ranges.py).  Either would leave a step out of the proof, so the
    proof would only be about the bounded system; each is a counterexample
    to induction of its own kind, never dropped.

    (unsat, None, None) when there is none, (unknown, None, None) at a
    limit, else (sat, (what, (start, path), j), kind): the path ends in the
    last state, where instance ``j`` is the step that cannot be made;
    ``kind`` is "capacity" or "overflow".
    """
    t, system = u.template, u.system
    now = Renaming(list(zip(t.pre, u.states[-1])))

    def goal(j: int) -> Any:
        fits, overflow = t.fits[j], t.overflow[j]
        if t.guards[j] is False or (fits is True and overflow is None):
            return None
        can_block = [] if fits is True else [z3.Not(now(as_bool(fits)))]
        if overflow is not None:
            can_block.append(now(overflow))
        return z3.And(now(as_bool(t.guards[j])), z3.Or(*can_block))

    def ask(j: int) -> tuple[Any, None]:
        g = goal(j)
        return (z3.unsat, None) if g is None else (u.check(g, deadline)[0], None)

    order = list(dict.fromkeys([*suspects, *range(len(t.guards))]))
    answer, j, _ = first_not_unsat(order, ask, workers, lambda: deadline.interrupted)
    if answer != z3.sat:
        return answer, None, None
    found = _witness(u, goal(j), deadline)
    if found is None:
        return z3.unknown, None, None
    m, start, path = found
    label = system.instances[j].label()
    last = u.state(m, len(u.states) - 1)
    try:
        concrete = system.step(last, j)
    except Overflow as e:
        kind, what = "overflow", f"overflow at {label} ({e.cell} = {e.value}, range 0..{e.hi})"
    else:
        if concrete is not FULL:
            raise ReplayError(f"Z3 finds {label} blocked where the concrete model makes the step")
        kind, what = "capacity", f"capacity at {label}"
    return answer, (what, (start, path), j), kind


FRESH_AFTER = 0.2  # a step-case query open this long moves to a fresh solver (Unrolling.check)
TRY_SECONDS = 0.5  # a query over several conjuncts that takes longer is split
GIVE_UP = 3  # a property whose joint queries ran past TRY_SECONDS this often is asked per conjunct


def _breaks(u: Unrolling, conjuncts: list[Any], deadline: Deadline,
            singly: bool = False) -> tuple[Any, Any]:
    """Can the step the unrolling assumes make one of ``conjuncts`` (over the successor) false?  (answer, model)

    All of one property's conjuncts are asked in one query first: one query
    per conjunct is thousands of mostly trivial queries (the exactly-once
    proofs: 6,000, measured 190 s against 70 s).  But some conjunctions are
    far harder than their parts (the idempotent producer's pairwise order
    conditions: minutes instead of seconds), so a joint query that does
    not finish within ``TRY_SECONDS`` comes back ``unknown``, and the caller
    asks again ``singly``, conjunct by conjunct, under its own limits (and,
    once that happened ``GIVE_UP`` times for a property, at once).  (Splitting in halves
    instead measured slower: more joint queries that time out.)
    """
    if not singly and len(conjuncts) > 1:
        return u.check(z3.Not(z3.And(*conjuncts)), deadline, TRY_SECONDS)
    for one in conjuncts:
        answer, m = u.check(z3.Not(one), deadline)
        if answer != z3.unsat:
            return answer, m
    return z3.unsat, None


def _differ(a: Sequence[Any], b: Sequence[Any]) -> Any:
    """States ``a`` and ``b`` differ in some cell."""
    return z3.Or(*[x != y for x, y in zip(a, b)])


def _first_false(model: z3.ModelRef, holds: dict[str, Any]) -> str:
    """The first conjunct of the invariant (the target comes first) false in ``model``."""
    return next(name for name, h in holds.items()
                if z3.is_false(model.eval(h, model_completion=True)))
