"""Where in the model each expression node was built: the source span behind the compiled form.

Mutation testing (deliverycheck/mutate/) changes the model's compiled form
one node at a time and must name each change by the source it stands for:
the file, the line and the columns of the model's expression
(``s.in_flight < c.mode.max_in_flight``), as a reader would edit it.
While :func:`tracking` is on, every :class:`~deliverycheck.core.expr.Expr`
records an :class:`Origin`: the innermost frame outside
``deliverycheck/core`` (the model's line that asked for the node), the
columns of the instruction that frame was running (Python 3.11's
``co_positions``), and the core function the model called (``__lt__``,
``and_``, ``count``, ...), which says whether the node is the model's own
expression or one a helper built inside (``count``'s ``ite(x, 1, 0)``).

Off by default: the explorer's compilation does not pay for it.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from . import expr

_CORE = str(Path(__file__).resolve().parent)


class Origin(NamedTuple):
    """The model source that built a node."""

    file: str        # the model file's path, as its code object names it
    line: int
    col: int
    end_line: int
    end_col: int
    entry: str       # the core function the model called: "__lt__", "and_", "ite", "count", ...

    @property
    def span(self) -> tuple[int, int, int, int]:
        """``(line, col, end_line, end_col)``."""
        return self.line, self.col, self.end_line, self.end_col


_positions: dict[Any, list] = {}
_origins: dict[tuple[Any, int, str], Origin] = {}


def where() -> Origin | None:
    """The origin of a node being built now (called from ``Expr.__init__``)."""
    f = sys._getframe(2)
    entry = ""
    while f is not None and f.f_code.co_filename.startswith(_CORE):
        entry = f.f_code.co_name
        f = f.f_back
    if f is None:
        return None
    code = f.f_code
    key = (code, f.f_lasti, entry)
    got = _origins.get(key)
    if got is None:
        pos = _positions.get(code)
        if pos is None:
            pos = _positions[code] = list(code.co_positions())
        line, end_line, col, end_col = pos[f.f_lasti // 2]
        line = line or f.f_lineno
        got = _origins[key] = Origin(code.co_filename, line, col or 0, end_line or line,
                                     end_col if end_col is not None else 0, entry)
    return got


@contextlib.contextmanager
def tracking() -> Iterator[None]:
    """Record each node's :class:`Origin` while the block runs (``origin_of`` reads it)."""
    before = expr.TRACK
    expr.TRACK = where
    try:
        yield
    finally:
        expr.TRACK = before


def origin_of(node: Any) -> Origin | None:
    """The origin recorded for ``node`` (None: built while tracking was off, or a leaf)."""
    return getattr(node, "origin", None)
