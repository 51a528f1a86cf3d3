"""The one trace format: ITF JSON, replay through the interpreted model, the story."""

from __future__ import annotations

import json

import pytest

from conftest import instance, system

from deliverycheck import trace as tr
from deliverycheck.engines.explore import explore
from deliverycheck.render.story import story


def _counterexample(mode="at-least-once", prop="no_duplicate_log"):
    sy = system(mode)
    ex = explore(sy, [sy.spec.property(prop)])
    return tr.from_path(sy, ex.path(ex.violations[prop]), property=prop, verdict="violated")


def test_itf_layout():
    t = _counterexample()
    doc = tr.to_itf(t)
    assert doc["#meta"]["format"] == "ITF" and doc["#meta"]["property"] == "no_duplicate_log"
    assert doc["vars"] == [f.name for f in t.system.schema.fields]
    first, second = doc["states"][0], doc["states"][1]
    assert first["#meta"] == {"index": 0}
    assert second["#meta"]["action"] == "producer_send" and second["#meta"]["params"] == {"r": 0, "k": 0}
    assert second["handed"] == {"#bigint": "1"} and second["g_dedup"] is False
    assert isinstance(second["log"], list) and isinstance(second["log"][0], list)


def test_itf_text_is_jsons_own_indented_layout():
    # dumps writes the text itself (json's indenting encoder is slow); it must stay byte for byte
    # what json.dumps(indent=1) gives, or every committed trace would change
    for t in (_counterexample(), _counterexample("eos-no-rewind", "exactly_once")):
        assert tr.dumps(t) == json.dumps(tr.to_itf(t), indent=1) + "\n"
    odd = {"a": [], "b": {}, "c": [[{"#bigint": "-3"}], "é\"x", None, 1.5, True]}
    out: list[str] = []
    tr._indented(odd, "\n", out, {})
    assert "".join(out) == json.dumps(odd, indent=1)


def test_itf_roundtrip_replays(tmp_path):
    t = _counterexample()
    path = tmp_path / "t.itf.json"
    path.write_text(tr.dumps(t))
    back = tr.load(path, t.system)
    assert [s.state for s in back.steps] == [s.state for s in t.steps]
    assert [(s.action, s.params) for s in back.steps] == [(s.action, s.params) for s in t.steps]
    assert back.property == "no_duplicate_log"


def test_replay_rejects_a_tampered_trace():
    t = _counterexample()
    doc = tr.to_itf(t)
    n = next(i for i, st in enumerate(doc["states"]) if st["faults"] == {"#bigint": "1"})
    doc["states"][n]["faults"] = {"#bigint": "0"}        # pretend the fault never happened
    with pytest.raises(tr.ReplayError, match=f"step {n}: .* gives a different state"):
        tr.from_itf(json.loads(json.dumps(doc)), t.system)
    doc = tr.to_itf(t)
    doc["states"][1]["#meta"]["action"] = "broker_append"
    doc["states"][1]["#meta"]["params"] = {"p": 0, "i": 0, "k": 0, "r": 0}
    with pytest.raises(tr.ReplayError, match="not enabled"):
        tr.from_itf(doc, t.system)


def test_replay_rejects_a_trace_of_another_configuration():
    t = _counterexample()
    other = system("at-least-once", records=3)
    with pytest.raises(tr.ReplayError, match="made with bounds"):
        tr.from_itf(tr.to_itf(t), other)
    doc = tr.to_itf(t)
    del doc["#meta"]["bounds"]
    with pytest.raises(tr.ReplayError, match="does not fit this model's state"):
        tr.from_itf(doc, other)
    with pytest.raises(tr.ReplayError, match="not enabled"):
        tr.from_path(t.system, [instance(t.system, "consumer_commit()")])


def test_story_tells_each_step_and_only_what_changed():
    text = story(_counterexample())
    lines = text.splitlines()
    assert lines[0] == "at-least-once / current: no_duplicate_log is violated (5 steps)"
    assert "1. P1 sends r1 as b1 (r1) to partition 0" in text
    assert "times out" in text and "appends b1 (r1)" in text
    assert "handed 0 -> 1" in text and "b_state[0] unused -> in flight" in text
    assert "consumer" not in text.split("Bounds")[1].split("In the last")[0]   # nothing unchanged shown
    assert "In the last state the promise is broken: No record appears twice in a partition's log." in text
    assert text.rstrip().endswith("  - r1 is in partition 0's log 2 times, at offsets 0, 1")


def test_traces_are_deterministic():
    assert tr.dumps(_counterexample()) == tr.dumps(_counterexample())
    assert story(_counterexample("idempotent", "no_duplicate_output")) == \
        story(_counterexample("idempotent", "no_duplicate_output"))
