"""What Kafka promises: named properties, and the expected verdicts per mode."""

from __future__ import annotations

from . import delivery, exactly_once, lemmas, lemmas_txn, witnesses

PROPERTIES = [*delivery.PROPERTIES, *exactly_once.PROPERTIES, *lemmas.PROPERTIES, *lemmas_txn.PROPERTIES,
              *witnesses.PROPERTIES]

__all__ = ["PROPERTIES"]
