"""k-induction (engines/induction.py) and `deliverycheck prove`.

The idempotent producer's log-level promises and exactly-once's isolation
and atomicity are proved: every step that is made keeps the invariant, and
no capacity bound or cell range blocks a step from an invariant state (in a
small world in every test run, at the default bounds and beyond in
``deep``: minutes).  Each is cross-checked: the explorer finds the
invariant true in every reachable state, every lemma is needed (drop one
and the proof fails; drop a capacity lemma and its own capacity blocks a
step), a broken lemma is reported as violated with a trace from the
initial state, a bound that blocks a step is never a proof (the issue's
``log=1``), and a timeout is never a proof.  tests/test_ranges.py has a
toy model that k-induction proves too.
"""

from __future__ import annotations

import json

import pytest

from conftest import system

from deliverycheck import trace as tr
from deliverycheck.cli import main
from deliverycheck.engines.explore import explore
from deliverycheck.engines.induction import k_induction
from deliverycheck.prove import TARGETS, lemmas_for

SMALL = dict(records=1, faults=1)
IDEMPOTENT = [prop for mode, prop in TARGETS if mode == "idempotent-one-in-flight"]
EXACTLY_ONCE = [prop for mode, prop in TARGETS if mode == "exactly-once"]


def _prove(mode: str, prop: str, lemmas=None, max_k: int = 1, **bounds):
    sy = system(mode, **bounds)
    ls = lemmas_for(sy.cfg, prop) if lemmas is None else lemmas
    return sy, ls, k_induction(sy, sy.spec.property(prop), ls, max_k=max_k)


# the capacities the exactly-once capacity lemmas keep from blocking a step
CAPACITY_OF = {"lemma_txn_cap_generation": ("processor_start",),
               "lemma_txn_cap_epoch": ("processor_init", "coordinator_end_txn", "coordinator_timeout"),
               "lemma_txn_cap_log": ("broker_append_txn", "broker_write_marker"),
               "lemma_txn_cap_requests": ("processor_send", "processor_commit", "processor_abort",
                                          "processor_timeout", "coordinator_send_markers"),
               "lemma_txn_cap_attempts": ("processor_begin",)}


@pytest.mark.parametrize("prop", IDEMPOTENT)
def test_idempotent_targets_are_proved_in_a_small_world(prop):
    sy, lemmas, proof = _prove("idempotent-one-in-flight", prop, **SMALL)
    assert proof.verdict == "proved" and proof.k == 1 and proof.can_block is None
    assert len(lemmas) == {"in_order": 10, "no_duplicate_send": 10}[prop]
    # the invariant the proof used is true in every reachable state
    ex = explore(sy, [sy.spec.property(prop), *lemmas], progress=None)
    assert ex.complete and not ex.violations


def test_idempotent_order_is_proved_with_two_records():
    # the lemmas are stated in the bounds, not for one world (about 5 s on two cores)
    assert _prove("idempotent-one-in-flight", "in_order", records=2, faults=1)[2].verdict == "proved"


@pytest.mark.deep  # about a minute each on two cores (benchmarks/prove_time.py); run with -m deep
@pytest.mark.parametrize("prop", IDEMPOTENT)
def test_idempotent_targets_are_proved_at_the_default_bounds(prop):
    assert _prove("idempotent-one-in-flight", prop)[2].verdict == "proved"


def test_exactly_once_isolation_is_proved_in_a_small_world():
    # records=1: the same twenty-one lemmas as at the default bounds, in about 15 s
    sy, lemmas, proof = _prove("exactly-once", "no_aborted_read", **SMALL)
    assert proof.verdict == "proved" and proof.k == 1 and len(lemmas) == 21
    ex = explore(sy, [sy.spec.property("no_aborted_read"), *lemmas], progress=None)
    assert ex.complete and not ex.violations


@pytest.mark.deep  # about 25 s on two cores
def test_exactly_once_atomicity_is_proved_in_a_small_world():
    sy, lemmas, proof = _prove("exactly-once", "atomic_transactions", **SMALL)
    assert proof.verdict == "proved" and proof.k == 1
    ex = explore(sy, [sy.spec.property("atomic_transactions"), *lemmas], progress=None)
    assert ex.complete and not ex.violations


@pytest.mark.deep  # about half a minute each on two cores (benchmarks/prove_time.py)
@pytest.mark.parametrize("prop", EXACTLY_ONCE)
def test_exactly_once_targets_are_proved_at_the_default_bounds(prop):
    assert _prove("exactly-once", prop)[2].verdict == "proved"


@pytest.mark.deep  # the capacity lemmas are stated in the bounds: records=3 too (about 2 minutes)
def test_exactly_once_isolation_is_proved_with_three_records():
    assert _prove("exactly-once", "no_aborted_read", records=3)[2].verdict == "proved"


@pytest.mark.deep  # a counterexample to induction within seconds for most
@pytest.mark.parametrize("prop", EXACTLY_ONCE)
def test_every_exactly_once_lemma_is_needed(prop):
    sy = system("exactly-once", **SMALL)
    lemmas = lemmas_for(sy.cfg, prop)
    for drop in range(len(lemmas)):
        if prop == "atomic_transactions" and drop < len(lemmas_for(sy.cfg, "no_aborted_read")):
            continue  # the shared ones are dropped for no_aborted_read
        sy, _, proof = _prove("exactly-once", prop, lemmas[:drop] + lemmas[drop + 1:], **SMALL)
        assert proof.verdict == "not inductive", lemmas[drop].name
        if proof.preserved_at is not None:  # a capacity lemma: without it, its capacity blocks
            blocked = sy.instances[proof.blocked].name
            assert blocked in CAPACITY_OF.get(lemmas[drop].name, ()), (lemmas[drop].name, blocked)


# a lemma the small world does not need: with one record a batch is never sent behind another
NEEDS_TWO_RECORDS = {"lemma_leader_expects_next": dict(records=2, faults=1)}


@pytest.mark.parametrize("drop", range(10))
def test_every_lemma_is_needed(drop):
    # every one of in_order's ten lemmas is needed, in the small world or, for the one that
    # speaks of a batch sent behind another, with two records (about 1 s each; 6 s)
    lemmas = lemmas_for(system("idempotent-one-in-flight", **SMALL).cfg, "in_order")
    assert len(lemmas) == 10
    bounds = NEEDS_TWO_RECORDS.get(lemmas[drop].name, SMALL)
    _, _, proof = _prove("idempotent-one-in-flight", "in_order", lemmas[:drop] + lemmas[drop + 1:], **bounds)
    # without it, a step that is made breaks the invariant, or a step can be blocked
    assert proof.verdict == "not inductive", lemmas[drop].name
    if proof.blocked is None:
        assert proof.preserved_at is None and proof.broken in ("in_order", *(l.name for l in lemmas))


def test_a_capacity_that_blocks_a_step_is_never_a_proof():
    # with room for one log entry every second append is blocked: without the
    # check this "proved" no_duplicate_log, which the explorer breaks in 5 steps
    sy, _, proof = _prove("idempotent-one-in-flight", "no_duplicate_log", lemmas=[], max_k=1, log=1)
    assert proof.verdict != "proved"
    sy, lemmas, proof = _prove("idempotent-one-in-flight", "no_duplicate_send", max_k=1, log=1, **SMALL)
    assert proof.verdict == "not inductive" and proof.broken.startswith("capacity at")
    start, path = proof.cti
    last = tr.from_path(sy, path, start=start).last_state()
    from deliverycheck.core.system import FULL
    assert sy.step(last, proof.blocked) is FULL  # the concrete model blocks the step too


def test_counterexample_to_induction_is_a_replayed_trace_out_of_the_invariant():
    sy, _, proof = _prove("idempotent-one-in-flight", "in_order", lemmas=[], **SMALL)
    assert proof.verdict == "not inductive" and proof.headline() == "not inductive at k=1"
    assert proof.blocked is None
    start, path = proof.cti
    t = tr.from_path(sy, path, start=start, property=proof.broken, verdict="violated")
    assert not t.from_init and start != sy.init
    assert sy.holds("in_order", t.steps[0].state) and not sy.holds("in_order", t.last_state())
    back = tr.from_itf(json.loads(tr.dumps(t)), sy)   # the ITF file round-trips and replays
    assert not back.from_init and back.steps[-1].state == t.last_state()


_ONE_PROOF = """
import sys
sys.path.insert(0, {tests!r})
from conftest import system
from deliverycheck.engines.induction import k_induction
from deliverycheck.prove import lemmas_for
sy = system("idempotent-one-in-flight", **{bounds!r})
ls = lemmas_for(sy.cfg, {prop!r}) if {lemmas!r} else []
p = k_induction(sy, sy.spec.property({prop!r}), ls, max_k={max_k}, workers={workers})
print(p.verdict, p.k, p.broken, p.blocked, p.can_block, p.cti and (p.cti[0].hex(), p.cti[1]))
"""


@pytest.mark.parametrize("prop,lemmas,max_k,bounds", [
    ("in_order", False, 1, SMALL),                          # a step made breaks I
    ("no_duplicate_log", False, 3, dict(SMALL, log=1)),     # a step a capacity blocks
    ("no_duplicate_send", True, 1, SMALL)])                 # proved
def test_the_verdict_and_counterexample_do_not_depend_on_the_workers(prop, lemmas, max_k, bounds):
    # the step case is asked on forked workers (engines/parallel.py); what is
    # found is re-derived from the instance alone in a new Z3 context, so a
    # run prints the same trace with one worker or two (each run in a fresh
    # process, as the command line runs: Z3's answers depend on the process's history)
    import subprocess
    import sys
    from pathlib import Path
    runs = [subprocess.run([sys.executable, "-c", _ONE_PROOF.format(
                tests=str(Path(__file__).parent), bounds=bounds, prop=prop, lemmas=lemmas,
                max_k=max_k, workers=w)], capture_output=True, text=True, check=True).stdout
            for w in (1, 2)]
    assert runs[0] == runs[1]
    assert runs[0].startswith("proved" if lemmas else "not inductive")


def test_a_false_lemma_is_violated_from_the_initial_state():
    # producer-state expiry makes the leader forget a PID it logged, so its state is no longer
    # the one its log gives (4 steps: send, append, answer, and the now idle producer's state goes)
    sy, _, proof = _prove("idempotent-one-in-flight", "in_order", max_k=5, expiries=1, **SMALL)
    assert proof.verdict == "violated" and proof.broken == "lemma_one_key_per_batch"
    t = tr.from_path(sy, proof.path)
    assert len(t) == 4 and not sy.holds("lemma_one_key_per_batch", t.last_state())


def test_a_timeout_is_incomplete_never_a_proof():
    sy = system("idempotent-one-in-flight")
    proof = k_induction(sy, sy.spec.property("in_order"), lemmas_for(sy.cfg, "in_order"),
                        max_k=1, query_seconds=0.001)
    assert proof.verdict == "incomplete" and "query time limit" in proof.stop_reason


def test_prove_rejects_properties_it_cannot_prove(capsys):
    assert main(["prove", "--property", "no_loss"]) == 2
    assert "final property" in capsys.readouterr().err
    assert main(["prove", "--mode", "idempotent", "--property", "atomic_transactions"]) == 2


def test_prove_command_reports_proofs_and_counterexamples(tmp_path, capsys):
    args = ["--bound", "records=1", "--bound", "faults=1", "--out", str(tmp_path)]
    assert main(["prove", "--mode", "idempotent-one-in-flight", "--property", "in_order", "--max-k", "1", *args]) == 0
    out = capsys.readouterr().out
    assert ("in_order: proved (k=1) at records=1, partitions=1, retries=1, faults=1, expiries=0, unflushed=0, "
            "marker_retries=0, epochs=0, batches=2, log=2, channel=2; no capacity or range blocks any step from an invariant "
            "state; 10 lemmas (--json lists them); ") in out
    # with room for one log entry the second append is blocked: a counterexample, drawn
    assert main(["prove", "--mode", "idempotent-one-in-flight", "--property", "in_order", "--max-k", "1",
                 "--bound", "log=1", *args]) == 1
    out = capsys.readouterr().out
    assert ("in_order: not inductive at k=1 (capacity at broker_append(p=0, i=0, k=0, r=0); every step "
            "made keeps the invariant from k=1) at records=1, partitions=1, retries=1, faults=1, "
            "expiries=0, unflushed=0, marker_retries=0, epochs=0, batches=2, log=1, channel=2; a step can be blocked") in out
    story = (tmp_path / "proofs/idempotent-one-in-flight/current/in_order.cti.story.txt").read_text()
    assert "In the last state broker_append(p=0, i=0, k=0, r=0) is enabled, but a capacity bound blocks it" in story
    assert main(["prove", "--mode", "idempotent-one-in-flight", "--property", "in_order", "--max-k", "1",
                 "--bound", "log=1", "--json", *args]) == 1
    capacity = json.loads(capsys.readouterr().out)["results"][0]["capacity"]
    assert capacity == {"blocks_ruled_out": False, "kind": "capacity",
                        "blocked_step": "capacity at broker_append(p=0, i=0, k=0, r=0)"}
    assert main(["prove", "--mode", "at-least-once", "--property", "in_order", "--json", *args]) == 1
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert doc["schema"] == "deliverycheck.prove/3" and r["verdict"] == "not inductive"
    assert r["bounds"]["records"] == 1 and r["capacity"]["blocks_ruled_out"] is False
    assert r["trace"].endswith("in_order.cti.itf.json") and (tmp_path / "proofs").is_dir()


def test_prove_refuses_bounds_its_lemmas_do_not_speak_of(capsys):
    assert main(["prove", "--mode", "exactly-once", "--bound", "faults=2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not stated for these bounds" in err[0] and "faults=1" in err[0]
    # five requests in flight: the idempotent lemmas do not speak of it (nor does the promise hold)
    assert main(["prove", "--mode", "idempotent", "--property", "no_duplicate_send"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of its lemmas is about mode idempotent" in err[0]
    assert "idempotent-one-in-flight" in err[0]


def test_a_lemma_with_an_error_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    # a misspelt name in a lemma (a NameError) is a model error, not a traceback
    import dataclasses
    from deliverycheck.catalog import SPEC

    def broken(s, c):
        return no_such_helper(s)  # noqa: F821 (the mistake under test)
    props = [dataclasses.replace(p, fn=broken) if p.name == "lemma_one_key_per_batch" else p
             for p in SPEC.properties]
    monkeypatch.setattr(SPEC, "properties", props)
    code = main(["prove", "--mode", "idempotent-one-in-flight", "--property", "in_order", "--max-k", "1",
                 "--bound", "records=1", "--bound", "faults=1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err
    assert "lemma_one_key_per_batch cannot be evaluated" in errors[0]
    assert "'no_such_helper' is not defined" in errors[0]


def test_a_broken_lemma_list_is_a_model_error(monkeypatch):
    from deliverycheck.errors import ModelError
    from deliverycheck.properties import lemmas as lemma_module
    monkeypatch.setitem(lemma_module.STRENGTHENING, "in_order", ("lemma_no_such",))
    with pytest.raises(ModelError, match="names 'lemma_no_such', which is no property"):
        lemmas_for(system("idempotent-one-in-flight").cfg, "in_order")
    monkeypatch.setitem(lemma_module.STRENGTHENING, "in_order", ("witness_dedup",))
    with pytest.raises(ModelError, match="must be an `always` property"):
        lemmas_for(system("idempotent-one-in-flight").cfg, "in_order")


def test_prove_plan_defaults_to_targets_and_never_to_lemmas():
    from deliverycheck.commands.prove import proof_plan
    assert proof_plan(None, None, "current") == list(TARGETS)
    assert proof_plan(["idempotent-one-in-flight"], None, "current") == [
        ("idempotent-one-in-flight", "no_duplicate_send"), ("idempotent-one-in-flight", "in_order")]
    assert proof_plan(["at-least-once"], None, "current") == [("at-least-once", "acked_in_log")]


@pytest.mark.parametrize("engine", ["prove", "bmc"])
def test_a_cancel_between_queries_ends_the_search_as_interrupted(monkeypatch, engine):
    # Ctrl-C's watcher thread cancels Z3's context; landing during a push
    # rather than a query, the cancel makes Z3 raise "canceled" (seen in CI).
    # The search must end as interrupted, never with the exception or a verdict.
    import z3
    from deliverycheck.engines import smt
    real, calls = smt.Unrolling.check, []

    def check(self, goal, deadline, cap_seconds=None):
        calls.append(1)
        if len(calls) == 3:
            raise z3.Z3Exception(b"canceled")   # what Z3_solver_push raised
        return real(self, goal, deadline, cap_seconds)
    monkeypatch.setattr(smt.Unrolling, "check", check)
    sy = system("idempotent-one-in-flight", **SMALL)
    prop = sy.spec.property("in_order")
    if engine == "prove":
        proof = k_induction(sy, prop, lemmas_for(sy.cfg, "in_order"), max_k=1, workers=1)
        assert (proof.verdict, proof.stop_reason) == ("incomplete", "interrupted")
    else:
        result = smt.bmc(sy, [prop], 5)
        assert not result.complete and result.stop_reason == "interrupted"
    # any other error of Z3's is still an error
    calls.clear()
    monkeypatch.setattr(smt.Unrolling, "check", lambda *a, **k: (_ for _ in ()).throw(z3.Z3Exception(b"other")))
    with pytest.raises(z3.Z3Exception):
        k_induction(sy, prop, lemmas_for(sy.cfg, "in_order"), max_k=1, workers=1)
