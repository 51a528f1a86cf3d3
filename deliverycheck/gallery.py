"""Diagrams of a verification run: ``verify --out`` and the committed gallery.

``write_out`` adds to what ``verify`` already wrote per trace (ITF and
story): the sequence diagram as DOT, Mermaid and Markdown for every trace,
SVG pictures (and PNG, if asked) for counterexamples, and one HTML report
of the run.

``write_gallery`` writes ``counterexamples/``: one folder per expected
violation ``<mode>/<variant>/<property>/`` holding ``trace.itf.json``,
``diagram.dot``, ``diagram.svg`` and ``story.md``, one folder per saved
history ``histories/<name>/`` (the same files: :mod:`deliverycheck.histories`),
and a README with the verdict table and an index.  Nothing in it depends on timings or the
machine (except the SVG bytes, which CI does not compare), so the same
model gives the same gallery byte for byte.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from typing import Any, Callable

from deliverycheck.histories import History
from deliverycheck.histories import load as load_history
from deliverycheck.histories import paths as history_paths
from deliverycheck.histories import problems as history_problems
from deliverycheck.properties import LEMMAS
from deliverycheck.render.files import sequence, write_traces
from deliverycheck.render.html import Section, Verdict, report
from deliverycheck.render.story import story
from deliverycheck.report import Context, outcome, search_line, verdict_text, world_text
from deliverycheck.verify import Result, Run

def counterexamples(runs: Sequence[Run]) -> list[Result]:
    """The results with a counterexample to draw (a broken promise, not a reached witness), in run order."""
    return [r for run_ in runs for r in run_.results
            if r.shown is not None and r.shown.system.spec.scene is not None
            and r.verdict == "violated" and r.kind != "sometimes"]


def anchor(r: Result) -> str:
    """The HTML id / folder name of a result: ``mode/variant/property``."""
    return f"{r.mode}/{r.variant}/{r.property}"


def verdicts(runs: Sequence[Run]) -> list[Verdict]:
    """The verdict table's rows, as the HTML report shows them."""
    drawn = {id(r) for r in counterexamples(runs)}
    out = []
    for run_ in runs:
        depth = run_.bmc.depth if run_.bmc is not None else None
        out += [Verdict(r.mode, r.variant, r.property, r.kind, verdict_text(r.kind, r.verdict, depth),
                        verdict_text(r.kind, r.expected), r.matches if run_.compared else None,
                        r.length, anchor(r) if id(r) in drawn else None, r.lemma)
                for r in run_.results]
    return out


def write_out(out: Path, runs: Sequence[Run], ctx: Context | None = None,
              png: bool = False, about: Sequence[str] | None = None,
              title: str = "deliverycheck verify") -> str | None:
    """Diagrams beside every trace of ``runs`` and ``out/report.html``; the no-Graphviz note or None.

    ``ctx`` (the command, the model's source and hash, the bounds) opens the report.  ``png``:
    a PNG copy of each counterexample's SVG too (Graphviz draws a PNG about ten times slower
    than an SVG, which with a hundred and more counterexamples is a good part of a run).
    ``about`` and ``title``: other opening lines and title (`deliverycheck check`'s).
    """
    items = []
    broken = {id(r) for r in counterexamples(runs)}
    for run_ in runs:
        for r in run_.results:
            if r.shown is None or r.trace is None or r.shown.system.spec.scene is None:
                continue   # no trace, or a specification that declares nothing to draw
            stem = r.trace.removesuffix(".itf.json")
            names = {"dot": Path(stem + ".dot"), "mermaid": Path(stem + ".mmd"),
                     "markdown": Path(stem + ".md")}
            if id(r) in broken:
                names["svg"] = Path(stem + ".svg")
                if png:
                    names["png"] = Path(stem + ".png")
            items.append((r.shown, names))
    note = write_traces(items)
    svgs = {}
    if note is None:
        for r in counterexamples(runs):
            svgs[id(r)] = Path(r.trace.removesuffix(".itf.json") + ".svg").read_text()  # type: ignore[union-attr]
    sections = [Section(anchor(r), r.shown, story(r.shown), svgs.get(id(r)), sequence(r.shown))  # type: ignore[arg-type]
                for r in counterexamples(runs)]
    (out / "report.html").write_text(report(verdicts(runs), sections, title, note,
                                            about=_about(runs, ctx) if about is None else about))
    return note


def _about(runs: Sequence[Run], ctx: Context | None) -> list[str]:
    """The report's opening lines: command, version, model, expectations, bounds of each search."""
    lines = [] if ctx is None else [ctx.command, *ctx.header()]
    lines += [f"{r.mode} / {r.variant} ({world_text(r)}): {search_line(r, timings=False)}"
              for r in runs]
    # the verdicts that differ are marked in the table; the pinned figures are said here
    lines += [f"pinned figure differs: {run_.mode}/{run_.variant} {f}" for run_, f in outcome(runs).figures]
    return lines


def default_runs(out: Path, progress: Callable[[int], Any] | None = None) -> list[Run]:
    """What ``deliverycheck verify`` checks by default (explorer, default bounds), traces in ``out``.

    ``progress(n)`` makes the progress reporter of ``n`` searches, if any;
    an interruption stops at the search it interrupted.
    """
    from deliverycheck.catalog import SPEC
    from deliverycheck.expected import load
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.report import search_line
    from deliverycheck.verify import plan, prebuild, run
    exp = load()
    pairs = plan(list(MODES), list(VARIANTS), False)
    prebuild([Config.of(m, v) for m, v in pairs], SPEC.properties)   # the compiler beside the searches
    shown = progress(len(pairs)) if progress else None
    runs = []
    for m, v in pairs:
        expected = exp.get((m, v))
        if shown:
            shown.start(f"{m}/{v}", pinned=expected.states if expected else None)
        runs.append(run(Config.of(m, v), SPEC.properties, expected, out, progress=shown))
        if shown:
            shown.end(search_line(runs[-1]))
        if runs[-1].interrupted:
            break
    return runs


def wanted(runs: Sequence[Run]) -> list[Result]:
    """The gallery's counterexamples: the violations expected.toml expects."""
    return [r for r in counterexamples(runs) if r.expected == "violated"]


def differences(runs: Sequence[Run], folder: Path) -> list[str]:
    """How the gallery in ``folder`` differs from what ``runs`` give (empty: up to date).

    Compares the traces, DOT files, stories and README byte for byte; SVGs
    only for presence (their bytes depend on the Graphviz version).
    """
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        try:
            write_gallery(runs, fresh, pictures=False)
        except HistoryError as e:
            return [str(e), "fix or remove the history (properties/histories/), then regenerate the "
                            "gallery with `deliverycheck gallery`"]
        for new in sorted(p for p in fresh.rglob("*") if p.is_file()):
            rel = new.relative_to(fresh)
            old = folder / rel
            if not old.is_file():
                out.append(f"{old}: missing")
            elif old.read_bytes() != new.read_bytes():
                out.append(f"{old}: differs from what the model produces now")
        drawn = [anchor(r) for r in wanted(runs)] + [f"{HISTORIES}/{p.parent.name}" for p in
                                                     sorted(fresh.glob(f"{HISTORIES}/*/trace.itf.json"))]
        for sub in drawn:
            if not (folder / sub / "diagram.svg").is_file():
                out.append(f"{folder / sub / 'diagram.svg'}: missing")
        for old in sorted(folder.glob("*/*/*/trace.itf.json")):
            if not (fresh / old.relative_to(folder)).is_file():
                out.append(f"{old.parent}: no longer a counterexample")
        for old in sorted(folder.glob(f"{HISTORIES}/*/trace.itf.json")):
            if not (fresh / old.relative_to(folder)).is_file():
                out.append(f"{old.parent}: no longer a saved history")
    if out:
        out.append("regenerate the gallery with `deliverycheck gallery` and review the diff")
    return out


def write_gallery(runs: Sequence[Run], folder: Path, pictures: bool = True) -> str | None:
    """Write the gallery of ``runs`` into ``folder`` (see the module docstring).

    Folders of counterexamples that no longer exist are removed (only
    folders holding a ``trace.itf.json``: nothing else is touched).  With
    ``pictures`` False the SVGs are not drawn (what CI compares needs none).
    Returns the no-Graphviz note, or None.
    """
    saved = saved_histories()   # before anything is written: a broken history changes nothing
    folder.mkdir(parents=True, exist_ok=True)
    shown = wanted(runs)
    keep = {folder / anchor(r) for r in shown} | {folder / HISTORIES / h.name for h in saved}
    for old in sorted([*folder.glob("*/*/*/trace.itf.json"), *folder.glob(f"{HISTORIES}/*/trace.itf.json")]):
        if old.parent not in keep:
            shutil.rmtree(old.parent)
    items = []

    def files(sub: Path, trace: bool) -> dict[str, Path]:
        names = {"dot": sub / "diagram.dot", "markdown": sub / "story.md"}
        if trace:
            names["trace"] = sub / "trace.itf.json"
        if pictures:
            names["svg"] = sub / "diagram.svg"
        return names

    for r in shown:
        items.append((r.shown, files(folder / anchor(r), trace=True)))
    for h in saved:
        sub = folder / HISTORIES / h.name
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(h.path, sub / "trace.itf.json")   # as saved: its title and about included
        items.append((h.replayed.trace, files(sub, trace=False)))
    note = write_traces(items)
    (folder / "README.md").write_text(readme(runs, shown, saved))
    return note


HISTORIES = "histories"   # the gallery's folder of saved histories


class HistoryError(Exception):
    """A saved history no longer replays or no longer shows what it was saved for."""


def saved_histories() -> list[History]:
    """The specification's saved histories, replayed and checked against expected.toml."""
    from deliverycheck.expected import load
    from deliverycheck.errors import ReplayError
    from deliverycheck.replay import TraceFileError
    expected = load()
    out = []
    for path in history_paths():
        try:
            h = load_history(path)
        except (ReplayError, TraceFileError) as e:
            fix = (f" (after a change of the state fields, `deliverycheck replay --rerecord "
                   f"{path}` takes its steps again)" if "variables" in str(e) else "")
            raise HistoryError(f"history {path.name}: {e}{fix}") from None
        wrong = history_problems(h, expected)
        if wrong:
            raise HistoryError("; ".join(wrong))
        out.append(h)
    return out


def readme(runs: Sequence[Run], shown: Sequence[Result], saved: Sequence[History] = ()) -> str:
    """The gallery's README: the verdict table, an index of the counterexamples, then the
    saved histories."""
    out = ["# Counterexample gallery", "",
           "Generated by `deliverycheck gallery` from the current model at each mode's default "
           "bounds; nothing here is written by hand, and CI fails when it differs from what the "
           "model produces (tests/test_report.py). Each folder holds the trace (`trace.itf.json`, "
           "replay it with `deliverycheck replay`), the sequence diagram (`diagram.svg`, from "
           "`diagram.dot`) and the story with a Mermaid diagram (`story.md`). "
           "docs/reading-a-counterexample.md explains how to read them.", "",
           "## Verdicts", "",
           "| mode | variant | states | broken (counterexamples below) | holds | witnesses reached |",
           "|---|---|---:|---|---|---|"]
    for run_ in runs:
        res = run_.results
        broken = [f"[{r.property}](#{_slug(r)})" for r in res if r in shown]
        holds = [r.property for r in res if r.verdict == "holds" and r.kind != "sometimes"
                 and r.property not in LEMMAS]
        lemmas = sum(r.verdict == "holds" and r.property in LEMMAS for r in res)
        reached = sum(r.verdict == "reached" for r in res)
        witnesses = sum(r.kind == "sometimes" for r in res)
        states = run_.exploration.states if run_.exploration else None
        held = ", ".join(holds) + (f" (+ {lemmas} lemmas)" if lemmas else "")
        out.append(f"| {run_.mode} | {run_.variant} | {'-' if states is None else f'{states:,}'} | "
                   f"{', '.join(broken) or '-'} | {held or '-'} | {reached} of {witnesses} |")
    out += ["", "## Counterexamples", ""]
    for r in shown:
        out += [f"### {r.mode} / {r.variant}: {r.property}", "",
                f"{r.shown.system.spec.property(r.property).summary} "  # type: ignore[union-attr]
                f"Broken in {r.length} step{'s' if r.length != 1 else ''}: "
                f"[story and Mermaid diagram]({anchor(r)}/story.md), "
                f"[sequence diagram]({anchor(r)}/diagram.svg), [trace]({anchor(r)}/trace.itf.json).", ""]
    if saved:
        out += ["## Histories", "",
                "Cases worth knowing that are not the shortest counterexample of their promise, "
                "kept in `properties/histories/` and replayed through the current model each time "
                "the gallery is made (a protocol change that takes one away fails the check).", ""]
    for h in saved:
        t = h.replayed.trace
        cfg, prop = t.system.cfg, h.replayed.recorded
        sub = f"{HISTORIES}/{h.name}"
        out += [f"### {h.title}", "", h.about, "",
                f"{cfg.mode.name} / {cfg.variant.name}: breaks {prop} in {len(t)} steps: "
                f"[story and Mermaid diagram]({sub}/story.md), [sequence diagram]({sub}/diagram.svg), "
                f"[trace]({sub}/trace.itf.json).", ""]
    return "\n".join(out)


def _slug(r: Result) -> str:
    """GitHub's anchor for the heading ``### mode / variant: property``."""
    text = f"{r.mode} / {r.variant}: {r.property}".lower()
    return "".join(c for c in text.replace(" ", "-") if c.isalnum() or c in "-_")

