"""What Kafka promises: named properties, and the expected verdicts per mode."""

from __future__ import annotations

from . import delivery, exactly_once, witnesses

PROPERTIES = [*delivery.PROPERTIES, *exactly_once.PROPERTIES, *witnesses.PROPERTIES]

__all__ = ["PROPERTIES"]
