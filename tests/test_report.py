"""The outputs people read: the committed gallery, the HTML report in a browser, ``render``.

The gallery test is CI's guard that counterexamples/ is what the current
model produces (traces, DOT and Markdown byte for byte; SVGs for presence).
The browser test opens the report ``verify`` writes in Debian's headless
chromium; in CI (``CI=true``) a missing chromium fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deliverycheck.cli import main
from deliverycheck.gallery import counterexamples, differences, write_gallery, write_out

ROOT = Path(__file__).parent.parent
GALLERY = ROOT / "counterexamples"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- the gallery ----------------------------------------------------------------

def test_committed_gallery_is_what_the_model_produces(default_runs):
    diffs = differences(list(default_runs.values()), GALLERY)
    assert not diffs, "\n".join(diffs)


def test_gallery_has_one_folder_per_expected_violation(default_runs):
    runs = list(default_runs.values())
    expected = {(r.mode, r.variant, r.property) for run_ in runs for r in run_.results
                if r.expected == "violated" and r.kind != "sometimes"}
    folders = {tuple(p.parent.relative_to(GALLERY).parts) for p in GALLERY.glob("*/*/*/trace.itf.json")}
    assert folders == expected and len(folders) >= 20
    for parts in folders:
        assert {p.name for p in (GALLERY.joinpath(*parts)).iterdir()} == {
            "trace.itf.json", "diagram.dot", "diagram.svg", "story.md"}
    readme = (GALLERY / "README.md").read_text()
    assert all(f"({'/'.join(parts)}/story.md)" in readme for parts in folders)


def test_gallery_check_notices_an_edit_and_a_stale_folder(default_runs, tmp_path):
    runs = list(default_runs.values())
    write_gallery(runs, tmp_path, pictures=False)
    for svg in (tmp_path / r.mode / r.variant / r.property for r in counterexamples(runs)
                if r.expected == "violated"):
        (svg / "diagram.svg").write_text("<svg/>")
    for history in (tmp_path / "histories").iterdir():
        (history / "diagram.svg").write_text("<svg/>")
    assert differences(runs, tmp_path) == []
    dot = tmp_path / "at-least-once/current/in_order/diagram.dot"
    dot.write_text(dot.read_text().replace("append b1 @1", "append b1 @3"))
    stale = tmp_path / "at-least-once/current/no_loss"
    stale.mkdir()
    (stale / "trace.itf.json").write_text("{}")
    got = differences(runs, tmp_path)
    assert f"{dot}: differs from what the model produces now" in got
    assert f"{stale}: no longer a counterexample" in got
    gone = tmp_path / "histories/a-case-taken-away"
    gone.mkdir()
    (gone / "trace.itf.json").write_text("{}")
    assert f"{gone}: no longer a saved history" in differences(runs, tmp_path)
    write_gallery(runs, tmp_path, pictures=False)   # regenerating removes the stale folders
    assert not stale.exists() and not gone.exists()


# -- the HTML report in a real browser ------------------------------------------

def _chromium(page: Path, *flags: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", *flags, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    """Messages the page wrote to the browser console (errors included)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_catches_a_page_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    assert any("undefinedFunction" in line for line in _console(_chromium(bad, "--dump-dom").stderr))


@pytest.fixture(scope="module")
def report(default_runs, tmp_path_factory):
    """The report ``deliverycheck verify`` writes, for the default runs."""
    out = tmp_path_factory.mktemp("report")
    runs = list(default_runs.values())
    assert write_out(out, runs) is None, "Graphviz's dot is needed to draw the report"
    return out / "report.html", runs


def test_html_report_renders_every_counterexample_in_chromium(report, tmp_path):
    page, runs = report
    html = page.read_text()
    assert not re.search(r'(src|href)="(https?:|//)', html), "the report must work offline"
    run_ = _chromium(page, "--dump-dom")
    assert run_.returncode == 0, run_.stderr[-2000:]
    assert _console(run_.stderr) == []
    dom = run_.stdout
    shown = counterexamples(runs)
    assert len(shown) >= 20
    sections = re.split(r'<h2 id="', dom)[1:]
    ids = [s.split('"', 1)[0] for s in sections]
    assert len(ids) == len(shown)
    for r, section in zip(shown, sections):
        assert section.startswith(f"{r.mode}/{r.variant}/{r.property}")
        assert "<svg" in section and f"broken: {r.property}" in section
    shot = tmp_path / "shot.png"
    run_ = _chromium(page, f"--screenshot={shot}", "--window-size=1400,3000")
    assert shot.is_file() and shot.stat().st_size > 50_000   # a blank page is a few kB


# -- render, and pictures without Graphviz --------------------------------------

TRACE = GALLERY / "at-least-once/current/in_order/trace.itf.json"


@pytest.mark.parametrize("fmt,start", [
    ("text", "at-least-once / current: in_order is violated"), ("diff", "1. producer_send"),
    ("dot", "digraph sequence"), ("mermaid", "sequenceDiagram"), ("svg", "<?xml"),
    ("html", "<!DOCTYPE html>"), ("graph", "digraph states")])
def test_render_prints_each_format(capsys, fmt, start):
    code, out, err = _run(capsys, "render", str(TRACE), "--format", fmt)
    assert code == 0, err
    assert out.startswith(start)


def test_render_png_to_a_file(capsys, tmp_path):
    code, _, err = _run(capsys, "render", str(TRACE), "-f", "png", "-o", str(tmp_path / "x.png"))
    assert code == 0, err
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_gives_the_same_bytes_twice(capsys):
    assert _run(capsys, "render", str(TRACE), "-f", "dot") == _run(capsys, "render", str(TRACE), "-f", "dot")


@pytest.mark.parametrize("args,message", [
    (["render", "nope.itf.json"], "does not exist"),
    (["render", str(TRACE), "--format", "jpeg"], "invalid choice: 'jpeg'"),
    (["render", str(TRACE), "-o", "/no/such/dir/x.svg"], "does not exist"),
    (["gallery", "--out", str(TRACE)], "is not a directory"),
])
def test_render_usage_errors(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def _without_dot() -> dict:
    """An environment whose PATH has Python but no Graphviz."""
    return {**os.environ, "PATH": str(Path(sys.executable).parent)}


def test_without_graphviz_render_says_so_in_one_line():
    cmd = [sys.executable, "-m", "deliverycheck.cli", "render", str(TRACE), "-f", "svg"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_without_dot(), cwd=ROOT)
    assert done.returncode == 2 and "Graphviz's `dot` program was not found" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_graphviz_verify_still_writes_the_text_outputs(tmp_path):
    cmd = [sys.executable, "-m", "deliverycheck.cli", "verify", "--mode", "at-most-once", "--variant", "current",
           "--out", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_without_dot(), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Graphviz's `dot` program was not found" in done.stderr
    sub = tmp_path / "at-most-once/current"
    for suffix in (".itf.json", ".story.txt", ".dot", ".mmd", ".md"):
        assert (sub / f"no_loss{suffix}").is_file(), suffix
    assert not (sub / "no_loss.svg").exists()
    html = (tmp_path / "report.html").read_text()
    assert "No picture" in html and html.count("<h2 id=") == 3


def test_gallery_command_checks_and_writes(capsys, monkeypatch, default_runs, tmp_path):
    import deliverycheck.gallery as gallery_module
    monkeypatch.setattr(gallery_module, "default_runs", lambda out, progress=None: list(default_runs.values()))
    code, out, err = _run(capsys, "gallery", "--check", "--out", str(GALLERY))
    assert code == 0 and "up to date (183 counterexamples, 2 saved histories)" in out, out + err
    code, out, _ = _run(capsys, "gallery", "--check", "--out", str(tmp_path))
    assert code == 1 and "README.md: missing" in out and "regenerate the gallery" in out
    code, out, _ = _run(capsys, "gallery", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "at-least-once/current/in_order/diagram.svg").is_file()
    assert _run(capsys, "gallery", "--check", "--out", str(tmp_path))[0] == 0


def test_gallery_fails_on_a_history_that_no_longer_shows_its_case(capsys, monkeypatch, default_runs,
                                                                  tmp_path):
    import json
    import deliverycheck.gallery as gallery_module
    from deliverycheck import histories
    monkeypatch.setattr(gallery_module, "default_runs", lambda out, progress=None: list(default_runs.values()))
    doc = json.loads(histories.paths()[0].read_text())
    doc["#meta"]["property"] = "zombie_fenced"          # a promise this history does not break
    wrong = tmp_path / "wrong.itf.json"
    wrong.write_text(json.dumps(doc))
    monkeypatch.setattr(gallery_module, "history_paths", lambda: [wrong])
    code, out, _ = _run(capsys, "gallery", "--check", "--out", str(GALLERY))
    assert code == 1 and "history wrong: it no longer breaks zombie_fenced" in out, out
    code, _, err = _run(capsys, "gallery", "--out", str(tmp_path / "g"))
    assert code == 1 and "the gallery was not written" in err and not (tmp_path / "g").exists()


def test_verify_draws_png_copies_only_when_asked(capsys, tmp_path):
    base = ["verify", "--mode", "at-most-once", "--variant", "current", "-q"]
    code, _, err = _run(capsys, *base, "--out", str(tmp_path / "plain"))
    assert code == 0, err
    sub = tmp_path / "plain/at-most-once/current"
    assert (sub / "no_loss.svg").is_file() and not list(sub.glob("*.png"))
    code, _, err = _run(capsys, *base, "--png", "--out", str(tmp_path / "png"))
    assert code == 0, err
    png = tmp_path / "png/at-most-once/current/no_loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
