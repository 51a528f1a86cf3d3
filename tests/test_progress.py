"""Progress lines: a start and an end line per search on any stderr, a live line on a terminal."""

from __future__ import annotations

import io

import deliverycheck.progress as progress
from deliverycheck.progress import Progress


def test_not_a_terminal_gets_whole_start_and_end_lines_only():
    out = io.StringIO()
    p = Progress(2, stream=out)
    p.start("at-most-once/current", "records=2, faults=2", pinned=84)
    p.exploring(40, 3, 5)
    p.end("84 states, depth 14, 0.01 s, complete")
    p.start("idempotent/current")
    p.end("done")
    assert out.getvalue().splitlines() == [
        "[1/2] at-most-once/current: started (records=2, faults=2)",
        "[1/2] at-most-once/current: 84 states, depth 14, 0.01 s, complete",
        "[2/2] idempotent/current: started", "[2/2] idempotent/current: done"]
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_live_line_with_the_share_done(monkeypatch):
    monkeypatch.setattr(progress, "LIVE_AFTER", 0.0)
    monkeypatch.setattr(progress, "LIVE_EVERY", 0.0)
    out = io.StringIO()
    p = Progress(1, stream=out, live=True)
    p.start("exactly-once/tv1", pinned=200)
    p.compiling(64, 128)
    p.exploring(100, 7, 12)
    p.end("200 states")
    text = out.getvalue()
    assert "\rexactly-once/tv1: compiling the model: 64 of 128 action instances" in text
    assert "100 states (50% of the expected 200), depth 7, queue 12" in text
    assert text.endswith("\r\x1b[Kexactly-once/tv1: 200 states\n")   # the live line is cleared


def test_quiet_writes_nothing():
    out = io.StringIO()
    p = Progress(1, quiet=True, stream=out, live=True)
    p.start("x")
    p.exploring(1, 1, 1)
    p.end("y")
    assert out.getvalue() == ""


def test_a_log_gets_a_news_line_now_and_then(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT", 0.0)
    out = io.StringIO()
    p = Progress(1, stream=out)
    p.start("at-most-once/current")
    p.compiling(64, 25507)
    p.end("done")
    assert out.getvalue().splitlines() == [
        "at-most-once/current: started",
        "at-most-once/current: compiling the model: 64 of 25,507 action instances",
        "at-most-once/current: done"]
