"""The state diff: what each step of a trace changed, old -> new.

Two forms: :func:`changes` groups a changed array row into one entry
(``log[0] [1, 0] -> [1, 2]``), as the stories print it; :func:`cells` lists
each changed cell on its own, the short form the diagrams print beside a
step.  History (ghost) fields are marked: they record what happened for the
properties and are not part of any actor's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from deliverycheck.trace import Trace


@dataclass(frozen=True)
class Change:
    """One changed cell: its name (``b_state[1]``), old and new value shown with labels."""

    field: str
    index: tuple[int, ...]
    cell: str
    old: str
    new: str
    history: bool

    def __str__(self) -> str:
        return f"{self.cell} {self.old} -> {self.new}" + (" (history)" if self.history else "")


def show_value(f, value) -> str:
    """A decoded field value with its labels (``[queued, lost]`` rather than ``[1, 5]``)."""
    if isinstance(value, list):
        return "[" + ", ".join(show_value(f, v) for v in value) + "]"
    return f.show(value)


def cells(trace: Trace, n: int) -> list[Change]:
    """Every cell step ``n`` changed, in schema order."""
    schema = trace.system.schema
    before, after = trace.steps[n - 1].state, trace.steps[n].state
    out = []
    for i, (a, b) in enumerate(zip(before, after)):
        if a != b:
            f, idx = schema.cells[i]
            out.append(Change(f.name, idx, schema.cell_name(i), f.show(a), f.show(b), f.ghost))
    return out


def changes(trace: Trace, n: int) -> list[str]:
    """``field old -> new`` for what step ``n`` changed (ghost fields marked).

    A row of an array with several changed cells (a channel that shifted, a
    log) is shown whole, which reads better than cell by cell.
    """
    schema = trace.system.schema
    before, after = trace.steps[n - 1].state, trace.steps[n].state
    rows: dict[tuple, list[Change]] = {}
    for c in cells(trace, n):
        rows.setdefault((c.field, c.index[:-1]), []).append(c)
    out = []
    for (name, prefix), changed in rows.items():
        if len(changed) == 1:
            out.append(str(changed[0]))
            continue
        f = schema.by_name[name]
        ghost = " (history)" if f.ghost else ""
        start = schema.offset[name] + _row_start(f.shape, prefix)
        span = range(start, start + f.shape[-1])
        label = name + "".join(f"[{k}]" for k in prefix)
        old = ", ".join(f.show(before[i]) for i in span)
        new = ", ".join(f.show(after[i]) for i in span)
        out.append(f"{label} [{old}] -> [{new}]{ghost}")
    return out


def _row_start(shape: tuple[int, ...], prefix: tuple[int, ...]) -> int:
    """Offset, within a field, of the last-dimension row at index ``prefix``."""
    at, stride = 0, 1
    for n in shape:
        stride *= n
    for k, n in zip(prefix, shape):
        stride //= n
        at += k * stride
    return at
