"""The HTML report: one self-contained file that works offline.

It opens with what was run (the command, the version, the model's
source and content hash, the expectations and the bounds of each
search), then holds the verdict table (each row says whether it matches
expected.toml; an expected violation is not painted as a failure), then
for every counterexample its sequence diagram (inline SVG, scaled to the
page so no diagram needs sideways scrolling), its story, and the
step-by-step state view: one column per step, one row per state field,
the cells a step changed highlighted.  No script, no external stylesheet, font or image: the file
can be attached to a CI run or mailed and still opens anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Sequence

from deliverycheck import __version__
from deliverycheck.render.diff import show_value
from deliverycheck.trace import Trace

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2.5em; border-top: 1px solid #ccc;
  padding-top: 1em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f6f7; }
tr.differs td { background: #fdecea; }
td.differs { color: #b03a2e; font-weight: bold; } td.matches { color: #1e8449; }
td.uncompared { color: #7f8c8d; }
.figure { border: 1px solid #eee; padding: 0.5em; }
.figure svg { max-width: 100%; height: auto; display: block; }
.about { font-family: Menlo, Consolas, monospace; font-size: 0.85em; background: #f8f9f9;
  padding: 0.6em 0.8em; white-space: pre-wrap; }
pre { background: #f8f9f9; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
.states { overflow-x: auto; }
.states td { white-space: nowrap; font-family: Menlo, Consolas, monospace; font-size: 0.9em; }
.states td.changed { background: #fff3b0; }
.states tr.history td { color: #7f8c8d; }
.note { color: #7f8c8d; }
"""


@dataclass
class Verdict:
    """One row of the verdict table (what ``deliverycheck verify`` printed)."""

    mode: str
    variant: str
    property: str
    kind: str
    verdict: str
    expected: str
    matches: bool | None           # None: no expectations for these bounds (not compared)
    length: int | None = None
    anchor: str | None = None      # the section of its counterexample, if drawn
    lemma: bool = False            # a proof lemma (rows that match are not listed)


@dataclass
class Section:
    """One counterexample: its trace, story, diagram (SVG text or None) and anchor."""

    anchor: str
    trace: Trace
    story: str
    svg: str | None
    dot: str


def report(verdicts: Sequence[Verdict], sections: Sequence[Section], title: str,
           missing_images: str | None = None, about: Sequence[str] = ()) -> str:
    """The whole report as HTML text (deterministic); ``about`` lines open it."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{escape(title)}</h1>"]
    if about:
        out.append(f'<div class="about">{escape(chr(10).join(about))}</div>')
    out.append(f'<p class="note">Made by deliverycheck {escape(__version__)}: '
               f"{len(sections)} counterexample{'s' if len(sections) != 1 else ''}.</p>")
    if missing_images:
        out.append(f'<p class="note">{escape(missing_images)}</p>')
    if verdicts:
        out.append("<h2>Verdicts</h2>")
        out.append(_verdict_table(verdicts))
    for s in sections:
        out.append(_section(s))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _verdict_table(verdicts: Sequence[Verdict]) -> str:
    rows = ["<table><tr><th>mode</th><th>variant</th><th>property</th><th>kind</th><th>verdict</th>"
            "<th>expected</th><th>compared</th><th>steps</th><th>counterexample</th></tr>"]
    hidden = 0
    for v in verdicts:
        if v.lemma and v.matches is not False:
            hidden += 1
            continue
        link = f'<a href="#{v.anchor}">diagram</a>' if v.anchor else ""
        word = {True: "matches", False: "differs", None: "uncompared"}[v.matches]
        cls = ' class="differs"' if v.matches is False else ""
        rows.append(f"<tr{cls}><td>{escape(v.mode)}</td><td>{escape(v.variant)}</td>"
                    f"<td>{escape(v.property)}</td><td>{escape(v.kind)}</td>"
                    f"<td>{escape(v.verdict)}</td><td>{escape(v.expected)}</td>"
                    f'<td class="{word}">{"not compared" if v.matches is None else word}</td>'
                    f"<td>{'' if v.length is None else v.length}</td><td>{link}</td></tr>")
    rows.append("</table>")
    if hidden:
        rows.append(f'<p class="note">{hidden} proof-lemma rows that match are not listed '
                    "(deliverycheck verify --lemmas, or --json, shows them).</p>")
    return "\n".join(rows)


def _section(s: Section) -> str:
    cfg = s.trace.system.cfg
    head = f"{cfg.mode.name} / {cfg.variant.name}: {s.trace.property} ({len(s.trace)} steps)"
    out = [f'<h2 id="{escape(s.anchor)}">{escape(head)}</h2>']
    if s.svg is not None:
        out.append(f'<div class="figure">{_inline(s.svg)}</div>')
    else:
        out.append('<p class="note">No picture: Graphviz\'s <code>dot</code> was not found when this '
                   "report was made. The diagram's DOT source:</p>")
        out.append(f"<details><summary>DOT</summary><pre>{escape(s.dot)}</pre></details>")
    out.append(f"<h3>Story</h3><pre>{escape(s.story)}</pre>")
    out.append("<details><summary>Step by step: every field after every step "
               "(changed cells highlighted)</summary>")
    out.append(state_table(s.trace))
    out.append("</details>")
    return "\n".join(out)


def _inline(svg: str) -> str:
    """An SVG document as an element to put in HTML (no XML prolog, DOCTYPE or comments)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def state_table(trace: Trace) -> str:
    """The step-by-step state view: fields down, steps across, changes highlighted."""
    schema = trace.system.schema
    states = [schema.shared(st.state) for st in trace.steps]
    head = ["<th>field</th>"] + [
        f'<th title="{escape(st.action or "initial state")}">{n}'
        f'{"<br>" + escape(st.action) if st.action else "<br>initial"}</th>'
        for n, st in enumerate(trace.steps)]
    rows = ["<div class=\"states\"><table>", "<tr>" + "".join(head) + "</tr>"]
    for f in sorted(schema.fields, key=lambda f: f.ghost):
        cls = ' class="history"' if f.ghost else ""
        cells = [f'<td title="{escape(f.doc)}">{escape(f.name)}{" (history)" if f.ghost else ""}</td>']
        for n, s in enumerate(states):
            changed = n > 0 and s[f.name] != states[n - 1][f.name]
            cells.append(f'<td{" class=changed" if changed else ""}>{escape(show_value(f, s[f.name]))}</td>')
        rows.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    rows.append("</table></div>")
    return "\n".join(rows)

