"""The mutation report: scores per mode and per action, and every survivor shown.

Text (stdout), JSON (``--json``, schema ``deliverycheck.mutate/1``,
docs/mutation.md) and an HTML page (``mutation.html`` in ``--out``) say the
same things: for each mode, how many mutants each class holds, the
mutation score, the same per action, and for each mutant that survived the
source line it changes and the first reachable state where it behaves
unlike the model, which is the behaviour no promise pins down.
"""

from __future__ import annotations

import html
import linecache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .run import STATUSES, Outcome
from .sites import Mutant

SCHEMA = "deliverycheck.mutate/1"
WORDS = {"killed": "killed", "killed-by-figure": "killed only by a pinned figure",
         "survived": "survived", "equivalent": "equivalent", "undecided": "undecided",
         "error": "failed to run",
         "not-run": "not run"}


@dataclass
class ModeResult:
    """One mode's mutants and what became of each."""

    mode: str
    searches: list[str]
    mutants: list[Mutant]                     # those the run selected
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    total: int = 0                            # the mode's mutants before selection

    def status(self, m: Mutant) -> str:
        """The mutant's class, or ``not-run``."""
        o = self.outcomes.get(m.id)
        return o.status if o is not None else "not-run"

    def counts(self, mutants: Sequence[Mutant] | None = None) -> dict[str, int]:
        """How many mutants each class holds."""
        out = {s: 0 for s in (*STATUSES, "not-run")}
        for m in self.mutants if mutants is None else mutants:
            out[self.status(m)] += 1
        return out

    def per_action(self) -> dict[str, dict[str, int]]:
        """Counts per action (a mutant of a helper counts for every action it reaches)."""
        by: dict[str, list[Mutant]] = {}
        for m in self.mutants:
            for a in m.actions:
                by.setdefault(a, []).append(m)
        return {a: self.counts(ms) for a, ms in sorted(by.items())}


def score(counts: dict[str, int]) -> tuple[float | None, float | None]:
    """The mutation score (killed / mutants that are not equivalent and were run), and the
    same with the mutants only a pinned figure kills counted as killed."""
    judged = sum(counts[s] for s in ("killed", "killed-by-figure", "survived", "undecided", "error"))
    if not judged:
        return None, None
    return counts["killed"] / judged, (counts["killed"] + counts["killed-by-figure"]) / judged


def percent(x: float | None) -> str:
    """``87.5%`` (or ``-`` when there is nothing to score)."""
    return "-" if x is None else f"{100 * x:.1f}%"


def source_line(root: Path, m: Mutant) -> str:
    """The model's line the mutant changes, stripped."""
    return linecache.getline(str(root / m.key.file), m.key.line).strip()


def text(results: Sequence[ModeResult], root: Path, run: dict[str, Any]) -> str:
    """The report as text."""
    out: list[str] = []
    for r in results:
        c = r.counts()
        s, sf = score(c)
        picked = f" ({len(r.mutants)} selected of {r.total})" if len(r.mutants) != r.total else ""
        out.append(f"{r.mode}: {len(r.mutants)} mutants{picked}, run in {len(r.searches)} "
                   f"search{'es' * (len(r.searches) != 1)} ({', '.join(v.split('/')[1] for v in r.searches)})")
        out.append("  " + ", ".join(f"{WORDS[k]} {v}" for k, v in c.items() if v or k in STATUSES[:4]))
        out.append(f"  score {percent(s)} by verdicts, {percent(sf)} with pinned figures "
                   "(killed / mutants not equivalent)")
        rows = [("action", "mutants", "killed", "figure", "survived", "equiv", "undec", "score")]
        for a, ac in r.per_action().items():
            rows.append((a, str(sum(ac.values())), str(ac["killed"]), str(ac["killed-by-figure"]),
                         str(ac["survived"]), str(ac["equivalent"]), str(ac["undecided"]),
                         percent(score(ac)[0])))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            out.append("  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                                        for i, (cell, w) in enumerate(zip(row, widths))))
        for status in ("survived", "undecided", "error"):
            shown = [m for m in r.mutants if r.status(m) == status]
            if shown:
                out.append(f"  {WORDS[status].capitalize()}:")
            for m in shown:
                o = r.outcomes[m.id]
                out.append(f"    M{m.id} {m.where} {m.key.kind}: `{m.text}`, {m.change}")
                out.append(f"      {source_line(root, m)}")
                for reason in o.reasons:
                    out.append(f"      {o.search}: {reason}")
        out.append("")
    out.append(run_line(run))
    return "\n".join(out) + "\n"


def run_line(run: dict[str, Any]) -> str:
    """How long the run took, on what, and whether it finished."""
    done = run["mutants"] - run["not_run"]
    where = "in this process" if run["workers"] == 0 else (
        f"on {run['workers']} Dask worker{'s' * (run['workers'] != 1)}"
        + (f" at {run['scheduler']}" if run.get("scheduler") else ""))
    line = (f"{done:,} mutants checked in {run['seconds']:.1f} s ({run['per_minute']:.1f} mutants "
            f"per minute) {where}")
    if run["not_run"]:
        line += f"; incomplete: {run['not_run']:,} not run ({run['stopped']})"
    return line


def to_json(results: Sequence[ModeResult], root: Path, run: dict[str, Any], source: dict) -> dict:
    """The report as JSON-ready data (schema ``deliverycheck.mutate/1``, docs/mutation.md)."""
    modes = []
    for r in results:
        c = r.counts()
        s, sf = score(c)
        mutants = []
        for m in r.mutants:
            o = r.outcomes.get(m.id)
            entry = {"id": m.id, "file": m.key.file, "line": m.key.line, "col": m.key.col,
                     "end_line": m.key.end_line, "end_col": m.key.end_col, "kind": m.key.kind,
                     "text": m.text, "change": m.change, "source_line": source_line(root, m),
                     "actions": m.actions, "status": r.status(m)}
            if o is not None:
                entry.update(search=o.search, reasons=o.reasons, property=o.property,
                             trace=o.trace, story=o.story, difference=o.difference,
                             states=o.states, seconds=round(o.seconds, 3))
            mutants.append(entry)
        modes.append({"mode": r.mode, "searches": r.searches, "mutants_in_mode": r.total,
                      "counts": c, "score": s, "score_with_figures": sf,
                      "per_action": {a: dict(ac, score=score(ac)[0]) for a, ac in r.per_action().items()},
                      "mutants": mutants})
    return {"schema": SCHEMA, "source": source, "run": run, "modes": modes}


def page(results: Sequence[ModeResult], root: Path, run: dict[str, Any], title: str,
         out: Path | None = None) -> str:
    """The report as one HTML page (in ``out``: the traces are linked relative to it)."""
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
             "td.n{text-align:right}code,pre{font:13px ui-monospace,monospace}"
             "pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}"
             ".survived{color:#a30}.killed{color:#070}.equivalent{color:#555}"
             "</style></head><body>", f"<h1>{e(title)}</h1>", f"<p>{e(run_line(run))}</p>"]
    for r in results:
        c = r.counts()
        s, sf = score(c)
        parts.append(f"<h2 id='{e(r.mode)}'>{e(r.mode)}</h2>")
        parts.append(f"<p>{len(r.mutants)} mutants, run in {e(', '.join(r.searches))}. Score "
                     f"<b>{percent(s)}</b> by verdicts, {percent(sf)} with pinned figures.</p>")
        parts.append("<table><tr>" + "".join(f"<th>{e(WORDS[k])}</th>" for k in c) + "</tr><tr>"
                     + "".join(f"<td class=n>{v}</td>" for v in c.values()) + "</tr></table>")
        parts.append("<table><tr><th>action</th><th>mutants</th><th>killed</th><th>figure only</th>"
                     "<th>survived</th><th>equivalent</th><th>undecided</th><th>score</th></tr>")
        for a, ac in r.per_action().items():
            parts.append(f"<tr><td>{e(a)}</td><td class=n>{sum(ac.values())}</td>"
                         + "".join(f"<td class=n>{ac[k]}</td>" for k in
                                   ("killed", "killed-by-figure", "survived", "equivalent", "undecided"))
                         + f"<td class=n>{percent(score(ac)[0])}</td></tr>")
        parts.append("</table>")
        for status in ("survived", "undecided", "error", "killed-by-figure", "equivalent", "killed"):
            shown = [m for m in r.mutants if r.status(m) == status]
            if not shown:
                continue
            parts.append(f"<h3 class='{status.split('-')[0]}'>{e(WORDS[status].capitalize())} "
                         f"({len(shown)})</h3>")
            if status in ("killed", "equivalent", "killed-by-figure"):
                parts.append("<details><summary>show them</summary>")
            for m in shown:
                o = r.outcomes[m.id]
                parts.append(f"<p><b>M{m.id}</b> <code>{e(m.where)}</code> {e(m.key.kind)}: "
                             f"<code>{e(m.text)}</code>, {e(m.change)}<br>"
                             f"<code>{e(source_line(root, m))}</code><br>"
                             + "<br>".join(f"{e(o.search)}: {e(x)}" for x in o.reasons) + "</p>")
                if o.difference and o.difference.get("story"):
                    parts.append(f"<details><summary>how the state is reached</summary><pre>"
                                 f"{e(o.difference['story'])}</pre></details>")
                if o.story:
                    link = Path(o.story).relative_to(out) if out else Path(o.story)
                    parts.append(f"<p>the mutant's counterexample: <a href='{e(link.as_posix())}'>"
                                 f"story</a>, <a href='{e(link.with_suffix('').with_suffix('.itf.json').as_posix())}'>"
                                 "trace</a></p>")
            if status in ("killed", "equivalent", "killed-by-figure"):
                parts.append("</details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
