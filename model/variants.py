"""The broker side: Kafka versions, historical variants and the topic's replication.

One row per Kafka version (or historical behaviour) or replication setup
worth checking, read by actions as plain values.  Two groups of knobs:

* the transactional protocol (docs/protocol.md §9): these rows apply to the
  exactly-once modes;
* the partition's replication (docs/protocol.md §11): ``replication.factor``,
  ``min.insync.replicas``, ``unclean.leader.election.enable`` and how a
  follower truncates after a leader change, per Kafka version; these rows
  apply to the delivery-path modes' partitions and the exactly-once world's
  output partitions.

The default is today's Kafka with a partition of one replica (the worlds
whose figures were pinned before replication was modelled).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """The protocol flags of one Kafka version or historical variant."""

    name: str
    summary: str
    tv2: bool = True            # transaction protocol v2 (KIP-890 part 2): epoch bump at every EndTxn
    verification: bool = True  # partition leaders verify the first transactional write (KIP-890 part 1)
    group_metadata: bool = True  # sendOffsetsToTransaction carries the group metadata (KIP-447)
    rewind: bool = True         # the client honours the application's seek after an abort
    stable_offsets: bool = True  # OffsetFetch waits for pending transactional offsets (KIP-447, 2.5)
    strict_markers: bool = True  # under TV2 a marker needs an epoch above the partition's (KIP-1228, 4.2)
    marker_retry_ok: bool = True  # ... or equal to it with no transaction open: a retry (KAFKA-19999)
    client_bump: bool = True    # the client bumps its epoch after an abortable error (KAFKA-8805, Java 2.5)
    seq_after_marker: bool = True  # a partition that knows no sequence of the producer answers a non-zero one OUT_OF_ORDER (or takes it, producer unknown), not UNKNOWN_PRODUCER_ID (KIP-360, 2.5)
    rotation_answer: bool = True  # under TV2 EndTxn's answer names the new producer id when epochs ran out (KAFKA-18660, 4.0)
    fence_bumps_once: bool = True  # under TV2 a fence's abort does not bump the epoch again (KAFKA-19367, 4.0.1/4.1)
    fence_rotates: bool = True  # under TV2 a fence's abort at an exhausted epoch moves to a new producer id (KAFKA-20090, 2026)
    # -- the partition's replication (docs/protocol.md §11) --
    replicas: int = 1           # replication.factor: replicas of each partition, one per broker
    min_insync: int = 1         # min.insync.replicas: the ISR an acks=all write needs
    unclean: bool = False       # unclean.leader.election.enable: elect a replica outside the ISR
    truncation: str = "kip279"  # how a follower truncates after a leader change (TRUNCATIONS)
    epoch_on_election: bool = True  # a new leader records its epoch at once (KAFKA-7415, 2.1)
    hw_needs_min_isr: bool = True   # the high watermark stays while the ISR is below min.insync.replicas (KAFKA-15583, 3.7)
    elr: bool = False           # eligible leader replicas (KIP-966; 4.0 opt-in, 4.1 default on new clusters)
    bounce_keeps_isr: bool = False  # a quickly restarted follower stays in the ISR (until KAFKA-7235, 2.2)
    # -- producer state at the partition (docs/protocol.md §4) --
    expiry_when_busy: bool = False  # producer state can go while the producer still retries (retention before 2.4, KAFKA-7190)
    first_seq_zero: bool = True  # a never-written partition takes only sequence 0 from an unknown producer (KAFKA-15591, 2026)
    # -- the consumer (docs/protocol.md §5) --
    auto_commit_ahead: bool = False  # an auto-commit can store the position of records poll() is still returning (KAFKA-18641)
    checked_with: tuple[str, ...] = ()  # modes `deliverycheck verify` runs it with by default
    # default bounds where this variant's world needs other ones than its mode's
    bounds: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        if self.replicas < 1 or self.replicas > MAX_REPLICAS:
            raise ValueError(f"variant {self.name}: replicas (replication.factor) must be in "
                             f"1..{MAX_REPLICAS}, got {self.replicas}")
        if not 1 <= self.min_insync <= self.replicas:
            raise ValueError(f"variant {self.name}: min_insync (min.insync.replicas) must be in "
                             f"1..{self.replicas} (the replication factor), got {self.min_insync}")
        if self.truncation not in TRUNCATIONS:
            raise ValueError(f"variant {self.name}: truncation must be one of "
                             f"{', '.join(TRUNCATIONS)}, got {self.truncation!r}")
        if self.elr and (not self.hw_needs_min_isr or self.bounce_keeps_isr):
            raise ValueError(f"variant {self.name}: eligible leader replicas (elr, KIP-966) rest on "
                             f"the strict min ISR rule (hw_needs_min_isr, KAFKA-15583) and on "
                             f"KRaft's fencing of a restarted broker (no bounce_keeps_isr)")

    @property
    def replicated(self) -> bool:
        """The partition has followers: replication, failover and elections are modelled."""
        return self.replicas > 1

    @property
    def changes_delivery(self) -> bool:
        """The delivery path's partitions differ from today's Kafka with one replica."""
        return (self.replicated or self.expiry_when_busy or self.auto_commit_ahead
                or not self.first_seq_zero)

    @property
    def epochs_run_out(self) -> bool:
        """The variant's world lets producer epochs run out (its bounds set ``epochs``)."""
        return bool(dict(self.bounds).get("epochs"))

    @property
    def changes_transactions(self) -> bool:
        """Some transactional-protocol flag differs from today's Kafka."""
        return any(getattr(self, f) != getattr(_TODAY, f) for f in _TXN_FLAGS)


# How a follower finds where its log diverges from a new leader's:
#   "high-watermark": truncate to its own high watermark (Kafka before 0.11);
#   "kip101": ask the leader for the end offset of its latest epoch
#             (OffsetsForLeaderEpoch, KIP-101, Kafka 0.11 to 1.1);
#   "kip279": the leader answers with the largest epoch it has at or below the
#             one asked for, and the follower repeats until both agree (KIP-279,
#             KAFKA-6361, Kafka 2.0 on).
TRUNCATIONS = ("high-watermark", "kip101", "kip279")

# A replicated partition multiplies the delivery path's histories (every
# fetch, ISR change, crash and election interleaves with the producer's and
# the consumer's steps): two records and two faults make 3 to 7 million
# states per configuration, one record 20 to 30 thousand.  Every replication
# finding listed in expected.toml needs one record; the named world
# "replication-two-records" checks two.
REPLICATED_BOUNDS = (("records", 1),)
# Producer ids with two epochs each (Short.MaxValue scaled down): every EndTxn exhausts one.
# One input record shows every epoch finding (an abort, or a fence, then the record again);
# two make 3 to 17 times the states and change no verdict (the eos-epochs-two-records world).
EPOCHS_BOUNDS = (("epochs", 2), ("records", 1))
MAX_REPLICAS = 3
_TXN_FLAGS = ("tv2", "verification", "group_metadata", "rewind", "stable_offsets", "client_bump",
              "seq_after_marker",
              "strict_markers", "marker_retry_ok", "rotation_answer", "fence_bumps_once",
              "fence_rotates")


DEFAULT_VARIANT = "current"
_TODAY = Variant("today", "")

VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("current", "today's Kafka (4.2 on): TV2 with KIP-1228's strict marker epoch, "
                       "partition verification, group metadata, rewind (and, where epochs run "
                       "out, trunk since KAFKA-20090's fix of February 2026)"),
    Variant("tv2-4.0", "Kafka 4.0 and 4.1 with transaction.version=2: a partition accepts a "
                       "marker whose epoch equals the one it has seen (before KIP-1228); one "
                       "record, one marker sent again after a timeout",
            strict_markers=False, bounds=(("records", 1), ("marker_retries", 1)),
            checked_with=("exactly-once",)),
    Variant("epochs-run-out", "today's Kafka in a world where a producer id's epochs run out at "
                              "every transaction (Short.MaxValue scaled down to 2): the coordinator "
                              "moves the transactional id to a new producer id; one record",
            bounds=EPOCHS_BOUNDS, checked_with=("exactly-once",)),
    Variant("tv2-before-18660", "TV2 as on Kafka's trunk before KAFKA-18660 (January 2025, in "
                                "4.0.0: no release has this): when epochs run out, EndTxn's answer "
                                "names the old producer id, and a request with the new one is "
                                "refused while the old one's transaction completes; epochs run out "
                                "at every transaction; one record", strict_markers=False,
            rotation_answer=False, fence_rotates=False, bounds=EPOCHS_BOUNDS,
            checked_with=("exactly-once",)),
    Variant("kafka-4.0.0", "Kafka 4.0.0 with transaction.version=2: fencing an open transaction "
                           "bumps the epoch, and its abort bumps it again (KAFKA-19367, fixed on "
                           "the 4.0 and 4.1 branches in June 2025), past Short.MaxValue when the "
                           "epoch was the last but one; epochs run out at every transaction; one "
                           "record",
            strict_markers=False, fence_bumps_once=False, fence_rotates=False, bounds=EPOCHS_BOUNDS,
            checked_with=("exactly-once",)),
    Variant("tv2-before-20090", "today's Kafka without the fix of KAFKA-20090 (merged February "
                                "2026; TV2 had the bug from 4.0): a fence's abort at an exhausted epoch "
                                "completes on the old producer id's last epoch, and a late "
                                "EndTxn(abort) of the fenced producer passes as a retry; epochs "
                                "run out at every transaction; one record, two faults (20 million "
                                "states: not in the default run)",
            fence_rotates=False, bounds=EPOCHS_BOUNDS + (("faults", 2),)),
    Variant("kip-1228-without-19999", "KIP-1228's strict marker epoch without the KAFKA-19999 "
                                      "exception: a marker sent again is refused once the first "
                                      "copy is written", marker_retry_ok=False,
            checked_with=("exactly-once",)),
    Variant("tv1", "Kafka 3.6-3.9 brokers: transaction protocol v1 (same epoch across "
                   "transactions), partition verification on; a Java client 2.5 or later (it "
                   "bumps its epoch after an abortable error)", tv2=False,
            checked_with=("exactly-once",)),
    Variant("tv1-client-2.4", "as tv1, with a Java client before 2.5: no epoch bump after a "
                              "timed-out write (KAFKA-8805 is in 2.5)", tv2=False,
            client_bump=False, checked_with=("exactly-once",)),
    Variant("tv1-no-verification", "Kafka 2.5-3.5 brokers: TV1 without partition verification; "
                                   "a Java client 2.5 or later", tv2=False, verification=False,
            checked_with=("exactly-once",)),
    Variant("kafka-2.4", "Kafka 2.4 and older, brokers and Java client: TV1, no partition "
                         "verification, sendOffsetsToTransaction without group metadata and "
                         "OffsetFetch without the stable-offset wait (both KIP-447, 2.5), no "
                         "epoch bump after a timed-out write (KAFKA-8805, 2.5), UNKNOWN_PRODUCER_ID "
                         "for a sequence the partition cannot place (KAFKA-7298, 2.1-2.4)",
            tv2=False, verification=False, group_metadata=False, stable_offsets=False,
            client_bump=False, seq_after_marker=False, checked_with=("exactly-once", "eos-keyed-outputs", "eos-per-instance-id")),
    Variant("no-group-metadata", "today's Kafka with the application calling "
                                 "sendOffsetsToTransaction(offsets, groupId) (deprecated since "
                                 "3.0): no generation check on transactional offsets",
            group_metadata=False, checked_with=("exactly-once", "eos-per-instance-id")),
    Variant("no-rewind", "a processing loop whose consumer is not sought back after an abort",
            rewind=False, checked_with=("exactly-once",)),
    Variant("rf2", "Kafka 3.7 to 4.x without eligible leader replicas (KIP-966), "
                   "replication.factor=2, min.insync.replicas=1 (the broker default), unclean leader "
                   "election off", replicas=2, bounds=REPLICATED_BOUNDS,
            checked_with=("at-most-once", "at-least-once", "at-least-once-acks1", "idempotent",
                          "exactly-once")),
    Variant("rf2-unclean", "as rf2, with unclean.leader.election.enable=true", replicas=2,
            unclean=True, bounds=REPLICATED_BOUNDS,
            checked_with=("at-most-once", "at-least-once", "at-least-once-acks1", "idempotent")),
    Variant("rf2-isr2", "as rf2, with min.insync.replicas=2",
            replicas=2, min_insync=2, bounds=REPLICATED_BOUNDS,
            checked_with=("at-least-once", "idempotent")),
    Variant("rf2-isr2-unclean", "as rf2-isr2, with unclean.leader.election.enable=true",
            replicas=2, min_insync=2, unclean=True, bounds=REPLICATED_BOUNDS,
            checked_with=("at-least-once",)),
    Variant("rf3-isr2", "as rf2, with replication.factor=3 and min.insync.replicas=2",
            replicas=3, min_insync=2, bounds=REPLICATED_BOUNDS,
            checked_with=("at-least-once", "at-least-once-acks1")),
    Variant("pre-kip101", "Kafka before 0.11: a follower truncates to its high watermark after a "
                          "restart or a leader change (replication.factor=2, min.insync.replicas=2)",
            replicas=2, min_insync=2, truncation="high-watermark", epoch_on_election=False,
            hw_needs_min_isr=False, bounce_keeps_isr=True, bounds=REPLICATED_BOUNDS,
            checked_with=("at-least-once",)),
    Variant("kip101-unclean", "Kafka 0.11 to 1.1: truncation by leader epoch (KIP-101) before "
                              "KIP-279; replication.factor=2, min.insync.replicas=1, unclean "
                              "election on", replicas=2, unclean=True,
            truncation="kip101", epoch_on_election=False, hw_needs_min_isr=False,
            bounce_keeps_isr=True, bounds=REPLICATED_BOUNDS, checked_with=("at-least-once",)),
    Variant("kip279-unclean", "Kafka 2.0: KIP-279's truncation, before a new leader recorded its "
                              "epoch (KAFKA-7415); replication.factor=2, min.insync.replicas=1, "
                              "unclean election on", replicas=2, unclean=True,
            epoch_on_election=False, hw_needs_min_isr=False, bounce_keeps_isr=True,
            bounds=REPLICATED_BOUNDS, checked_with=("at-least-once",)),
    Variant("pre-3.7-isr2-unclean", "Kafka 2.2 to 3.6: the high watermark advances while the ISR is "
                                    "below min.insync.replicas (fixed by KAFKA-15583); "
                                    "replication.factor=2, min.insync.replicas=2, unclean election on",
            replicas=2, min_insync=2, unclean=True, hw_needs_min_isr=False,
            bounds=REPLICATED_BOUNDS, checked_with=("at-least-once",)),
    Variant("pre-2.4-retention", "Kafka before 2.4: retention that removes a producer's last "
                                 "batches also drops its state, while it may still be retrying "
                                 "(KAFKA-7190, fixed with KIP-360); one expiry, one fault",
            expiry_when_busy=True, bounds=(("expiries", 1), ("faults", 1)),
            checked_with=("idempotent",)),
    Variant("before-15591", "brokers from 2.5 (KIP-360) until KAFKA-15591 (merged August 2026): a "
                            "partition accepts any first sequence from a producer it has no state "
                            "for, also while its log has never held a record, so of two requests "
                            "in flight to a new partition the second can be written while the "
                            "first is refused", first_seq_zero=False),
    Variant("new-consumer-before-18641",
            "the Java client's new consumer (group.protocol=consumer, KIP-848) before the fix of "
            "KAFKA-18641 (merged February 2025; no release checked): its background thread may "
            "auto-commit the position poll() has just moved past the records it is returning",
            auto_commit_ahead=True, checked_with=("at-least-once-auto-commit",)),
    Variant("rf2-isr2-elr", "Kafka 4.1 on (new clusters; 4.0 with eligible.leader.replicas.version=1): "
                            "eligible leader replicas (KIP-966); replication.factor=2, "
                            "min.insync.replicas=2, unclean election off",
            replicas=2, min_insync=2, elr=True, bounds=REPLICATED_BOUNDS,
            checked_with=("at-least-once", "idempotent")),
)}


def relevant(variant: Variant, transactional: bool) -> bool:
    """Whether ``variant`` changes anything for a mode of the given world.

    Transactional flags change the exactly-once world; replication changes the
    delivery path's partitions and the exactly-once world's output partitions.
    """
    if variant.name == DEFAULT_VARIANT:
        return True
    if transactional:
        return variant.changes_transactions or variant.replicated or variant.epochs_run_out
    return variant.changes_delivery
