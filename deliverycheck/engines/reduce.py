"""Counterexample reduction: delete steps from a failing run while it still fails.

Hypothesis shrinks the *choices* that made a run, in its own order (fewer
and smaller choices), which is not the same as fewer protocol steps: the
very first run it tries - every choice at its simplest, always the first
enabled action - is minimal to Hypothesis however long it is.  So after
Hypothesis, :func:`reduce_path` deletes steps directly (delta debugging,
Zeller and Hildebrandt, TSE 2002): remove a chunk of steps, keep the
result when it still replays and still breaks the property, halve the
chunk when no chunk can go.  The result is 1-minimal: no single step can be
removed.  It is not necessarily a shortest trace; the explorer gives those.

A step is replayed as the same action instance when that is enabled, else
as the same action's instance at the same position among its enabled ones
(deleting the send of batch 0 makes "the next send" use batch 1's slot
as batch 0's), else it is skipped: deleting the send of a record also drops
its append, poll and processing further down, which no single chunk could
remove together.  Steps are recorded as (instance, action, position); what
replays is always a real history of the model.
"""

from __future__ import annotations

from typing import Callable

Successors = Callable[[bytes], dict[str, list[tuple[int, bytes]]]]
Step = tuple[int, str, int]   # (instance, action, position among the action's enabled instances)


def reduce_path(init: bytes, path: list[int], action_of: list[str], successors: Successors,
                broken: Callable[[bytes, bool], bool], per_state: bool) -> list[int]:
    """A 1-minimal sub-history of ``path`` that still breaks the property.

    ``broken(state, terminal)`` says whether ``state`` shows the violation;
    with ``per_state`` (``always`` properties) any state on the way counts
    and the run is cut there, otherwise only the last one (``final`` and
    ``progress`` properties judge terminal states).
    """
    steps = _steps(init, path, action_of, successors)
    best = _replay(init, steps, successors, broken, per_state)
    if best is None:
        raise ValueError("the path to reduce does not show the violation")
    chunk = max(1, len(best[0]) // 2)
    while True:
        i, changed = 0, False
        while i < len(best[1]):
            cand = best[1][:i] + best[1][i + chunk:]
            got = _replay(init, cand, successors, broken, per_state)
            if got is not None:
                best, changed = got, True
            else:
                i += chunk
        if chunk == 1 and not changed:
            return best[0]
        chunk = max(1, chunk // 2)


def _steps(init: bytes, path: list[int], action_of: list[str], successors: Successors) -> list[Step]:
    """``path`` as (instance, action, position) steps."""
    state, out = init, []
    for j in path:
        options = successors(state)[action_of[j]]
        pos = [k for k, _ in options].index(j)
        out.append((j, action_of[j], pos))
        state = options[pos][1]
    return out


def _replay(init: bytes, steps: list[Step], successors: Successors,
            broken: Callable[[bytes, bool], bool], per_state: bool) -> tuple[list[int], list[Step]] | None:
    """Replay ``steps``; the path and steps up to the violation, or None."""
    state, path, done = init, [], []
    if per_state and broken(state, False):
        return path, done
    for j, action, pos in steps:
        options = successors(state).get(action, [])
        match = [o for o in options if o[0] == j] or options[pos:pos + 1]
        if not match:
            continue  # the step depended on a deleted one: drop it too
        k, state = match[0]
        path.append(k)
        done.append((k, action, pos))
        if per_state and broken(state, False):
            return path, done
    if not per_state and broken(state, not successors(state)):
        return path, done
    return None
