"""Exactly-once model behaviour: the coordinator, the leaders, the group, the processor.

Each test drives the interpreted model step by step (``conftest.run``, which
also checks the compiled step) through a short protocol scenario and checks
what Kafka does there.
"""

from __future__ import annotations

import pytest
from conftest import enabled, run, system

from deliverycheck.engines.explore import explore
from deliverycheck.model.txn_state import (ABORTABLE, COMMITTING, COMPLETE_ABORT, DATA, FETCH, INIT,
                                           ONGOING, PREP_ABORT, PREP_COMMIT, PREP_FENCE, READY,
                                           STOPPED)

START = ["processor_init(i=0)", "processor_fetch_offsets(i=0)", "processor_begin(i=0)"]
# a produce times out while still on its way; the attempt is aborted and the abort completes
ABORTED_ROUND = ["processor_send(i=0)", "processor_timeout(i=0)", "processor_abort(i=0)",
                 "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)",
                 "coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)",
                 "broker_write_marker(o=1, k=0, t=0)", "coordinator_complete(t=0)",
                 "coordinator_log_written(t=0)"]
SEND = ["processor_send(i=0)", "broker_append_txn(o=0, i=0, k=0)", "broker_append_txn(o=1, i=0, k=0)"]


def _d(sy, s):
    return sy.schema.decode(s)


def test_end_txn_is_answered_once_prepare_is_durable_and_before_any_marker():
    sy = system("exactly-once")
    s = run(sy, START + SEND + ["processor_send_offsets(i=0)", "processor_commit(i=0)",
                                "coordinator_end_txn(i=0, k=0)"])
    d = _d(sy, s)
    assert d["tc_state"] == [PREP_COMMIT] and d["tc_pending"] == [True]
    assert d["ps_stage"][0] == COMMITTING          # not answered yet: not durable
    assert d["tl_state"] == [ONGOING]               # the log still says Ongoing
    s = run(sy, ["coordinator_log_written(t=0)"], s)
    d = _d(sy, s)
    assert d["ps_stage"][0] == READY and d["tl_state"] == [PREP_COMMIT]
    assert d["ent_kind"][0][0][1] == 0                 # no marker written yet
    assert d["ps_epoch"][0] == d["tc_epoch"][0] == 2   # TV2: the epoch is bumped at EndTxn


def test_init_producer_id_fences_and_aborts_an_ongoing_transaction():
    sy = system("exactly-once")
    # under TV2 the first write makes the transaction Ongoing (the leader adds o0)
    s = run(sy, START + ["processor_send(i=0)", "broker_append_txn(o=0, i=0, k=0)",
                         "processor_start(i=1)", "processor_init(i=1)"])
    d = _d(sy, s)
    assert d["tc_state"] == [PREP_FENCE] and d["tc_epoch"] == [2] and d["ps_stage"][1] == 1
    s = run(sy, ["coordinator_log_written(t=0)"], s)
    assert _d(sy, s)["tc_state"] == [PREP_ABORT] and _d(sy, s)["tl_epoch"] == [2]
    # CONCURRENT_TRANSACTIONS: the new instance waits until the abort completes
    assert "processor_init(i=1)" not in enabled(sy, s)
    s = run(sy, ["coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)",
                 "coordinator_complete(t=0)", "coordinator_log_written(t=0)"], s)
    assert _d(sy, s)["tc_state"] == [COMPLETE_ABORT]
    s = run(sy, ["processor_init(i=1)"], s)
    d = _d(sy, s)
    assert d["ps_epoch"][1] == 3 and d["ent_kind"][0][0][1] == 3     # o0: the record, then ABORT
    # the zombie's produce request to o1, still in flight, is now fenced
    s = run(sy, ["broker_append_txn(o=1, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["log_len"][1] == [0] and d["ps_stage"][0] == STOPPED and d["g_fenced"]


def test_tv2_fences_a_late_produce_of_an_aborted_attempt():
    sy = system("exactly-once")
    s = run(sy, START + ["processor_send(i=0)", "processor_timeout(i=0)", "processor_abort(i=0)",
                         "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)"])
    d = _d(sy, s)
    assert d["ps_stage"][0] == FETCH and d["ps_epoch"][0] == 2    # the abort bumped the epoch
    s = run(sy, ["broker_append_txn(o=0, i=0, k=0)"], s)
    assert _d(sy, s)["log_len"][0] == [0] and _d(sy, s)["g_late"]


def test_tv1_lets_a_late_produce_join_the_next_transaction():
    """With a client that does not bump its epoch after a timeout (Java before 2.5)."""
    sy = _tv1("tv1-client-2.4")
    s = run(sy, START + ABORTED_ROUND + ["processor_fetch_offsets(i=0)",
                         "processor_begin(i=0)", "processor_send(i=0)",
                         # the first attempt's request (slot 0) arrives now, with the same epoch
                         "broker_append_txn(o=0, i=0, k=0)"])
    d = _d(sy, s)
    assert d["ent_kind"][0][0][0] == DATA and d["ent_tag"][0][0][0] == 1     # attempt #1's record ...
    assert d["tc_state"] == [ONGOING] and d["tc_epoch"] == [1]          # ... in attempt #2's transaction


def _tv1(variant: str = "tv1", **bounds: int):
    return system("exactly-once", variant, **bounds)


def test_tv1_client_bumps_its_epoch_after_a_timed_out_write_and_the_late_write_is_fenced():
    """KAFKA-8805 (Java 2.5): the abort ends with InitProducerId(producer id, epoch), which the
    TC bumps; the aborted attempt's write, arriving late, then fails verification."""
    sy = _tv1()
    s = run(sy, START + ABORTED_ROUND)
    d = _d(sy, s)
    assert d["ps_stage"][0] == INIT and d["ps_bump"][0]     # not ready: the bump is still owed
    assert "processor_fetch_offsets(i=0)" not in enabled(sy, s)
    s = run(sy, ["processor_init(i=0)"], s)
    d = _d(sy, s)
    assert d["ps_epoch"][0] == d["tc_epoch"][0] == 2 and d["ps_stage"][0] == FETCH
    assert not d["ps_bump"][0] and d["g_fence"] == [1]       # a bump is not initTransactions()
    s = run(sy, ["processor_fetch_offsets(i=0)", "processor_begin(i=0)", "processor_send(i=0)",
                 "broker_append_txn(o=0, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["log_len"][0] == [0] and d["g_late"]             # attempt #1's write is refused


def test_the_bump_is_refused_once_another_instance_has_the_id():
    """InitProducerId with an epoch that is no longer the TC's answers PRODUCER_FENCED."""
    sy = _tv1(faults=2)     # the premature timeout and the zombie each spend one
    s = run(sy, START + ABORTED_ROUND + ["processor_start(i=1)", "processor_init(i=1)"])
    assert _d(sy, s)["tc_epoch"] == [2]
    s = run(sy, ["processor_init(i=0)"], s)
    d = _d(sy, s)
    assert d["ps_stage"][0] == STOPPED and d["tc_epoch"] == [2] and d["g_fenced"]


def test_before_kip_447_the_offset_fetch_does_not_wait_for_pending_offsets():
    sy = system("eos-per-instance-id", "kafka-2.4")
    s = run(sy, START + ["processor_send(i=0)", "processor_send_offsets(i=0)",
                         "processor_start(i=1)", "processor_init(i=1)"])
    assert _d(sy, s)["gc_pending"] == [2, 0]
    s = run(sy, ["processor_fetch_offsets(i=1)"], s)         # answered at once: offset 0
    d = _d(sy, s)
    assert d["ps_pos"][1] == 0 and d["g_superseded"] == [True, False] and d["att_old"][1]


def test_verification_rejects_a_write_to_a_partition_outside_the_transaction():
    sy = _tv1()
    # no transaction is open: the late write is refused, nothing hangs
    s = run(sy, START + ABORTED_ROUND + ["broker_append_txn(o=0, i=0, k=0)"])
    assert _d(sy, s)["log_len"][0] == [0] and _d(sy, s)["pst_first"][0] == [0]


def test_offset_fetch_waits_while_offsets_are_pending():
    sy = system("exactly-once")
    s = run(sy, START + ["processor_send_offsets(i=0)", "processor_start(i=1)",
                         "processor_init(i=1)"])
    assert _d(sy, s)["gc_pending"] == [2]
    s = run(sy, ["coordinator_log_written(t=0)", "coordinator_send_markers(t=0)"], s)
    assert "processor_fetch_offsets(i=1)" not in enabled(sy, s)
    s = run(sy, ["groups_write_marker(k=0, t=0)"], s)          # the abort drops the pending offset
    d = _d(sy, s)
    assert d["gc_pending"] == [0] and d["gc_committed"] == 0


def test_group_metadata_rejects_a_zombies_offsets():
    sy = system("eos-per-instance-id")
    s = run(sy, START + ["processor_start(i=1)", "processor_send_offsets(i=0)"])
    d = _d(sy, s)
    assert d["ps_stage"][0] == ABORTABLE and d["ps_lost"][0] and d["gc_pending"] == [0, 0]
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.model import Config
    old = System(SPEC, Config.of("eos-per-instance-id", "no-group-metadata"))
    s = run(old, START + ["processor_start(i=1)", "processor_send_offsets(i=0)"])
    assert _d(old, s)["gc_pending"] == [2, 0]      # without group metadata it is accepted


def test_a_new_coordinator_resends_markers_and_the_old_ones_are_rejected():
    sy = system("exactly-once")
    s = run(sy, START + SEND + ["processor_send_offsets(i=0)", "processor_commit(i=0)",
                                "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)",
                                "coordinator_send_markers(t=0)", "coordinator_failover()",
                                "coordinator_send_markers(t=0)"])
    d = _d(sy, s)
    assert d["g_resent"] and d["tc_cepoch"] == 1 and d["mk_cepoch"][0] == [0, 1]
    s = run(sy, ["broker_write_marker(o=0, k=1, t=0)", "broker_write_marker(o=0, k=0, t=0)"], s)
    d = _d(sy, s)
    assert d["log_len"][0] == [2]          # the new coordinator's marker only: the old one is rejected
    assert d["tc_marked"][0][0]


def test_every_exactly_once_action_fires_at_the_default_bounds(default_runs):
    for (mode, variant), r in default_runs.items():
        if mode == "exactly-once" and variant == "current":
            assert r.exploration.coverage.never_fired() == []
            # commitSync after the commit is the pitfall mode's; a marker retry needs its bound
            assert not r.exploration.coverage.static_off - {"processor_commit_offsets",
                                                            "coordinator_marker_timeout"}
        if mode == "exactly-once" and variant == "tv2-4.0":   # run with marker_retries=1
            assert r.exploration.coverage.new["coordinator_marker_timeout"] > 0


@pytest.mark.parametrize("variant,broken", [("tv2-4.0", True), ("current", False)])
def test_a_late_copy_of_a_marker_closes_the_next_transaction_only_before_kip_1228(variant, broken):
    """A marker the TC sent again after a timeout: its late first copy has the epoch the next
    transaction writes with; Kafka 4.0-4.1 accept it (and commit the next transaction's offset),
    KIP-1228's strict epoch refuses it while that transaction is open."""
    sy = system("exactly-once", variant, records=2, faults=0, marker_retries=1)
    ex = explore(sy, [sy.spec.property("offsets_match_outputs")], progress=None)
    assert ex.complete and ("offsets_match_outputs" in ex.violations) == broken
    assert ex.coverage.new["coordinator_marker_timeout"] > 0


@pytest.mark.parametrize("variant,broken", [("kip-1228-without-19999", True), ("current", False)])
def test_a_marker_resent_after_a_failover_is_a_retry_with_kafka_19999(variant, broken):
    """Without KAFKA-19999's exception the new coordinator's copy of a marker already written is
    refused, the TC gives the markers up and the transaction hangs."""
    sy = system("exactly-once", variant, records=1)
    ex = explore(sy, [sy.spec.property("no_hanging_transaction")], progress=None)
    assert ex.complete and ("no_hanging_transaction" in ex.violations) == broken


def test_a_record_keyed_to_one_partition_is_written_and_committed_there_alone():
    from deliverycheck.model.txn_state import NOT_SENT, SENT
    sy = system("eos-keyed-outputs", "tv1")
    first = START + SEND + ["processor_send_offsets(i=0)", "processor_commit(i=0)",
                            "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)",
                            "coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)",
                            "broker_write_marker(o=1, k=0, t=0)", "groups_write_marker(k=0, t=0)",
                            "coordinator_complete(t=0)", "coordinator_log_written(t=0)"]
    s = run(sy, first + ["processor_begin(i=0)", "processor_send(i=0)"])
    d = _d(sy, s)
    assert d["ps_pos"][0] == 2                       # r2, whose key maps it to o1 alone
    assert d["tc_parts"][0] == [False, True, False]  # AddPartitionsToTxn named o1 only
    assert d["ps_out"][0] == [NOT_SENT, SENT] and not any(d["rq_rec"][0][0])
    s = run(sy, ["broker_append_txn(o=1, i=0, k=0)", "processor_send_offsets(i=0)"], s)
    assert "processor_commit(i=0)" in enabled(sy, s)  # nothing owed on o0
    s = run(sy, ["processor_commit(i=0)", "coordinator_end_txn(i=0, k=0)",
                 "coordinator_log_written(t=0)", "coordinator_send_markers(t=0)"], s)
    assert _d(sy, s)["mk_kind"][0][0] == 0           # no marker for o0: it is not in the transaction
    assert sy.holds("atomic_transactions", s) and sy.holds("offsets_match_outputs", s)


# -- producer epochs that run out (bounds.epochs; docs/model.md, "Producer epochs that run out") --

COMMIT_ROUND = SEND + ["processor_send_offsets(i=0)", "processor_commit(i=0)",
                       "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)"]
MARKERS = ["coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)",
           "broker_write_marker(o=1, k=0, t=0)", "groups_write_marker(k=0, t=0)",
           "coordinator_complete(t=0)", "coordinator_log_written(t=0)"]


def test_the_epochs_of_a_producer_id_are_numbered_on_in_the_next():
    from deliverycheck.model.txn_state import epoch_name, producer_id
    c = system("exactly-once", "epochs-run-out").cfg
    assert [producer_id(c, m) for m in (1, 2, 3, 4, 5)] == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]
    assert epoch_name(c, 2) == "epoch 2 of producer id 1, its last"
    assert epoch_name(system("exactly-once").cfg, 2) == "epoch 2"


def test_an_end_txn_that_exhausts_the_epochs_completes_on_a_new_producer_id():
    """The markers carry the old producer id's last epoch; EndTxn's answer already names the new
    id (KAFKA-18660), whose first request waits until the old id's transaction completes."""
    sy = system("exactly-once", "epochs-run-out", records=2)
    s = run(sy, START + COMMIT_ROUND)
    d = _d(sy, s)
    assert d["tc_epoch"] == [2] and d["tc_rotate"] == [True] and d["tl_rotate"] == [True]
    assert d["ps_epoch"][0] == 3 and d["ps_stage"][0] == READY   # producer id 2, epoch 1
    s = run(sy, MARKERS[:1] + ["processor_begin(i=0)", "processor_send(i=0)"], s)
    assert _d(sy, s)["mk_epoch"][0][0] == 2
    # the new id's write waits (CONCURRENT_TRANSACTIONS) while the old id's markers are written
    assert "broker_append_txn(o=0, i=0, k=0)" not in enabled(sy, s)
    s = run(sy, MARKERS[1:], s)
    d = _d(sy, s)
    assert d["tc_epoch"] == [3] and d["tl_epoch"] == [3] and d["tc_rotate"] == [False]
    s = run(sy, ["broker_append_txn(o=0, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["ps_stage"][0] != STOPPED and d["ent_epoch"][0][0][2] == 3
    assert sy.holds("fenced_only_by_successor", s)


def test_before_kafka_18660_the_answer_names_the_old_producer_id_and_the_producer_dies():
    sy = system("exactly-once", "tv2-before-18660", records=2)
    s = run(sy, START + COMMIT_ROUND)
    assert _d(sy, s)["ps_epoch"][0] == 2                   # the old id's last epoch
    s = run(sy, MARKERS + ["processor_begin(i=0)", "processor_send(i=0)",
                           "broker_append_txn(o=0, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["tc_epoch"] == [3] and d["ps_stage"][0] == STOPPED
    assert not sy.holds("fenced_only_by_successor", s)      # no other instance, no timeout


def test_a_timeout_fences_an_instance_without_breaking_fenced_only_by_successor():
    sy = system("exactly-once", "epochs-run-out")
    s = run(sy, START + SEND[:2] + ["coordinator_timeout(t=0)", "broker_append_txn(o=1, i=0, k=0)"])
    d = _d(sy, s)
    assert d["tc_state"] == [PREP_FENCE] and d["ps_stage"][0] == STOPPED
    assert sy.holds("fenced_only_by_successor", s)


@pytest.mark.parametrize("variant,stuck", [("kafka-4.0.0", True), ("epochs-run-out", False)])
def test_kafka_4_0_0_fences_past_the_last_epoch_and_the_transaction_hangs(variant, stuck):
    """KAFKA-19367: the fence's abort bumps the epoch a second time; from the last epoch but one
    that overflows, the transaction stays Ongoing at the last epoch and cannot be fenced again
    (a second fault is left for a timeout, which cannot fence it either)."""
    sy = system("exactly-once", variant, faults=2)
    s = run(sy, START + SEND[:2] + ["processor_start(i=1)", "processor_init(i=1)"])
    d = _d(sy, s)
    assert d["tc_epoch"] == [2]
    assert d["tc_state"] == ([ONGOING] if stuck else [PREP_FENCE])
    assert d["tc_pending"] == [not stuck] and d["tl_epoch"] == [1]
    assert "processor_init(i=1)" not in enabled(sy, s)  # waits: the abort, or an epoch to fence with
    if stuck:
        assert "coordinator_timeout(t=0)" not in enabled(sy, s)
        s = run(sy, ["broker_append_txn(o=1, i=0, k=0)"], s)       # the zombie is refused
        assert "processor_init(i=1)" not in enabled(sy, s) and _d(sy, s)["tc_state"] == [ONGOING]
    else:
        s = run(sy, ["coordinator_log_written(t=0)", "coordinator_send_markers(t=0)",
                     "broker_write_marker(o=0, k=0, t=0)", "coordinator_complete(t=0)",
                     "coordinator_log_written(t=0)"], s)
        assert _d(sy, s)["tc_epoch"] == [3]    # the fence's abort completes on producer id 2
        s = run(sy, ["processor_init(i=1)"], s)
        assert _d(sy, s)["ps_epoch"][1] == 5   # whose one usable epoch is exhausted: producer id 3


def test_a_bound_of_one_epoch_is_refused():
    from deliverycheck.model.bounds import Bounds
    with pytest.raises(ValueError, match="epochs must be 0"):
        Bounds(epochs=1)


@pytest.mark.parametrize("variant,stuck", [("tv2-before-20090", True), ("epochs-run-out", False)])
def test_a_fence_at_an_exhausted_epoch_completes_on_a_new_producer_id_since_kafka_20090(variant,
                                                                                       stuck):
    """Before KAFKA-20090 the fence's abort completed on the old id's last epoch, and the fenced
    producer's late EndTxn(abort) passed as a retry and handed it that epoch: the transaction
    it then opened could take no bump and no fence."""
    sy = system("exactly-once", variant, faults=4)   # one left for a timeout at the end
    s = run(sy, START + ["processor_send_offsets(i=0)", "coordinator_timeout(t=0)",
                         "processor_abort(i=0)", "coordinator_log_written(t=0)",
                         "coordinator_send_markers(t=0)", "groups_write_marker(k=0, t=0)",
                         "coordinator_complete(t=0)", "coordinator_log_written(t=0)"])
    assert _d(sy, s)["tc_epoch"] == [2 if stuck else 3]      # the last epoch, or producer id 2's first
    s = run(sy, ["coordinator_end_txn(i=0, k=0)"], s)         # the late abort passes as a retry
    d = _d(sy, s)
    assert d["ps_epoch"][0] == d["tc_epoch"][0] and d["ps_stage"][0] == FETCH
    s = run(sy, ["processor_fetch_offsets(i=0)", "processor_begin(i=0)",
                 "processor_send_offsets(i=0)", "processor_abort(i=0)",
                 "coordinator_end_txn(i=0, k=0)"], s)
    d = _d(sy, s)
    if stuck:   # the bump would pass Short.MaxValue: the request fails, the instance stops
        assert d["tc_state"] == [ONGOING] and d["ps_stage"][0] == STOPPED
        assert "coordinator_timeout(t=0)" not in enabled(sy, s)
    else:
        assert d["tc_state"] == [PREP_ABORT] and d["tc_epoch"] == [4]


# -- sequence numbers of transactional writes (ProducerAppendInfo.checkSequence) ---------------

# after an aborted round whose write expired in flight, the retry sends again: its requests sit
# behind the first attempt's, still on their way (slot 0: the late one, slot 1: the retry's)
RETRY = START + ABORTED_ROUND + ["processor_fetch_offsets(i=0)", "processor_begin(i=0)",
                                 "processor_send(i=0)"]


def test_the_retrys_write_waits_behind_a_late_write_of_the_same_epoch():
    """A client before 2.5 keeps its epoch and the expired batch's sequence number: the retry's
    write is one sequence on, refused as out of order and resent until the late one lands."""
    sy = _tv1("tv1-client-2.4")
    s = run(sy, RETRY)
    d = _d(sy, s)
    assert [d["rq_seq"][0][0][k] for k in (0, 1)] == [0, 1] and d["ps_seq"][0] == [2, 2]
    s = run(sy, ["broker_append_txn(o=0, i=0, k=1)"], s)
    d = _d(sy, s)
    assert d["log_len"][0] == [0] and d["rq_rec"][0][0][1] == 1 and d["ps_resent"][0][0]
    s = run(sy, ["broker_append_txn(o=0, i=0, k=0)", "broker_append_txn(o=0, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["ent_tag"][0][0][:2] == [1, 2] and d["pst_seq"][0] == [2]   # attempt #1's, then #2's


def test_a_resent_batch_that_expires_is_fatal_for_a_client_before_2_5():
    sy = _tv1("tv1-client-2.4")
    s = run(sy, RETRY + ["broker_append_txn(o=0, i=0, k=1)", "broker_append_txn(o=1, i=0, k=1)"])
    faults = _d(sy, s)["faults"]
    s = run(sy, ["processor_timeout(i=0)"], s)
    d = _d(sy, s)
    # the refusals were all that was coming: the expiry spends no fault, and the client stops
    assert d["ps_stage"] == [STOPPED, 0] and d["faults"] == faults


def test_a_kafka_2_4_broker_makes_the_retry_start_again_at_sequence_0():
    """KAFKA-7298: a sequence the partition cannot place (it knows only the abort marker) is
    UNKNOWN_PRODUCER_ID; the 2.4 client starts the partition at 0, and the late copy of sequence
    0 then arrives as a duplicate."""
    sy = _tv1("kafka-2.4")
    s = run(sy, RETRY + ["broker_append_txn(o=0, i=0, k=1)"])
    d = _d(sy, s)
    assert d["rq_seq"][0][0][1] == 0 and d["ps_seq"][0][0] == 1 and d["log_len"][0] == [0]
    s = run(sy, ["broker_append_txn(o=0, i=0, k=1)", "broker_append_txn(o=0, i=0, k=0)"], s)
    d = _d(sy, s)
    assert d["log_len"][0] == [1] and d["ent_tag"][0][0][0] == 2 and not any(d["rq_rec"][0][0])


def test_no_late_write_of_an_aborted_attempt_is_left_open_in_kafka_2_4():
    """KIP-890's hanging transaction needs a partition the producer never writes again; here
    every retry rewrites its record's partitions, and sequence numbers take the late write
    into the retry's transaction or drop it (docs/model.md): no final state holds one open."""
    from conftest import reachable
    sy = system("eos-keyed-outputs", "kafka-2.4")
    states = reachable(sy)
    late_writes = 0
    for state in states:
        if any(isinstance(fn(state), bytes) for fn in sy.compiled):
            continue
        d = _d(sy, state)
        for o, first in enumerate(d["pst_first"][:2]):
            if first[0]:
                assert d["outcome"][d["ent_tag"][o][0][first[0] - 1]] != 2, "an aborted write hangs"
        late_writes += d["g_late"]
    assert late_writes, "some final states have had a late request arrive"
