"""k-induction (engines/induction.py) and `deliverycheck prove`.

The headline proofs (the idempotent producer's log-level promises and
exactly-once's isolation and atomicity, at the default bounds) take one to
three minutes each and are marked ``deep``; the same arguments at smaller
bounds run in every test run (exactly-once's atomicity only in ``deep``).  Each proof is cross-checked: the explorer finds the
invariant true in every reachable state, every lemma is needed (drop one
and the proof fails with a counterexample to induction), a broken lemma is
reported as violated with a trace from the initial state, and a timeout
is never a proof.
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
IDEMPOTENT = [prop for mode, prop in TARGETS if mode == "idempotent"]
EXACTLY_ONCE = [prop for mode, prop in TARGETS if mode == "exactly-once"]


def _prove(mode: str, prop: str, lemmas=None, max_k: int = 1, **bounds):
    sy = system(mode, **bounds)
    ls = lemmas_for(sy.cfg, prop) if lemmas is None else lemmas
    return sy, ls, k_induction(sy, sy.spec.property(prop), ls, max_k=max_k)


@pytest.mark.parametrize("prop", IDEMPOTENT)
def test_idempotent_promise_is_proved_in_a_small_world(prop):
    sy, lemmas, proof = _prove("idempotent", prop, **SMALL)
    assert proof.verdict == "proved" and proof.k == 1
    assert len(lemmas) == 3
    # the invariant the proof used is true in every reachable state
    ex = explore(sy, [sy.spec.property(prop), *lemmas], progress=None)
    assert ex.complete and not ex.violations


def test_idempotent_order_is_proved_with_two_records():
    assert _prove("idempotent", "in_order", records=2, faults=1)[2].verdict == "proved"


@pytest.mark.deep  # about 40-60 s each (benchmarks/prove_time.py); run with -m deep
@pytest.mark.parametrize("prop", IDEMPOTENT)
def test_idempotent_promise_is_proved_at_the_default_bounds(prop):
    assert _prove("idempotent", prop)[2].verdict == "proved"


def test_exactly_once_isolation_is_proved_in_a_small_world():
    # records=1: the same fifteen lemmas as at the default bounds, in about 30 s
    sy, lemmas, proof = _prove("exactly-once", "no_aborted_read", **SMALL)
    assert proof.verdict == "proved" and proof.k == 1 and len(lemmas) == 15
    ex = explore(sy, [sy.spec.property("no_aborted_read"), *lemmas], progress=None)
    assert ex.complete and not ex.violations


@pytest.mark.deep  # about 50 s
def test_exactly_once_atomicity_is_proved_in_a_small_world():
    sy, lemmas, proof = _prove("exactly-once", "atomic_transactions", **SMALL)
    assert proof.verdict == "proved" and proof.k == 1
    ex = explore(sy, [sy.spec.property("atomic_transactions"), *lemmas], progress=None)
    assert ex.complete and not ex.violations


@pytest.mark.deep  # about 70 s and 150 s (benchmarks/prove_time.py)
@pytest.mark.parametrize("prop", EXACTLY_ONCE)
def test_exactly_once_promise_is_proved_at_the_default_bounds(prop):
    assert _prove("exactly-once", prop)[2].verdict == "proved"


@pytest.mark.deep  # a counterexample to induction within seconds for most
@pytest.mark.parametrize("prop", EXACTLY_ONCE)
def test_every_exactly_once_lemma_is_needed(prop):
    sy = system("exactly-once", **SMALL)
    lemmas = lemmas_for(sy.cfg, prop)
    for drop in range(len(lemmas)):
        if prop == "atomic_transactions" and drop < len(lemmas_for(sy.cfg, "no_aborted_read")):
            continue  # the shared ones are dropped for no_aborted_read
        _, _, proof = _prove("exactly-once", prop, lemmas[:drop] + lemmas[drop + 1:], **SMALL)
        assert proof.verdict == "not inductive", lemmas[drop].name


@pytest.mark.parametrize("drop", range(3))
def test_every_lemma_is_needed(drop):
    sy = system("idempotent", **SMALL)
    lemmas = lemmas_for(sy.cfg, "in_order")
    _, _, proof = _prove("idempotent", "in_order", lemmas[:drop] + lemmas[drop + 1:], **SMALL)
    assert proof.verdict == "not inductive" and proof.cti is not None


def test_counterexample_to_induction_is_a_replayed_trace_out_of_the_invariant():
    sy, _, proof = _prove("idempotent", "in_order", lemmas=[], **SMALL)
    assert proof.verdict == "not inductive" and proof.headline() == "not inductive at k=1"
    start, path = proof.cti
    t = tr.from_path(sy, path, start=start, property=proof.broken, verdict="violated")
    assert not t.from_init and start != sy.init
    assert sy.holds("in_order", t.steps[0].state) and not sy.holds("in_order", t.last_state())
    back = tr.from_itf(json.loads(tr.dumps(t)), sy)   # the ITF file round-trips and replays
    assert not back.from_init and back.steps[-1].state == t.last_state()


def test_a_false_lemma_is_violated_from_the_initial_state():
    # producer-state expiry makes the leader forget a PID it logged (3 steps)
    sy, _, proof = _prove("idempotent", "in_order", max_k=4, expiries=1, **SMALL)
    assert proof.verdict == "violated" and proof.broken == "lemma_leader_remembers_logged"
    t = tr.from_path(sy, proof.path)
    assert len(t) == 3 and not sy.holds("lemma_leader_remembers_logged", t.last_state())


def test_a_timeout_is_incomplete_never_a_proof():
    sy = system("idempotent")
    proof = k_induction(sy, sy.spec.property("in_order"), lemmas_for(sy.cfg, "in_order"),
                        max_k=1, query_seconds=0.001)
    assert proof.verdict == "incomplete" and "query time limit" in proof.stop_reason


def test_prove_rejects_properties_it_cannot_prove(capsys):
    assert main(["prove", "--property", "no_loss"]) == 2
    assert "final property" in capsys.readouterr().err
    assert main(["prove", "--mode", "idempotent", "--property", "atomic_transactions"]) == 2


def test_prove_command_reports_proofs_and_counterexamples(tmp_path, capsys):
    args = ["--bound", "records=1", "--bound", "faults=1", "--out", str(tmp_path)]
    assert main(["prove", "--mode", "idempotent", "--property", "in_order", *args]) == 0
    assert "proved (k=1) with lemma_batches_exist" in capsys.readouterr().out
    assert main(["prove", "--mode", "at-least-once", "--property", "in_order", "--json", *args]) == 1
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert doc["schema"] == "deliverycheck.prove/2" and r["verdict"] == "not inductive"
    assert r["trace"].endswith("in_order.cti.itf.json") and (tmp_path / "proofs").is_dir()


def test_prove_plan_defaults_to_targets_and_never_to_lemmas():
    from deliverycheck.commands.prove import proof_plan
    assert proof_plan(None, None, "current") == list(TARGETS)
    assert proof_plan(["idempotent"], None, "current") == [
        ("idempotent", "no_duplicate_send"), ("idempotent", "in_order")]
    assert proof_plan(["at-least-once"], None, "current") == [("at-least-once", "acked_in_log")]
