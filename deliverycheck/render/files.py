"""Every picture and text of a trace, by format name, and writing them to files.

``render(trace, fmt)`` is what ``deliverycheck render`` prints or writes;
``verify --out`` and ``gallery`` write several formats per counterexample.
Pictures (SVG, PNG) need Graphviz's ``dot`` program; without it
:class:`NoGraphviz` says so in one line and the text formats (DOT, Mermaid,
story, HTML) are still written.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import graphviz

from deliverycheck import trace as tr
from deliverycheck.render import FORMATS  # noqa: F401 - re-exported
from deliverycheck.render.diff import cells
from deliverycheck.render.flow import flow
from deliverycheck.render.html import Section, Verdict, report
from deliverycheck.render.mermaid import to_mermaid
from deliverycheck.render.sequence import to_dot
from deliverycheck.render.stategraph import neighbourhood
from deliverycheck.render.stategraph import to_dot as graph_dot
from deliverycheck.render.story import sentence, shows, story

NO_DOT = ("Graphviz's `dot` program was not found, so no SVG or PNG was made (DOT, Mermaid, "
          "story and HTML were); install Graphviz (apt-get install graphviz) to draw them")


class NoGraphviz(Exception):
    """Graphviz's ``dot`` is not installed (the message says how to install it)."""


def image(dot: str, fmt: str) -> bytes:
    """DOT text laid out and drawn by Graphviz as ``fmt`` (svg or png)."""
    try:
        # quiet: a step's text is deliberately bigger than its node (see render/sequence.py)
        return graphviz.pipe("dot", fmt, dot.encode(), quiet=True)
    except graphviz.ExecutableNotFound:
        raise NoGraphviz(NO_DOT) from None


def images(jobs: list[tuple[str, str]]) -> list[bytes]:
    """Several :func:`image` calls on two threads (each is a ``dot`` process)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: image(*job), jobs))


def sequence(trace: tr.Trace) -> str:
    """The sequence diagram as DOT."""
    return to_dot(flow(trace))


def mermaid(trace: tr.Trace) -> str:
    """The sequence diagram as Mermaid text."""
    return to_mermaid(flow(trace))


def state_diff(trace: tr.Trace) -> str:
    """Each step and every cell it changed, old -> new."""
    lines = []
    for n in range(1, len(trace.steps)):
        lines.append(f"{n}. {trace.steps[n].action}: {sentence(trace, n)}")
        lines.extend(f"     {c}" for c in cells(trace, n))
    return "\n".join(lines) + "\n"


def _markdown(text: str, mmd: str) -> str:
    """The story and the Mermaid diagram as Markdown (GitHub draws the diagram)."""
    head = text.partition("\n")[0]
    return (f"# {head}\n\n```mermaid\n{mmd}```\n\n"
            f"The whole story, step by step (state changes under each step):\n\n"
            f"```text\n{text}```\n")


def html_one(trace: tr.Trace, svg: str | None) -> str:
    """A report holding one trace."""
    cfg = trace.system.cfg
    what = trace.property or "a run"
    verdicts = []
    if trace.property:
        verdicts = [Verdict(cfg.mode.name, cfg.variant.name, trace.property,
                            trace.system.spec.property(trace.property).kind,
                            shows(trace) or "-", "-", None, len(trace), "trace")]
    bounds = ", ".join(f"{k}={v}" for k, v in vars(cfg.bounds).items())
    return report(verdicts, [Section("trace", trace, story(trace), svg, sequence(trace))],
                  f"deliverycheck: {cfg.mode.name} / {cfg.variant.name}: {what}",
                  None if svg is not None else NO_DOT, about=[f"bounds: {bounds}"])


_TEXT: dict[str, Callable[[tr.Trace], str]] = {
    "text": story, "diff": state_diff, "dot": sequence, "mermaid": mermaid,
    "graph": lambda t: graph_dot(neighbourhood(t), t),
}


def render(trace: tr.Trace, fmt: str) -> str | bytes:
    """``trace`` in format ``fmt`` (one of :data:`FORMATS`): text, or bytes for PNG.

    Raises :class:`NoGraphviz` for svg/png without ``dot`` and
    :class:`~deliverycheck.render.stategraph.TooLarge` for a state graph of
    a big configuration.
    """
    if fmt in _TEXT:
        return _TEXT[fmt](trace)
    if fmt == "html":
        try:
            svg = image(sequence(trace), "svg").decode()
        except NoGraphviz:
            svg = None
        return html_one(trace, svg)
    if fmt in ("svg", "png"):
        data = image(sequence(trace), fmt)
        return data.decode() if fmt == "svg" else data
    raise ValueError(f"unknown format {fmt!r}")


def write_traces(items: list[tuple[tr.Trace, dict[str, Path]]]) -> str | None:
    """Write each trace's files; ``names`` maps a kind to its path.

    Kinds: ``trace`` (ITF), ``text`` (story), ``markdown`` (story and
    Mermaid), ``dot``, ``mermaid``, ``svg``, ``png``.  Returns the
    one-line note when Graphviz is missing (the pictures are then skipped,
    everything else is written), else None.
    """
    jobs: list[tuple[Path, str, str]] = []
    for trace, names in items:
        chart = flow(trace)
        dot, mmd, text = to_dot(chart), to_mermaid(chart), story(trace)
        texts = {"trace": tr.dumps(trace) if "trace" in names else "", "text": text,
                 "markdown": _markdown(text, mmd), "dot": dot, "mermaid": mmd}
        for kind, path in names.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind in texts:
                path.write_text(texts[kind])
            else:
                jobs.append((path, dot, kind))
    try:
        for (path, _, _), data in zip(jobs, images([(dot, kind) for _, dot, kind in jobs])):
            path.write_bytes(data)
    except NoGraphviz as e:
        return str(e)
    return None
