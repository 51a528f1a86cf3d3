"""The replicated partition (model/partition.py), step by step: hand-built histories from
docs/protocol.md §11, and the leader-epoch arithmetic of each Kafka version."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import enabled, run, system

from deliverycheck.catalog import SPEC
from deliverycheck.core.spec import View
from deliverycheck.core.system import System
from deliverycheck.model import MODES, VARIANTS, Config
from deliverycheck.model.bounds import for_mode
from deliverycheck.model.partition import truncation_point
from deliverycheck.model.state import ACKED, NOT_ENOUGH
from deliverycheck.model.story import describe
from deliverycheck.model.variants import Variant


def d(sy, st):
    return sy.schema.decode(st)


# a record acknowledged with acks=all: appended, copied, the leader's high watermark moved by the
# follower's next fetch, the answer sent and read
ACKED_ALL = [
    "producer_send(r=0, k=0)",
    "broker_append(p=0, i=0, k=0, r=0)",
    "follower_fetch(p=0, r=1, l=0)",
    "follower_fetch(p=0, r=1, l=0)",
    "leader_answer(p=0, j=0, r=0)",
    "producer_receive(p=0, i=0, k=0)",
]


def test_one_replica_has_no_replication_steps():
    sy = system("at-least-once")
    names = {i.action.name for i in sy.instances}
    assert not names & {"follower_fetch", "controller_elect", "broker_crash", "broker_bounce",
                        "leader_answer", "consumer_reset"}


def test_acks_all_waits_for_the_follower_and_the_follower_learns_the_watermark_a_fetch_later():
    sy = system("at-least-once", "rf2")
    s = run(sy, ACKED_ALL[:2])
    st = d(sy, s)
    assert st["log_len"][0] == [1, 0] and st["rs_batch"][0][0] == 0, "no answer yet"
    assert st["pend"][0][0] == 1, "the answer waits in the purgatory, on connection 0"
    assert "leader_answer(p=0, j=0, r=0)" not in enabled(sy, s)
    s = run(sy, ACKED_ALL[2:3], s)
    assert d(sy, s)["hw"][0] == [0, 0], "the leader learns the copy only at the next fetch"
    s = run(sy, ACKED_ALL[3:4], s)
    assert d(sy, s)["hw"][0] == [1, 0], "the follower's high watermark lags one fetch"
    s = run(sy, ACKED_ALL[4:], s)
    assert d(sy, s)["b_state"][0] == ACKED and sy.holds("acked_in_log", s)


def test_acks_1_answers_at_once_and_a_failover_loses_the_record():
    sy = system("at-least-once-acks1", "rf2")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "producer_receive(p=0, i=0, k=0)", "broker_crash(b=0, keep=3)",
                 "controller_elect(p=0, r=1)"])
    st = d(sy, s)
    assert st["b_state"][0] == ACKED and st["leader"] == [1] and st["lepoch"] == [1]
    assert not sy.holds("acked_in_log", s)


def test_min_insync_refuses_before_appending():
    sy = system("at-least-once", "rf2-isr2")
    # the follower is in sync at offset 0 until the leader has something it lacks
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "leader_shrink_isr(p=0, r=1, l=0)", "producer_timeout(p=0)",
                 "producer_retry(k=0, p=0)", "broker_append(p=0, i=0, k=0, r=0)"])
    st = d(sy, s)
    assert st["isr"][0] == [True, False] and st["log_len"][0] == [1, 0], "nothing appended again"
    assert st["rs_code"][0][0] == NOT_ENOUGH
    # the refusal does not use up the batch's retry
    s = run(sy, ["producer_receive(p=0, i=0, k=0)"], s)
    assert d(sy, s)["b_tries"][0] == 1


def test_since_3_7_the_watermark_stays_below_min_insync_and_before_it_moved():
    steps = ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
             "leader_shrink_isr(p=0, r=1, l=0)"]
    now = system("at-least-once", "rf2-isr2-unclean")
    old = system("at-least-once", "pre-3.7-isr2-unclean")
    assert d(now, run(now, steps))["hw"][0][0] == 0
    assert d(old, run(old, steps))["hw"][0][0] == 1


def test_kip101_first_case_a_quick_restart_truncates_to_the_lagging_watermark():
    """Kafka before 0.11: the follower truncates to its high watermark and is elected."""
    steps = ACKED_ALL + ["broker_bounce(b=1, keep=3)", "follower_truncate(p=0, r=1, l=0)",
                         "broker_crash(b=0, keep=3)", "controller_elect(p=0, r=1)"]
    old = system("at-least-once", "pre-kip101")
    s = run(old, steps)
    assert d(old, s)["log_len"][0][1] == 0 and not old.holds("acked_in_log", s)
    # by leader epoch (KIP-101 on, still before KAFKA-7235) the follower keeps the committed record
    new = system("at-least-once", "kip101-unclean")
    s = run(new, steps)
    assert d(new, s)["log_len"][0][1] == 1 and new.holds("acked_in_log", s)


def test_since_2_2_a_restarted_follower_is_fenced_not_kept_in_the_isr():
    """KAFKA-7235: a bounce is a crash and a restart; only the pre-2.2 rows have broker_bounce."""
    sy = system("at-least-once", "rf2-isr2")
    s = run(sy, ACKED_ALL)
    assert not [a for a in enabled(sy, s) if a.startswith("broker_bounce")]
    assert [a for a in enabled(sy, s) if a.startswith("broker_crash(b=1")]
    old = system("at-least-once", "pre-kip101")
    assert "broker_bounce(b=1, keep=3)" in enabled(old, run(old, ACKED_ALL))


def test_an_election_waits_for_no_other_broker_event():
    """The controller elects in the same change that fences a leader: no crash slips in between."""
    sy = system("at-least-once", "rf2")
    s = run(sy, ["broker_crash(b=0, keep=3)"])
    assert enabled(sy, s) and not [a for a in enabled(sy, s) if a.startswith("broker_")]
    assert "controller_elect(p=0, r=1)" in enabled(sy, s)


# the last replica standing (KIP-966): r1 is committed on both brokers, r2 only on the leader;
# the follower lags and leaves the ISR, and the leader loses power with nothing flushed
LAST_STANDING = ACKED_ALL + ["producer_send(r=1, k=1)", "broker_append(p=0, i=0, k=1, r=0)",
                             "leader_shrink_isr(p=0, r=1, l=0)", "broker_crash(b=0, keep=0)"]


def test_without_eligible_leader_replicas_the_last_replica_standing_loses_committed_records():
    """Before KIP-966 the leader stays the ISR's last member and is elected again, empty."""
    sy = system("at-least-once", "rf2-isr2", records=2, unflushed=1)
    s = run(sy, LAST_STANDING)
    assert enabled(sy, s) and "controller_elect(p=0, r=1)" not in enabled(sy, s)
    s = run(sy, ["broker_restart(b=0)", "controller_elect(p=0, r=0)"], s)
    assert d(sy, s)["log_len"][0][0] == 0 and not sy.holds("acked_in_log", s)


def test_eligible_leader_replicas_elect_the_follower_that_left_the_isr():
    """KIP-966: the follower left the ISR below min.insync.replicas, so it is eligible and holds r1."""
    sy = system("at-least-once", "rf2-isr2-elr", records=2, unflushed=1)
    s = run(sy, LAST_STANDING)
    st = d(sy, s)
    assert st["isr"][0] == [False, False] and st["elr"][0] == [True, True] and st["last_leader"] == [0]
    assert [a for a in enabled(sy, s) if a.startswith("controller_elect")] == ["controller_elect(p=0, r=1)"]
    before, s = s, run(sy, ["controller_elect(p=0, r=1)"], s)
    st = d(sy, s)
    assert st["isr"][0] == [False, True] and st["elr"][0] == [True, False] and sy.holds("acked_in_log", s)
    said = describe("controller_elect", {"p": 0, "r": 1}, d(sy, before), st, sy.cfg)
    assert "from the eligible leader replicas" in said
    # the restarted leader had an unclean shutdown: it leaves the ELR
    s = run(sy, ["broker_restart(b=0)"], s)
    assert d(sy, s)["elr"][0] == [False, False]


def test_eligible_leader_replicas_fall_back_to_the_last_known_leader():
    """KIP-966 part 1: with ISR and ELR empty the controller elects the last known leader."""
    sy = system("at-least-once", "rf2-isr2-elr", unflushed=1)
    s = run(sy, ACKED_ALL + ["broker_crash(b=1, keep=4)", "broker_crash(b=0, keep=0)",
                             "broker_restart(b=0)"])
    assert not [a for a in enabled(sy, s) if a.startswith("controller_elect")], "broker 1 is eligible"
    s = run(sy, ["broker_restart(b=1)", "controller_elect(p=0, r=0)"], s)
    assert not sy.holds("acked_in_log", s)


def test_a_follower_longer_than_the_leader_truncates_on_fetch():
    """After an unclean election: OFFSET_OUT_OF_RANGE, truncate to the leader's end."""
    sy = system("at-least-once", "kip101-unclean")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "leader_shrink_isr(p=0, r=1, l=0)", "broker_crash(b=0, keep=3)",
                 "controller_elect(p=0, r=1)", "broker_restart(b=0)",
                 "follower_truncate(p=0, r=0, l=1)"])
    # before 2.1 the new leader, with no entry yet, knows no epoch: the old leader keeps its
    # entry (its high watermark) ... and the fetch past the leader's end removes it
    assert d(sy, s)["log_len"][0] == [1, 0]
    s = run(sy, ["follower_fetch(p=0, r=0, l=1)"], s)
    assert d(sy, s)["log_len"][0] == [0, 0] and d(sy, s)["g_truncated"]


def test_followers_keep_producer_state_so_a_retry_after_failover_is_a_duplicate():
    sy = system("idempotent", "rf2")
    s = run(sy, ACKED_ALL[:5] + ["network_lose_response(p=0, i=0, k=0)", "broker_crash(b=0, keep=3)",
                                 "controller_elect(p=0, r=1)", "producer_timeout(p=0)",
                                 "producer_retry(k=0, p=0)", "broker_append(p=0, i=0, k=0, r=1)"])
    st = d(sy, s)
    assert st["log_len"][0][1] == 1 and st["g_dedup"], "the new leader recognised the retry"
    assert sy.holds("no_duplicate_send", s)


# -- where a follower truncates, per Kafka version ------------------------------------------
# The follower (replica 1) led epoch 1 and wrote b1 at offset 0; the leader (replica 0), elected
# uncleanly in epoch 2, wrote b2 at offset 0.  Only since 2.1 (KAFKA-7415) does the follower
# find that offset 0 differs.

def _diverged(variant: Variant):
    cfg = Config(MODES["at-least-once"], variant, for_mode(MODES["at-least-once"], variant))
    sy = System(SPEC, cfg)
    st = sy.schema.decode(sy.init)
    st.update({"log": [[[2, 0, 0], [1, 0, 0]]], "lep": [[[2, 0, 0], [1, 0, 0]]],
               "log_len": [[1, 1]], "hw": [[0, 1]], "leader": [0], "lepoch": [2], "estart": [0],
               "nbatches": 2, "b_rec": [1, 1, 0]})
    return View(sy.schema, list(sy.schema.encode(st))), cfg


@pytest.mark.parametrize("name, expected", [
    ("pre-kip101", (1, True)),        # its own high watermark: it keeps b1
    ("kip101-unclean", (1, True)),    # the leader knows no epoch as old as 1: its high watermark
    ("kip279-unclean", (1, True)),    # the leader answers no epoch at or below 1: the same
    ("rf2-unclean", (0, True)),       # 2.1: epoch 1 ends where the leader's first epoch starts
])
def test_truncation_point_per_version(name, expected):
    s, cfg = _diverged(VARIANTS[name])
    to, done = truncation_point(s, cfg, 0, 1, 0)
    assert (to, bool(done)) == expected


def test_replication_knobs_that_cannot_be_are_refused():
    with pytest.raises(ValueError, match=r"min_insync \(min.insync.replicas\) must be in 1..2"):
        Variant("x", "", replicas=2, min_insync=3)
    with pytest.raises(ValueError, match=r"replicas \(replication.factor\) must be in 1..3"):
        Variant("x", "", replicas=0)
    with pytest.raises(ValueError, match="truncation must be one of"):
        Variant("x", "", replicas=2, truncation="newest")


def test_stories_say_what_the_replication_steps_changed():
    sy = system("at-least-once", "rf2-unclean")
    labels = ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
              "leader_shrink_isr(p=0, r=1, l=0)", "broker_crash(b=0, keep=3)",
              "controller_elect(p=0, r=1)"]
    states = [sy.init]
    for label in labels:
        states.append(run(sy, [label], states[-1]))
    said = []
    for n, label in enumerate(labels):
        inst = next(i for i in sy.instances if i.label() == label)
        said.append(describe(inst.action.name, dict(zip(inst.action.param_names, inst.params)),
                             d(sy, states[n]), d(sy, states[n + 1]), sy.cfg))
    assert "will answer once offset 0 is below the high watermark" in said[1]
    assert "shrinks partition 0's ISR to {0}" in said[2]
    assert said[3] == "broker 0 crashes; partition 0 has no leader"
    assert "uncleanly (it was not in the ISR), in leader epoch 1" in said[4]


def test_offline_is_reported_as_availability_not_a_deadlock():
    sy = system("at-least-once", "rf2")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "leader_shrink_isr(p=0, r=1, l=0)", "broker_crash(b=0, keep=3)"])
    assert not sy.holds("available", s)
    assert "broker_restart(b=0)" in enabled(sy, s), "the partition comes back with its broker"
    prop = SPEC.property("available")
    assert prop.aspect == "availability" and SPEC.property("acked_in_log").aspect == "safety"
    assert replace(prop).explain(View(sy.schema, list(s)), sy.cfg) == [
        "partition 0 has no leader and no replica the controller may elect, though broker 1 is "
        "running"]


# -- the exactly-once world's output partitions, replicated ---------------------------------

# r1's outputs appended by broker 0 on o0 and o1, copied to broker 1 (committed: below the high
# watermark) and acknowledged; I1 asks to commit
EOS_WRITTEN = ["processor_init(i=0)", "processor_fetch_offsets(i=0)", "processor_begin(i=0)",
               "processor_send(i=0)", "processor_send_offsets(i=0)",
               "broker_append_txn(o=0, i=0, k=0)", "follower_fetch(p=0, r=1, l=0)",
               "follower_fetch(p=0, r=1, l=0)", "broker_append_txn(o=1, i=0, k=0)",
               "follower_fetch(p=1, r=1, l=0)", "follower_fetch(p=1, r=1, l=0)",
               "leader_answer_txn(o=0, j=0)", "leader_answer_txn(o=1, j=0)", "processor_commit(i=0)"]


def test_exactly_once_with_one_replica_has_no_replication_state():
    """The default exactly-once world is the one pinned before replication: no extra fields."""
    sy = system("exactly-once")
    assert "leader" not in sy.schema.by_name and "pend" not in sy.schema.by_name
    assert not [i for i in sy.instances if i.action.name in ("follower_fetch", "leader_answer_txn")]


def test_a_write_is_acknowledged_only_below_the_high_watermark():
    """acks=all: the transactional write waits until the follower has copied it."""
    sy = system("exactly-once", "rf2")
    s = run(sy, EOS_WRITTEN[:6])
    assert d(sy, s)["pend"][0][0] == 1 and "leader_answer_txn(o=0, j=0)" not in enabled(sy, s)
    s = run(sy, EOS_WRITTEN[6:8], s)
    assert "leader_answer_txn(o=0, j=0)" in enabled(sy, s)


def test_a_committed_transaction_survives_the_failover_of_its_output_partitions():
    """The new leader has r1's output, rebuilds the open transaction from its log, and takes the
    COMMIT marker: the reader is returned the record appended by the old leader."""
    sy = system("exactly-once", "rf2")
    s = run(sy, EOS_WRITTEN + ["broker_crash(b=0, keep=8)", "controller_elect(p=0, r=1)"])
    st = d(sy, s)
    assert st["leader"][0] == 1 and st["pst_first"][0] == [1], "the open transaction, from the log"
    s = run(sy, ["coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)",
                 "coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)"], s)
    assert sy.holds("witness_txn_failover", s)
    assert all(sy.holds(p, s) for p in ("atomic_transactions", "no_aborted_read", "zombie_fenced"))


def test_a_marker_the_crashed_leader_did_not_answer_is_sent_again_to_the_new_leader():
    """TransactionMarkerChannelManager retries: the marker goes back to the coordinator's queue."""
    sy = system("exactly-once", "rf2")
    s = run(sy, EOS_WRITTEN + ["coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)",
                               "coordinator_send_markers(t=0)", "broker_write_marker(o=0, k=0, t=0)"])
    st = d(sy, s)
    assert st["pend"][0][1] == 3 and st["mk_kind"][0][0] == 0, "written, answer owed to the TC"
    st = d(sy, run(sy, ["broker_crash(b=0, keep=8)"], s))
    assert st["mk_kind"][0][0] == 2 and st["pend"][0] == [0] * len(st["pend"][0])
