"""Protocol versions and historical variants, read by actions as plain flags.

The delivery path of issue 2 (producer, partition leader, consumer) has a
single protocol version in the model; the transactional variants of
PROTOCOL.md §6 (TV1/TV2, partition verification, group metadata, rewind
after abort) arrive with the exactly-once model and become columns here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """The protocol flags of one Kafka version or historical variant."""

    name: str
    summary: str


DEFAULT_VARIANT = "current"

VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("current", "today's Kafka (idempotent produce checks of KIP-98 with the KIP-360 epoch bump)"),
)}
