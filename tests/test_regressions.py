"""Saved counterexamples (tests/regressions/*.itf.json) still replay and still mean what they meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverycheck.expected import load
from deliverycheck.replay import replay_file

FOLDER = Path(__file__).parent / "regressions"
TRACES = sorted(FOLDER.glob("*.itf.json"))
EXPECTED = load().default


def test_there_are_saved_traces():
    assert len(TRACES) >= 3, f"no regression traces in {FOLDER}"


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_saved_trace_replays_and_agrees_with_the_expectations(path):
    got = replay_file(path)   # raises ReplayError, naming the step, when the model changed under it
    t = got.trace
    cfg = t.system.cfg
    assert got.recorded, "a regression trace names the property it was saved for"
    exp = EXPECTED[(cfg.mode.name, cfg.variant.name)]
    # beyond the default bounds, the bigger world's verdicts (expected.toml's deep_verdicts)
    exp = (exp if cfg.default_bounds else exp.deep()).verdicts[got.recorded]
    if exp == "violated":
        assert got.breaks(got.recorded), f"{got.recorded} is no longer broken by {path.name}"
        step = next(j.step for j in got.broken if j.property == got.recorded)
        assert step == len(t), "the trace ends where the property breaks"
    else:
        assert not got.breaks(got.recorded), f"regression: {path.name} breaks {got.recorded} again"
