"""Protocol versions and historical variants, read by actions as plain flags.

One row per Kafka version (or historical client behaviour) worth checking;
the flags change only the transactional protocol (docs/protocol.md §9), so the
variants apply to the exactly-once modes.  The default is today's Kafka.
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
    checked_with: tuple[str, ...] = ()  # modes `deliverycheck verify` runs it with by default


DEFAULT_VARIANT = "current"

VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("current", "today's Kafka (4.x): TV2, partition verification, group metadata, rewind"),
    Variant("tv1", "Kafka 3.6-3.9: transaction protocol v1 (same epoch across transactions), "
                   "partition verification on", tv2=False, checked_with=("exactly-once",)),
    Variant("tv1-no-verification", "Kafka before 3.6: TV1 and no partition verification",
            tv2=False, verification=False, checked_with=("exactly-once",)),
    Variant("no-group-metadata", "the pre-KIP-447 sendOffsetsToTransaction(offsets, groupId): "
                                 "no generation check on transactional offsets",
            group_metadata=False, checked_with=("exactly-once", "eos-per-instance-id")),
    Variant("no-rewind", "a processing loop whose consumer is not sought back after an abort",
            rewind=False, checked_with=("exactly-once",)),
)}


def relevant(variant: Variant, transactional: bool) -> bool:
    """Whether ``variant`` changes anything for a mode (variants change only transactions)."""
    return transactional or variant.name == DEFAULT_VARIANT
