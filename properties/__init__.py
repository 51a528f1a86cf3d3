"""What Kafka promises: named properties, and the expected verdicts per mode."""

from __future__ import annotations

from . import delivery, witnesses

PROPERTIES = [*delivery.PROPERTIES, *witnesses.PROPERTIES]

__all__ = ["PROPERTIES"]
