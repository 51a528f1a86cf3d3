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
a *late* message (its sender had given up on it) is a thick purple arrow
labelled "late"; what a step made visible to the downstream reader is a
green arrow to the reader's lane, labelled with the record; the step where
the promise breaks has a red frame, a red cross in the left margin, and
its text on red says which promise broke; what the promise says is wrong
at the end (what never happened, what appears twice) is a red box under
the last step.

Lanes are 170 points apart, or 125 when there are more than five (the
exactly-once world with its reader), so that the widest diagram fits a
1400-pixel window when the HTML report scales it to the page.
"""

from __future__ import annotations

import textwrap
from html import escape

from deliverycheck.render.flow import Arrow, Flow, Row

LANE = 170          # lane spacing (points), up to NARROW_AFTER lanes
NARROW_LANE = 125   # lane spacing beyond that
NARROW_AFTER = 5
TEXT_X = 10         # gap between the last lane and the text column
TEXT_W = 430        # width of the text column
SENTENCE = 72       # characters per line of a step's sentence
CHANGES = 88        # characters per line of a step's changes
MAX_CHANGES = 3     # lines of changes shown per step (the state diff has all)
LINE = 13           # points per line of text
FONT = "Helvetica"

FAULT_FILL, CRASH_FILL, MARK_FILL = "#fde3c3", "#f7b4b4", "#ffd6d6"
MARK_LINE, LOST, GREY = "#c0392b", "#c0392b", "#7f8c8d"
LATE, READ = "#8e44ad", "#1e8449"


def to_dot(f: Flow) -> str:
    """The sequence diagram of ``f`` as DOT text (deterministic)."""
    lane_w = LANE if len(f.lanes) <= NARROW_AFTER else NARROW_LANE
    xs = {lane.id: i * lane_w for i, lane in enumerate(f.lanes)}
    right = (len(f.lanes) - 1) * lane_w
    text_x = right + lane_w // 2 + TEXT_X
    ys, bottom = _rows_y(f.rows)
    end_lines = _ending_lines(f, right + lane_w)
    if end_lines:   # the box of what is wrong at the end sits under the last row
        end_y = bottom - 10 - LINE * len(end_lines) / 2
        bottom = int(end_y - LINE * len(end_lines) / 2 - 24)
    out = ["digraph sequence {",
           '  graph [layout=neato, inputscale=72, notranslate=true, splines=line, overlap=true, '
           'labelloc=t, labeljust=l, fontname="{0}", fontsize=14, pad=0.3, label=<{1}>];'.format(
               FONT, _title(f)),
           f'  node [fontname="{FONT}", fontsize=10];',
           f'  edge [fontname="{FONT}", fontsize=9, arrowsize=0.7];']
    mark = f.mark
    # what sits on each lane, with its height: the lifeline is drawn between them, top down
    on_lane: dict[str, list[tuple[float, str]]] = {lane.id: [(0.0, f"h_{lane.id}")] for lane in f.lanes}
    for lane in f.lanes:
        title = '<br/>'.join(escape(t) for t in textwrap.wrap(lane.title, 18 if lane_w < LANE else 30))
        out.append(f'  "h_{lane.id}" [shape=box, style="rounded,filled,bold", fillcolor="#ecf0f1", '
                   f'label=<<b>{title}</b>>, pos="{xs[lane.id]},0!"];')
    for row in f.rows:
        out.extend(_row(row, ys[row.n], xs, text_x, row.n == mark, f, on_lane))
    out.extend(_reads(f, xs, ys, on_lane))
    if end_lines:
        text = '<br align="left"/>'.join(escape(line) for line in end_lines) + '<br align="left"/>'
        out.append(f'  "ending" [shape=box, style="filled,bold", color="{MARK_LINE}", fillcolor="{MARK_FILL}", '
                   f'fontsize=10, fontcolor="{MARK_LINE}", margin="0.12,0.06", label=<{text}>, '
                   f'pos="{right / 2:.0f},{end_y:.0f}!"];')
    for lane in f.lanes:   # the lifeline: segments between what sits on the lane, never across a box
        out.append(f'  "end_{lane.id}" [shape=point, width=0.01, style=invis, pos="{xs[lane.id]},{bottom}!"];')
        chain = [name for _, name in sorted(on_lane[lane.id], key=lambda e: -e[0])] + [f"end_{lane.id}"]
        out.extend(f'  "{a}" -> "{b}" [arrowhead=none, style=dashed, color="{GREY}"];'
                   for a, b in zip(chain, chain[1:]))
    out.extend(_arrows(f, xs, ys, bottom))
    out.append("}")
    return "\n".join(out) + "\n"


def _ending_lines(f: Flow, width: int) -> list[str]:
    """The box under the last row: what the promise says is wrong at the end, wrapped."""
    if not f.ending:
        return []
    chars = max(40, int(width / 5.6))
    out = [f"At the end: {f.property} is broken because"]
    for fact in f.ending:
        out += textwrap.wrap(f"- {fact}", chars, subsequent_indent="  ")
    return out


def _reads(f: Flow, xs: dict[str, int], ys: dict[int, float],
           on_lane: dict[str, list[tuple[float, str]]]) -> list[str]:
    """What each step made visible to the reader: a green arrow from the partition's lane.

    From the step's box when the step happened on that lane, else from a
    point on it; several in one row are spread a little apart.
    """
    out: list[str] = []
    boxes = {row.n: row.event.lane for row in f.rows}
    count: dict[int, int] = {}
    for k, r in enumerate(f.reads):
        n = count[r.row] = count.get(r.row, 0) + 1
        y = ys[r.row] - 9 * (n - 1)
        if boxes.get(r.row) == r.src and n == 1:
            tail = f"s{r.row}"
        else:
            tail = f"rs{k}"
            out.append(f'  "{tail}" [shape=point, width=0.05, color="{READ}", pos="{xs[r.src]},{y:.0f}!"];')
            on_lane[r.src].append((y, tail))
        head = f"rd{k}"
        out.append(f'  "{head}" [shape=point, width=0.07, color="{READ}", pos="{xs[r.dst]},{y:.0f}!"];')
        on_lane[r.dst].append((y, head))
        out.append(f'  "{tail}" -> "{head}" [color="{READ}", fontcolor="{READ}", fontsize=8, '
                   f'label=<{escape(r.label)}>];')
    return out


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
         on_lane: dict[str, list[tuple[float, str]]]) -> list[str]:
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
    on_lane[ev.lane].append((y, f"s{row.n}"))
    for k, x in enumerate(ev.exchanges):
        peer = f"x{row.n}_{k}"
        out.append(f'  "{peer}" [shape=point, width=0.06, pos="{xs[x.peer]},{y:.0f}!"];')
        on_lane[x.peer].append((y, peer))
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
        if a.ended is not None and not a.lost and a.late:
            out.append(f'  "{_tail(a)}"{port.get(id(a), "")} -> "s{a.ended}" [color="{LATE}", '
                       f'penwidth=2.2, fontcolor="{LATE}", fontsize=9, label=<<b>late</b>>];')
        elif a.ended is not None and not a.lost:
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
