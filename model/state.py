"""The delivery path's shared vocabulary: its constants, sizes and history fields.

Naming: records are numbered from 0 in the state and called r1, r2, ... in
stories; a producer *session* (one PID) likewise P1, P2, ...  Batch ids are
stored plus one so that 0 can mean "empty slot".

One record per batch, one batch per Produce request, and one Produce
request per partition leader connection at a time on the wire: Kafka packs
more, but the checks below are per batch, so one record a batch loses no
behaviour the promises here can observe.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import get, or_
from deliverycheck.core.schema import Field, flag, num

# Producer-side state of a batch (the Future the application holds).
UNUSED, QUEUED, INFLIGHT, ACKED, FAILED, LOST = range(6)
BATCH_STATES = ("unused", "queued", "in flight", "acked", "failed", "lost")

# Produce response codes (Kafka's Errors enum, the ones that matter here).
OK, DUPLICATE, RETRIABLE, OUT_OF_ORDER, FENCED, NOT_ENOUGH, NOT_ENOUGH_AFTER = range(1, 8)
RESPONSE_CODES = {OK: "OK", DUPLICATE: "OK (duplicate)", RETRIABLE: "NOT_LEADER_OR_FOLLOWER",
                  OUT_OF_ORDER: "OUT_OF_ORDER_SEQUENCE_NUMBER", FENCED: "INVALID_PRODUCER_EPOCH",
                  NOT_ENOUGH: "NOT_ENOUGH_REPLICAS",
                  NOT_ENOUGH_AFTER: "NOT_ENOUGH_REPLICAS_AFTER_APPEND"}
# The codes the Java producer retries (RetriableException subclasses).
RETRIED_CODES = (RETRIABLE, OUT_OF_ORDER, NOT_ENOUGH, NOT_ENOUGH_AFTER)

# Consumer loop stages.
IDLE, POLLED, PROCESSED, COMMITTED = range(4)
CONSUMER_STAGES = ("idle", "polled", "processed, not committed", "committed, not processed")

# The ghost count of a record's emitted effects stops here: "more than once".
MANY = 2

# Kafka's ProducerStateManager keeps metadata of the last 5 batches per PID.
DEDUP_WINDOW = 5


def sizes(c: Any) -> tuple[int, int, int, int, int, int]:
    """(records, partitions, batches, log, channel, sessions) for ``c``."""
    b = c.bounds
    return b.records, b.partitions, b.batches, b.log, b.channel, b.faults + 1


def max_conn(c: Any) -> int:
    """Largest connection generation: a new connection needs a loss, a fault or a crash.

    Each premature timeout and each crash spends a fault, and a timeout is
    free only after a loss, which spends one: at most two new connections a
    fault.  The producer checks it anyway (``Effect.fits``).
    """
    return 2 * max(1, c.bounds.faults)


def max_epoch(c: Any) -> int:
    """Largest producer epoch of a session: KIP-360 bumps it once per batch failed, and once
    per sequence gap an out-of-order answer shows.

    A batch fails once, and a gap is found for a batch that then goes out
    under the new epoch, so a session's epoch stays near the batches there
    are; the producer checks it (``producer.epoch_fits``), and a bump past
    it is reported as a capacity block, never dropped silently.
    """
    return max(1, c.bounds.batches)


def history_fields(c: Any) -> list[Field]:
    """The delivery path's history (ghost) fields: what happened, for the promises to read."""
    R = c.bounds.records
    return [
        num("out", MANY, "times the consumer emitted each record's effect (2: more than once)",
            ghost=True, shape=(R,)),
        flag("g_dedup", "a leader has discarded a duplicate batch", ghost=True),
        flag("g_consumer_restarted", "the consumer has crashed and restarted", ghost=True),
    ]


# -- helpers shared by the actors -------------------------------------------

def partition_of(c: Any, r: int) -> int:
    """The partition record ``r`` is written to (a fixed key per record)."""
    return r % c.bounds.partitions


def batch_in(s: Any, c: Any, k: Any, p: int) -> Any:
    """Batch ``k`` (a position, or a symbolic one) carries a record of partition ``p``."""
    rec = get(s.b_rec, k)
    return or_(*(rec == r + 1 for r in range(c.bounds.records) if partition_of(c, r) == p))
