"""Questions about the explored state graph: can the system still recover?

When a ``progress`` property is checked the explorer records every
transition that spends no fault as (source, target).  :func:`co_reachable`
answers, for every state at once, whether some goal state is reachable from
it along those edges: a backward breadth-first search over the reversed
edges, in compressed sparse rows (arrays, not Python lists of lists, so
millions of edges fit).  :func:`to_networkx` exports the
same graph for tests and small analyses; the search never runs on networkx.
:func:`recovers` asks the same question forward, from one state, without
a recorded graph (to confirm or replay one counterexample).
"""

from __future__ import annotations

from array import array
from typing import Any, Callable, Sequence


def co_reachable(n: int, src: Sequence[int], dst: Sequence[int], goal: Sequence[int]) -> bytearray:
    """``out[i] == 1`` iff a goal state is reachable from state ``i`` along the edges."""
    # reverse adjacency as CSR: the predecessors of v are pred[start[v]:start[v + 1]]
    start = array("l", bytes(8 * (n + 1)))
    for d in dst:
        start[d + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    fill = array("l", start)
    pred = array("l", bytes(8 * start[n]))
    for s, d in zip(src, dst):
        pred[fill[d]] = s
        fill[d] += 1
    out = bytearray(n)
    todo = [v for v in range(n) if goal[v]]
    for v in todo:
        out[v] = 1
    while todo:
        nxt = []
        for v in todo:
            for k in range(start[v], start[v + 1]):
                u = pred[k]
                if not out[u]:
                    out[u] = 1
                    nxt.append(u)
        todo = nxt
    return out


def to_networkx(n: int, src: Sequence[int], dst: Sequence[int]):
    """The graph as a ``networkx.DiGraph``."""
    import networkx as nx
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src, dst))
    return g


def recovers(system: Any, state: bytes, goal: Callable[[bytes], bool],
             max_states: int | None = None) -> bool:
    """Whether some run from ``state`` that spends no fault reaches a ``goal`` state.

    The explorer's rule for a progress property (engines.explore.decide_progress):
    a state where a capacity bound blocks a step counts as one that might
    still recover, and so does a search cut off at ``max_states`` states;
    only a complete search that finds no goal says no.
    """
    from deliverycheck.core.compile import FULL
    seen, todo = {state}, [state]
    while todo:
        s = todo.pop()
        if goal(s):
            return True
        for fn in system.compiled:
            t = fn(s)
            if t is FULL:
                return True
            if t is not None and t not in seen and not system.spends_fault(s, t):
                seen.add(t)
                todo.append(t)
        if max_states is not None and len(seen) > max_states:
            return True
    return False
