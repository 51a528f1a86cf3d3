"""The state graph around a counterexample: the path, and every step it could have taken instead.

For small configurations: the trace's states form the spine (numbered
boxes, the last one red when it breaks the promise); every other successor
of a spine state hangs off it as a dot, red when that state breaks the
promise too (an always property) - so the picture shows whether the
violation is one unlucky interleaving or what most branches lead to.  The
graph is a networkx ``DiGraph``; :func:`to_dot` writes it as DOT.
"""

from __future__ import annotations

from html import escape

import networkx as nx

from deliverycheck.core.system import FULL
from deliverycheck.trace import Trace

LIMIT = 150     # most states drawn; beyond, the picture is a hairball


class TooLarge(Exception):
    """The neighbourhood has more states than a readable picture holds."""


def neighbourhood(trace: Trace, limit: int = LIMIT) -> nx.DiGraph:
    """The trace's states and their direct successors; :class:`TooLarge` past ``limit`` states."""
    system = trace.system
    prop = system.spec.property(trace.property) if trace.property else None
    holds = system.predicate(prop) if prop and prop.kind == "always" else None
    g = nx.DiGraph()
    spine = [s.state for s in trace.steps]
    for n, state in enumerate(spine):
        g.add_node(state, spine=n)
    for n, state in enumerate(spine):
        taken = trace.steps[n + 1] if n + 1 < len(spine) else None   # the trace's own next step
        for j, inst in enumerate(system.instances):
            nxt = system.compiled[j](state)
            if nxt is None or nxt is FULL:
                continue
            on_path = taken is not None and (inst.name, inst.args) == (taken.action, taken.params)
            if nxt not in g:
                g.add_node(nxt, spine=None)
                if g.number_of_nodes() > limit:
                    raise TooLarge(f"more than {limit} states lie one step from the trace; "
                                   "the state graph is drawn for small configurations only "
                                   "(try fewer --bound records or faults)")
            if holds is not None and g.nodes[nxt]["spine"] is None:
                g.nodes[nxt]["broken"] = not holds(nxt)
            if not g.has_edge(state, nxt) or on_path:
                g.add_edge(state, nxt, action=inst.label(), path=on_path)
    return g


def to_dot(g: nx.DiGraph, trace: Trace) -> str:
    """DOT text of a :func:`neighbourhood` graph (deterministic: nodes in discovery order)."""
    ids = {state: f"n{k}" for k, state in enumerate(g.nodes)}
    last = len(trace)
    violated = trace.verdict == "violated"
    out = ["digraph states {",
           '  graph [rankdir=TB, fontname="Helvetica", fontsize=12, labelloc=t, nodesep=0.15, ranksep=0.35, '
           f'label=<{escape(_title(trace))}>];',
           '  node [fontname="Helvetica", fontsize=9];',
           '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.5];']
    for state, data in g.nodes(data=True):
        n = data["spine"]
        if n is not None:
            red = n == last and violated
            fill = "#f7b4b4" if red else "#d6eaf8"
            out.append(f'  {ids[state]} [shape=box, style="filled,rounded", fillcolor="{fill}", group=spine, label="{n}"];')
        else:
            fill = "#e74c3c" if data.get("broken") else "#bdc3c7"
            out.append(f'  {ids[state]} [shape=point, width=0.09, color="{fill}"];')
    for a, b, data in g.edges(data=True):
        if data["path"]:
            out.append(f'  {ids[a]} -> {ids[b]} [penwidth=2, label="{escape(data["action"])}"];')
        else:
            out.append(f'  {ids[a]} -> {ids[b]} [color="#bdc3c7", tooltip="{escape(data["action"])}"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _title(trace: Trace) -> str:
    cfg = trace.system.cfg
    what = f": {trace.property}" if trace.property else ""
    return (f"{cfg.mode.name} / {cfg.variant.name}{what} - the trace (boxes) and every other step "
            "from its states (dots; red: the promise is broken there too)")
