"""Guarantee modes: the client knobs users actually set (PROTOCOL.md §1).

One row per mode.  Actions read these as plain Python values, so a mode is
a configuration of the one model, never a separate model.  To add a mode,
add a row here and its expected verdicts in ``properties/expected.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kafka's producer-state cache keeps the last 5 batches per producer id; an
# idempotent producer must keep max.in.flight.requests.per.connection <= 5.
IDEMPOTENCE_MAX_IN_FLIGHT = 5


@dataclass(frozen=True)
class Mode:
    """The knobs of one guarantee mode."""

    name: str
    summary: str
    acks: int                 # 0 (fire and forget) or -1 (acks=all)
    retries: bool             # the producer retries failed or timed-out batches
    idempotence: bool         # enable.idempotence: PID + sequence numbers
    max_in_flight: int        # max.in.flight.requests.per.connection
    commit_before_processing: bool  # consumer commits offsets before processing
    app_resends: bool         # the application sends again what it was not told was written

    def __post_init__(self):
        if self.idempotence and (self.acks != -1 or not self.retries
                                 or self.max_in_flight > IDEMPOTENCE_MAX_IN_FLIGHT):
            # KafkaProducer refuses to start when idempotence is set explicitly
            # together with a conflicting setting (PROTOCOL.md §1).
            raise ValueError(f"mode {self.name}: idempotence needs acks=all, retries and "
                             f"max.in.flight <= {IDEMPOTENCE_MAX_IN_FLIGHT}")


MODES: dict[str, Mode] = {m.name: m for m in (
    Mode("at-most-once",
         "acks=0, no retries; the consumer commits before processing; nothing is resent",
         acks=0, retries=False, idempotence=False, max_in_flight=5,
         commit_before_processing=True, app_resends=False),
    Mode("at-least-once",
         "acks=all, retries, no idempotence; commit after processing; the application resends what failed",
         acks=-1, retries=True, idempotence=False, max_in_flight=5,
         commit_before_processing=False, app_resends=True),
    Mode("idempotent",
         "enable.idempotence=true (acks=all, retries, in-flight <= 5); commit after processing; "
         "the application resends what failed",
         acks=-1, retries=True, idempotence=True, max_in_flight=5,
         commit_before_processing=False, app_resends=True),
)}
