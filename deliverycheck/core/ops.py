"""The operations object: one vocabulary, three interpretations.

Protocol actions and properties never use Python's ``and``/``or``/``not``/
``if`` on *state* values, because state values may be symbolic.  They call
the functions of this module instead::

    when = and_(s.up, s.handed == r)
    then = {"next_seq": ite(c.mode.idempotence, s.next_seq + 1, s.next_seq)}

Each function picks its implementation from its arguments:

* ``ConcreteOps`` - plain Python values (the interpreter used for replay);
* ``Z3Ops``       - Z3 terms (the SMT engine and the step-agreement test);
* ``CodeOps``     - :class:`~deliverycheck.core.expr.Expr` nodes, from which
  :mod:`deliverycheck.core.compile` generates straight-line Python for the
  explorer.

Action *parameters* and configuration knobs are plain Python values and may
use ordinary ``if``; mixing them in is fine (constants fold away).

Semantics shared by all three: booleans and 0/1 are interchangeable in
concrete states; :func:`get` at an index outside the array yields 0/False.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import z3

from .expr import Expr, code_ops


def _pick(args: Iterable[Any]):
    """The interpretation that the arguments belong to."""
    for a in args:
        if isinstance(a, Expr):
            return code_ops
        if isinstance(a, z3.ExprRef):
            return Z3_OPS
    return CONCRETE_OPS


class ConcreteOps:
    """Plain Python semantics (booleans may arrive as 0/1)."""

    @staticmethod
    def and_(xs):
        return all(xs)

    @staticmethod
    def or_(xs):
        return any(xs)

    @staticmethod
    def not_(x):
        return not x

    @staticmethod
    def ite(c, a, b):
        return a if c else b

    @staticmethod
    def get(arr, i):
        return arr[i] if 0 <= i < len(arr) else 0

    @staticmethod
    def count(xs):
        return sum(1 for x in xs if x)

    @staticmethod
    def sum_(xs):
        return sum(xs)


class Z3Ops:
    """Z3 terms; Python constants mixed in are folded first."""

    @staticmethod
    def and_(xs):
        rest = []
        for x in xs:
            if isinstance(x, z3.ExprRef):
                rest.append(x)
            elif not x:
                return False
        return True if not rest else rest[0] if len(rest) == 1 else z3.And(*rest)

    @staticmethod
    def or_(xs):
        rest = []
        for x in xs:
            if isinstance(x, z3.ExprRef):
                rest.append(x)
            elif x:
                return True
        return False if not rest else rest[0] if len(rest) == 1 else z3.Or(*rest)

    @staticmethod
    def not_(x):
        return z3.Not(x) if isinstance(x, z3.ExprRef) else (not x)

    @staticmethod
    def ite(c, a, b):
        if not isinstance(c, z3.ExprRef):
            return a if c else b
        a, b = _z3_same_sort(a, b)
        return z3.If(c, a, b)

    @staticmethod
    def get(arr, i):
        if not isinstance(i, z3.ExprRef):
            return arr[i] if 0 <= i < len(arr) else 0
        # the default (out of range) takes the elements' sort: a row of flags, symbolic or not,
        # reads False
        out = False if any(z3.is_bool(a) if isinstance(a, z3.ExprRef) else isinstance(a, bool)
                           for a in arr) else 0
        for k in reversed(range(len(arr))):
            out = Z3Ops.ite(i == k, arr[k], out)
        return out

    @staticmethod
    def count(xs):
        return Z3Ops.sum_(Z3Ops.ite(x, 1, 0) for x in xs)

    @staticmethod
    def sum_(xs):
        xs = list(xs)
        const = sum(x for x in xs if not isinstance(x, z3.ExprRef))
        terms = [x for x in xs if isinstance(x, z3.ExprRef)]
        if not terms:
            return const
        total = terms[0] if len(terms) == 1 else z3.Sum(*terms)
        return total + const if const else total


def _z3_same_sort(a, b):
    """Coerce a Python bool/int beside a Z3 term to that term's sort."""
    for x, y in ((a, b), (b, a)):
        if isinstance(x, z3.ExprRef) and not isinstance(y, z3.ExprRef):
            conv = z3.BoolVal(bool(y)) if z3.is_bool(x) else z3.IntVal(int(y))
            return (x, conv) if x is a else (conv, x)
    return a, b


CONCRETE_OPS = ConcreteOps()
Z3_OPS = Z3Ops()


# -- the vocabulary used by model/ and properties/ ---------------------------

def and_(*xs: Any) -> Any:
    """Conjunction of the arguments (True when there are none)."""
    return _pick(xs).and_(xs)


def or_(*xs: Any) -> Any:
    """Disjunction of the arguments (False when there are none)."""
    return _pick(xs).or_(xs)


def all_(xs: Iterable[Any]) -> Any:
    """Conjunction of an iterable."""
    xs = list(xs)
    return _pick(xs).and_(xs)


def any_(xs: Iterable[Any]) -> Any:
    """Disjunction of an iterable."""
    xs = list(xs)
    return _pick(xs).or_(xs)


def not_(x: Any) -> Any:
    """Negation (never Python's ``~``, which turns True into -2)."""
    return _pick((x,)).not_(x)


def implies(a: Any, b: Any) -> Any:
    """``a`` implies ``b``."""
    return or_(not_(a), b)


def ite(c: Any, a: Any, b: Any) -> Any:
    """``a`` if ``c`` else ``b``."""
    return _pick((c, a, b)).ite(c, a, b)


def get(arr: Sequence[Any], i: Any) -> Any:
    """``arr[i]`` for a possibly symbolic index; 0/False out of range."""
    return _pick((i, *arr)).get(list(arr), i)


def ite_list(c: Any, a: Sequence[Any], b: Sequence[Any]) -> list[Any]:
    """Element-wise ``ite`` over two (possibly nested) lists of one shape."""
    return [ite_list(c, x, y) if isinstance(x, list) else ite(c, x, y) for x, y in zip(a, b)]


def set_(arr: Sequence[Any], i: Any, v: Any) -> list[Any]:
    """A copy of ``arr`` with element ``i`` (possibly symbolic) set to ``v``.

    Out of range, nothing changes (in every interpretation); a capacity
    condition in ``Effect.fits`` should make that case unreachable.
    """
    if isinstance(i, int):
        out = list(arr)
        if 0 <= i < len(out):
            out[i] = v
        return out
    return [ite(i == k, v, a) for k, a in enumerate(arr)]


def count(xs: Iterable[Any]) -> Any:
    """How many of the conditions hold."""
    xs = list(xs)
    return _pick(xs).count(xs)


def sum_(xs: Iterable[Any]) -> Any:
    """Sum of integer values."""
    xs = list(xs)
    return _pick(xs).sum_(xs)
