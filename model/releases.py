"""Which Kafka release does what: the variant knobs of a broker and a client version.

``deliverycheck check`` builds a variant row (model/variants.py) from the
brokers' and the Java client's versions and a few settings; the facts are
here, in the specification, beside the rows they set, each with the KIP
or ticket it follows.  A version is any object with ``at_least("2.5")``,
``trunk`` (Kafka's main branch, after every release) and ``key`` (major,
minor, patch).  Two fixes merged after the newest release known here
(KAFKA-15591, August 2026; KAFKA-20090, February 2026) are taken as absent
from every numbered release.
"""

from __future__ import annotations

from typing import Any

from .variants import _TXN_FLAGS

# the knobs only a replicated partition reads (model/partition.py), and those only the
# delivery path's producer and consumer read (partition.py's producer state, consumer.py)
REPLICATION_KNOBS = ("min_insync", "unclean", "truncation", "epoch_on_election", "hw_needs_min_isr",
                     "elr", "bounce_keeps_isr")
DELIVERY_KNOBS = ("expiry_when_busy", "first_seq_zero", "auto_commit_ahead")
def release_knobs(kafka: Any, client: Any, transaction_version: int, verification: bool,
                  new_consumer: bool) -> dict[str, Any]:
    """The variant knobs of ``kafka`` brokers and a ``client`` Java client, with the cluster's
    ``transaction.version``, the brokers' ``transaction.partition.verification.enable`` and
    whether the consumer is KIP-848's (``group.protocol=consumer``)."""
    b, cl = kafka, client
    tv2 = transaction_version >= 2 and cl.at_least("4.0")   # TV2 needs 4.0 brokers and clients
    both_2_5 = b.at_least("2.5") and cl.at_least("2.5")
    return dict(
        tv2=tv2,
        # KIP-890 part 1 (3.6); under TV2 the partition always verifies
        verification=tv2 or (verification and b.at_least("3.6")),
        # KIP-447 (2.5): sendOffsetsToTransaction with group metadata, OffsetFetch waits for
        # pending transactional offsets; both ends must have it
        group_metadata=both_2_5,
        stable_offsets=both_2_5,
        rewind=True,
        strict_markers=b.at_least("4.2"),       # KIP-1228
        marker_retry_ok=True,                   # KAFKA-19999, with KIP-1228
        client_bump=both_2_5,                   # KAFKA-8805 with KIP-360
        seq_after_marker=b.at_least("2.5"),     # KIP-360; 2.1-2.4 answer UNKNOWN_PRODUCER_ID
        rotation_answer=True,                   # KAFKA-18660 is in 4.0.0
        fence_bumps_once=b.key != (4, 0, 0),    # KAFKA-19367, fixed in 4.0.1 and 4.1
        fence_rotates=b.trunk,                  # KAFKA-20090 (February 2026): no release known
        truncation="kip279" if b.at_least("2.0") else "kip101",   # KIP-101 (0.11), KIP-279 (2.0)
        epoch_on_election=b.at_least("2.1"),    # KAFKA-7415
        hw_needs_min_isr=b.at_least("3.7"),     # KAFKA-15583
        elr=b.at_least("4.1"),                  # KIP-966: on by default for new 4.1 clusters
        bounce_keeps_isr=not b.at_least("2.2"),  # KAFKA-7235
        expiry_when_busy=not b.at_least("2.4"),  # KAFKA-7190, fixed with KIP-360's broker side
        first_seq_zero=b.trunk or not b.at_least("2.5"),   # KAFKA-15591 (August 2026)
        # KAFKA-18641 (merged February 2025, after 3.9.0): the new consumer's auto-commit
        auto_commit_ahead=new_consumer and not cl.at_least("4.0"),
    )


def unread_knobs(transactional: bool, idempotent: bool, replicated: bool, tv2: bool,
                 epochs: bool) -> list[str]:
    """The knobs no step reads in such a world (they may take any value without changing it)."""
    out = list(_TXN_FLAGS) if not transactional else list(DELIVERY_KNOBS)
    if not replicated:
        out += REPLICATION_KNOBS
    if not idempotent:      # partition.py checks sequences, and expires state, of idempotent producers
        out += ["first_seq_zero", "expiry_when_busy"]
    if not tv2:             # broker_txn.py and coordinator.py read these under TV2 only
        out += ["strict_markers", "marker_retry_ok", "fence_bumps_once", "fence_rotates"]
    if not epochs:          # ... and these only where epochs run out
        out += ["rotation_answer", "fence_rotates"]
    return out
