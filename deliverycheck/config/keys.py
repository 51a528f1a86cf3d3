"""The configuration keys `deliverycheck check` reads, by Kafka's own names.

Each key has the component that reads it in Kafka (producer, consumer,
topic, broker, Kafka Streams), how Kafka parses and validates its value
(``ConfigDef``'s type and validator, with Kafka's own error wording), and
its default, which may depend on the client or broker version
(:mod:`deliverycheck.config.versions`).  Keys that start with
``deliverycheck.`` describe what the application does, which no Kafka
setting says (whether it sends again what failed, when it commits), and
default to the usual pattern.

Every other key is either a Kafka key the model does not use
(``kafka_keys.txt``: the names Kafka 4.0's client, Streams and broker
config classes define) or unknown, and a report lists both.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

from deliverycheck.config.versions import Version

ROLES = ("producer", "consumer", "topic", "broker", "streams", "application")


class ConfigValueError(Exception):
    """A value Kafka would refuse (the message is Kafka's, naming key and value)."""


def _bool(key: str, text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "false"):
        return t == "true"
    raise ConfigValueError(f"Invalid value {text} for configuration {key}: Expected value to be "
                      f"either true or false")


def _int(lo: int | None = None) -> Callable[[str, str], int]:
    def parse(key: str, text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            raise ConfigValueError(f"Invalid value {text} for configuration {key}: Not a number of "
                              f"type INT") from None
        if not -2**31 <= n < 2**31:
            raise ConfigValueError(f"Invalid value {text} for configuration {key}: Not a number of "
                              f"type INT")
        if lo is not None and n < lo:
            raise ConfigValueError(f"Invalid value {n} for configuration {key}: Value must be at "
                              f"least {lo}")
        return n
    return parse


def _one_of(*choices: str, case: bool = False) -> Callable[[str, str], str]:
    def parse(key: str, text: str) -> str:
        t = text.strip() if case else text.strip().lower()
        if t in choices:
            return t
        raise ConfigValueError(f"Invalid value {text} for configuration {key}: String must be one "
                          f"of: {', '.join(choices)}")
    return parse


def _acks(key: str, text: str) -> int:
    t = _one_of("all", "-1", "0", "1")(key, text)
    return -1 if t == "all" else int(t)


def _text(key: str, text: str) -> str:
    return text.strip()


@dataclass(frozen=True)
class Key:
    """One key the model reads."""

    name: str
    role: str                       # which component reads it (ROLES)
    parse: Callable[[str, str], Any]
    # the default for (broker, client): (value, why) - the why names the version rule
    default: Callable[[Version, Version], tuple[Any, str]]
    meaning: str                    # what it changes in the model

    def show(self, value: Any) -> str:
        """The value as Kafka spells it."""
        if self.name == "acks":
            return "all" if value == -1 else str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "(not set)" if value is None else str(value)


def _fixed(value: Any, why: str = "Kafka's default") -> Callable[[Version, Version], tuple[Any, str]]:
    return lambda broker, client: (value, why)


def _client_default(since: str, new: Any, old: Any, shown: tuple[str, str], cite: str
                    ) -> Callable[[Version, Version], tuple[Any, str]]:
    """A producer default that changed in client ``since`` (``shown``: both as Kafka spells them)."""
    def default(broker: Version, client: Version) -> tuple[Any, str]:
        if client.at_least(since):
            return new, f"default for {client} ({shown[0]} since {since}, {cite})"
        return old, f"default for {client} ({shown[1]} before {since})"
    return default


_acks_default = _client_default("3.0", -1, 1, ("all", "1"), "KIP-679")
_idempotence_default = _client_default("3.0", True, False, ("true", "false"), "KIP-679")
_retries_default = _client_default("2.1", 2147483647, 0, ("Integer.MAX_VALUE", "0"), "KIP-91")
_linger_default = _client_default("4.0", 5, 0, ("5", "0"), "KIP-1030")


def _tv_default(broker: Version, client: Version) -> tuple[Any, str]:
    if broker.at_least("4.0"):
        return 2, f"default of a new {broker} cluster (the transaction.version feature, KIP-890)"
    return 0, f"{broker} has no transaction.version feature (the original protocol)"


def _verification_default(broker: Version, client: Version) -> tuple[Any, str]:
    if broker.at_least("3.6"):
        return True, f"default for {broker} (partition verification since 3.6, KIP-890 part 1)"
    return False, f"{broker} has no partition verification (KIP-890 part 1 is in 3.6)"


KEYS: dict[str, Key] = {k.name: k for k in (
    # -- the producer (ProducerConfig) --
    Key("acks", "producer", _acks, _acks_default,
        "0: no answer; 1: the leader's append; all: the in-sync replicas'"),
    Key("enable.idempotence", "producer", lambda k, t: _bool(k, t), _idempotence_default,
        "producer id and sequence numbers: the partition drops the producer's own duplicates"),
    Key("retries", "producer", _int(0), _retries_default,
        "0: a failed batch is not sent again; more: it is (the model bounds the retries per "
        "batch, --bound retries)"),
    Key("max.in.flight.requests.per.connection", "producer", _int(1), _fixed(5),
        "requests in flight per partition (the model checks up to 5; it has at most `records` "
        "batches at once)"),
    Key("delivery.timeout.ms", "producer", _int(0), _fixed(120000),
        "validated as Kafka does; the model lets any batch's delivery time run out (a fault), "
        "whatever its length"),
    Key("linger.ms", "producer", _int(0), _linger_default,
        "only validated with delivery.timeout.ms (the model sends each record as one batch)"),
    Key("request.timeout.ms", "producer", _int(0), _fixed(30000),
        "only validated with delivery.timeout.ms (a timeout is a fault in the model)"),
    Key("transactional.id", "producer", _text, _fixed(None, "not set by default"),
        "set: the application is a transactional consume-transform-produce loop"),
    # -- the consumer (ConsumerConfig) --
    Key("enable.auto.commit", "consumer", lambda k, t: _bool(k, t), _fixed(True),
        "true: poll() commits what earlier polls returned; false: the application commits"),
    Key("isolation.level", "consumer", _one_of("read_uncommitted", "read_committed"),
        _fixed("read_uncommitted"),
        "whether the reader of the transactional output skips aborted records"),
    Key("auto.offset.reset", "consumer", _one_of("latest", "earliest", "none"), _fixed("latest"),
        "where a consumer whose position is past the log end starts again (after a failover "
        "to a replica with a shorter log)"),
    Key("group.protocol", "consumer", _one_of("classic", "consumer"), _fixed("classic"),
        "consumer: KIP-848's consumer, whose auto-commit runs on a background thread"),
    # -- the topic and the brokers (TopicConfig, server.properties) --
    Key("replication.factor", "topic", _int(1), lambda b, c: (None, "the broker's "
                                                              "default.replication.factor"),
        "replicas of each partition (the model has up to 3)"),
    Key("default.replication.factor", "broker", _int(1), _fixed(1),
        "the replication factor of a topic created without one"),
    Key("min.insync.replicas", "topic", _int(1), _fixed(1),
        "the in-sync replicas an acks=all write needs"),
    Key("unclean.leader.election.enable", "topic", lambda k, t: _bool(k, t), _fixed(False, "false since 0.11 (KIP-106)"),
        "a replica outside the ISR may become leader"),
    Key("transaction.version", "broker", _int(0), _tv_default,
        "the cluster's transaction.version feature level (as kafka-features.sh sets it): 2 "
        "bumps the epoch at every transaction (KIP-890 part 2)"),
    Key("transaction.partition.verification.enable", "broker", lambda k, t: _bool(k, t),
        _verification_default,
        "a partition asks the coordinator before it takes a transaction's first write"),
    # -- Kafka Streams (StreamsConfig) --
    Key("processing.guarantee", "streams",
        _one_of("at_least_once", "exactly_once", "exactly_once_beta", "exactly_once_v2"),
        _fixed("at_least_once"),
        "exactly_once_v2 (or _beta): one transactional.id per instance; exactly_once: one per "
        "input partition, shared by the instances that own it in turn"),
    # -- what the application does (deliverycheck's own keys) --
    Key("deliverycheck.resend", "application", lambda k, t: _bool(k, t),
        lambda b, c: (None, "true unless acks=0 (the application sends again what it was "
                            "told failed)"),
        "the application sends again a record whose send failed"),
    Key("deliverycheck.commit", "application", _one_of("after-processing", "before-processing"),
        _fixed("after-processing", "the usual pattern"),
        "with enable.auto.commit=false: whether the application commits after or before it "
        "processes a record"),
    Key("deliverycheck.worker-thread", "application", lambda k, t: _bool(k, t), _fixed(False,
                                                                                   "the usual pattern"),
        "with enable.auto.commit=true: each record is handed to another thread and poll() "
        "goes on before it is processed"),
    Key("deliverycheck.offsets", "application", _one_of("transaction", "commit-sync"),
        _fixed("transaction", "the usual pattern"),
        "transactional: input offsets sent with sendOffsetsToTransaction, or committed with "
        "commitSync after the commit"),
    Key("deliverycheck.rewind", "application", lambda k, t: _bool(k, t),
        _fixed(True, "the usual pattern"),
        "transactional: after an abort the application seeks back to the committed offsets"),
    Key("deliverycheck.outputs", "application", _one_of("every-partition", "by-key"),
        _fixed("every-partition", "the model's default"),
        "transactional: each record's output goes to both output partitions, or only to the "
        "partitions its key maps to (a transaction may write only some)"),
)}


@cache
def kafka_names() -> frozenset[str]:
    """Kafka's own configuration names (client, Streams, topic and broker)."""
    text = (Path(__file__).parent / "kafka_keys.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def did_you_mean(name: str) -> str | None:
    """The modelled key ``name`` is probably a misspelling of, if any."""
    close = difflib.get_close_matches(name, list(KEYS), n=1, cutoff=0.85)
    return close[0] if close else None
