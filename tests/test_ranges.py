"""Out-of-range writes and capacity blocks: every interpretation treats them alike.

A tiny counter model (core/ranges.py): ``bump`` adds one to ``n``, whose
range is 0..2.  Unguarded, the third bump writes 3: the interpreted step,
the compiled step, the explorer and bounded model checking all stop with
the same model error naming the action and the cell, and k-induction
reports an invariant state from which the step would overflow as a
counterexample to induction of its own kind, never a proof.
"""

from __future__ import annotations

import re

import pytest

from deliverycheck.core.ops import and_
from deliverycheck.core.ranges import Overflow, interval, may_leave
from deliverycheck.core.expr import cell
from deliverycheck.core.schema import Schema, num
from deliverycheck.core.spec import Effect, Spec, action, always
from deliverycheck.core.system import FULL, System
from deliverycheck.engines.explore import explore
from deliverycheck.engines.induction import k_induction
from deliverycheck.engines.smt import bmc
from deliverycheck.errors import ModelError

MESSAGE = re.escape("bump() writes n = 3, outside its range 0..2")


def _counter(guard: str = "none", fits: bool = False) -> Spec:
    """``bump``: n := n + 1.  ``guard``: "none" (overflows), "n<2" (correct) or "n<3" with
    ``fits`` n < 2 (a capacity that blocks the third bump)."""
    schema = Schema([num("n", 2), num("other", 1)])

    @action()
    def bump(s, c):
        """Add one to n."""
        when = {"none": s.other == 0, "n<2": and_(s.other == 0, s.n < 2),
                "n<3": and_(s.other == 0, s.n < 3)}[guard]
        return Effect(when=when, fits=s.n < 2 if fits else True, then={"n": s.n + 1})

    @always()
    def small(s, c):
        """n stays within its range."""
        return s.n <= 2

    return Spec("counter", lambda c: schema, lambda c: {}, [bump], [small])


def test_the_interpreted_and_the_compiled_step_raise_the_same_overflow():
    sy = System(_counter(), None)
    top = sy.schema.make(n=2)
    with pytest.raises(Overflow, match=MESSAGE) as interpreted:
        sy.step(top, 0)
    with pytest.raises(Overflow, match=MESSAGE) as compiled:
        sy.compiled[0](top)
    assert str(interpreted.value) == str(compiled.value)
    assert isinstance(interpreted.value, ModelError)  # the CLI: one line, exit 2
    assert sy.compiled[0](sy.schema.make(n=1)) == sy.schema.make(n=2)


def test_the_explorer_and_bmc_stop_at_a_reachable_overflow():
    with pytest.raises(Overflow, match=MESSAGE):
        explore(System(_counter(), None))
    sy = System(_counter(), None)
    with pytest.raises(Overflow, match=MESSAGE):
        bmc(sy, sy.properties, max_depth=5)


def test_k_induction_reports_an_overflow_from_an_invariant_state():
    sy = System(_counter(), None)
    proof = k_induction(sy, sy.spec.property("small"), max_k=2)
    assert proof.verdict == "not inductive"
    assert proof.broken == "overflow at bump() (n = 3, range 0..2)"
    assert proof.blocked == 0 and proof.preserved_at == 1
    start, path = proof.cti
    assert sy.schema.decode(start)["n"] + len(path) == 2  # the path ends where bump would overflow


def test_k_induction_reports_a_capacity_block_and_proves_the_correct_model():
    sy = System(_counter("n<3", fits=True), None)
    proof = k_induction(sy, sy.spec.property("small"), max_k=2)
    assert proof.verdict == "not inductive" and proof.broken == "capacity at bump()"
    start, path = proof.cti
    last = sy.step(start, path[0]) if path else start
    assert sy.step(last, 0) is FULL
    # the same promise with the guard that keeps n in range: a proof, and nothing blocks
    sy = System(_counter("n<2"), None)
    proof = k_induction(sy, sy.spec.property("small"), max_k=2)
    assert proof.verdict == "proved" and proof.blocked is None
    assert explore(sy).complete


def test_only_writes_that_can_leave_their_range_are_checked():
    hi = (2, 1)
    assert may_leave([cell(0) + 1, cell(1)], hi) == [0]
    assert may_leave([cell(1) + 1, cell(0) < 1], hi) == []          # 0..2, a comparison
    assert may_leave([cell(0) - 1, 1], hi) == [0]                     # may go below 0
    assert interval(cell(0) * 2, hi, {}) == (0, 4)
    source = System(_counter("n<2"), None)
    source.compiled  # noqa: B018 - compiles; n + 1 is checked even under the guard
    sy = System(_counter(), None)
    assert sy.compiled[0](sy.init) == sy.schema.make(n=1)
