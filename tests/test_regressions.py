"""Saved counterexamples (tests/regressions/*.itf.json) and the specification's saved histories
(properties/histories/*.itf.json) still replay and still mean what they meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverycheck import histories
from deliverycheck.expected import load
from deliverycheck.replay import replay_file, rerecord

FOLDER = Path(__file__).parent / "regressions"
TRACES = sorted(FOLDER.glob("*.itf.json")) + histories.paths()
EXPECTED = load()


def test_there_are_saved_traces():
    assert len(TRACES) >= 3, f"no regression traces in {FOLDER}"


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_saved_trace_replays_and_agrees_with_the_expectations(path):
    got = replay_file(path)   # raises ReplayError, naming the step, when the model changed under it
    t = got.trace
    cfg = t.system.cfg
    assert got.recorded, "a regression trace names the property it was saved for"
    # the world with the trace's bounds (the default one or a named one); beyond them, the
    # bigger world's verdicts (expected.toml's deep_verdicts)
    exp = (EXPECTED.find(cfg.mode, cfg.variant.name, cfg.bounds)
           or EXPECTED.get((cfg.mode.name, cfg.variant.name)).deep()).verdicts[got.recorded]
    if exp == "violated":
        assert got.breaks(got.recorded), f"{got.recorded} is no longer broken by {path.name}"
        step = next(j.step for j in got.broken if j.property == got.recorded)
        assert step == len(t), "the trace ends where the property breaks"
    else:
        assert not got.breaks(got.recorded), f"regression: {path.name} breaks {got.recorded} again"


def test_the_specification_keeps_histories_that_still_show_their_case():
    saved = [histories.load(p) for p in histories.paths()]
    assert saved, "no saved histories in properties/histories/"
    for h in saved:
        assert histories.problems(h, EXPECTED) == [], h.name
        assert h.title and h.about, f"{h.name}: a history has a title and says what it shows"


def test_a_history_that_no_longer_shows_its_case_is_reported(tmp_path):
    import json
    doc = json.loads(histories.paths()[0].read_text())
    doc["#meta"]["property"] = "zombie_fenced"          # a promise this history does not break
    path = tmp_path / "wrong.itf.json"
    path.write_text(json.dumps(doc))
    wrong = histories.problems(histories.load(path), EXPECTED)
    assert any("does not expect zombie_fenced to be violated" in w for w in wrong)
    assert any("no longer breaks zombie_fenced" in w for w in wrong)


def test_a_history_beyond_the_default_bounds_is_pinned_by_its_named_world():
    from dataclasses import replace
    h = histories.load(histories.folder() / "kip-890-hanging-transaction.itf.json")
    assert not h.replayed.trace.system.cfg.default_bounds
    assert histories.problems(h, EXPECTED) == []            # the world eos-zombie-two-faults
    unpinned = replace(EXPECTED, worlds={}, named={})       # as if that world were not pinned
    assert histories.problems(h, unpinned) == [
        "history kip-890-hanging-transaction: expected.toml does not expect "
        "no_hanging_transaction to be violated in eos-per-instance-id/tv1-no-verification "
        "in a world with its bounds"]


def test_a_progress_promise_is_broken_only_where_no_fault_free_run_recovers(tmp_path):
    import json
    path = histories.folder() / "kip-890-hanging-transaction.itf.json"
    whole = histories.load(path).replayed
    assert not whole.trace.system.terminal(whole.trace.last_state())   # judged by a search
    assert whole.breaks("no_hanging_transaction")
    doc = json.loads(path.read_text())
    doc["states"] = doc["states"][:7]        # the zombie has lost its input; its writes are out
    cut = tmp_path / path.name
    cut.write_text(json.dumps(doc))
    assert not histories.load(cut).replayed.breaks("no_hanging_transaction")


def test_a_history_made_before_a_state_field_was_added_is_rerecorded_to_the_same_file(tmp_path):
    import json
    from deliverycheck.errors import ReplayError
    original = histories.paths()[0]
    doc = json.loads(original.read_text())
    doc["vars"].remove("g_owner")                       # as if made before g_owner existed
    for state in doc["states"]:
        del state["g_owner"]
    path = tmp_path / original.name
    path.write_text(json.dumps(doc))
    with pytest.raises(ReplayError, match="variables do not match"):
        histories.load(path)
    assert rerecord(path) == len(doc["states"]) - 1
    assert path.read_text() == original.read_text()     # the same steps, every state anew


def test_a_history_whose_step_the_model_no_longer_has_cannot_be_rerecorded(tmp_path):
    import json
    from deliverycheck.errors import ReplayError
    doc = json.loads(histories.paths()[0].read_text())
    doc["states"][3]["#meta"]["action"] = "processor_vanish"
    path = tmp_path / "gone.itf.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ReplayError, match="step 3: this model has no action processor_vanish"):
        rerecord(path)


def test_replay_rerecord_rewrites_the_trace_and_replays_it(capsys, tmp_path):
    import json
    from deliverycheck.cli import main
    original = FOLDER / "exactly-once-kafka-2.4-no_aborted_read.itf.json"
    doc = json.loads(original.read_text())
    doc["vars"].remove("g_self_fenced")
    for state in doc["states"]:
        del state["g_self_fenced"]
    path = tmp_path / original.name
    path.write_text(json.dumps(doc))
    assert main(["replay", str(path)]) == 1
    assert "does not replay" in capsys.readouterr().out
    assert main(["replay", "--rerecord", str(path)]) == 0
    out = capsys.readouterr().out
    assert "re-recorded in the current model (26 steps)" in out and "<- recorded" in out
    assert path.read_text() == original.read_text()
