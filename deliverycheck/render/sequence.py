"""The sequence diagram: one lane per actor, time running down, messages as arrows.

Drawn from a :class:`~deliverycheck.render.flow.Flow` as Graphviz DOT with
every node pinned (``layout=neato``, positions in points), so the picture
is the same on every machine and nothing overlaps by accident: lanes are
columns a fixed width apart, each step is a row as tall as its text, and
the text of a step (its sentence and the state it changed) sits in a
column right of the lanes.  Arrows are drawn under the boxes
(``outputorder=edgesfirst``), so a message passing behind a lane never
hides a step.

Marks: a step box is orange when the step spends a fault (a premature
timeout, an injected error), red with "crash" when a process crashes; a
lost or discarded message ends in a red cross at the row it was lost in;
the row where the promise breaks has a red band and says so.
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
           '  graph [layout=neato, inputscale=72, notranslate=true, splines=line, '
           'outputorder=edgesfirst, overlap=true, labelloc=t, labeljust=l, fontname="{0}", '
           'fontsize=14, pad=0.3, label=<{1}>];'.format(FONT, _title(f)),
           f'  node [fontname="{FONT}", fontsize=10];',
           f'  edge [fontname="{FONT}", fontsize=9, arrowsize=0.7];']
    mark = f.mark
    if mark is not None:   # a band under the breaking row, across lanes and text
        row_h = _height(next(r for r in f.rows if r.n == mark))
        width = text_x + TEXT_W + LANE // 2 + 10
        out.append(f'  band [shape=box, style="filled", fillcolor="{MARK_FILL}80", color="{MARK_LINE}", '
                   f'label="", fixedsize=true, width={width / 72:.3f}, height={(row_h - 4) / 72:.3f}, '
                   f'pos="{width / 2 - LANE // 2 - 5:.0f},{ys[mark]:.0f}!"];')
    for lane in f.lanes:   # headers and lifelines
        x = xs[lane.id]
        out.append(f'  "h_{lane.id}" [shape=box, style="rounded,filled,bold", fillcolor="#ecf0f1", '
                   f'label=<<b>{escape(lane.title)}</b>>, pos="{x},0!"];')
        out.append(f'  "end_{lane.id}" [shape=point, width=0.01, style=invis, pos="{x},{bottom}!"];')
        out.append(f'  "h_{lane.id}" -> "end_{lane.id}" [arrowhead=none, style=dashed, color="{GREY}"];')
    for row in f.rows:
        out.extend(_row(row, ys[row.n], xs, text_x, row.n == mark, f))
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
    return max(34 + 12 * lost, LINE * (len(said) + len(shown)) + 14)


def _rows_y(rows: list[Row]) -> tuple[dict[int, float], int]:
    """The centre height of each row (Graphviz's y grows upwards) and the bottom."""
    ys: dict[int, float] = {}
    y = -30
    for row in rows:
        h = _height(row)
        ys[row.n] = y - h / 2
        y -= h
    return ys, y - 20


def _row(row: Row, y: float, xs: dict[str, int], text_x: int, marked: bool, f: Flow) -> list[str]:
    ev = row.event
    said, shown = _text_lines(row)
    lines = [f'<font point-size="11">{escape(line)}</font>' for line in said]
    lines += [f'<font point-size="9" color="{GREY}">{escape(line)}</font>' for line in shown]
    if marked:
        lines.insert(0, f'<font point-size="11" color="{MARK_LINE}"><b>{escape(f.mark_text)}</b></font>')
    cell = '<br align="left"/>'.join(lines) + '<br align="left"/>'
    out = [f'  "t{row.n}" [shape=plain, label=<<table border="0" cellpadding="0" cellspacing="0" '
           f'width="{TEXT_W}" fixedsize="false"><tr><td align="left" balign="left">{cell}</td></tr>'
           f'</table>>, pos="{text_x + TEXT_W / 2:.0f},{y:.0f}!"];']
    if ev.lane is None:
        return out
    fill = CRASH_FILL if ev.crash else FAULT_FILL if row.fault else "white"
    color = MARK_LINE if marked else "black"
    label = escape(("crash: " if ev.crash else "") + ev.label)
    style = "filled,bold" if marked else "filled"
    out.append(f'  "s{row.n}" [shape=box, style="{style}", fillcolor="{fill}", color="{color}", '
               f'margin="0.06,0.02", height=0.28, label=<<font point-size="8">{row.n}</font> {label}>, '
               f'pos="{xs[ev.lane]},{y:.0f}!"];')
    for k, x in enumerate(ev.exchanges):
        peer = f"x{row.n}_{k}"
        out.append(f'  "{peer}" [shape=point, width=0.06, pos="{xs[x.peer]},{y:.0f}!"];')
        a, b = (peer, f"s{row.n}") if x.inbound else (f"s{row.n}", peer)
        out.append(f'  "{a}" -> "{b}" [color="#2c3e50"];')
    return out


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
    for a in f.arrows:
        src = f"s{a.sent}" if a.sent else f"h_{a.src}"
        if a.ended is not None and not a.lost:
            out.append(f'  "{src}" -> "s{a.ended}" [color="#2c3e50"];')
        elif a.lost:
            ends.setdefault((a.ended, a.src, a.dst), []).append(a)
    for k, ((row, a_src, a_dst), lost) in enumerate(sorted(ends.items(), key=lambda e: e[0])):
        mid = (xs[a_src] + xs[a_dst]) / 2
        text = '<br/>'.join(f"<b>&#x2715;</b> {escape(a.label)} {a.fate}" for a in lost)
        out.append(f'  "lost{k}" [shape=plaintext, fontsize=9, fontcolor="{LOST}", margin=0, height=0, '
                   f'label=<{text}>, pos="{mid:.0f},{ys[row] - 10 - 6 * len(lost):.0f}!"];')
        for a in lost:
            src = f"s{a.sent}" if a.sent else f"h_{a.src}"
            out.append(f'  "{src}" -> "lost{k}" [style=dashed, color="{LOST}", arrowhead=none];')
    for k, a in enumerate(flying):
        src = f"s{a.sent}" if a.sent else f"h_{a.src}"
        mid = (xs[a.src] + xs[a.dst]) / 2
        out.append(f'  "fly{k}" [shape=plaintext, fontsize=8, fontcolor="{GREY}", margin=0, height=0, '
                   f'label="{escape(a.label)}: still in flight", pos="{mid:.0f},{bottom - 10 - 12 * k}!"];')
        out.append(f'  "{src}" -> "fly{k}" [style=dotted, color="{GREY}"];')
    return out
