"""Applying mutants to the compiled form: one at a time, or all of them behind switches.

:func:`rewrite` changes an instance's expression DAGs (guard, capacity
condition, successor cells) at the nodes a mutant names
(:mod:`deliverycheck.mutate.sites`).  *Concrete*, with one mutant, it gives
that mutant's model: :class:`MutantSystem` runs it like the model itself,
so a mutant's counterexample is rebuilt and told as any other.  With
*switches*, every mutant of a configuration is compiled into one native
module (the "mutant schema" technique): a changed node ``n`` becomes
``ite(mutant == k, n', n)``, and the search picks ``k`` at run time
(``dc_set_mutant``).  One C build serves all of a configuration's mutants;
with switch 0 the module is the model as written.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from deliverycheck.core import compile as cc
from deliverycheck.core.expr import Expr, cell
from deliverycheck.core.ranges import may_leave
from deliverycheck.core.system import Lowered, System

from .sites import Key, describe_arg

DROPS = ("drop-conjunct", "drop-disjunct")

# what the switches need in the generated C (native/emit.py puts it before the actions)
C_PRELUDE = (
    "#define DC_MUTANTS 1\n"
    "static int dc_mut_run;            /* the mutant this search runs; 0: the model as written */\n"
    "static __thread int dc_orig;      /* 1 while a step is run as the model has it */\n"
    "#define DC_M(k) (dc_mut_run == (k) && !dc_orig)\n\n")

Changes = dict[int, list[tuple[int | None, Key]]]   # id(node) -> (switch or None, key)


def rewrite(system: System, low: Lowered, at_node: Changes, at_cell: dict[int, list[int | None]]) -> Lowered:
    """``low`` with the changes applied (switch None: applied outright, one mutant only).

    ``at_cell`` lists, per successor cell, the mutants that drop its update.
    The dispatch key stays the model's: a mutant that makes it unsound is
    tried on every state instead (:func:`key_touched`).
    """
    memo: dict[int, Any] = {}

    def walk(n: Any) -> Any:
        if not isinstance(n, Expr) or n.op == "cell":
            return n
        k = id(n)
        if k in memo:
            return memo[k]
        changes = at_node.get(k, ())
        args = [walk(a) for a in n.args]
        drops = [(m, key) for m, key in changes if key.kind in DROPS]
        if drops:
            unit = n.op == "and"   # a dropped conjunct is true, a dropped disjunct false
            kept = []
            for orig, a in zip(n.args, args):
                ident = describe_arg(orig, system)[0]
                hit = [m for m, key in drops if key.detail == ident]
                if hit and hit[0] is None:
                    continue
                for m in hit:
                    a = Expr("ite", Expr("mutant", m), unit, a)
                kept.append(a)
            args = kept
        if not args and n.op in ("and", "or"):
            out: Any = n.op == "and"
        elif n.op in ("and", "or") and len(args) == 1:
            out = args[0]
        elif all(a is b for a, b in zip(args, n.args)) and len(args) == len(n.args):
            out = n
        else:
            out = Expr(n.op, *args)
        for m, key in changes:
            if key.kind in DROPS:
                continue
            alt = alternative(n.op, args, key)
            out = alt if m is None else Expr("ite", Expr("mutant", m), alt, out)
        memo[k] = out
        return out

    guard, fits = walk(low.guard), walk(low.fits)
    post = [walk(e) for e in low.post]
    for i, ms in at_cell.items():
        for m in ms:
            post[i] = cell(i) if m is None else Expr("ite", Expr("mutant", m), cell(i), post[i])
    hi = system.schema.hi
    checks = [(i, hi[i], system.schema.cell_name(i)) for i in may_leave(post, hi, (guard, fits))]
    spends = any(not (isinstance(post[i], Expr) and post[i].op == "cell" and post[i].args[0] == i)
                 for i in system.fault_cells)
    return Lowered(guard, fits, post, checks, low.key, low.off or guard is False, spends)


def alternative(op: str, args: Sequence[Any], key: Key) -> Any:
    """The node ``op(*args)`` changed as ``key`` says (not a drop: see :func:`rewrite`)."""
    if key.kind == "comparison":
        return Expr(key.detail[0], *args)
    if key.kind == "constant":
        pos, delta = key.detail
        changed = list(args)
        changed[pos] = changed[pos] + delta
        return Expr(op, *changed)
    if key.kind == "swap-branches":
        return Expr("ite", args[0], args[2], args[1])
    if key.kind == "condition-true":
        return args[1]
    if key.kind == "condition-false":
        return args[2]
    raise ValueError(f"unknown mutation {key.kind!r}")


def key_path(guard: Any) -> list[Any]:
    """The nodes from the guard down to the conjunct its dispatch key comes from
    (the search of :func:`deliverycheck.core.system._key_conjunct`); [] without a key."""
    todo: list[tuple[Any, list[Any]]] = [(guard, [])]
    while todo:
        e, path = todo.pop(0)
        if not isinstance(e, Expr):
            continue
        if e.op == "and":
            todo.extend((a, path + [e]) for a in e.args)
        elif e.op == "==":
            a, b = e.args
            if isinstance(b, Expr) and not isinstance(a, Expr):
                a, b = b, a
            if isinstance(a, Expr) and a.op == "cell" and isinstance(b, int) and 0 <= int(b) < 256:
                return path + [e]
    return []


def key_touched(system: System, path: Sequence[Any], key: Key, nodes: Sequence[Any]) -> bool:
    """Whether the mutant ``key``, changing ``nodes`` of an instance, makes its dispatch key
    unsound: it changes the key's conjunct or drops a conjunct on the way to it."""
    if not path or key.kind == "drop-update":
        return False
    on_path = {id(n): i for i, n in enumerate(path)}
    for n in nodes:
        i = on_path.get(id(n))
        if i is None:
            continue
        if key.kind not in DROPS or i == len(path) - 1:
            return True
        if describe_arg(path[i + 1], system)[0] == key.detail:
            return True
    return False


class SwitchedSystem(System):
    """A configuration with every mutant compiled in behind a switch (native search only)."""

    c_prelude = C_PRELUDE
    optimize = True   # built with the full optimisation flags: it runs a search per mutant

    def __init__(self, base: System, lowered: Sequence[Lowered | None], at_node: Changes,
                 at_cell: dict[int, dict[int, list[int]]]):
        super().__init__(base.spec, base.cfg)
        self._lowered, self._at_node, self._at_cell = lowered, at_node, at_cell

    def lower(self, j: int) -> Lowered:
        low = self._lowered[j]
        if low is None:
            return super().lower(j)
        return rewrite(self, low, self._at_node, self._at_cell.get(j, {}))


class MutantSystem(System):
    """One mutant's model: the configuration with one change applied outright.

    Its steps are the changed compiled functions (built per instance when
    first used), in place of the interpreted model, which knows nothing of
    the change; traces and stories of the mutant are made from them.
    """

    def __init__(self, base: System, lowered: Sequence[Lowered | None], key: Key,
                 nodes: dict[int, list[Any]]):
        super().__init__(base.spec, base.cfg)
        self._lowered, self._key, self._nodes = lowered, key, nodes
        self._fns: dict[int, Callable] = {}

    def lower(self, j: int) -> Lowered:
        low = self._lowered[j]
        if low is None or j not in self._nodes:
            return low if low is not None else super().lower(j)
        if self._key.kind == "drop-update":
            return rewrite(self, low, {}, {i: [None] for i in self._nodes[j]})
        return rewrite(self, low, {id(n): [(None, self._key)] for n in self._nodes[j]}, {})

    def function(self, j: int) -> Callable:
        """The compiled step of instance ``j`` in this mutant."""
        if j not in self._fns:
            low = self.lower(j)
            src = cc.action_source("m", low.guard, low.fits, low.post, low.checks,
                                   self.instances[j].label())
            self._fns[j] = cc.build([src], ["m"])[0]
        return self._fns[j]

    @property
    def compiled(self) -> "_Lazy":
        return _Lazy(self)

    def step(self, state: bytes, j: int) -> bytes | str | None:
        return self.function(j)(state)

    def terminal(self, state: bytes) -> bool:
        return all(self.step(state, j) is None for j in range(len(self.instances))
                   if self._lowered[j] is not None)


class _Lazy:
    """``MutantSystem.compiled``: instance functions built on first use."""

    def __init__(self, system: MutantSystem):
        self.system = system

    def __getitem__(self, j: int) -> Callable:
        return self.system.function(j)

    def __len__(self) -> int:
        return len(self.system.instances)


__all__ = ["C_PRELUDE", "MutantSystem", "SwitchedSystem", "key_path", "key_touched", "rewrite"]
