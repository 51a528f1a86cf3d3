"""Rendering, against golden files.

The stories of a few counterexamples at the default bounds are compared byte
for byte with tests/golden/.  When a deliberate change alters them, rerun
with ``DELIVERYCHECK_UPDATE_GOLDEN=1`` and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import system

from deliverycheck import trace as tr
from deliverycheck.engines.explore import explore
from deliverycheck.render.story import story

GOLDEN = Path(__file__).parent / "golden"
CASES = [("at-most-once", "no_skip"), ("at-least-once", "in_order"),
         ("idempotent", "no_duplicate_log")]


@pytest.mark.parametrize("mode,prop", CASES)
def test_story_matches_golden(mode, prop):
    sy = system(mode)
    ex = explore(sy)   # all properties, as verify runs it: the same shortest trace
    t = tr.from_path(sy, ex.path(ex.violations[prop]), property=prop, verdict="violated")
    text = story(t)
    path = GOLDEN / f"{mode}.{prop}.story.txt"
    if os.environ.get("DELIVERYCHECK_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"story differs from {path}"
