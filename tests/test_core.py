"""The model vocabulary: schema, the three interpretations of ops, the compiler."""

from __future__ import annotations

import pytest
import z3

from deliverycheck.core import compile as cc
from deliverycheck.core.expr import Expr, cell
from deliverycheck.core.ops import (all_, and_, any_, count, get, implies, ite, ite_list, not_,
                                    or_, set_, sum_)
from deliverycheck.core.schema import Schema, flag, num
from deliverycheck.core.spec import Effect, Spec, action, always
from deliverycheck.core.system import FULL, ModelError, System


def _schema():
    return Schema([num("x", 5), flag("up"), num("arr", 7, shape=(3,)), num("grid", 3, shape=(2, 2))])


def test_schema_layout_and_roundtrip():
    sc = _schema()
    assert sc.width == 1 + 1 + 3 + 4
    st = sc.make(x=3, up=True, arr=[1, 2, 3], grid=[[0, 1], [2, 3]])
    assert isinstance(st, bytes)
    assert sc.decode(st) == {"x": 3, "up": True, "arr": [1, 2, 3], "grid": [[0, 1], [2, 3]]}
    assert sc.encode(sc.decode(st)) == st
    assert sc.cell_name(7) == "grid[1][0]"


def test_schema_rejects_out_of_range_and_unknown():
    sc = _schema()
    with pytest.raises(ValueError, match="exceeds its range"):
        sc.make(x=6)
    with pytest.raises(ValueError, match="unknown state fields"):
        sc.make(nope=1)
    with pytest.raises(ValueError, match="duplicate"):
        Schema([num("a", 1), num("a", 2)])


# One expression built three ways must agree: concrete, Z3, compiled.
def _formula(x, up, arr, i):
    a = ite(up, x + 1, x)
    b = and_(not_(up), x < 3)
    c = or_(b, get(arr, i) == 2)
    d = count(v == 1 for v in arr) + sum_(arr)
    e = all_(implies(v > 0, v < 7) for v in set_(arr, i, x))
    return [a, b, c, d, e, any_([]), all_([])]


@pytest.mark.parametrize("x,up,arr,i", [(0, 0, [1, 2, 3], 0), (2, 1, [2, 0, 1], 1),
                                        (5, 0, [0, 0, 0], 2), (3, 1, [1, 1, 2], 0),
                                        (1, 0, [2, 2, 2], 2)])
def test_three_interpretations_agree(x, up, arr, i):
    concrete = _formula(x, up, arr, i)
    # Z3: variables constrained to the values
    zx, zup, zi = z3.Int("x"), z3.Bool("up"), z3.Int("i")
    zarr = [z3.Int(f"a{k}") for k in range(3)]
    terms = _formula(zx, zup, zarr, zi)
    sol = z3.Solver()
    sol.add(zx == x, zup == bool(up), zi == i, *[a == v for a, v in zip(zarr, arr)])
    assert sol.check() == z3.sat
    m = sol.model()
    for want, t in zip(concrete, terms):
        got = m.eval(t, model_completion=True) if isinstance(t, z3.ExprRef) else t
        got = z3.is_true(got) if z3.is_bool(got) else got.as_long() if isinstance(got, z3.ExprRef) else got
        assert bool(got) == bool(want) if isinstance(want, bool) else got == want
    # compiled: cells 0..5 hold x, up, i, arr
    leaves = [cell(k) for k in range(6)]
    exprs = _formula(leaves[0], leaves[1], leaves[3:6], leaves[2])
    state = bytes([x, up, i, *arr])
    for want, e in zip(concrete, exprs):
        if not isinstance(e, Expr):          # folded to a constant at build time
            assert e == want
            continue
        check = e == want if type(want) is int else (e if want else not_(e))
        fn = cc.build([cc.predicate_source("p", check)], ["p"])[0]
        assert fn(state) is True


def test_get_out_of_range_is_zero_everywhere():
    assert get([4, 5], 7) == 0
    zi = z3.Int("i")
    sol = z3.Solver()
    sol.add(zi == 7)
    sol.check()
    assert sol.model().eval(get([z3.IntVal(4), z3.IntVal(5)], zi)).as_long() == 0
    fn = cc.build([cc.predicate_source("p", get([cell(1), cell(2)], cell(0)) == 0)], ["p"])[0]
    assert fn(bytes([7, 4, 5])) is True
    # an empty array has no index inside it, symbolic or not
    assert get([], 0) == 0
    v = get([], zi)
    assert (v if isinstance(v, int) else sol.model().eval(v, model_completion=True).as_long()) == 0
    fn = cc.build([cc.predicate_source("p", get([], cell(0)) == 0)], ["p"])[0]
    assert fn(bytes([0])) is True


def test_python_truth_value_of_a_state_value_is_refused():
    e = cell(0) == 1
    with pytest.raises(TypeError, match="and_/or_/not_/ite"):
        bool(e)
    with pytest.raises(TypeError, match="not_"):
        ~cell(0)


def test_constants_fold():
    assert and_(True, True) is True and and_(True, False) is False
    assert or_(False, cell(0) == 1).op == "=="
    assert ite(True, cell(0), cell(1)).args == (0,)
    assert ite_list(False, [1, 2], [3, 4]) == [3, 4]


# A tiny spec to exercise compilation, the frame, capacity and the ghost rule.
def _tiny(ghost_read=False):
    schema = Schema([num("n", 3), num("log", 2, shape=(2,)), num("seen", 5, ghost=True)])

    @action(k=lambda c: range(2))
    def put(s, c, k):
        """Append k to the log."""
        guard = s.n < 3 if not ghost_read else and_(s.n < 3, s.seen == 0)
        return Effect(when=guard, fits=s.n < 2,
                      then={"log": set_(s.log, s.n, k + 1), "n": s.n + 1, "seen": s.seen + 1})

    @always()
    def short(s, c):
        """The log holds at most one entry."""
        return s.n <= 1

    return Spec("tiny", lambda c: schema, lambda c: {}, [put], [short])


def test_compiled_step_matches_interpreted_frame_and_capacity():
    sy = System(_tiny(), None)
    s1 = sy.step(sy.init, 1)
    assert sy.schema.decode(s1) == {"n": 1, "log": [2, 0], "seen": 1}
    assert sy.compiled[1](sy.init) == s1
    s2 = sy.step(s1, 0)
    assert sy.compiled[0](s1) == s2 == sy.schema.make(n=2, log=[2, 1], seen=2)
    assert sy.step(s2, 0) is FULL and sy.compiled[0](s2) is FULL   # n < 3 but the log is full
    assert sy.predicate("short")(s1) and not sy.predicate("short")(s2)


def test_ghost_fields_may_not_steer_the_protocol():
    sy = System(_tiny(ghost_read=True), None)
    with pytest.raises(ModelError, match="reads ghost field seen"):
        sy.compiled


def test_action_declaration_errors_are_clear():
    with pytest.raises(TypeError, match="must match the declared domains"):
        @action(k=lambda c: range(2))
        def bad(s, c, j):
            """Doc."""
    with pytest.raises(TypeError, match="docstring"):
        @action()
        def undocumented(s, c):
            pass
