"""The Kafka model, step by step: hand-built scenarios from docs/protocol.md."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import enabled, instance, run, system

from deliverycheck.catalog import SPEC
from deliverycheck.core.system import System
from deliverycheck.model import Config
from deliverycheck.model.modes import MODES
from deliverycheck.model.state import (ACKED, DUPLICATE, FAILED, FENCED, INFLIGHT, LOST, OK,
                                       OUT_OF_ORDER, QUEUED, RETRIABLE)


def d(sy, st):
    return sy.schema.decode(st)


LOST_RESPONSE_RETRY = [
    "producer_send(r=0, k=0)",
    "broker_append(p=0, i=0, k=0, r=0)",
    "network_lose_response(p=0, i=0, k=0)",
    "producer_timeout(p=0)",
    "producer_retry(k=0, p=0)",
    "broker_append(p=0, i=0, k=0, r=0)",
]


def test_lost_response_duplicates_without_idempotence():
    sy = system("at-least-once")
    st = d(sy, run(sy, LOST_RESPONSE_RETRY))
    assert st["log"][0][0][:2] == [1, 1] and st["log_len"] == [[2]]
    assert st["faults"] == 1, "the loss is a fault; the timeout after it heals for free"
    assert not sy.holds("no_duplicate_log", run(sy, LOST_RESPONSE_RETRY))


def test_idempotent_leader_discards_the_retry():
    sy = system("idempotent")
    s = run(sy, LOST_RESPONSE_RETRY)
    st = d(sy, s)
    assert st["log_len"] == [[1]] and st["g_dedup"]
    assert st["rs_code"][0][0] == DUPLICATE
    s = run(sy, ["producer_receive(p=0, i=0, k=0)"], s)
    assert d(sy, s)["b_state"][0] == ACKED
    assert sy.holds("no_duplicate_log", s) and sy.holds("acked_in_log", s)


def test_commit_before_processing_loses_a_record_on_a_crash():
    sy = system("at-most-once")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "consumer_poll(p=0, k=0, r=0)", "consumer_commit()", "consumer_restart()"])
    st = d(sy, s)
    assert st["committed"] == [1] and st["pos"] == [1] and st["out"] == [0, 0]
    assert "consumer_process(r=0)" not in enabled(sy, s)
    s = run(sy, ["producer_send(r=1, k=1)", "broker_append(p=0, i=0, k=1, r=0)",
                 "consumer_poll(p=0, k=1, r=0)", "consumer_commit()", "consumer_process(r=1)"], s)
    assert enabled(sy, s) == [] and sy.finished(s)
    assert not sy.holds("no_loss", s)


def test_commit_after_processing_reprocesses_after_a_crash():
    sy = system("at-least-once")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "consumer_poll(p=0, k=0, r=0)", "consumer_process(r=0)", "consumer_restart()",
                 "consumer_poll(p=0, k=0, r=0)", "consumer_process(r=0)"])
    assert d(sy, s)["out"] == [2, 0]
    assert not sy.holds("no_duplicate_output", s)


WRITE_BOTH_AND_POLL_ONE = ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                           "producer_send(r=1, k=1)", "broker_append(p=0, i=0, k=1, r=0)",
                           "consumer_poll(p=0, k=0, r=0)"]


def test_auto_commit_in_a_processing_loop_waits_for_the_next_poll():
    sy = system("at-least-once-auto-commit")
    labels = {i.label() for i in sy.instances}
    assert "consumer_commit()" not in labels, "with enable.auto.commit the application never commits"
    s = run(sy, WRITE_BOTH_AND_POLL_ONE)
    assert "consumer_auto_commit()" not in enabled(sy, s), "r1 is returned but not processed"
    s = run(sy, ["consumer_process(r=0)", "consumer_auto_commit()"], s)
    assert d(sy, s)["committed"] == [1]
    s = run(sy, ["consumer_poll(p=0, k=1, r=0)", "consumer_process(r=1)", "consumer_restart()"], s)
    st = d(sy, s)
    assert st["pos"] == [1] and st["out"] == [1, 1], "r2 is read again: reprocessed, not lost"


def test_auto_commit_with_a_worker_thread_covers_a_record_not_processed():
    for mode, variant in (("auto-commit-worker-thread", "current"),
                          ("at-least-once-auto-commit", "new-consumer-before-18641")):
        sy = system(mode, variant)
        s = run(sy, [*WRITE_BOTH_AND_POLL_ONE, "consumer_auto_commit()", "consumer_restart()"])
        st = d(sy, s)
        assert st["committed"] == [1] and st["pos"] == [1] and st["out"] == [0, 0], mode
        assert "consumer_process(r=0)" not in enabled(sy, s)


def test_manual_commits_have_no_auto_commit():
    for mode in ("at-most-once", "at-least-once", "idempotent"):
        assert "consumer_auto_commit()" not in {i.label() for i in system(mode).instances}


def test_restarted_producer_gets_a_new_pid_and_its_resend_is_not_deduplicated():
    sy = system("idempotent")
    s = run(sy, ["producer_send(r=0, k=0)", "producer_restart()", "producer_resend(r=0, k=1)",
                 "broker_append(p=0, i=0, k=0, r=0)", "broker_append(p=0, i=0, k=1, r=0)"])
    st = d(sy, s)
    assert st["b_state"][0] == LOST and st["b_pid"] == [0, 1, 0, 0, 0, 0]
    assert st["b_seq"][:2] == [0, 0] and st["log"][0][0][:2] == [1, 2]
    assert sy.holds("no_duplicate_send", s) and not sy.holds("no_duplicate_log", s)


def test_connection_is_fifo_but_a_new_connection_overtakes():
    sy = system("at-least-once")
    s = run(sy, ["producer_send(r=0, k=0)", "producer_send(r=1, k=1)"])
    assert "broker_append(p=0, i=1, k=1, r=0)" not in enabled(sy, s)       # behind b1 on connection 0
    s = run(sy, ["producer_timeout(p=0)", "producer_retry(k=0, p=0)"], s)
    assert "broker_append(p=0, i=2, k=0, r=0)" in enabled(sy, s)            # connection 1 overtakes
    assert d(sy, s)["faults"] == 1, "a timeout with requests still on the wire is premature"


def test_retries_exhausted_fail_the_batch_and_bump_the_epoch():
    sy = system("idempotent", faults=3)
    s = run(sy, ["producer_send(r=0, k=0)", "network_lose_request(p=0, i=0, k=0)",
                 "producer_timeout(p=0)", "producer_retry(k=0, p=0)",
                 "network_lose_request(p=0, i=0, k=0)", "producer_timeout(p=0)"])
    st = d(sy, s)
    assert st["b_state"][0] == FAILED and st["b_tries"][0] == 1
    assert st["epoch"] == 1 and st["next_seq"] == [0], "KIP-360: new epoch, sequences from 0"
    s = run(sy, ["producer_resend(r=0, k=1)"], s)
    assert d(sy, s)["b_epoch"][1] == 1 and d(sy, s)["b_seq"][1] == 0


def test_transient_error_is_retried():
    sy = system("at-least-once")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_fail_transient(p=0, i=0, k=0)"])
    assert d(sy, s)["rs_code"][0][0] == RETRIABLE
    s = run(sy, ["producer_receive(p=0, i=0, k=0)"], s)
    assert d(sy, s)["b_state"][0] == QUEUED and d(sy, s)["b_tries"][0] == 1


def test_acks_zero_completes_at_once_and_never_answers():
    sy = system("at-most-once")
    s = run(sy, ["producer_send(r=0, k=0)"])
    assert d(sy, s)["b_state"][0] == ACKED
    s = run(sy, ["broker_append(p=0, i=0, k=0, r=0)"], s)
    assert d(sy, s)["rs_batch"][0][0] == 0


def test_in_flight_limit_holds_back_new_sends():
    one = replace(Config.of("at-least-once").mode, max_in_flight=1)
    sy = System(SPEC, Config(one))
    s = run(sy, ["producer_send(r=0, k=0)"])
    assert "producer_send(r=1, k=1)" not in enabled(sy, s)


def _leader_state(sy, seq=0, epoch=0, **over):
    """Batch 0 of PID 0 in flight, its request carrying ``seq`` and ``epoch``, and whatever
    producer state the test sets."""
    base = d(sy, sy.init)
    base.update(b_rec=[1, 0, 0, 0, 0, 0], b_state=[INFLIGHT, 0, 0, 0, 0, 0], nbatches=1, handed=1,
                rq_batch=[[1, 0, 0, 0, 0, 0]], rq_seq=[[seq, 0, 0, 0, 0, 0]],
                rq_epoch=[[epoch, 0, 0, 0, 0, 0]])
    base.update(over)
    return sy.schema.encode(base)


def _verdict(sy, state):
    after = sy.step(state, instance(sy, "broker_append(p=0, i=0, k=0, r=0)"))
    return d(sy, after)["rs_code"][0][0]


def test_leader_checks_in_kafkas_order():
    sy = system("idempotent")
    known = dict(ps_known=[[[1, 0, 0]]], ps_epoch=[[[0, 0, 0]]], ps_seq=[[[3, 0, 0]]], ps_first=[[[0, 0, 0]]])
    # 1. a cached sequence with the same epoch: duplicate
    assert _verdict(sy, _leader_state(sy, seq=2, **known)) == DUPLICATE
    # 2. an older epoch: fenced, even for an in-sequence number
    newer = {**known, "ps_epoch": [[[1, 0, 0]]]}
    assert _verdict(sy, _leader_state(sy, seq=4, **newer)) == FENCED
    # 3. same epoch: must be last + 1; new epoch: must be 0
    assert _verdict(sy, _leader_state(sy, seq=5, **known)) == OUT_OF_ORDER
    assert _verdict(sy, _leader_state(sy, seq=4, **known)) == OK
    assert _verdict(sy, _leader_state(sy, seq=1, epoch=1, **known)) == OUT_OF_ORDER
    assert _verdict(sy, _leader_state(sy, seq=0, epoch=1, **known)) == OK
    # 4. no state for the PID: any sequence is accepted (KIP-360) where the log has held a
    # record, only 0 where it never has (KAFKA-15591)
    held = dict(log=[[[2, 0, 0, 0, 0, 0]]], log_len=[[1]], hw=[[1]])
    assert _verdict(sy, _leader_state(sy, seq=4, **held)) == OK
    assert _verdict(sy, _leader_state(sy, seq=4)) == OUT_OF_ORDER
    assert _verdict(sy, _leader_state(sy, seq=0)) == OK
    # a sequence older than the 5-batch cache is not recognised
    far = {**known, "ps_seq": [[[6, 0, 0]]]}
    assert _verdict(sy, _leader_state(sy, seq=1, **far)) == OUT_OF_ORDER
    # the request's own sequence counts, not the one a later bump gave its batch
    assert _verdict(sy, _leader_state(sy, seq=4, b_seq=[0, 0, 0, 0, 0, 0], **known)) == OK


def test_a_bump_rewrites_the_pending_batches_and_a_written_one_is_written_again():
    # KAFKA-14034: b1 fails after its retries while b2, already written, waits for a retry;
    # the bump gives b2 sequence 0 of the new epoch, and the leader appends it again
    sy = system("idempotent")
    s = run(sy, ["producer_send(r=0, k=0)", "producer_send(r=1, k=1)",
                 "broker_append(p=0, i=0, k=0, r=0)", "broker_append(p=0, i=0, k=1, r=0)",
                 "producer_timeout(p=0)", "producer_retry(k=0, p=0)", "producer_timeout(p=0)"])
    st = d(sy, s)
    assert st["b_state"][:2] == [FAILED, QUEUED] and st["epoch"] == 1
    assert (st["b_seq"][1], st["b_epoch"][1], st["b_reset"][1]) == (0, 1, True)
    assert st["next_seq"] == [1]
    s = run(sy, ["producer_retry(k=1, p=0)", "broker_append(p=0, i=1, k=1, r=0)"], s)
    assert d(sy, s)["log"][0][0][:3] == [1, 2, 2] and not sy.holds("no_duplicate_send", s)


def test_an_out_of_order_answer_is_retried_and_bumps_only_for_the_next_batch():
    # canRetry: b2's answer (b1 lost; a log that never held a record takes only sequence 0,
    # KAFKA-15591) is not for the next sequence: a plain retry, no bump
    sy = system("idempotent", retries=2)
    s = run(sy, ["producer_send(r=0, k=0)", "producer_send(r=1, k=1)",
                 "network_lose_request(p=0, i=0, k=0)", "broker_append(p=0, i=0, k=1, r=0)",
                 "producer_receive(p=0, i=0, k=1)"])
    st = d(sy, s)
    assert st["b_state"][1] == QUEUED and st["epoch"] == 0 and not st["b_reset"][1]
    # for the next batch (nothing acknowledged yet, b1 has sequence 0) the gap is real: the
    # producer bumps its epoch and rewrites b1, which is retried as the new epoch's first
    ahead = dict(ps_known=[[[1, 0, 0]]], ps_epoch=[[[0, 0, 0]]], ps_seq=[[[3, 0, 0]]],
                 ps_first=[[[2, 0, 0]]], log=[[[2, 2, 0, 0, 0, 0]]], log_len=[[2]], hw=[[2]])
    s = run(sy, ["broker_append(p=0, i=0, k=0, r=0)", "producer_receive(p=0, i=0, k=0)"],
            _leader_state(sy, **ahead))
    st = d(sy, s)
    assert st["b_state"][0] == QUEUED and st["epoch"] == 1
    assert (st["b_seq"][0], st["b_epoch"][0], st["b_reset"][0]) == (0, 1, True)


def test_expired_producer_state_accepts_a_late_retry_twice():
    """Before 2.4 retention could drop the state of a producer that still retried (KAFKA-7190)."""
    sy = system("idempotent", "pre-2.4-retention", faults=2)
    s = run(sy, ["producer_send(r=0, k=0)", "producer_timeout(p=0)", "producer_retry(k=0, p=0)",
                 "broker_append(p=0, i=1, k=0, r=0)", "broker_expire_producer(p=0, q=0, r=0)",
                 "broker_append(p=0, i=0, k=0, r=0)"])
    assert d(sy, s)["log"][0][0][:2] == [1, 1]
    assert not sy.holds("no_duplicate_send", s)


def test_todays_kafka_drops_only_an_idle_producers_state():
    """producer.id.expiration.ms: no state goes while a batch or a request of it is outstanding."""
    sy = system("idempotent", expiries=1)
    s = run(sy, ["producer_send(r=0, k=0)", "producer_timeout(p=0)", "producer_retry(k=0, p=0)",
                 "broker_append(p=0, i=1, k=0, r=0)"])
    assert "broker_expire_producer(p=0, q=0, r=0)" not in enabled(sy, s)    # requests on the wire
    s = run(sy, ["broker_append(p=0, i=0, k=0, r=0)", "producer_receive(p=0, i=0, k=0)"], s)
    assert "broker_expire_producer(p=0, q=0, r=0)" in enabled(sy, s)        # idle now


def test_configuration_switches_actions_off_statically():
    sy = system("at-most-once")
    off = {sy.instances[j].name for j, o in enumerate(sy.static_off) if o}
    assert {"producer_receive", "producer_retry", "producer_timeout", "producer_resend",
            "broker_fail_transient", "broker_expire_producer", "network_lose_response"} <= off
    assert "producer_send" not in off


def test_a_full_batch_table_is_reported_not_a_silent_end():
    """Capacity never hides behaviour: the step is blocked and counted."""
    from deliverycheck.engines.explore import explore
    sy = system("at-least-once", batches=1, faults=0)
    s = run(sy, ["producer_send(r=0, k=0)"])
    assert sy.step(s, instance(sy, "producer_send(r=1, k=1)")) == "FULL"
    ex = explore(sy)
    assert ex.coverage.blocked.get("producer_send", 0) > 0 and ex.truncated > 0
    assert "no_loss" not in ex.violations and "no_stuck" not in ex.violations


def test_auto_commit_knobs_that_contradict_each_other_are_refused():
    base = MODES["at-least-once-auto-commit"]
    with pytest.raises(ValueError, match="does not commit"):
        replace(base, commit_before_processing=True)
    with pytest.raises(ValueError, match="worker thread"):
        replace(MODES["at-least-once"], worker_thread=True)
