"""Each step told as a sentence in protocol terms, for counterexample stories.

``describe(action, args, before, after, c)`` reads the decoded states around
the step (``{field: value}``) and never changes anything.  Each actor's
module registers how its steps are told (``tell_<action>``, model/telling.py);
every fact a sentence states (an offset written, a message sent, an answer,
what the application was told) is read from the transition, not assumed
from what the action is meant to do.  Producer sessions are P1, P2, ...
(one per producer id), records r1, r2, ..., batches b1, b2, ...
"""

from __future__ import annotations

from typing import Any

from .telling import TELLERS


def describe(name: str, args: dict[str, int], before: dict, after: dict, c: Any) -> str:
    """One sentence telling the step ``name(args)`` from ``before`` to ``after``."""
    tell = TELLERS.get(name)
    if tell is None:
        inner = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"{name}({inner})"
    return tell(args, before, after, c)

