"""Guarantee modes: the client knobs users actually set (docs/protocol.md §2).

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
    acks: int                 # 0 (fire and forget), 1 (the leader's append) or -1 (acks=all)
    retries: bool             # the producer retries failed or timed-out batches
    idempotence: bool         # enable.idempotence: PID + sequence numbers
    max_in_flight: int        # max.in.flight.requests.per.connection
    commit_before_processing: bool  # consumer commits offsets before processing
    app_resends: bool         # the application sends again what it was not told was written
    auto_commit: bool = False  # enable.auto.commit=true: a later poll() commits what earlier polls returned
    worker_thread: bool = False  # the application hands each record to another thread and polls on
    offset_reset: str = "latest"  # auto.offset.reset: where a position past the log end goes
    # -- the exactly-once world (consume-transform-produce, docs/protocol.md §6-§9) --
    transactional: bool = False       # a transactional processor instead of producer + consumer
    isolation: str = "read_committed"  # the downstream reader's isolation.level
    offsets_in_txn: bool = True       # sendOffsetsToTransaction (else commitSync after the commit)
    rewind: bool = True               # the application seeks to the committed offsets after an abort
    txn_id_per_instance: bool = False  # each instance has its own transactional.id (KIP-447 style)
    # the output partitions each input record's output goes to, in turn (r1 the first, r2 the
    # second, ..., cycling): a key maps a record to its partitions, so a transaction may write
    # only some of them
    routes: tuple[tuple[int, ...], ...] = ((0, 1),)
    # default bounds where this mode's world needs other ones than Bounds' defaults
    bounds: tuple[tuple[str, int], ...] = ()
    # the bigger world the stateful engine samples by default (verify --engine stateful)
    deep_bounds: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        if self.acks not in (0, 1, -1):
            raise ValueError(f"mode {self.name}: acks must be 0, 1 or -1 (all), got {self.acks}")
        if self.idempotence and (self.acks != -1 or not self.retries
                                 or self.max_in_flight > IDEMPOTENCE_MAX_IN_FLIGHT):
            # KafkaProducer refuses to start when idempotence is set explicitly
            # together with a conflicting setting (docs/protocol.md §2).
            raise ValueError(f"mode {self.name}: idempotence needs acks=all, retries and "
                             f"max.in.flight <= {IDEMPOTENCE_MAX_IN_FLIGHT}")
        if self.transactional and not self.idempotence:
            raise ValueError(f"mode {self.name}: transactional.id requires idempotence")
        if self.auto_commit and self.commit_before_processing:
            raise ValueError(f"mode {self.name}: with enable.auto.commit the application does not "
                             f"commit, before processing or after")
        if self.worker_thread and not self.auto_commit:
            raise ValueError(f"mode {self.name}: a worker thread is modelled only with "
                             f"enable.auto.commit (a manual commit would wait for the worker)")
        if not self.routes or any(not r or r != tuple(sorted(set(r))) or not set(r) <= {0, 1}
                                  for r in self.routes):
            raise ValueError(f"mode {self.name}: routes must each name output partitions 0 and/or "
                             f"1, in order, got {self.routes}")
        if self.offset_reset not in ("latest", "earliest"):
            raise ValueError(f"mode {self.name}: offset_reset must be latest or earliest")
        if self.isolation not in ("read_committed", "read_uncommitted"):
            raise ValueError(f"mode {self.name}: isolation must be read_committed or read_uncommitted")


def pipeline(c) -> bool:
    """The configuration is a producer -> log -> consumer path (at-most-once, at-least-once, idempotent)."""
    return not c.mode.transactional


def transactional(c) -> bool:
    """The configuration is the consume-transform-produce world of exactly-once."""
    return c.mode.transactional


# The exactly-once world has many more steps per record than the delivery
# path, so its default world is two records and one fault (one record with
# two transactional ids): every counterexample expected.toml lists exists
# there; `--bound` explores bigger worlds.
EOS_BOUNDS = (("records", 2), ("faults", 1))

# The stateful engine samples histories instead of enumerating them, so its
# default world is far bigger: ten records and three faults on the delivery
# path, six records and three faults for exactly-once.  Its capacities are
# sized so that the random histories are not cut short: requests of closed
# connections stay in the network beside the five in flight on the current
# one (up to 20 were seen at once), and resends and duplicates take batches
# and log entries (up to 25 of each were seen); with 24 message slots and 32
# batches and log entries no step was blocked in any of four seeds of the
# default budget (the derived capacities, 40 each, would make 8,000 action
# instances and a 40 s compilation).  A history that needs more is cut there
# and the report says so.
DEEP_BOUNDS = (("records", 10), ("faults", 3), ("batches", 32), ("channel", 24), ("log", 32))
EOS_DEEP_BOUNDS = (("records", 6), ("faults", 3))


def _eos(name: str, summary: str, **knobs) -> Mode:
    """An exactly-once configuration: a transactional processor (idempotent, acks=all)."""
    knobs.setdefault("bounds", EOS_BOUNDS)
    knobs.setdefault("deep_bounds", EOS_DEEP_BOUNDS)
    return Mode(name, summary, acks=-1, retries=True, idempotence=True, max_in_flight=5,
                commit_before_processing=False, app_resends=False, transactional=True, **knobs)


MODES: dict[str, Mode] = {m.name: m for m in (
    Mode("at-most-once",
         "acks=0, no retries; the consumer commits before processing; nothing is resent",
         acks=0, retries=False, idempotence=False, max_in_flight=5,
         commit_before_processing=True, app_resends=False, deep_bounds=DEEP_BOUNDS),
    Mode("at-least-once",
         "acks=all, retries, no idempotence; commit after processing; the application resends what failed",
         acks=-1, retries=True, idempotence=False, max_in_flight=5,
         commit_before_processing=False, app_resends=True, deep_bounds=DEEP_BOUNDS),
    Mode("at-least-once-acks1",
         "as at-least-once, but acks=1: the leader answers once the record is in its own log, "
         "before any follower has it",
         acks=1, retries=True, idempotence=False, max_in_flight=5,
         commit_before_processing=False, app_resends=True, deep_bounds=DEEP_BOUNDS),
    Mode("at-least-once-auto-commit",
         "as at-least-once, but the consumer keeps enable.auto.commit=true (the default) and "
         "processes each record before its next poll()",
         acks=-1, retries=True, idempotence=False, max_in_flight=5,
         commit_before_processing=False, app_resends=True, auto_commit=True,
         deep_bounds=DEEP_BOUNDS),
    Mode("auto-commit-worker-thread",
         "as at-least-once-auto-commit, but the application hands each record to a worker thread "
         "and polls again before it is processed",
         acks=-1, retries=True, idempotence=False, max_in_flight=5,
         commit_before_processing=False, app_resends=True, auto_commit=True, worker_thread=True,
         deep_bounds=DEEP_BOUNDS),
    Mode("idempotent",
         "enable.idempotence=true (acks=all, retries, in-flight <= 5); commit after processing; "
         "the application resends what failed",
         acks=-1, retries=True, idempotence=True, max_in_flight=5,
         commit_before_processing=False, app_resends=True, deep_bounds=DEEP_BOUNDS),
    Mode("idempotent-one-in-flight",
         "as idempotent, with max.in.flight.requests.per.connection=1: a send waits until the "
         "batch before it is done",
         acks=-1, retries=True, idempotence=True, max_in_flight=1,
         commit_before_processing=False, app_resends=True, deep_bounds=DEEP_BOUNDS),
    _eos("exactly-once",
         "transactional consume-transform-produce: offsets in the transaction, rewind after an "
         "abort, read_committed downstream; instances share one transactional.id"),
    _eos("eos-keyed-outputs",
         "as exactly-once, but each record's output goes only to the partitions its key maps to: "
         "r1's to o0 and o1, r2's to o1 alone (a transaction that writes only some partitions)",
         routes=((0, 1), (1,))),
    _eos("eos-read-uncommitted",
         "as exactly-once, but the downstream reader keeps the default isolation.level="
         "read_uncommitted", isolation="read_uncommitted"),
    _eos("eos-no-rewind",
         "as exactly-once, but after an abort the application does not seek back to the "
         "committed offsets", rewind=False),
    _eos("eos-offsets-outside-txn",
         "as exactly-once, but the input offsets are committed with commitSync after "
         "commitTransaction, not sent to the transaction", offsets_in_txn=False),
    _eos("eos-per-instance-id",
         "as exactly-once, but each instance has its own transactional.id (as Kafka Streams' "
         "exactly_once_v2): only the group generation fences a zombie", txn_id_per_instance=True,
         bounds=(("records", 1), ("faults", 1))),
)}
