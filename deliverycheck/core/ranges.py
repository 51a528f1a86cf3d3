"""Out-of-range writes: which updates may leave their field's range, and the error when one does.

Every state cell has a range ``0..hi`` (its field's).  An action that
writes a value outside it - ``session + 1`` when ``session`` is already at
its top - is a bug in the model (a capacity condition, ``Effect.fits``, is
missing, or the field's range is too small for the bounds), not a step the
checker may silently leave out.  Every interpretation treats it the same:
the interpreted and compiled concrete steps raise :class:`Overflow` (a
model error: one line, exit 2), bounded model checking raises it for the
first reachable one, and k-induction reports a step from an invariant
state that would write out of range as a counterexample to induction of
its own kind (``overflow at ...``).

:func:`may_leave` decides, by interval arithmetic over the compiled
expression, which written cells need a check at all: most writes are
constants, copies or comparisons, and checking only the rest keeps the
explorer's generated code as short as before.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ModelError
from .expr import Expr


class Overflow(ModelError):
    """An action instance writes a value outside a cell's range."""

    def __init__(self, action: str, cell: str, value: int, hi: int):
        super().__init__(
            f"{action} writes {cell} = {value}, outside its range 0..{hi}: the model lacks a "
            f"capacity condition (Effect.fits) for it, or the field's range is too small "
            f"for these bounds")
        self.action, self.cell, self.value, self.hi = action, cell, value, hi


def interval(e: Any, hi: Sequence[int], memo: dict[int, tuple[int, int]],
             known: dict[int, tuple[int, int]] | None = None) -> tuple[int, int]:
    """Lowest and highest value ``e`` can take when every cell ``i`` is in ``0..hi[i]``
    (narrowed to ``known[i]`` where the guard says more)."""
    if not isinstance(e, Expr):
        v = int(e)
        return v, v
    k = id(e)
    if k in memo:
        return memo[k]
    op, args = e.op, e.args
    if op == "cell":
        out = (known or {}).get(args[0], (0, hi[args[0]]))
    elif op in ("<", "<=", ">", ">=", "==", "!=", "and", "or", "not", "mutant"):
        out = (0, 1)
    elif op in ("+", "sum"):
        parts = [interval(a, hi, memo, known) for a in args]
        out = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    elif op == "-":
        (a0, a1), (b0, b1) = interval(args[0], hi, memo, known), interval(args[1], hi, memo, known)
        out = (a0 - b1, a1 - b0)
    elif op == "*":
        (a0, a1), (b0, b1) = interval(args[0], hi, memo, known), interval(args[1], hi, memo, known)
        corners = [a0 * b0, a0 * b1, a1 * b0, a1 * b1]
        out = (min(corners), max(corners))
    elif op == "ite":
        (a0, a1), (b0, b1) = interval(args[1], hi, memo, known), interval(args[2], hi, memo, known)
        out = (min(a0, b0), max(a1, b1))
    elif op == "get":
        # an index out of the array reads 0 (compile.py)
        parts = [interval(a, hi, memo, known) for a in args[1:]] + [(0, 0)]
        out = (min(p[0] for p in parts), max(p[1] for p in parts))
    else:
        raise ValueError(f"unknown expression node {op!r}")
    memo[k] = out
    return out


def guard_facts(conditions: Sequence[Any], hi: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Cell ranges the top-level conjuncts ``cell < c``, ``cell <= c``, ``cell == c``, ``cell > c``,
    ``cell >= c`` of ``conditions`` (the guard and the capacity condition) imply."""
    known: dict[int, tuple[int, int]] = {}
    todo = list(conditions)
    while todo:
        e = todo.pop()
        if not isinstance(e, Expr):
            continue
        if e.op == "and":
            todo.extend(e.args)
            continue
        if e.op not in ("<", "<=", "==", ">", ">=") or len(e.args) != 2:
            continue
        a, b = e.args
        op = e.op
        if not isinstance(a, Expr) and isinstance(b, Expr):  # c < cell  ->  cell > c
            a, b, op = b, a, {"<": ">", "<=": ">=", "==": "==", ">": "<", ">=": "<="}[op]
        if not (isinstance(a, Expr) and a.op == "cell") or isinstance(b, Expr):
            continue
        i, c = a.args[0], int(b)
        lo, up = known.get(i, (0, hi[i]))
        if op == "<":
            up = min(up, c - 1)
        elif op == "<=":
            up = min(up, c)
        elif op == ">":
            lo = max(lo, c + 1)
        elif op == ">=":
            lo = max(lo, c)
        else:
            lo, up = max(lo, c), min(up, c)
        known[i] = (lo, up)
    return known


def may_leave(post: Sequence[Any], hi: Sequence[int], conditions: Sequence[Any] = ()) -> list[int]:
    """The cells of a successor whose value may fall outside ``0..hi`` (by interval arithmetic).

    ``conditions`` (the guard and the capacity condition, which hold whenever
    the successor is written) narrow the cells they bound, so that
    ``faults + 1`` under ``faults < budget`` needs no check.
    """
    memo: dict[int, tuple[int, int]] = {}
    known = guard_facts(conditions, hi)
    out = []
    for i, e in enumerate(post):
        if isinstance(e, Expr) and e.op == "cell" and e.args[0] == i:
            continue  # unchanged
        lo, up = interval(e, hi, memo, known)
        if lo < 0 or up > hi[i]:
            out.append(i)
    return out
