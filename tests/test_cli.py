"""The command line: output, files, exit codes and errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deliverycheck.cli import main

AMO = ["verify", "--mode", "at-most-once", "--variant", "current"]


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _row(out: str, prop: str) -> list[str]:
    """The table row of ``prop``: property, verdict, expected, steps."""
    return next(line for line in out.splitlines() if line.split()[:1] == [prop]).split()


def test_verify_prints_the_table_and_matches(capsys, tmp_path):
    code, out, err = _run(capsys, *AMO, "--out", str(tmp_path))
    assert code == 0, out
    assert "All 15 verdicts and 7 pinned figures match properties/expected.toml." in out
    assert _row(out, "acked_in_log") == ["acked_in_log", "violated", "violated", "1"]
    assert _row(out, "witness_retry") == ["witness_retry", "unreachable", "unreachable"]
    # the search's figures once, in its header line, not on every row
    head = next(line for line in out.splitlines() if line.startswith("at-most-once / current"))
    assert "84 states, depth 14" in head and "default world" in head
    # (not inside a rate such as "1,384 states/s")
    assert len(re.findall(r"(?<![\d,])84 states\b(?!/s)", out)) == 1
    assert (tmp_path / "at-most-once/current/acked_in_log.itf.json").is_file()
    assert (tmp_path / "at-most-once/current/acked_in_log.story.txt").is_file()
    assert not (tmp_path / "at-most-once/current/no_duplicate_log.itf.json").exists()


def test_verify_json_schema(capsys, tmp_path):
    code, out, _ = _run(capsys, *AMO, "--json", "--out", str(tmp_path))
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "deliverycheck.verify/5" and doc["ok"] is True
    assert doc["exit_status"] == 0 and doc["differences"] == {"verdicts": 0, "figures": 0}
    assert doc["source"]["origin"] in ("editable", "checkout", "installed")
    assert len(doc["source"]["hash"]) == 12 and doc["expectations"]["path"].endswith("expected.toml")
    assert doc["command"].startswith("deliverycheck verify --mode at-most-once")
    r = {x["property"]: x for x in doc["results"]}
    for key in ("mode", "variant", "property", "kind", "lemma", "verdict", "expected", "compared",
                "matches", "differs", "figures_differ", "length", "trace"):
        assert key in r["no_loss"]
    assert r["no_loss"]["verdict"] == "violated" and r["no_loss"]["trace"].endswith("no_loss.itf.json")
    assert r["witness_retry"]["verdict"] == "unreachable" and r["witness_processed"]["verdict"] == "reached"
    assert r["no_duplicate_log"]["trace"] is None
    s = doc["searches"][0]
    assert s["complete"] is True and s["states"] == 84 and s["depth"] == 14
    assert s["engine"] == "explore" and s["world"] == "default" and s["compared"] is True


def test_a_difference_exits_1_and_names_the_trace(capsys, tmp_path):
    exp = tmp_path / "expected.toml"
    exp.write_text('["at-most-once".current.verdicts]\nno_loss = "holds"\n')
    code, out, _ = _run(capsys, *AMO, "--property", "no_loss", "--expected", str(exp),
                        "--out", str(tmp_path / "o"))
    assert code == 1
    assert "at-most-once/current no_loss: violated, expected holds (trace: " in out
    assert "no_loss.itf.json" in out


def test_a_limit_gives_incomplete_never_holds(capsys, tmp_path):
    code, out, _ = _run(capsys, "verify", "--mode", "at-least-once", "--variant", "current",
                        "--max-states", "100", "--out", str(tmp_path))
    assert code == 1
    assert "INCOMPLETE (state limit (100))" in out
    assert _row(out, "acked_in_log")[1:3] == ["incomplete", "holds"]
    # a witness found before the limit is reached all the same
    assert _row(out, "witness_retry")[1:3] == ["reached", "reached"]


@pytest.mark.parametrize("args,message", [
    (["verify", "--mode", "exactly-twice"], "unknown mode 'exactly-twice'; choose from: at-most-once"),
    (["verify", "--property", "nope"], "unknown property 'nope'"),
    (["verify", "--variant", "old"], "unknown variant 'old'"),
    (["verify", "--bound", "records"], "--bound expects NAME=VALUE"),
    (["verify", "--bound", "recs=2"], "unknown bound 'recs'; choose from: records"),
    (["verify", "--bound", "records=two"], "bound records must be an integer"),
    (["verify", "--bound", "records=0"], "bound records must be an integer in 1..60"),
    (["verify", "--max-states", "-3"], "expected a positive integer"),
    (["verify", "--expected", "/no/such/file.toml"], "does not exist"),
    (["verify", "--expected", "/tmp"], "'/tmp' is a directory, not a file"),
    (["verify", "--bound", "records=2", "--bound", "records=3"],
     "--bound records is given twice (2 and 3); give it once"),
    (["verify", "--spec", "/tmp"], "holds no model/ and properties/"),
    (["verify", "--spec", "/no/such/dir"], "is not a folder"),
    (["verify", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["frob"], "invalid choice: 'frob'"),
    (["verify", "--mode", "at-least-once", "--variant", "tv1"],
     "variant tv1 changes only the transactional protocol"),
    (["verify", "--mode", "at-least-once", "--variant", "rf2", "--bound", "unflushed=-1"],
     "bound unflushed must be an integer in 0..60"),
    (["verify", "--mode", "idempotent", "--property", "zombie_fenced"],
     "property zombie_fenced is not about mode idempotent"),
    ([], "required: COMMAND"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_the_same_bound_twice_with_the_same_value_is_fine(capsys, tmp_path):
    code, _, _ = _run(capsys, *AMO, "--bound", "faults=2", "--bound", "faults=2", "--out", str(tmp_path))
    assert code == 0


def test_a_fifo_is_named_not_read(capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = _run(capsys, *AMO, "--expected", str(fifo))
    assert code == 2 and "is a named pipe (FIFO), not a file" in err
    code, _, err = _run(capsys, "replay", str(fifo))
    assert code == 2 and "is a named pipe (FIFO), not a file" in err
    code, _, err = _run(capsys, "render", str(tmp_path))
    assert code == 2 and "is a directory, not a file" in err


def test_a_trace_with_no_states_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "empty.itf.json"
    f.write_text(json.dumps({"#meta": {"mode": "at-most-once"}, "vars": [], "states": []}))
    for cmd in ("replay", "render"):
        code, _, err = _run(capsys, cmd, str(f))
        assert code == 2 and "has no states" in err and err.count("\n") == 1, err


def test_broken_expected_file_is_a_usage_error(capsys, tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text("[[[")
    code, _, err = _run(capsys, *AMO, "--expected", str(bad))
    assert code == 2 and "cannot read" in err
    bad.write_text('["at-most-once".current.verdicts]\nwitness_retry = "violated"\n')
    code, _, err = _run(capsys, *AMO, "--expected", str(bad))
    assert code == 2 and "witness_retry is a sometimes property: use 'reached' or 'unreachable'" in err


def test_out_that_is_a_file_is_refused(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = _run(capsys, *AMO, "--out", str(f))
    assert code == 2 and "is not a directory" in err


def test_out_that_cannot_be_created_is_refused(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = _run(capsys, *AMO, "--out", str(f / "sub"))
    assert code == 2 and "cannot create --out directory" in err


def test_list_names_modes_properties_and_bounds(capsys):
    code, out, _ = _run(capsys, "list")
    assert code == 0
    for word in ("at-most-once", "idempotent", "no_duplicate_send", "witness_dedup", "records = 2",
                 "channel = 6"):
        assert word in out


def test_output_files_are_byte_identical_across_runs(capsys, tmp_path):
    out = tmp_path / "out"
    for d in ("a", "b"):
        assert _run(capsys, "verify", "--mode", "idempotent", "--variant", "current", "--variant", "rf2",
                    "--out", str(out))[0] == 0
        shutil.copytree(out, tmp_path / d)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_console_script_runs(tmp_path):
    exe = Path(sys.executable).with_name("deliverycheck")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "deliverycheck.cli"]
    p = subprocess.run(cmd + ["verify", "--mode", "at-most-once", "--variant", "current", "--out", str(tmp_path)],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert p.returncode == 0, p.stdout + p.stderr
    # a start and an end line per search, even when stderr is not a terminal (CI logs)
    assert p.stderr.splitlines() == [
        "at-most-once/current: started (records=2, faults=2, explore)",
        next(line for line in p.stderr.splitlines() if line.startswith("at-most-once/current: 84 states"))]
    q = subprocess.run(cmd + ["verify", "--mode", "at-most-once", "--variant", "current", "--quiet",
                              "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert q.returncode == 0 and q.stderr == ""


def test_every_package_is_installed():
    """pyproject.toml lists packages by hand (model/ and properties/ are mapped): none forgotten."""
    import tomllib
    root = Path(__file__).parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"deliverycheck." + ".".join(p.parent.relative_to(root / "deliverycheck").parts)
             for p in (root / "deliverycheck").rglob("__init__.py")}
    found = {f.rstrip(".") for f in found} | {"deliverycheck.model", "deliverycheck.properties"}
    assert found <= listed, found - listed


def test_coverage_table(capsys, tmp_path):
    code, out, _ = _run(capsys, *AMO, "--coverage", "--out", str(tmp_path))
    assert code == 0
    cov = out.split("Coverage of at-most-once/current:")[1]
    assert "producer_retry" in cov and "off in this mode" in cov
    send = next(line for line in cov.splitlines() if line.split()[:1] == ["producer_send"]).split()
    assert int(send[1]) > 0 and int(send[2]) > 0


def test_a_model_that_breaks_the_rules_is_reported_in_one_line(capsys, tmp_path, monkeypatch):
    """A protocol designer's edit that uses `if` on a state value gets a clear message."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.spec import Effect, action

    @action()
    def consumer_commit(s, c):
        """A broken edit: Python's `and` on state values."""
        return Effect(when=s.c_stage == 1 and s.pos[0] > 0)

    actions = [consumer_commit if a.name == "consumer_commit" else a for a in SPEC.actions]
    monkeypatch.setattr(SPEC, "actions", actions)
    code, out, err = _run(capsys, *AMO, "--quiet", "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "error in the model: consumer_commit(): a state value was used as a Python truth value" in err


def test_default_plan_pairs_variants_with_the_modes_they_change():
    from deliverycheck.verify import plan
    from deliverycheck.model import MODES, VARIANTS
    pairs = plan(list(MODES), list(VARIANTS), False)
    assert ("at-least-once", "current") in pairs and ("at-least-once", "tv1") not in pairs
    assert ("exactly-once", "tv1-no-verification") in pairs
    assert ("eos-per-instance-id", "no-group-metadata") in pairs
    # asking for a variant runs it with every chosen mode it applies to
    assert plan(["idempotent", "eos-no-rewind"], ["tv1"], True) == [("eos-no-rewind", "tv1")]


def test_a_pair_without_expectations_is_reported_not_compared(capsys, tmp_path):
    code, out, _ = _run(capsys, "verify", "--mode", "eos-offsets-outside-txn", "--variant", "tv1",
                        "--out", str(tmp_path))
    assert code == 0
    assert "no expectations for these bounds, not compared" in out
    assert "No expectations for these bounds: 13 verdicts of 1 search not compared." in out
    assert "All 0 verdicts" not in out


def test_bounds_no_world_names_are_reported_not_compared(capsys, tmp_path):
    code, out, _ = _run(capsys, *AMO, "--bound", "records=1", "--out", str(tmp_path))
    assert code == 0, out
    assert "No expectations for these bounds: 15 verdicts of 1 search not compared." in out
    assert "differ" not in out


SMALL_WORLD = ["verify", "--mode", "idempotent", "--variant", "current", "--bound", "records=3",
               "--bound", "faults=1"]


def test_a_named_world_is_compared(capsys, tmp_path):
    code, out, _ = _run(capsys, *SMALL_WORLD, "--out", str(tmp_path))
    assert code == 0, out
    assert "idempotent-three-records world" in out and "47,170 states" in out
    # with one fault no send fails: a later batch's delivery time outlasts the lost request's timeout
    assert _row(out, "witness_send_failed")[1:] == ["unreachable", "unreachable"]
    assert "All 15 verdicts and 9 pinned figures match properties/expected.toml." in out


def test_a_changed_figure_is_its_own_kind_of_difference(capsys, tmp_path):
    """Only a pinned figure differs: its own section, and exit status 3."""
    from deliverycheck.expected import default_path
    exp = tmp_path / "expected.toml"
    exp.write_text(default_path().read_text().replace(
        '["at-most-once".current]\nstates = 84', '["at-most-once".current]\nstates = 85'))
    code, out, _ = _run(capsys, *AMO, "--expected", str(exp), "--out", str(tmp_path / "o"))
    assert code == 3, out
    assert "Pinned figures that differ from" in out and "84 distinct states, expected 85" in out
    assert "Verdicts that differ" not in out
    assert "All 15 verdicts match, but 1 pinned figure differs" in out


def test_lemma_rows_are_hidden_unless_asked(capsys, tmp_path):
    one = ["verify", "--mode", "idempotent-one-in-flight", "--variant", "current"]
    code, out, _ = _run(capsys, *one, "--out", str(tmp_path))
    assert code == 0 and "lemma_batches_exist" not in out
    assert "(10 lemma rows hidden; --lemmas shows them)" in out
    assert "All 25 verdicts" in out   # still compared
    code, out, _ = _run(capsys, *one, "--lemmas", "--out", str(tmp_path))
    assert code == 0 and _row(out, "lemma_batches_exist")[1:3] == ["holds", "holds"]


# -- the stateful engine and replay ------------------------------------------------

STATEFUL = ["verify", "--engine", "stateful", "--mode", "at-most-once", "--variant", "current",
            "--examples", "30", "--steps", "100"]


def test_stateful_verify_prints_seed_and_shrunk_traces(capsys, tmp_path):
    code, out, _ = _run(capsys, *STATEFUL, "--out", str(tmp_path))
    assert code == 0, out
    assert "stateful, seed 0: " in out and "records=10, faults=3" in out
    assert "All 15 verdicts" in out and "match properties/expected.toml." in out
    assert "not found (sampled)" in out
    assert _row(out, "no_loss")[1] == "violated"
    assert "capacity bounds reached" not in out   # the stateful world is sized for its histories
    doc = json.loads((tmp_path / "at-most-once/current/no_loss.itf.json").read_text())
    assert doc["#meta"]["engine"] == "stateful" and doc["#meta"]["seed"] == 0
    assert "switched_off" in doc["#meta"]


# a smaller stateful world where the test is about the engine, not its default world
STATEFUL_SMALL = [*STATEFUL, "--bound", "records=4"]


def test_stateful_is_deterministic_for_a_seed(capsys, tmp_path):
    _, a, _ = _run(capsys, *STATEFUL_SMALL, "--seed", "5", "--json", "--out", str(tmp_path / "a"))
    _, b, _ = _run(capsys, *STATEFUL_SMALL, "--seed", "5", "--json", "--out", str(tmp_path / "b"))
    strip = lambda doc: [{k: v for k, v in r.items() if k not in ("trace", "story")}
                         for r in json.loads(doc)["results"]]
    assert strip(a) == strip(b)
    for name in ("no_loss", "acked_in_log"):
        assert (tmp_path / "a/at-most-once/current" / f"{name}.itf.json").read_text() == \
               (tmp_path / "b/at-most-once/current" / f"{name}.itf.json").read_text()
    s = json.loads(a)["searches"][0]
    assert s["engine"] == "stateful" and s["seed"] == 5 and s["steps_taken"] > 0
    assert set(s["coverage"]["consumer_poll"]) == {"fired", "enabled", "blocked"}


def test_stateful_random_seed_is_printed(capsys, tmp_path):
    code, out, _ = _run(capsys, *STATEFUL_SMALL, "--seed", "random", "--out", str(tmp_path))
    assert code == 0 and "stateful, seed " in out


def test_an_expected_violation_the_budget_misses_is_incomplete_and_the_hunt_finds_it(capsys, tmp_path):
    # one example of two steps breaks nothing: without the hunt, every violation
    # expected.toml names is "incomplete" (a difference, exit 1), never "ok"
    tiny = ["verify", "--engine", "stateful", "--mode", "at-most-once", "--variant", "current",
            "--examples", "1", "--steps", "2", "--out", str(tmp_path)]
    code, out, _ = _run(capsys, *tiny, "--hunt", "0")
    assert code == 1 and _row(out, "no_loss")[1:3] == ["incomplete", "violated"]
    assert "expected but not found within the budget, so incomplete" in out
    assert _row(out, "no_duplicate_output")[1:4] == ["not", "found", "(sampled)"]  # expected to hold
    code, out, _ = _run(capsys, *tiny, "--json")
    doc = json.loads(out)
    (search,) = doc["searches"]
    assert code == 0 and search["examples_run"] > 1 and search["hunt_steps"] == 1000
    assert {"no_loss", "acked_in_log", "no_skip"} <= set(search["hunted_for"])
    assert "no_duplicate_output" not in search["hunted_for"]
    assert {r["property"]: r["verdict"] for r in doc["results"]}["no_loss"] == "violated"


def test_stateful_coverage_table(capsys, tmp_path):
    code, out, _ = _run(capsys, *STATEFUL_SMALL, "--coverage", "--out", str(tmp_path))
    assert "taken/enabled" in out and "producer_retry" in out and "off in this mode" in out


@pytest.mark.parametrize("args,message", [
    (["verify", "--examples", "5"], "--examples applies to --engine stateful"),
    (["verify", "--engine", "stateful", "--depth", "3"], "--depth applies to --engine smt"),
    (["verify", "--engine", "stateful", "--max-states", "3"], "--max-states applies to --engine explore"),
    (["verify", "--engine", "stateful", "--seed", "x"], "expected a non-negative integer or 'random'"),
    (["verify", "--engine", "stateful", "--steps", "0"], "expected a positive integer"),
    (["verify", "--engine", "stateful", "--hunt", "-1"], "expected a non-negative integer"),
    (["verify", "--hunt", "5"], "--hunt applies to --engine stateful"),
    (["replay", "/nonexistent.itf.json"], "does not exist"),
])
def test_stateful_and_replay_usage_errors(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_replay_names_what_a_trace_breaks(capsys, tmp_path):
    _run(capsys, *AMO, "--property", "no_loss", "--out", str(tmp_path))
    trace = tmp_path / "at-most-once/current/no_loss.itf.json"
    code, out, _ = _run(capsys, "replay", str(trace))
    assert code == 0, out
    assert "replays, 4 steps in at-most-once/current" in out
    assert "breaks  no_loss (final) at step 4  <- recorded" in out
    code, out, _ = _run(capsys, "replay", str(trace), "--json")
    doc = json.loads(out)
    assert doc["schema"] == "deliverycheck.replay/1" and doc["recorded_shown"] is True
    assert {"property": "no_loss", "kind": "final", "step": 4} in doc["broken"]


def test_replay_of_a_trace_the_model_no_longer_runs_exits_1(capsys, tmp_path):
    _run(capsys, *AMO, "--property", "no_loss", "--out", str(tmp_path))
    trace = tmp_path / "at-most-once/current/no_loss.itf.json"
    doc = json.loads(trace.read_text())
    doc["states"][2]["#meta"]["action"] = "consumer_commit"   # a different step than was taken
    bad = tmp_path / "edited.itf.json"
    bad.write_text(json.dumps(doc))
    code, out, _ = _run(capsys, "replay", str(bad))
    assert code == 1 and "does not replay: step 2" in out


def test_replay_of_a_non_trace_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "x.json"
    f.write_text("[1, 2")
    code, _, err = _run(capsys, "replay", str(f))
    assert code == 2 and "not a JSON trace file" in err
    f.write_text('{"#meta": {"mode": "nope"}, "states": [{}]}')
    code, _, err = _run(capsys, "replay", str(f))
    assert code == 2 and "mode 'nope'" in err
