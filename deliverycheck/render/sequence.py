"""The sequence diagram: one lane per actor, time running down, messages as arrows.

Drawn from a :class:`~deliverycheck.render.flow.Flow` as Graphviz DOT with
every node pinned (``layout=neato``, positions in points), so the picture
is the same on every machine and nothing overlaps by accident: lanes are
columns a fixed width apart, each step is a row as tall as its text, and
the text of a step (its sentence and the state it changed) sits in a
column right of the lanes.  A lifeline is drawn in pieces between the
boxes on it, and arrows are drawn over boxes, so a message that passes
another actor's step is seen to cross it rather than to start or end there.

Marks: a step box is orange when the step spends a fault (a premature
timeout, an injected error), red with "crash" when a process crashes; a
lost or discarded message ends in a red cross at the row it was lost in;
the step where the promise breaks has a red frame, a red cross in the left
margin, and its text on red says which promise broke.
"""

from __future__ import annotations

import textwrap
from html import escape

from deliverycheck.render.flow import Arrow, Flow, Row

LANE = 170          # lane spacing (points)
TEXT_X = 10         # gap between the last lane and the text column
TEXT_W = 470        # width of the text column
SENTENCE = 78       # characters per line of a step's sentence
CHANGES = 96        # characters per line of a step's changes
MAX_CHANGES = 3     # lines of changes shown per step (the state diff has all)
LINE = 13           # points per line of text
FONT = "Helvetica"

FAULT_FILL, CRASH_FILL, MARK_FILL = "#fde3c3", "#f7b4b4", "#ffd6d6"
MARK_LINE, LOST, GREY = "#c0392b", "#c0392b", "#7f8c8d"


def to_dot(f: Flow) -> str:
    """The sequence diagram of ``f`` as DOT text (deterministic)."""
    xs = {lane.id: i * LANE for i, lane in enumerate(f.lanes)}
    right = (len(f.lanes) - 1) * LANE
    text_x = right + LANE // 2 + TEXT_X
    ys, bottom = _rows_y(f.rows)
    out = ["digraph sequence {",
           '  graph [layout=neato, inputscale=72, notranslate=true, splines=line, overlap=true, '
           'labelloc=t, labeljust=l, fontname="{0}", fontsize=14, pad=0.3, label=<{1}>];'.format(
               FONT, _title(f)),
           f'  node [fontname="{FONT}", fontsize=10];',
           f'  edge [fontname="{FONT}", fontsize=9, arrowsize=0.7];']
    mark = f.mark
    on_lane: dict[str, list[str]] = {lane.id: [f"h_{lane.id}"] for lane in f.lanes}
    for lane in f.lanes:
        out.append(f'  "h_{lane.id}" [shape=box, style="rounded,filled,bold", fillcolor="#ecf0f1", '
                   f'label=<<b>{escape(lane.title)}</b>>, pos="{xs[lane.id]},0!"];')
    for row in f.rows:
        out.extend(_row(row, ys[row.n], xs, text_x, row.n == mark, f, on_lane))
    for lane in f.lanes:   # the lifeline: segments between what sits on the lane, never across a box
        out.append(f'  "end_{lane.id}" [shape=point, width=0.01, style=invis, pos="{xs[lane.id]},{bottom}!"];')
        chain = on_lane[lane.id] + [f"end_{lane.id}"]
        out.extend(f'  "{a}" -> "{b}" [arrowhead=none, style=dashed, color="{GREY}"];'
                   for a, b in zip(chain, chain[1:]))
    out.extend(_arrows(f, xs, ys, bottom))
    out.append("}")
    return "\n".join(out) + "\n"


def _title(f: Flow) -> str:
    head = f"<b>{escape(f.title)}</b>"
    if f.promise:
        head += f'<br align="left"/><font point-size="11">Promise: {escape(f.promise)}</font>'
    return head + '<br align="left"/>'


def _text_lines(row: Row) -> tuple[list[str], list[str]]:
    said = textwrap.wrap(f"{row.n}. {row.sentence}", SENTENCE, subsequent_indent="    ")
    changed = [str(c) for c in row.changes if not c.history]
    shown = textwrap.wrap("; ".join(changed), CHANGES) or []
    if len(shown) > MAX_CHANGES:
        shown = shown[:MAX_CHANGES - 1] + [shown[MAX_CHANGES - 1][:CHANGES - 24] + " ... (see the state diff)"]
    return said, shown


def _height(row: Row) -> int:
    said, shown = _text_lines(row)
    lost = sum(a.lost for a in row.ends)
    return max(34 if not lost else 44 + 24 * lost, LINE * (len(said) + len(shown)) + 14)


def _rows_y(rows: list[Row]) -> tuple[dict[int, float], int]:
    """The centre height of each row (Graphviz's y grows upwards) and the bottom."""
    ys: dict[int, float] = {}
    y = -30
    for row in rows:
        h = _height(row)
        ys[row.n] = y - h / 2
        y -= h
    return ys, y - 20


def _row(row: Row, y: float, xs: dict[str, int], text_x: int, marked: bool, f: Flow,
         on_lane: dict[str, list[str]]) -> list[str]:
    ev = row.event
    said, shown = _text_lines(row)
    lines = [f'<font point-size="11">{escape(line)}</font>' for line in said]
    lines += [f'<font point-size="9" color="{GREY}">{escape(line)}</font>' for line in shown]
    if marked:
        lines.insert(0, f'<font point-size="11" color="{MARK_LINE}"><b>{escape(f.mark_text)}</b></font>')
    cell = '<br align="left"/>'.join(lines) + '<br align="left"/>'
    # the text's node is a little smaller than its text (fixedsize): rows never touch
    bg = f' bgcolor="{MARK_FILL}"' if marked else ""
    out = [f'  "t{row.n}" [shape=plaintext, fixedsize=true, width={TEXT_W / 72:.3f}, '
           f'height={(_height(row) - 10) / 72:.3f}, label=<<table border="0" cellpadding="2" '
           f'cellspacing="0" width="{TEXT_W}"{bg}><tr><td align="left" balign="left">{cell}</td></tr>'
           f'</table>>, pos="{text_x + TEXT_W / 2:.0f},{y:.0f}!"];']
    if marked:   # a cross in the left margin, level with the breaking step
        out.append(f'  "mark" [shape=plaintext, fixedsize=true, width=0.3, height=0.3, fontsize=20, '
                   f'fontcolor="{MARK_LINE}", label=<<b>&#x2717;</b>>, pos="{-LANE * 0.5 - 30:.0f},{y:.0f}!"];')
    if ev.lane is None:
        return out
    fill = CRASH_FILL if ev.crash else FAULT_FILL if row.fault else "white"
    color = MARK_LINE if marked else "black"
    label = escape(row.label)
    style = "filled,bold" if marked else "filled"
    pen = ", penwidth=2.5" if marked else ""
    out.append(f'  "s{row.n}" [shape=box, style="{style}", fillcolor="{fill}", color="{color}"{pen}, '
               f'margin="0.06,0.02", height=0.28, label=<<font point-size="8">{row.n}</font> {label}>, '
               f'pos="{xs[ev.lane]},{y:.0f}!"];')
    on_lane[ev.lane].append(f"s{row.n}")
    for k, x in enumerate(ev.exchanges):
        peer = f"x{row.n}_{k}"
        out.append(f'  "{peer}" [shape=point, width=0.06, pos="{xs[x.peer]},{y:.0f}!"];')
        on_lane[x.peer].append(peer)
        a, b = (peer, f"s{row.n}") if x.inbound else (f"s{row.n}", peer)
        out.append(f'  "{a}" -> "{b}" [color="#2c3e50"];')
    return out


def _ports(f: Flow, xs: dict[str, int]) -> dict[int, str]:
    """Where on its sender's box each of several messages of one step leaves.

    Messages a step sends to receivers that happen to lie on one line would
    be drawn on top of each other; leaving the box at its bottom, corner and
    side (nearest receiver first) keeps them apart.
    """
    port: dict[int, str] = {}
    for row in f.rows:
        if len(row.sends) < 2:
            continue
        for k, a in enumerate(sorted(row.sends, key=lambda a: abs(xs[a.dst] - xs[a.src]))):
            side = "e" if xs[a.dst] >= xs[a.src] else "w"
            port[id(a)] = ":" + ("s", "s" + side, side)[min(k, 2)]
    return port


def _arrows(f: Flow, xs: dict[str, int], ys: dict[int, float], bottom: int) -> list[str]:
    """Every message: from its sender's box (or the top) to its receiver's box.

    Messages lost in the same row between the same lanes end in one red
    cross below the row's centre (so it never covers the row's box), which
    lists them; messages still in flight when the trace ends run to the
    bottom, one line each.
    """
    out: list[str] = []
    ends: dict[tuple, list[Arrow]] = {}
    flying = [a for a in f.arrows if a.ended is None]
    port = _ports(f, xs)
    for a in f.arrows:
        if a.ended is not None and not a.lost:
            out.append(f'  "{_tail(a)}"{port.get(id(a), "")} -> "s{a.ended}" [color="#2c3e50"];')
        elif a.lost:
            ends.setdefault((a.ended, a.src, a.dst), []).append(a)
    for k, ((row, a_src, a_dst), lost) in enumerate(sorted(ends.items(), key=lambda e: e[0])):
        mid = (xs[a_src] + xs[a_dst]) / 2
        text = '<br/>'.join(f"<b>&#x2715;</b> {escape(a.label)} {a.fate}" for a in lost)
        out.append(f'  "lost{k}" [shape=plaintext, fontsize=9, fontcolor="{LOST}", margin=0, height=0, '
                   f'label=<{text}>, pos="{mid:.0f},{ys[row] - 16 - 6 * len(lost):.0f}!"];')
        out.extend(f'  "{_tail(a)}" -> "lost{k}" [style=dashed, color="{LOST}", arrowhead=none];'
                   for a in lost)
    for k, a in enumerate(flying):   # on its way: three quarters towards its receiver
        mid = xs[a.src] + 0.75 * (xs[a.dst] - xs[a.src])
        out.append(f'  "fly{k}" [shape=plaintext, fontsize=8, fontcolor="{GREY}", margin=0, height=0, '
                   f'label="{escape(a.label)}: still in flight", pos="{mid:.0f},{bottom - 14 - 16 * k}!"];')
        out.append(f'  "{_tail(a)}" -> "fly{k}" [style=dotted, color="{GREY}"];')
    return out


def _tail(a: Arrow) -> str:
    """The node a message leaves from: its sender's step, or the lane header when it was
    already in flight at the start."""
    return f"s{a.sent}" if a.sent else f"h_{a.src}"
