"""`deliverycheck check`, the Python API and the pytest plugin."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import deliverycheck
from deliverycheck.cli import main
from deliverycheck.replay import replay_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PIPELINE = ["enable.auto.commit=false", "enable.idempotence=false"]   # at-least-once/current


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_api_checks_a_configuration_and_finds_the_change_that_keeps_a_promise():
    conf = deliverycheck.load_config(sets=PIPELINE, kafka="trunk")
    result = deliverycheck.check(conf, fix_keys=["enable.idempotence", "max.in.flight.requests.per.connection",
                                                 "acks"])
    assert (result.config.mode.name, result.config.variant.name) == ("at-least-once", "current")
    verdicts = {v.promise.name: v.verdict for v in result.promises}
    assert verdicts["no-loss-acked"] == verdicts["no-loss"] == "holds"
    assert verdicts["order"] == verdicts["no-duplicate-log"] == "violated"
    assert verdicts["atomic"] == "not applicable"
    order = result.verdict("order")
    assert order.property_name == "in_order" and order.trace is not None
    assert "in_order is violated" in order.story
    # found by checking the changed configurations again: idempotence keeps the order and
    # breaks nothing; acks=0 keeps it too, but loses records
    fixes = {f.changes: f.breaks for f in order.fixes}
    assert fixes[("enable.idempotence=true",)] == ()
    assert "no-loss" in fixes[("acks=0",)]
    # every promise that holds has witnesses: the world is not empty
    assert all(w.verdict == "reached" for w in result.witnesses if w.property != "witness_dedup")


def test_a_fix_is_never_a_smaller_world():
    # a replicated topic's default world has one record, where order trivially holds: the
    # change to replication.factor=2 is checked with two records, as the original, and so it
    # is no fix (one fault keeps the replicated world small)
    conf = deliverycheck.load_config(sets=PIPELINE, kafka="trunk")
    result = deliverycheck.check(conf, bounds={"faults": 1}, fix_keys=["replication.factor"],
                                 fix_seconds=480)
    order = result.verdict("order")
    assert order.verdict == "violated"
    assert result.fix_checked == 2 and result.fix_unfinished == []   # factors 2 and 3, both checked
    assert order.fixes == [] and order.fix_note == "no change of one or two settings keeps it"


def test_a_knob_of_the_teams_own_variant(tmp_path):
    conf = deliverycheck.load_config(sets=["enable.auto.commit=false"], kafka="trunk")
    kept = deliverycheck.check(conf, fixes=False)
    assert kept.verdict("order").verdict == "holds"
    # the same configuration with a leader that takes any first sequence number (as brokers
    # before KAFKA-15591 did): a variant row of the caller's own
    changed = deliverycheck.check(conf, fixes=False, variant_changes={"first_seq_zero": False},
                                  out=tmp_path)
    assert changed.config.variant.name == "current-changed"
    assert any("first_seq_zero=False" in a for a in changed.mapped.assumptions)
    # its traces carry the knobs and replay
    trace = next(tmp_path.rglob("*.itf.json"))
    assert replay_file(trace).trace.system.cfg.variant == changed.config.variant


def test_check_command_text_report(capsys, tmp_path):
    code, out, err = _run(capsys, "check", *sum((["--set", s] for s in PIPELINE), []),
                          "--kafka", "trunk", "--no-fixes", "--out", str(tmp_path), "-q")
    assert code == 1, err
    assert out.startswith("deliverycheck ")
    assert "Configuration: Kafka trunk brokers, java-trunk client" in out
    assert "enable.idempotence" in out and "--set enable.idempotence" in out
    assert "Checked as mode at-least-once, variant current" in out
    assert "per-partition order" in out and "VIOLATED (in_order" in out
    assert "--- per-partition order: the shortest history that breaks it ---" in out
    assert (tmp_path / "report.html").is_file()
    assert (tmp_path / "at-least-once/current/in_order.itf.json").is_file()


def test_check_command_json_and_a_configuration_that_keeps_its_promises(capsys, tmp_path):
    ex = EXAMPLES / "streams-exactly-once-v2"
    code, out, err = _run(capsys, "check", "--streams", str(ex / "streams.properties"),
                          "--consumer", str(ex / "consumer.properties"), "--kafka", "4.2",
                          "--json", "--out", str(tmp_path), "-q")
    doc = json.loads(out)
    assert code == 0, err
    assert doc["kafka"] == "4.2" and doc["client"] == "java-4.2"
    assert doc["model"]["mode"] == "eos-per-instance-id" and doc["model"]["variant"] == "current"
    assert doc["model"]["complete"] is True and doc["model"]["states"] > 0
    by = {p["name"]: p for p in doc["promises"]}
    assert by["exactly-once"]["verdict"] == "holds" and by["zombies-fenced"]["verdict"] == "holds"
    assert by["no-loss"]["verdict"] == "not applicable" and "exactly once" in by["no-loss"]["why_not"]
    keys = {s["key"]: s for s in doc["settings"]}
    assert keys["processing.guarantee"]["value"] == "exactly_once_v2"
    assert keys["isolation.level"]["source"].endswith("consumer.properties:4")
    assert any(n["key"] == "application.id" for n in doc["not_modelled"])
    assert all(w["verdict"] == "reached" for w in doc["witnesses"])


@pytest.mark.parametrize("args,message", [
    (["--kafka", "9.9"], "not one this tool knows"),
    (["--set", "acks=2"], "String must be one of"),
    (["--set", "enable.idempotence=true", "--set", "acks=1"], "Must set acks to all"),
    (["--producer", "/nonexistent/producer.properties"], "does not exist"),
])
def test_check_command_bad_input(capsys, args, message):
    code, out, err = _run(capsys, "check", *args)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert all(line.startswith("deliverycheck: ") for line in err.splitlines())


def test_check_command_options_of_another_engine(capsys):
    code, _, err = _run(capsys, "check", "--depth", "4")
    assert code == 2 and "--depth applies to --engine smt" in err


def test_the_pytest_plugin(pytester):
    """The plugin, as a team uses it: its fixture, a failure's story, its own specification."""
    ex = EXAMPLES / "at-least-once-pipeline"
    shutil.copy(ex / "producer.properties", pytester.path / "producer.properties")
    spec = pytester.path / "myspec"
    for part in ("model", "properties"):
        shutil.copytree(ROOT / part, spec / part, ignore=shutil.ignore_patterns("__pycache__"))
    # the team's change: the partition leader writes a duplicate it recognises
    partition = spec / "model" / "partition.py"
    text = partition.read_text()
    assert "return ite(cached, DUPLICATE, " in text
    partition.write_text(text.replace("return ite(cached, DUPLICATE, ", "return ite(cached, OK, "))
    pytester.makeini("[pytest]\ndeliverycheck_spec = myspec\n")
    pytester.makepyfile(test_team=textwrap.dedent("""
        def test_no_loss(deliverycheck):
            deliverycheck.assert_keeps("no-loss", sets=["enable.auto.commit=false"], kafka="trunk",
                                       fixes=False)

        def test_pipeline_duplicates(deliverycheck):
            deliverycheck.assert_keeps("no-duplicate-log", producer="producer.properties",
                                       sets=["enable.auto.commit=false"], kafka="trunk", fixes=False)

        def test_idempotence_against_the_changed_leader(deliverycheck):
            deliverycheck.assert_keeps("no-duplicate-output", sets=["enable.auto.commit=false",
                                       "deliverycheck.resend=false",
                                       "deliverycheck.commit=before-processing"],
                                       kafka="trunk", fixes=False)
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "no duplicate in the log: violated (no_duplicate_log)" in out
    assert "no_duplicate_log is violated" in out            # the story
    assert "no duplicate output: violated (no_duplicate_output)" in out   # the team's leader
