"""What Kafka promises: named properties, and the expected verdicts per mode."""

from __future__ import annotations

from . import delivery, exactly_once, lemmas, lemmas_txn, replication, witnesses

PROPERTIES = [*delivery.PROPERTIES, *replication.PROPERTIES, *exactly_once.PROPERTIES, *lemmas.PROPERTIES, *lemmas_txn.PROPERTIES,
              *witnesses.PROPERTIES]

# strengthening lemmas for the proofs: statements about the default bounds,
# checked by verify, not promises users rely on
LEMMAS = frozenset(p.name for p in (*lemmas.PROPERTIES, *lemmas_txn.PROPERTIES))

__all__ = ["LEMMAS", "PROPERTIES"]
