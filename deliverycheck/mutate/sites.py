"""The mutants of a model: one small change each to its compiled form, named by the source.

The model is lowered once per configuration with node origins recorded
(:mod:`deliverycheck.core.origin`); each node of a guard or an update that
the model's own code built (not a helper's inside: ``count``'s
``ite(x, 1, 0)``) offers the changes of its kind:

* ``drop-conjunct`` / ``drop-disjunct``: leave one argument out of an
  ``and_`` / ``or_`` (a guard's condition dropped, an alternative dropped);
* ``comparison``: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``;
* ``constant``: an integer operand (a literal, or a parameter, which is a
  constant in each instance) shifted by +1 or -1;
* ``swap-branches``: ``ite(c, a, b)`` becomes ``ite(c, b, a)``;
* ``condition-true`` / ``condition-false``: ``ite``'s condition replaced;
* ``drop-update``: an action no longer writes one field of ``Effect.then``.

A mutant is a *source* change: it applies to every node built by the same
expression (every instance of the action, every action reaching a shared
helper), which is what editing that line would do.  Its key (file, span,
kind, detail) names it across configurations, so a mode's mutants are the
union over the searches verify runs for the mode.
"""

from __future__ import annotations

import inspect
import linecache
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from deliverycheck.core.expr import Expr
from deliverycheck.core.origin import Origin, origin_of, tracking
from deliverycheck.core.system import Lowered, System

COMPARISONS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
ARITHMETIC = ("+", "-", "*")
# the core functions whose node is the model's own expression (and the nodes they build)
DIRECT = {"and": ("and_", "all_"), "or": ("or_", "any_"), "ite": ("ite", "ite_list")}
KINDS = ("drop-conjunct", "drop-disjunct", "comparison", "constant", "swap-branches",
         "condition-true", "condition-false", "drop-update")


@dataclass(frozen=True, order=True)
class Key:
    """What identifies a mutant in every configuration: where, which kind, which change."""

    file: str          # relative to the specification's folder: model/producer.py
    line: int
    col: int
    end_line: int
    end_col: int
    kind: str
    detail: tuple = ()


@dataclass
class Mutant:
    """One mutant of a mode: its key, what it changes, and where it occurs per search."""

    id: int
    key: Key
    text: str                      # the source it changes (the span's text)
    change: str                    # what becomes of it, in one line
    actions: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """``model/producer.py:84``."""
        return f"{self.key.file}:{self.key.line}"

    @property
    def name(self) -> str:
        """``M17 model/producer.py:84 comparison``."""
        return f"M{self.id} {self.where} {self.key.kind}"


@dataclass
class Occurrence:
    """Where a mutant's key occurs in one configuration: per instance, the nodes it changes."""

    nodes: dict[int, list[Any]] = field(default_factory=dict)   # instance -> nodes (or field cells)


@lru_cache(maxsize=None)
def _relative(file: str, root: Path) -> str | None:
    """``model/producer.py`` for a file of the specification's model folder ``root``, else None."""
    try:
        return Path(file).resolve().relative_to(root.parent).as_posix()
    except ValueError:
        return None


def span_text(file: str, o: Origin) -> str:
    """The source text of a span, on one line (blanks collapsed)."""
    lines = [linecache.getline(file, n) for n in range(o.line, o.end_line + 1)]
    if not lines or not lines[0]:
        return ""
    if len(lines) == 1:
        text = lines[0][o.col:o.end_col]
    else:
        text = lines[0][o.col:] + "".join(lines[1:-1]) + lines[-1][:o.end_col]
    return " ".join(text.split())


def describe_arg(node: Any, system: System) -> tuple[tuple, str]:
    """An argument of ``and_``/``or_``: its identity across instances, and its text."""
    if isinstance(node, Expr) and node.op == "cell":
        name = system.schema.cells[node.args[0]][0].name
        return ("cell", name), f"s.{name}"
    o = origin_of(node)
    if o is None:
        return ("op", getattr(node, "op", repr(node))), repr(node)
    return ("span", o.line, o.col, o.end_line, o.end_col), span_text(o.file, o)


class Finder:
    """Collects the mutants of configurations, one :class:`System` at a time."""

    def __init__(self, model_dir: Path):
        self.root = model_dir.resolve()
        self.texts: dict[Key, tuple[str, str]] = {}
        self.actions: dict[Key, set[str]] = {}

    def lower_all(self, system: System) -> list[Lowered | None]:
        """Every instance of ``system`` lowered with origins (None: off in this configuration)."""
        out: list[Lowered | None] = []
        with tracking():
            for j in range(len(system.instances)):
                low = system.lower(j)
                out.append(None if low.off else low)
        return out

    def find(self, system: System, lowered: Sequence[Lowered | None]) -> dict[Key, Occurrence]:
        """The mutants of ``system``: per key, the nodes it changes in each instance."""
        found: dict[Key, Occurrence] = {}
        for j, low in enumerate(lowered):
            if low is None:
                continue
            action = system.instances[j].name
            for key, node in self._node_sites(system, low):
                found.setdefault(key, Occurrence()).nodes.setdefault(j, []).append(node)
                self.actions.setdefault(key, set()).add(action)
            for key, cells in self._update_sites(system, j, low):
                found.setdefault(key, Occurrence()).nodes.setdefault(j, []).extend(cells)
                self.actions.setdefault(key, set()).add(action)
        return found

    # -- the node mutants ---------------------------------------------------

    def _node_sites(self, system: System, low: Lowered) -> Iterator[tuple[Key, Any]]:
        seen: set[int] = set()
        stack = [r for r in [low.guard] + list(low.post) if isinstance(r, Expr)]
        while stack:
            n = stack.pop()
            if id(n) in seen or n.op == "cell":
                continue
            seen.add(id(n))
            stack.extend(a for a in n.args if isinstance(a, Expr))
            o = origin_of(n)
            if o is None:
                continue
            rel = _relative(o.file, self.root)
            if rel is None:
                continue
            for kind, detail, change in self._changes(system, n, o):
                key = Key(rel, o.line, o.col, o.end_line, o.end_col, kind, detail)
                if key not in self.texts:
                    self.texts[key] = (span_text(o.file, o), change)
                yield key, n

    def _changes(self, system: System, n: Expr, o: Origin) -> Iterator[tuple[str, tuple, str]]:
        op, args, dunder = n.op, n.args, o.entry.startswith("__")
        if op in COMPARISONS and dunder:
            yield "comparison", (COMPARISONS[op],), f"`{op}` becomes `{COMPARISONS[op]}`"
        if (op in COMPARISONS or op in ARITHMETIC) and dunder or op == "ite" and o.entry in DIRECT["ite"]:
            for pos, a in enumerate(args):
                if type(a) is int and not (op == "ite" and pos == 0):
                    for delta in (1, -1):
                        yield ("constant", (pos, delta),
                               f"operand {pos + 1} ({a} here) {'+' if delta > 0 else '-'} 1")
        if op in ("and", "or") and o.entry in DIRECT[op]:
            kind = "drop-conjunct" if op == "and" else "drop-disjunct"
            done = set()
            for a in args:
                ident, text = describe_arg(a, system)
                if ident not in done:
                    done.add(ident)
                    yield kind, ident, f"without `{text}`"
        if op == "ite" and o.entry in DIRECT["ite"]:
            yield "swap-branches", (), "its two branches swapped"
            yield "condition-true", (), "its condition replaced by true"
            yield "condition-false", (), "its condition replaced by false"

    # -- the update mutants ---------------------------------------------------

    def _update_sites(self, system: System, j: int, low: Lowered) -> Iterator[tuple[Key, list[int]]]:
        by_field: dict[str, list[int]] = {}
        for i, e in enumerate(low.post):
            if not (isinstance(e, Expr) and e.op == "cell" and e.args[0] == i):
                by_field.setdefault(system.schema.cells[i][0].name, []).append(i)
        fn = system.instances[j].action.fn
        file = inspect.getsourcefile(fn) or ""
        rel = _relative(file, self.root)
        if rel is None:
            return
        for name, cells in by_field.items():
            line, text = _update_line(fn, name)
            key = Key(rel, line, 0, line, 0, "drop-update", (system.instances[j].name, name))
            if key not in self.texts:
                self.texts[key] = (text, f"{system.instances[j].name} no longer writes `{name}`")
            yield key, cells


@lru_cache(maxsize=None)
def _update_line(fn: Any, name: str) -> tuple[int, str]:
    """The line of ``fn`` that names field ``name`` in its update (else its ``def`` line)."""
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return 0, name
    for k, text in enumerate(lines):
        if f'"{name}"' in text or f"'{name}'" in text:
            return first + k, " ".join(text.split())
    return first, f"(the update of {name}, built by a helper)"
