"""From effective settings to the model's knobs: a :class:`Mode` and a :class:`Variant`.

The model's modes and variants are rows of plain knobs (model/modes.py,
model/variants.py); a configuration becomes one row of each, built from
its settings and versions.  When the row equals a named mode or variant
it is that one (its expectations and gallery entries apply); otherwise it
is a row of its own, named after the configuration, and traces of it
carry their knobs so that `deliverycheck replay` can rebuild it.

What each setting changes is the :mod:`deliverycheck.config.keys` table's
``meaning``; which behaviour each version has is the specification's
(model/releases.py), with its evidence.  What the mapping assumes beyond the
settings is returned as sentences for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deliverycheck.config.resolve import Configuration
from deliverycheck.model.modes import (DEEP_BOUNDS, EOS_BOUNDS, EOS_DEEP_BOUNDS,
                                       IDEMPOTENCE_MAX_IN_FLIGHT, MODES, Mode)
from deliverycheck.model.releases import release_knobs, unread_knobs
from deliverycheck.model.variants import REPLICATED_BOUNDS, VARIANTS, Variant

CUSTOM_MODE = "config"
PER_INSTANCE_BOUNDS = (("records", 1), ("faults", 1))   # as eos-per-instance-id's


@dataclass(frozen=True)
class Mapped:
    """The model's knobs for one configuration, and what the mapping assumed."""

    mode: Mode
    variant: Variant
    assumptions: tuple[str, ...]


def mode_of(c: Configuration) -> tuple[Mode, list[str]]:
    """The mode row of ``c``, and the sentences saying what it assumes."""
    s, said = c.settings, []
    if s["transactional.id"].value is not None:
        pg = s["processing.guarantee"].value
        streams = pg != "at_least_once"
        per_instance = pg in ("exactly_once_v2", "exactly_once_beta")
        if streams:
            said.append(f"processing.guarantee={pg}: Kafka Streams' consume-transform-produce "
                        f"loop, " + ("one transactional.id per instance (thread), fenced as a "
                                     "zombie by the group generation (KIP-447)" if per_instance else
                                     "one transactional.id per input partition, shared by the "
                                     "instances that own it in turn"))
        else:
            said.append("transactional.id is set: the application is a consume-transform-produce "
                        "loop whose instances share that transactional.id, each writing its "
                        "input record's output in a transaction")
        said.append(f"the reader of the output reads with isolation.level="
                    f"{s['isolation.level'].value} (the consumer configuration)")
        knobs = dict(acks=-1, retries=True, idempotence=True, max_in_flight=IDEMPOTENCE_MAX_IN_FLIGHT,
                     commit_before_processing=False, app_resends=False, transactional=True,
                     isolation=s["isolation.level"].value,
                     offsets_in_txn=streams or s["deliverycheck.offsets"].value == "transaction",
                     rewind=streams or s["deliverycheck.rewind"].value,
                     txn_id_per_instance=per_instance,
                     routes=((0, 1), (1,)) if s["deliverycheck.outputs"].value == "by-key" else ((0, 1),),
                     bounds=PER_INSTANCE_BOUNDS if per_instance else EOS_BOUNDS,
                     deep_bounds=EOS_DEEP_BOUNDS)
    else:
        acks, auto = s["acks"].value, s["enable.auto.commit"].value
        resend = s["deliverycheck.resend"].value
        if resend is None:
            resend = acks != 0
            said.append("the application sends again a record whose send failed" if resend else
                        "with acks=0 the application is told of no failure and sends nothing again")
        before = not auto and s["deliverycheck.commit"].value == "before-processing"
        worker = auto and s["deliverycheck.worker-thread"].value
        said.append("the consumer commits with enable.auto.commit: "
                    + ("each record is handed to a worker thread and poll() goes on" if worker
                       else "each record is processed before the next poll()") if auto else
                    "the application commits with commitSync() "
                    + ("before" if before else "after") + " it processes each record")
        mif = s["max.in.flight.requests.per.connection"].value
        if mif > IDEMPOTENCE_MAX_IN_FLIGHT:
            said.append(f"max.in.flight.requests.per.connection={mif}: checked as "
                        f"{IDEMPOTENCE_MAX_IN_FLIGHT} (the model has at most `records` batches "
                        f"in flight, 2 by default)")
        knobs = dict(acks=acks, retries=s["retries"].value > 0 and acks != 0,
                     idempotence=s["enable.idempotence"].value,
                     max_in_flight=min(mif, IDEMPOTENCE_MAX_IN_FLIGHT),
                     commit_before_processing=before, app_resends=resend, auto_commit=auto,
                     worker_thread=worker, offset_reset=s["auto.offset.reset"].value,
                     deep_bounds=DEEP_BOUNDS)
    own = Mode(CUSTOM_MODE, "the configuration's own mode", **knobs)
    for m in MODES.values():
        if replace(m, name=own.name, summary=own.summary) == own:
            return m, said
    return own, said


def variant_of(c: Configuration, mode: Mode, epochs: bool = False) -> tuple[Variant, list[str]]:
    """The variant row of ``c`` (brokers, client and topic), and what it assumes; ``epochs``:
    the world lets producer epochs run out (``--bound epochs``)."""
    s, b, cl, said = c.settings, c.kafka, c.client, []
    tv = s["transaction.version"].value
    tv2 = tv >= 2 and cl.at_least("4.0")
    if mode.transactional and tv >= 2 and not tv2:
        said.append(f"transaction.version=2, but {cl} uses the original protocol "
                    f"(clients from 4.0 use the new one)")
    rf, isr = s["replication.factor"].value, s["min.insync.replicas"].value
    knobs = {**release_knobs(b, cl, tv, s["transaction.partition.verification.enable"].value,
                             s["group.protocol"].value == "consumer"),
             "replicas": rf, "min_insync": isr, "unclean": s["unclean.leader.election.enable"].value}
    # knobs no step reads in this configuration take today's values, so that the row is a
    # named variant where it can be
    today = Variant("today", "")
    for name in unread_knobs(mode.transactional, mode.idempotence, rf > 1, tv2, epochs):
        knobs[name] = getattr(today, name)
    if not knobs["first_seq_zero"]:
        said.append(f"{b}: without KAFKA-15591's fix (merged August 2026, in no release this "
                    f"tool knows): use --kafka trunk to check the fixed brokers")
    bounds = []
    if rf > 1:
        bounds += list(REPLICATED_BOUNDS)
    if knobs["expiry_when_busy"]:
        bounds += [("expiries", 1), ("faults", 1)]
        said.append(f"{b}: retention may drop a producer's state while it still retries "
                    f"(KAFKA-7190, before 2.4): one such expiry is in the world")
    for v in VARIANTS.values():
        if all(getattr(v, k) == x for k, x in knobs.items()) and dict(v.bounds) == dict(bounds):
            return v, said
    name = f"kafka-{b}-{cl}"
    return Variant(name, f"Kafka {b} brokers, {cl} client, replication factor {rf}, "
                   f"min.insync.replicas {isr}", bounds=tuple(bounds), **knobs), said


def mapped(c: Configuration, epochs: bool = False) -> Mapped:
    """The model's mode and variant for ``c`` (``epochs``: in a world where epochs run out)."""
    mode, said = mode_of(c)
    variant, more = variant_of(c, mode, epochs)
    return Mapped(mode, variant, tuple(said + more))
