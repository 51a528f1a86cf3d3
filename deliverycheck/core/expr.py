"""Expression nodes: the third interpretation of the model, used to compile it.

Running an action on a state whose cells are :class:`Expr` leaves (``s[i]``)
records what the action computes as a small expression DAG.  The compiler
(:mod:`deliverycheck.core.compile`) turns that DAG into straight-line Python
over a ``bytes`` state.  So the explorer runs the very function the Z3
engine reads, at close to hand-written speed.

An ``Expr`` refuses ``bool()``: a model that writes ``if s.up:`` or
``a and b`` on a state value fails at compile time with a message that
names the operation to use instead, rather than silently picking a branch.
"""

from __future__ import annotations

from typing import Any

_MISUSE = (
    "a state value was used as a Python truth value (if/and/or/not, or a "
    "chained comparison); use and_/or_/not_/ite from deliverycheck.core.ops"
)


# While mutation testing lowers the model, a function that says where a node is built
# (core/origin.py: tracking); None otherwise, so compiling pays nothing for it.
TRACK = None


class Expr:
    """A node: ``op`` with ``args`` (child nodes or Python constants)."""

    __slots__ = ("op", "args", "origin")

    def __init__(self, op: str, *args: Any):
        self.op = op
        self.args = args
        if TRACK is not None:
            self.origin = TRACK()

    def __bool__(self):
        raise TypeError(_MISUSE)

    __hash__ = object.__hash__  # identity: __eq__ builds a node, not a bool

    def __repr__(self):
        return f"Expr({self.op}, {self.args!r})"

    # arithmetic and comparisons build nodes
    def _bin(self, op, other, swap=False):
        if not isinstance(other, (Expr, int)):
            return NotImplemented
        return Expr(op, other, self) if swap else Expr(op, self, other)

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __lt__(self, o): return self._bin("<", o)
    def __le__(self, o): return self._bin("<=", o)
    def __gt__(self, o): return self._bin(">", o)
    def __ge__(self, o): return self._bin(">=", o)
    def __eq__(self, o): return self._bin("==", o)  # type: ignore[override]
    def __ne__(self, o): return self._bin("!=", o)  # type: ignore[override]
    def __neg__(self): return Expr("-", 0, self)

    def __invert__(self):
        raise TypeError("~ on a state value: use not_ (Python's ~True is -2)")

    __and__ = __or__ = __rand__ = __ror__ = __invert__


def cell(i: int) -> Expr:
    """The leaf for flat state cell ``i``."""
    return Expr("cell", i)


class CodeOps:
    """Builds Expr nodes, folding Python constants as it goes."""

    @staticmethod
    def and_(xs):
        rest = []
        for x in xs:
            if isinstance(x, Expr):
                rest.append(x)
            elif not x:
                return False
        return True if not rest else rest[0] if len(rest) == 1 else Expr("and", *rest)

    @staticmethod
    def or_(xs):
        rest = []
        for x in xs:
            if isinstance(x, Expr):
                rest.append(x)
            elif x:
                return True
        return False if not rest else rest[0] if len(rest) == 1 else Expr("or", *rest)

    @staticmethod
    def not_(x):
        return Expr("not", x) if isinstance(x, Expr) else (not x)

    @staticmethod
    def ite(c, a, b):
        if not isinstance(c, Expr):
            return a if c else b
        if a is b:
            return a
        return Expr("ite", c, a, b)

    @staticmethod
    def get(arr, i):
        if not isinstance(i, Expr):
            return arr[i] if 0 <= i < len(arr) else 0
        return Expr("get", i, *arr)

    @staticmethod
    def count(xs):
        return CodeOps.sum_(CodeOps.ite(x, 1, 0) for x in xs)

    @staticmethod
    def sum_(xs):
        xs = list(xs)
        const = sum(x for x in xs if not isinstance(x, Expr))
        terms = [x for x in xs if isinstance(x, Expr)]
        if not terms:
            return const
        if const:
            terms.append(const)
        return terms[0] if len(terms) == 1 else Expr("sum", *terms)


code_ops = CodeOps()
