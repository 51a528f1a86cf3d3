"""A specification instantiated for one configuration, in every interpretation.

:class:`System` is the one front door the engines use: the schema and the
initial state, the list of action instances, and for each instance

* ``step(state, j)``      - the interpreted concrete step (``ConcreteOps``);
* ``compiled[j](state)``  - the compiled concrete step (generated Python);
* ``z3_step(j, cells)``   - the symbolic step (``Z3Ops``).

All three run the same action function.  Compilation also checks, once per
instance, that no guard and no protocol field reads a ghost field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import z3

from . import compile as cc
from .expr import Expr, cell
from .ranges import Overflow, may_leave
from .schema import Schema
from .spec import Action, Property, Spec, View, apply
from ..errors import MODEL_BUGS, ModelError

FULL = cc.FULL


@dataclass(frozen=True)
class Instance:
    """One action with its parameters fixed."""

    action: Action
    params: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def args(self) -> dict[str, int]:
        return dict(zip(self.action.param_names, self.params))

    def label(self) -> str:
        """``name(p=0, i=1)``, as shown in traces and coverage."""
        inner = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.name}({inner})"


class System:
    """``spec`` under configuration ``cfg``."""

    def __init__(self, spec: Spec, cfg: Any):
        self.spec, self.cfg = spec, cfg
        self.schema: Schema = spec.schema(cfg)
        self.init: bytes = self.schema.make(**spec.init(cfg))
        self.instances: list[Instance] = [
            Instance(a, p) for a in spec.actions for p in a.instances(cfg)]
        self.properties: list[Property] = [p for p in spec.properties if p.applies(cfg)]
        self._compiled: list[Callable] | None = None
        self._static_off: list[bool] | None = None
        self._keys: list[tuple[int, int] | None] = []
        self._may_spend: list[bool] = []
        self._preds: dict[str, Callable] = {}
        self._ghost = [f.ghost for f, _ in self.schema.cells]
        self._last_view: tuple[Any, ...] = (None,)
        # flat cells of the fault budgets: a step that changes one is a fault
        self.fault_cells: list[int] = [
            i for i, (f, _) in enumerate(self.schema.cells) if f.name in spec.fault_fields]

    # -- interpreted concrete semantics ------------------------------------

    def effect(self, flat: Sequence[Any], j: int, view: View | None = None) -> tuple[Any, Any, list[Any]]:
        """Guard, capacity and successor cells of instance ``j`` on ``flat``."""
        inst = self.instances[j]
        eff = inst.action.fn(view or View(self.schema, flat), self.cfg, *inst.params)
        return eff.when, eff.fits, apply(self.schema, flat, eff.then)

    def step(self, state: bytes, j: int) -> bytes | str | None:
        """Instance ``j`` on a concrete state: successor, ``FULL`` or None."""
        if self._last_view[0] != state:  # callers often try every instance on one state
            self._last_view = (state, list(state), View(self.schema, list(state)))
        _, flat, view = self._last_view
        guard, fits, post = self.effect(flat, j, view)
        if not guard:
            return None
        if not fits:
            return FULL
        cells = [int(v) for v in post]
        for i, (v, hi) in enumerate(zip(cells, self.schema.hi)):
            if not 0 <= v <= hi:
                raise Overflow(self.instances[j].label(), self.schema.cell_name(i), v, hi)
        return bytes(cells)

    def holds(self, prop: Property | str, state: bytes) -> bool:
        """Whether ``prop`` holds in ``state`` (interpreted)."""
        p = self.spec.property(prop) if isinstance(prop, str) else prop
        return bool(p.fn(View(self.schema, list(state)), self.cfg))

    def terminal(self, state: bytes) -> bool:
        """No action instance is enabled in ``state`` (one a capacity bound blocks counts
        as enabled: such a state is truncated, not terminal)."""
        return all(self.step(state, j) is None for j in range(len(self.instances)))

    def finished(self, state: bytes) -> bool:
        """Whether ``state`` is a proper end of a run (interpreted)."""
        if self.spec.finished is None:
            return True
        return bool(self.spec.finished(View(self.schema, list(state)), self.cfg))

    # -- compiled concrete semantics ---------------------------------------

    @property
    def compiled(self) -> list[Callable]:
        """One generated function per action instance (see core/compile.py)."""
        if self._compiled is None:
            self.compile()
        return self._compiled  # type: ignore[return-value]

    @property
    def static_off(self) -> list[bool]:
        """Per instance: disabled by the configuration alone (guard is False)."""
        if self._static_off is None:
            self.compile()
        return self._static_off  # type: ignore[return-value]

    def spends_fault(self, state: bytes, succ: bytes) -> bool:
        """Whether the step from ``state`` to ``succ`` spent a fault budget."""
        return any(state[c] != succ[c] for c in self.fault_cells)

    @property
    def may_spend(self) -> list[bool]:
        """Per instance: whether it can change a fault budget at all."""
        self.compiled  # noqa: B018 - compiles and fills _may_spend
        return self._may_spend

    def compile(self, tick: Callable[[int, int], None] | None = None) -> None:
        """Compile every action instance now (else on first use).

        ``tick(done, total)`` is called after each chunk of instances: a
        progress line, or a limit check that raises to stop (a model at
        big bounds can take minutes and gigabytes to compile).  Nothing
        is kept from a compilation that was stopped.
        """
        if self._compiled is not None:
            return
        fns: list[Callable] = []
        off: list[bool] = []
        keys: list[tuple[int, int] | None] = []
        may_spend: list[bool] = []
        total = len(self.instances)
        for start in range(0, total, cc.CHUNK):
            sources, names = [], []
            for j in range(start, min(total, start + cc.CHUNK)):
                low = self.lower(j)
                names.append(f"a{j}")
                sources.append(cc.action_source(names[-1], low.guard, low.fits, low.post,
                                                low.checks, self.instances[j].label()))
                off.append(low.off)
                keys.append(low.key)
                may_spend.append(low.may_spend)
            # built chunk by chunk: the expression DAGs of a chunk are freed before the next
            fns.extend(cc.build(sources, names))
            if tick is not None:
                tick(len(fns), total)
        self._keys, self._may_spend, self._static_off = keys, may_spend, off
        self._compiled = fns

    def lower(self, j: int) -> "Lowered":
        """Instance ``j`` run once on symbolic leaves: the expression DAGs a back end compiles.

        Raises :class:`ModelError` for a model bug (an exception in the
        action) or a guard that reads a ghost field.
        """
        inst = self.instances[j]
        leaves = [cell(i) for i in range(self.schema.width)]
        try:
            guard, fits, post = self.effect(leaves, j)
        except MODEL_BUGS as e:
            raise ModelError(f"{inst.label()}: {e}") from e
        self._check_ghosts(inst, guard, fits, post)
        hi = self.schema.hi
        checks = [(i, hi[i], self.schema.cell_name(i)) for i in may_leave(post, hi, (guard, fits))]
        spends = any(not (isinstance(post[i], Expr) and post[i].op == "cell" and post[i].args[0] == i)
                     for i in self.fault_cells)
        return Lowered(guard, fits, post, checks, _key_conjunct(guard), guard is False, spends)

    def dispatch(self) -> tuple[list[tuple[int, list[list[int]]]], list[int]]:
        """An index from state values to the instances that may be enabled.

        Most guards require some cell to equal a constant (``s.handed == r``,
        a channel slot holding batch ``k``).  Grouping instances by such a
        cell lets the explorer try only the instances whose key matches:
        ``keyed`` lists ``(cell, by_value)`` with ``by_value[v]`` the
        instances to try when the cell holds ``v``; ``unkeyed`` the rest.
        Instances disabled by the configuration alone are left out.  This is
        an index only: every candidate still runs its full guard.
        """
        self.compiled  # noqa: B018 - compiles and fills _keys
        return dispatch_index(self._keys, self.static_off)

    def _check_ghosts(self, inst: Instance, guard, fits, post) -> None:
        """Principle 3: protocol decisions never read history fields.

        The capacity condition may: a ghost counter has a range too.
        """
        protocol_roots = [guard] + [
            e for i, e in enumerate(post) if not self._ghost[i]]
        for i in _cells_read(protocol_roots):
            if self._ghost[i]:
                raise ModelError(
                    f"{inst.label()} reads ghost field {self.schema.cell_name(i)} in its "
                    "guard or to compute a protocol field; ghost fields are history only")

    def predicate(self, prop: Property | str) -> Callable[[bytes], bool]:
        """The compiled predicate of a property (or ``"finished"``)."""
        name = prop if isinstance(prop, str) else prop.name
        if name not in self._preds:
            value = self.lower_predicate(name)
            self._preds[name] = cc.build([cc.predicate_source("p", value)], ["p"])[0]
        return self._preds[name]

    def lower_predicate(self, name: str) -> Any:
        """A property (or ``"finished"``) run once on symbolic leaves: its expression DAG."""
        leaves = View(self.schema, [cell(i) for i in range(self.schema.width)])
        if name == "finished":
            fn = self.spec.finished or (lambda s, c: True)
        else:
            fn = self.spec.property(name).fn
        try:
            return fn(leaves, self.cfg)
        except MODEL_BUGS as e:
            raise ModelError(f"property {name}: {e}") from e

    # -- symbolic semantics --------------------------------------------------

    def z3_cells(self, tag: str) -> list[Any]:
        """Fresh Z3 variables for one state, named ``<cell>@<tag>``."""
        return [z3.Bool(f"{self.schema.cell_name(i)}@{tag}") if f.boolean
                else z3.Int(f"{self.schema.cell_name(i)}@{tag}")
                for i, (f, _) in enumerate(self.schema.cells)]

    def z3_ranges(self, cells: Sequence[Any]) -> Any:
        """Constraint: every integer cell within its field's range."""
        cons = [z3.And(c >= 0, c <= hi) for c, hi in zip(cells, self.schema.hi)
                if not z3.is_bool(c)]
        return z3.And(*cons) if cons else z3.BoolVal(True)

    def z3_step(self, j: int, cells: Sequence[Any]) -> tuple[Any, Any, list[Any]]:
        """Guard, capacity and successor terms of instance ``j`` over ``cells``."""
        return self.effect(cells, j)

    def z3_overflows(self, cells: Sequence[Any], post: Sequence[Any]) -> dict[int, Any]:
        """Per written integer cell, the condition that its new value leaves the cell's range.

        ``post`` is a successor from :meth:`z3_step` over ``cells``; cells it
        leaves as they were, booleans and constants within range need no
        condition and are left out.
        """
        out = {}
        for i, (old, new) in enumerate(zip(cells, post)):
            if new is old or isinstance(new, bool) or (isinstance(new, z3.ExprRef) and z3.is_bool(new)):
                continue
            if not isinstance(new, z3.ExprRef):
                if not 0 <= int(new) <= self.schema.hi[i]:
                    out[i] = z3.BoolVal(True)
                continue
            out[i] = z3.Or(new < 0, new > self.schema.hi[i])
        return out

    def z3_holds(self, prop: Property | str, cells: Sequence[Any]) -> Any:
        """The property as a Z3 term over ``cells``."""
        p = self.spec.property(prop) if isinstance(prop, str) else prop
        return p.fn(View(self.schema, list(cells)), self.cfg)

    def z3_state(self, cells: Sequence[Any], state: bytes) -> Any:
        """Constraint: ``cells`` equal the concrete ``state``."""
        return z3.And(*[
            (c == bool(v)) if z3.is_bool(c) else (c == v) for c, v in zip(cells, state)])

    def from_model(self, model: z3.ModelRef, cells: Sequence[Any]) -> bytes:
        """Decode a Z3 model's values of ``cells`` into a concrete state."""
        out = []
        for c in cells:
            v = model.eval(c, model_completion=True)
            out.append(1 if z3.is_true(v) else 0 if z3.is_false(v) else v.as_long())
        return bytes(out)


@dataclass
class Lowered:
    """One action instance as expression DAGs over the state's cells (:meth:`System.lower`)."""

    guard: Any            # when the step is enabled
    fits: Any             # whether its bounded structures have room (else it is blocked)
    post: list[Any]       # the successor's cells
    checks: list[tuple[int, int, str]]  # (cell, hi, name) of the writes that may leave their range
    key: tuple[int, int] | None  # a guard conjunct ``cell == constant``, for dispatch
    off: bool             # the guard is False under this configuration
    may_spend: bool       # the step can change a fault budget


def dispatch_index(keys: Sequence[tuple[int, int] | None],
                   off: Sequence[bool]) -> tuple[list[tuple[int, list[list[int]]]], list[int]]:
    """:meth:`System.dispatch`'s index from each instance's key conjunct and static switch."""
    groups: dict[int, list[list[int]]] = {}
    unkeyed: list[int] = []
    for j, key in enumerate(keys):
        if off[j]:
            continue
        if key is None:
            unkeyed.append(j)
            continue
        cell_, value = key
        groups.setdefault(cell_, [[] for _ in range(256)])[value].append(j)
    return sorted(groups.items()), unkeyed


def _key_conjunct(guard: Any) -> tuple[int, int] | None:
    """A top-level conjunct ``cell == constant`` of ``guard``, if there is one."""
    todo = [guard]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, Expr):
            continue
        if e.op == "and":
            todo.extend(e.args)
        elif e.op == "==":
            a, b = e.args
            if isinstance(b, Expr) and not isinstance(a, Expr):
                a, b = b, a
            if isinstance(a, Expr) and a.op == "cell" and isinstance(b, int) and 0 <= int(b) < 256:
                return a.args[0], int(b)
    return None


def _cells_read(roots: Sequence[Any]) -> set[int]:
    """Flat cells that the expression DAGs under ``roots`` read."""
    seen: set[int] = set()
    found: set[int] = set()
    stack = [r for r in roots if isinstance(r, Expr)]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.op == "cell":
            found.add(e.args[0])
        else:
            stack.extend(a for a in e.args if isinstance(a, Expr))
    return found
