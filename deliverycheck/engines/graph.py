"""Questions about the explored state graph: can the system still recover?

When a ``progress`` property is checked the explorer records every
transition that spends no fault as (source, target).  :func:`co_reachable`
answers, for every state at once, whether some goal state is reachable from
it along those edges: a backward breadth-first search over the reversed
edges, in compressed sparse rows (arrays, not Python lists of lists, so
millions of edges fit).  :func:`to_networkx` exports the
same graph for tests and small analyses; the search never runs on networkx.
"""

from __future__ import annotations

from array import array
from typing import Sequence


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
