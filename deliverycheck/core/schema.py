"""The state schema: a fixed-shape record of small integers and booleans.

A state is stored as ``bytes``: one byte per scalar cell, arrays flattened in
row-major order.  That makes states hashable, compact (one byte a cell) and
deterministic to iterate, and it gives the Z3 encoding one variable per cell.
Every value must fit in ``0..hi`` for its field; the concrete engine raises
when a model writes a value outside its field's range instead of wrapping it.

Fields marked ``ghost`` record history (what the application was told, what
the consumer emitted) so that promises are checkable; protocol actions must
never read them (docs/architecture.md).  ``tests/test_model.py`` checks
that by running every action with ghost cells poisoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from math import prod
from typing import Any, Iterator, Sequence


@dataclass(frozen=True)
class Field:
    """One named field: a scalar (``shape == ()``) or a fixed-size array."""

    name: str
    hi: int  # largest value a cell may hold; booleans have hi == 1
    shape: tuple[int, ...] = ()
    ghost: bool = False
    boolean: bool = False
    doc: str = ""
    labels: tuple[str, ...] = ()  # names of the values, for stories (e.g. batch states)

    def show(self, value: int) -> str:
        """A value of this field as a reader wants to see it."""
        if self.boolean:
            return "true" if value else "false"
        return self.labels[value] if value < len(self.labels) else str(value)

    @property
    def size(self) -> int:
        """Number of cells the field occupies in the flat state."""
        return prod(self.shape) if self.shape else 1

    def indices(self) -> Iterator[tuple[int, ...]]:
        """Every index tuple of the field, in storage (row-major) order."""
        return iter(product(*(range(n) for n in self.shape)))


def flag(name: str, doc: str = "", *, ghost: bool = False, shape: tuple[int, ...] = ()) -> Field:
    """A boolean field (stored as 0/1)."""
    return Field(name, 1, shape, ghost, True, doc)


def num(name: str, hi: int, doc: str = "", *, ghost: bool = False, shape: tuple[int, ...] = (),
        labels: tuple[str, ...] = ()) -> Field:
    """An integer field holding ``0..hi`` (``labels`` name the values)."""
    if not 0 < hi <= 255:
        raise ValueError(f"field {name!r}: range 0..{hi} does not fit in a byte; lower the bounds")
    return Field(name, hi, shape, ghost, False, doc, labels)


class Schema:
    """The ordered list of fields and their place in the flat state."""

    def __init__(self, fields: Sequence[Field]):
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"duplicate state fields: {', '.join(dup)}")
        self.fields: tuple[Field, ...] = tuple(fields)
        self.by_name: dict[str, Field] = {f.name: f for f in fields}
        self.offset: dict[str, int] = {}
        at = 0
        for f in fields:
            self.offset[f.name] = at
            at += f.size
        self.width = at
        # cell -> (field, index) and per-cell upper bounds, for decoding
        self.cells: list[tuple[Field, tuple[int, ...]]] = [
            (f, idx) for f in fields for idx in f.indices()
        ]
        self.hi: tuple[int, ...] = tuple(f.hi for f, _ in self.cells)
        # decoded states, by their bytes: a trace's states are decoded for its ITF file, its
        # story (each step's before and after) and its diagram, several times each
        self._decoded: dict[bytes, dict[str, Any]] = {}

    def cell_name(self, i: int) -> str:
        """A readable name for flat cell ``i``, such as ``log[0][2]``."""
        f, idx = self.cells[i]
        return f.name + "".join(f"[{k}]" for k in idx)

    # -- nesting: flat cells <-> nested lists, shared by every interpretation --

    def nest(self, flat: Sequence[Any]) -> dict[str, Any]:
        """Split a flat cell sequence into ``{field: scalar or nested list}``."""
        out: dict[str, Any] = {}
        for f in self.fields:
            o = self.offset[f.name]
            out[f.name] = _nest(list(flat[o:o + f.size]), f.shape) if f.shape else flat[o]
        return out

    def flatten(self, name: str, value: Any) -> list[Any]:
        """The flat cells of field ``name`` holding ``value``."""
        f = self.by_name[name]
        if not f.shape:
            return [value]
        cells = flat_cells(value, f.shape)
        if len(cells) != f.size:
            raise ValueError(f"field {name!r} expects shape {f.shape}")
        return cells

    # -- concrete states --

    def make(self, **values: Any) -> bytes:
        """A concrete state; unspecified fields are 0 / False."""
        unknown = set(values) - set(self.by_name)
        if unknown:
            raise ValueError(f"unknown state fields: {', '.join(sorted(unknown))}")
        cells = [0] * self.width
        for name, v in values.items():
            o = self.offset[name]
            for k, c in enumerate(self.flatten(name, v)):
                cells[o + k] = int(c)
        return self.check(bytes(cells))

    def check(self, state: bytes) -> bytes:
        """Return ``state`` after checking every cell is within its range."""
        if len(state) != self.width:
            raise ValueError(f"state has {len(state)} cells, schema has {self.width}")
        for i, (v, hi) in enumerate(zip(state, self.hi)):
            if v > hi:
                raise ValueError(f"{self.cell_name(i)} = {v} exceeds its range 0..{hi}")
        return state

    def decode(self, state: bytes) -> dict[str, Any]:
        """A concrete state as ``{field: value}``; booleans as ``bool`` (a new dict, the
        caller's to change)."""
        out = self.nest(list(state))
        for f in self.fields:
            if f.boolean:
                out[f.name] = _map(bool, out[f.name])
        return out

    def shared(self, state: bytes) -> dict[str, Any]:
        """:meth:`decode`'s dict, shared by every caller that reads the same state (kept for
        the last few thousand states): for the renderers, which decode each state of a trace
        several times and only read it; never change it."""
        out = self._decoded.get(state)
        if out is None:
            if len(self._decoded) >= _DECODED_KEPT:
                self._decoded.clear()
            out = self._decoded[bytes(state)] = self.decode(state)
        return out

    def encode(self, values: dict[str, Any]) -> bytes:
        """Inverse of :meth:`decode`."""
        return self.make(**values)


_DECODED_KEPT = 4096   # decoded states a schema keeps (a few traces' worth)


def _nest(cells: list[Any], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return cells
    step = prod(shape[1:])
    return [_nest(cells[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def flat_cells(value: Any, shape: tuple[int, ...]) -> list[Any]:
    """The cells of a (nested) value of ``shape``, row-major."""
    if not shape:
        return [value]
    if len(value) != shape[0]:
        raise ValueError(f"expected {shape[0]} elements, got {len(value)}")
    return [c for v in value for c in flat_cells(v, shape[1:])]


def _map(fn, value):
    return [_map(fn, v) for v in value] if isinstance(value, list) else fn(value)
