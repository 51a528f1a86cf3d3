"""Compile action instances and properties to straight-line Python.

Each action instance is run once on a state of :class:`Expr` leaves; the
guard, the capacity condition and the changed cells become one function::

    def a17(s):                      # s: the state as bytes
        if not (s[3] and s[9] < 2): return None     # guard false
        if not (s[20] == 0): return FULL            # a bounded structure is full
        return s[:9] + bytes(((s[9] + 1),)) + s[10:]

Sub-expressions used more than once are bound to temporaries, so the code
is linear in the size of the expression DAG.  Unchanged runs of cells are
copied with slices.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .expr import Expr
from .ranges import Overflow

FULL = "FULL"  # sentinel: the step is enabled but a bounded structure is full

_BINARY = {"+", "-", "*", "<", "<=", ">", ">=", "==", "!="}


class Emitter:
    """Turns expression DAGs into source with shared temporaries (Python here;
    a subclass overrides the spelling hooks for another language)."""

    def __init__(self, roots: Sequence[Any]):
        self.refs: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.lines: list[str] = []
        for r in roots:
            self._count(r)

    def _count(self, node: Any) -> None:
        if not isinstance(node, Expr):
            return
        k = id(node)
        self.refs[k] = self.refs.get(k, 0) + 1
        if self.refs[k] == 1:
            for a in node.args if node.op != "cell" else ():
                self._count(a)

    def code(self, node: Any) -> str:
        """Source for ``node``; shared nodes become temporaries in ``lines``."""
        if not isinstance(node, Expr):
            return self.constant(node)
        if node.op == "cell":
            return f"s[{node.args[0]}]"
        k = id(node)
        if k in self.names:
            return self.names[k]
        text = self._text(node)
        if self.refs.get(k, 0) > 1:
            name = f"t{len(self.names)}"
            self.names[k] = name
            self.lines.append(self.bind(name, text))
            return name
        return text

    # -- spelling hooks --------------------------------------------------

    def constant(self, value: Any) -> str:
        """A Python constant (an int or a bool) as source."""
        return repr(int(value)) if isinstance(value, int) else repr(value)

    def bind(self, name: str, text: str) -> str:
        """The statement that binds a temporary."""
        return f"{name} = {text}"

    def disabled_unless(self, guard: str) -> str:
        """The statement that ends the step when its guard is false."""
        return f"if not {guard}: return None"

    def blocked_unless(self, fits: str) -> str:
        """The statement that ends the step when a capacity is full."""
        return f"if not {fits}: return FULL"

    def check_range(self, cell: int, value: str, hi: int, cell_name: str, label: str) -> str:
        """The statement that stops at a write outside ``0..hi`` (core/ranges.py)."""
        return (f"if not 0 <= {value} <= {hi}: "
                f"raise Overflow({label!r}, {cell_name!r}, {value}, {hi})")

    def _simple(self, node: Any) -> str:
        """Source that is cheap to repeat (a temporary if need be)."""
        text = self.code(node)
        if text.isidentifier() or text.lstrip("-").isdigit() or (text.startswith("s[") and text[2:-1].isdigit()):
            return text
        name = f"t{len(self.names)}"
        self.names[id(node)] = name
        self.lines.append(self.bind(name, text))
        return name

    # connectives and choice, as this language spells them
    CONNECTIVE = {"and": " and ", "or": " or "}
    NOT = "not "

    def choice(self, c: str, a: str, b: str) -> str:
        """``a`` if ``c`` else ``b``."""
        return f"({a} if {c} else {b})"

    def index_cells(self, i: str, first: int, n: int) -> str:
        """Cell ``first + i`` for ``0 <= i < n`` (a field's slots), else 0."""
        return f"(s[{first} + {i}] if 0 <= {i} < {n} else 0)"

    def index_values(self, i: str, items: Sequence[str]) -> str:
        """``items[i]`` (spelt values, at least one), else 0."""
        return f"(({', '.join(items)},)[{i}] if 0 <= {i} < {len(items)} else 0)"

    def _text(self, node: Expr) -> str:
        op, args = node.op, node.args
        if op in _BINARY:
            return f"({self.code(args[0])} {op} {self.code(args[1])})"
        if op in ("and", "or"):
            return "(" + self.CONNECTIVE[op].join(self.code(a) for a in args) + ")"
        if op == "not":
            return f"({self.NOT}{self.code(args[0])})"
        if op == "ite":
            return self.choice(*(self.code(x) for x in args))
        if op == "sum":
            return "(" + " + ".join(self.code(a) for a in args) + ")"
        if op == "get":
            i, arr = self._simple(args[0]), args[1:]
            if not arr:   # every index is outside an empty array: 0, in every language
                return "0"
            first = run_start(arr)
            if first is not None:
                return self.index_cells(i, first, len(arr))
            return self.index_values(i, [self.code(a) for a in arr])
        raise self.unknown(op)

    def unknown(self, op: str) -> Exception:
        """The error for an expression node this emitter cannot spell."""
        return ValueError(f"unknown expression node {op!r}")


def run_start(arr: Sequence[Any]) -> int | None:
    """The first cell when ``arr`` is a non-empty run of consecutive cells (a field's
    slots, which an index can address directly), else None."""
    if not arr or not all(isinstance(a, Expr) and a.op == "cell" for a in arr):
        return None
    first = arr[0].args[0]
    return first if all(a.args[0] == first + j for j, a in enumerate(arr)) else None


def action_source(name: str, guard: Any, fits: Any, post: Sequence[Any],
                  checks: Sequence[tuple[int, int, str]] = (), label: str = "") -> str:
    """Python source of one compiled action instance named ``name``.

    ``checks`` lists ``(cell, hi, cell name)`` for the written cells whose
    value may leave ``0..hi`` (core/ranges.py): such a write raises
    :class:`~deliverycheck.core.ranges.Overflow` naming ``label`` and the cell.
    """
    width = len(post)
    body, exprs = step_prologue(Emitter, guard, fits, post, checks, label)
    parts: list[str] = []
    i = 0
    while i < width:
        j = i
        if i in exprs:
            while j < width and j in exprs:
                j += 1
            parts.append("bytes((" + "".join(exprs[k] + ", " for k in range(i, j)) + "))")
        else:
            while j < width and j not in exprs:
                j += 1
            parts.append("s" if (i, j) == (0, width) else f"s[{i}:{j}]")
        i = j
    body.append("return " + " + ".join(parts))
    return f"def {name}(s):\n" + "".join(f"    {line}\n" for line in body)


def step_prologue(emitter: type[Emitter], guard: Any, fits: Any, post: Sequence[Any],
                  checks: Sequence[tuple[int, int, str]], label: str) -> tuple[list[str], dict[int, str]]:
    """What every back end's step does before it writes the successor.

    The statements that end the step when the guard is false or a capacity
    is full, then those that compute the changed cells and stop at a write
    outside its range, in this order; and each changed cell's value (an
    expression or a temporary).  ``emitter`` spells them.
    """
    changed = [i for i, e in enumerate(post)
               if not (isinstance(e, Expr) and e.op == "cell" and e.args[0] == i)]
    em = emitter([guard, fits] + [post[i] for i in changed])
    body: list[str] = []

    def flush():
        body.extend(em.lines)
        em.lines.clear()

    if guard is not True:
        g = em.code(guard)
        flush()
        body.append(em.disabled_unless(g))
    if fits is not True:
        f = em.code(fits)
        flush()
        body.append(em.blocked_unless(f))
    exprs = {i: em.code(post[i]) for i in changed}
    for i, hi, cell_name in checks:
        if not exprs[i].isidentifier():  # bind it once: it is both checked and stored
            em.lines.append(em.bind(f"v{i}", exprs[i]))
            exprs[i] = f"v{i}"
        em.lines.append(em.check_range(i, exprs[i], hi, cell_name, label))
    flush()
    return body, exprs


def predicate_source(name: str, value: Any) -> str:
    """Python source of a compiled state predicate named ``name``."""
    em = Emitter([value])
    text = em.code(value)
    body = em.lines + [f"return bool({text})"]
    return f"def {name}(s):\n" + "".join(f"    {line}\n" for line in body)


def build(sources: Sequence[str], names: Sequence[str]) -> list[Callable]:
    """Execute the generated sources and return the named functions."""
    namespace: dict[str, Any] = {"FULL": FULL, "Overflow": Overflow}
    # in chunks: Python's compiler holds the whole syntax tree of what it
    # compiles, and one module of thousands of functions peaked at 0.5 GB
    for i in range(0, len(sources), CHUNK):
        exec(compile("\n".join(sources[i:i + CHUNK]), "<deliverycheck-compiled>", "exec"), namespace)
    return [namespace[n] for n in names]


CHUNK = 64  # functions compiled at a time
