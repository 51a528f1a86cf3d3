"""Actions and properties as data, and a specification that bundles them.

An *action* is a Python function ``fn(s, c, *params) -> Effect``: ``s`` is a
read-only view of the state (``s.field``, arrays as lists), ``c`` the
configuration (mode knobs, variant flags, bounds: plain Python values), and
``params`` plain integers drawn from the domains the decorator names.  The
returned :class:`Effect` holds the guard (``when``), the new values of the
fields the action changes (``then``; every other field keeps its value: the
frame is automatic) and a capacity condition (``fits``): when the protocol
would take the step but a bounded log, channel or table is full, the step is
disabled and the engines report it instead of truncating silently.

A *property* is a named predicate over one state with a kind:

* ``always``    - an invariant, checked in every reachable state;
* ``sometimes`` - a reachability witness: some reachable state satisfies it
  (so no promise holds only because nothing interesting is reachable);
* ``final``     - holds in every terminal state (no action enabled);
* ``progress``  - from every reachable state, once faults stop, some state
  satisfying it is still reachable (AG EF without faults): nothing the
  faults did leaves the system unable to recover.  Checked on the state
  graph; a transition is a fault when it changes one of the spec's
  ``fault_fields`` (the fault budgets).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Callable, Iterable, Mapping, Sequence

from .scene import Scene
from .schema import Schema, flat_cells

KINDS = ("always", "sometimes", "final", "progress")
ASPECTS = ("safety", "availability")


@dataclass(frozen=True)
class Effect:
    """What one action instance does: guard, updated fields, capacity check.

    ``then`` maps a field name to its new value (a scalar, or a nested list
    for an array field), or a tuple ``(name, i, ...)`` to the new value of
    the sub-array or element at that (plain integer) index.
    """

    when: Any
    then: Mapping[Any, Any] = field(default_factory=dict)
    fits: Any = True


def value_at(s: Any, key: Any) -> Any:
    """The value in view ``s`` at an ``Effect.then`` key: ``"field"`` or ``("field", i, ...)``.

    Lets an action keep a value conditionally: ``ite(c, new, value_at(s, key))``.
    """
    name, *idx = key if isinstance(key, tuple) else (key,)
    v = getattr(s, name)
    for k in idx:
        v = v[k]
    return v


class _Documented:
    """Actions and properties are documented by their function's docstring."""

    fn: Callable[..., Any]

    @property
    def doc(self) -> str:
        """The function's docstring."""
        return inspect.getdoc(self.fn) or ""

    @property
    def summary(self) -> str:
        """The docstring's first paragraph, as plain text."""
        return _plain(self.doc)


@dataclass(frozen=True)
class Action(_Documented):
    """A protocol step: its function and the domains of its parameters."""

    name: str
    fn: Callable[..., Effect]
    domains: tuple[tuple[str, Callable[[Any], Iterable[int]]], ...]
    fault: bool = False
    scope: Callable[[Any], bool] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.domains)

    def applies(self, cfg: Any) -> bool:
        """Whether the action belongs to the world of configuration ``cfg``."""
        return self.scope is None or bool(self.scope(cfg))

    def instances(self, cfg: Any) -> list[tuple[int, ...]]:
        """Every parameter tuple of this action under ``cfg`` (none outside its scope)."""
        if not self.applies(cfg):
            return []
        return list(product(*(list(d(cfg)) for _, d in self.domains)))


def action(fault: bool = False, scope: Callable[[Any], bool] | None = None,
           **domains: Callable[[Any], Iterable[int]]):
    """Declare a protocol action; keyword arguments give parameter domains.

    The function's parameters after ``(s, c)`` must be exactly the domains,
    in the same order.  ``fault=True`` marks what the environment does to
    the protocol (losses, crashes, premature timeouts, errors), the steps
    that may spend the fault budget; ``deliverycheck list`` shows the mark.
    ``scope(cfg)`` says which configurations the action exists in (for
    example only the transactional ones); outside it the action has no
    instances and never reads the state.
    """

    def wrap(fn: Callable[..., Effect]) -> Action:
        names = list(inspect.signature(fn).parameters)[2:]
        if names != list(domains):
            raise TypeError(
                f"action {fn.__name__}: parameters {names} must match the "
                f"declared domains {list(domains)}, in order")
        if not inspect.getdoc(fn):
            raise TypeError(f"action {fn.__name__} needs a docstring describing the protocol step")
        return Action(fn.__name__, fn, tuple(domains.items()), fault, scope)

    return wrap


@dataclass(frozen=True)
class Property(_Documented):
    """A named promise (or witness) over a single state.

    ``observes`` names the scene's observers the promise speaks of (for
    example the downstream reader: its counterexamples then draw what the
    reader is returned); ``explain(s, c)``, for a concrete state where the
    promise is broken, says in a few facts what is wrong there (what is
    missing, what appears twice), for the end of a story and a picture.
    """

    name: str
    kind: str
    fn: Callable[[Any, Any], Any]
    claims: tuple[str, ...] = ()
    scope: Callable[[Any], bool] | None = None
    observes: tuple[str, ...] = ()
    explain: Callable[[Any, Any], list[str]] | None = None
    aspect: str = "safety"   # or "availability": reported apart from the safety promises

    def applies(self, cfg: Any) -> bool:
        """Whether the property is about the world of configuration ``cfg``."""
        return self.scope is None or bool(self.scope(cfg))

    def shown_by(self, holds: bool, terminal: bool) -> bool:
        """Whether a state where the predicate is ``holds`` shows this property's
        finding on its own: an ``always`` property broken, a ``sometimes`` witness
        reached, a ``final`` or ``progress`` property broken in a terminal state
        (from which nothing else is reachable)."""
        if self.kind == "always":
            return not holds
        if self.kind == "sometimes":
            return holds
        return terminal and not holds


def _plain(doc: str) -> str:
    """First paragraph of a docstring on one line, without reST literals."""
    return doc.split("\n\n")[0].replace("\n", " ").replace("``", "")


def _property(kind: str):
    def deco(*, claims: Sequence[str] = (), scope: Callable[[Any], bool] | None = None,
             observes: Sequence[str] = (), explain: Callable[[Any, Any], list[str]] | None = None,
             aspect: str = "safety"):
        def wrap(fn: Callable[[Any, Any], Any]) -> Property:
            if not inspect.getdoc(fn):
                raise TypeError(f"property {fn.__name__} needs a docstring stating the promise")
            if aspect not in ASPECTS:
                raise TypeError(f"property {fn.__name__}: aspect must be one of {', '.join(ASPECTS)}")
            return Property(fn.__name__, kind, fn, tuple(claims), scope, tuple(observes), explain,
                            aspect)
        return wrap
    return deco


always = _property("always")
sometimes = _property("sometimes")
final = _property("final")
progress = _property("progress")


class View:
    """Read-only attribute access to one state in some interpretation."""

    __slots__ = ("_values", "_derived")

    def __init__(self, schema: Schema, flat: Sequence[Any]):
        object.__setattr__(self, "_values", schema.nest(flat))
        object.__setattr__(self, "_derived", {})

    def derived(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A quantity computed from this state once and shared by every reader.

        For a symbolic state this also shares the terms, so a definition
        built incrementally (each log position from the next one) stays
        linear in size instead of being rebuilt per reader.
        """
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"the state has no field {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("state views are read-only: return the change in Effect.then")


def apply(schema: Schema, flat: Sequence[Any], then: Mapping[Any, Any]) -> list[Any]:
    """The flat successor cells: ``flat`` with the fields in ``then`` replaced."""
    out = list(flat)
    for key, value in then.items():
        name, idx = (key, ()) if isinstance(key, str) else (key[0], tuple(key[1:]))
        f = schema.by_name.get(name)
        if f is None:
            raise ValueError(f"an action updates unknown field {name!r}")
        if len(idx) > len(f.shape):
            raise ValueError(f"field {name!r} has {len(f.shape)} dimensions, update gives {len(idx)}")
        sub_shape = f.shape[len(idx):]
        start, stride = 0, f.size
        for k, n in zip(idx, f.shape):
            stride //= n
            if not 0 <= k < n:
                raise ValueError(f"update of {name!r}: index {k} out of range 0..{n - 1}")
            start += k * stride
        cells = flat_cells(value, sub_shape)
        o = schema.offset[name] + start
        out[o:o + len(cells)] = cells
    return out


@dataclass
class Spec:
    """A whole specification: schema, initial state, actions, properties.

    ``schema(cfg)`` and ``init(cfg)`` build the state shape and the initial
    field values for a configuration; ``finished(s, c)`` says when a terminal
    state is a proper end (everything delivered and settled) rather than a
    stuck one; ``describe`` tells a step as a sentence for stories and
    ``scene`` says who does what to whom, for sequence diagrams;
    ``fault_fields`` names the fault-budget counters: a step that changes one
    of them is a fault (what ``progress`` properties switch off).
    """

    name: str
    schema: Callable[[Any], Schema]
    init: Callable[[Any], dict[str, Any]]
    actions: Sequence[Action]
    properties: Sequence[Property]
    finished: Callable[[Any, Any], Any] | None = None
    describe: Callable[[str, dict[str, int], Any, Any, Any], str] | None = None
    scene: Scene | None = None
    fault_fields: tuple[str, ...] = ()

    def property(self, name: str) -> Property:
        """The property called ``name``."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)
