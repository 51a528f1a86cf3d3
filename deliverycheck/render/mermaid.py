"""The sequence diagram as Mermaid ``sequenceDiagram`` text.

GitHub renders Mermaid in Markdown files, issues, pull requests and job
summaries, so this is the picture a reviewer sees without running
anything.  Mermaid draws every arrow horizontally, at one moment, so a
message is drawn when it is sent and its label says when it arrived, was
lost, or that it is still in flight (a late one says so).  Each step is a
numbered note on its lane (or an arrow, when the step is a call answered
at once); what a step made visible to the downstream reader is an arrow
to the reader; the step where the promise breaks sits in a red box, and
what is wrong at the end is a note after it.
"""

from __future__ import annotations

from deliverycheck.render.flow import Arrow, Flow, Row

MARK = "rgba(255, 120, 120, 0.25)"


def to_mermaid(f: Flow) -> str:
    """The Mermaid text of ``f`` (deterministic)."""
    out = ["sequenceDiagram"]
    out += [f"    participant {lane.id} as {_text(lane.title)}" for lane in f.lanes]
    for a in f.arrows:
        if a.sent == 0:
            out.append(f"    {_arrow(a)}: {_text(a.label)} (in flight at the start, {_fate(a)})")
    for row in f.rows:
        marked = row.n == f.mark
        lines = _row(row, f)
        if marked:
            lanes = row.event.lane or (row.ends[0].src if row.ends else f.lanes[0].id)
            lines = ([f"    rect {MARK}"] + ["    " + line for line in lines]
                     + [f"        Note over {lanes}: {_text(f.mark_text)}", "    end"])
        out.extend(lines)
    if f.ending:
        first, last = f.lanes[0].id, f.lanes[-1].id
        span = first if first == last else f"{first},{last}"
        out.append(f"    Note over {span}: {_text('at the end: ' + '; '.join(f.ending))}")
    return "\n".join(out) + "\n"


def _row(row: Row, f: Flow) -> list[str]:
    ev = row.event
    label = f"{row.n}. {row.label}"
    out = []
    if ev.lane is None:   # the network loses messages between two lanes
        a = row.ends[0]
        out.append(f"    Note over {a.src},{a.dst}: {_text(label)}")
    elif ev.exchanges:
        for x in ev.exchanges:
            a, b = (x.peer, ev.lane) if x.inbound else (ev.lane, x.peer)
            out.append(f"    {a}->>{b}: {_text(label)}")
    else:
        out.append(f"    Note over {ev.lane}: {_text(label)}")
    for a in row.sends:
        out.append(f"    {_arrow(a)}: {_text(a.label)} ({_fate(a)})")
    for r in f.reads:
        if r.row == row.n:
            out.append(f"    {r.src}-->>{r.dst}: {_text('returned ' + r.label)}")
    return out


def _arrow(a: Arrow) -> str:
    """Async arrow ``-)``; a lost message ends in a cross (``--x``), one still flying is dotted."""
    head = "--x" if a.lost else "--)" if a.ended is None else "-)"
    return f"{a.src}{head}{a.dst}"


def _fate(a: Arrow) -> str:
    if a.ended is None:
        return "still in flight at the end"
    if a.lost:
        return f"{a.fate} at step {a.ended}"
    return f"arrives LATE at step {a.ended}" if a.late else f"arrives at step {a.ended}"


def _text(s: str) -> str:
    """Text Mermaid reads literally: '#' and ';' start entity codes and statements there."""
    return s.replace(";", ",").replace("#", "#35;")
