"""From Kafka's configuration files to effective values, each with where it came from.

:func:`load` reads the files given per component (``producer.properties``,
``consumer.properties``, a topic's overrides, ``server.properties``, a
Kafka Streams config) and ``--set KEY=VALUE`` pairs, parses each value as
Kafka's ``ConfigDef`` does, fills in the defaults of the given versions,
and applies the rules Kafka applies when it builds a producer
(``ProducerConfig.postProcessAndValidateIdempotenceConfigs`` and its 2.x
predecessors, ``KafkaProducer.configureDeliveryTimeout``) and a Streams
application (``StreamsConfig``'s exactly-once overrides).  A combination
Kafka refuses is a :class:`ConfigError` listing each refusal, in Kafka's
words; a key the model does not use is listed, never dropped silently; a
key that looks like a misspelt modelled key is an error with a
did-you-mean (Kafka itself would only warn, and the check would then
quietly use the default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from deliverycheck.config import versions as ver
from deliverycheck.config.javaprops import PropertiesError, read
from deliverycheck.config.keys import KEYS, ROLES, ConfigValueError, did_you_mean, kafka_names

# Kafka Streams passes "producer."- and "consumer."-prefixed keys to its clients
STREAMS_PREFIXES = {"producer.": "producer", "consumer.": "consumer", "main.consumer.": "consumer"}
# Streams keys named like a modelled key of another component, and what they set in Streams
STREAMS_OWN = {"replication.factor": "Kafka Streams' internal topics, not the output topic"}
STREAMS_MARK = "streams:"
# the order files are read in: a later one's value wins
PRECEDENCE = ("broker", "topic", "streams", "producer", "consumer", "application")


class ConfigError(Exception):
    """The configuration cannot be checked: each line of the message is one problem."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Setting:
    """One effective value and where it came from."""

    key: str
    value: Any
    source: str      # "producer.properties:3", "--set", "default for java-3.9 (...)", ...
    explicit: bool   # the user set it (Kafka's "originals" contain it)

    def shown(self) -> str:
        """The value as Kafka spells it."""
        return KEYS[self.key].show(self.value)


@dataclass
class Configuration:
    """Effective settings of one delivery path, with the versions and what was not used."""

    kafka: ver.Version
    client: ver.Version
    settings: dict[str, Setting]
    not_modelled: list[tuple[str, str]] = field(default_factory=list)   # (key, where)
    unknown: list[tuple[str, str]] = field(default_factory=list)        # (key, where)
    notes: list[str] = field(default_factory=list)   # what Kafka changed on its own, and why
    raw: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)  # key -> (text, where)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key].value

    def changed(self, key: str, text: str | None) -> "Configuration":
        """The same configuration with ``key`` set to ``text`` (None: unset), re-resolved."""
        raw = dict(self.raw)
        if text is None:
            raw.pop(key, None)
        else:
            raw[key] = (text, "changed")
        return resolve(raw, self.kafka, self.client)

    def with_versions(self, kafka: ver.Version, client: ver.Version) -> "Configuration":
        """The same settings on other versions (defaults and rules of those versions)."""
        return resolve(self.raw, kafka, client)


def load(files: Mapping[str, Sequence[str | Path]] | None = None, sets: Sequence[str] = (),
         kafka: str | None = None, client: str | None = None) -> Configuration:
    """Read ``files`` (role -> paths, roles as in :data:`keys.ROLES`; a broker's file first, so
    that a topic's settings override it, then a later file of a role wins) and
    ``sets`` (``KEY=VALUE``, winning over files), on the given versions (default: the newest
    release this tool knows, client as brokers)."""
    problems: list[str] = []
    try:
        broker = ver.parse_kafka(kafka) if kafka else ver.parse_kafka(ver.NEWEST)
        cl = (ver.parse_client(client) if client
              else ver.parse_client("java-" + (broker.text if kafka else ver.NEWEST)))
    except ver.VersionError as e:
        raise ConfigError([str(e)]) from None
    raw: dict[str, tuple[str, str]] = {}
    for role in files or {}:
        if role not in ROLES:
            raise ConfigError([f"unknown component {role!r}: one of {', '.join(ROLES)}"])
    # the brokers' settings are defaults a topic's own settings override, as in Kafka
    for role, paths in sorted((files or {}).items(), key=lambda rp: PRECEDENCE.index(rp[0])):
        for path in paths:
            p = Path(path)
            try:
                entries = read(p)
            except PropertiesError as e:
                problems.append(f"{p}: {e}")
                continue
            for e in entries:
                key, where = e.key, f"{p}:{e.line}"
                if role == "streams" and key in STREAMS_OWN:
                    # a Streams key of the same name as a modelled one means something else
                    raw[STREAMS_MARK + key] = (e.value, f"{where} ({STREAMS_OWN[key]})")
                    continue
                if role == "streams":
                    for prefix, target in STREAMS_PREFIXES.items():
                        if key.startswith(prefix) and key[len(prefix):] in KEYS:
                            key = key[len(prefix):]
                            where += f" ({prefix}{key} in the Streams config)"
                            break
                raw[key] = (e.value, where)
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {item!r}: expected KEY=VALUE, e.g. --set acks=all")
            continue
        raw[key.strip()] = (value, f"--set {key.strip()}")
    if problems:
        raise ConfigError(problems)
    return resolve(raw, broker, cl)


def resolve(raw: Mapping[str, tuple[str, str]], kafka: ver.Version,
            client: ver.Version) -> Configuration:
    """Effective settings from raw ``key -> (text, where)`` on ``kafka`` and ``client``."""
    problems: list[str] = []
    settings: dict[str, Setting] = {}
    cfg = Configuration(kafka, client, settings, raw=dict(raw))
    for key, (text, where) in raw.items():
        if key in KEYS:
            try:
                settings[key] = Setting(key, KEYS[key].parse(key, text), where, True)
            except ConfigValueError as e:
                problems.append(f"{where}: {e}")
        elif key in kafka_names() or key.startswith(STREAMS_MARK):
            cfg.not_modelled.append((key.removeprefix(STREAMS_MARK), where))
        else:
            guess = did_you_mean(key)
            if guess:
                problems.append(f"{where}: unknown key {key!r}; did you mean {guess!r}? (Kafka "
                                f"would only warn and use the default; fix the name)")
            else:
                cfg.unknown.append((key, where))
    if problems:
        raise ConfigError(problems)
    for key, k in KEYS.items():
        if key not in settings:
            value, why = k.default(kafka, client)
            settings[key] = Setting(key, value, why, False)
    problems = _kafka_rules(cfg) + _version_rules(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def _set(cfg: Configuration, key: str, value: Any, why: str) -> None:
    old = cfg.settings[key]
    cfg.settings[key] = Setting(key, value, why, old.explicit)


def _kafka_rules(cfg: Configuration) -> list[str]:
    """Kafka's own checks and adjustments of a producer, consumer and Streams configuration."""
    s, client, out = cfg.settings, cfg.client, []
    streams_eos = s["processing.guarantee"].value != "at_least_once"
    if streams_eos:
        # StreamsConfig's exactly-once overrides: the producer is idempotent and transactional
        # (Streams sets transactional.id itself), its own consumers read committed data and
        # never auto-commit
        for key, value in (("enable.idempotence", True), ("transactional.id", "(per Streams task or thread)")):
            s[key] = Setting(key, value, "Kafka Streams with exactly-once sets it", True)
    idem, explicit_idem = s["enable.idempotence"].value, s["enable.idempotence"].explicit
    txn = s["transactional.id"].value is not None
    legacy = not ver.idempotence_default_applies(client)
    if not explicit_idem and idem and legacy:
        idem = False
        _set(cfg, "enable.idempotence", False,
             f"{client} does not apply its default (KAFKA-13598, fixed in 3.0.1, 3.1.1 and 3.2.0)")
    if txn and not explicit_idem and legacy:
        idem = True
        _set(cfg, "enable.idempotence", True, f"transactional.id turns it on in {client}")
    if idem:
        # ProducerConfig: the idempotent producer needs retries, acks=all and at most 5 in flight;
        # set explicitly (or, in the legacy rules, implied by transactional.id) a conflict is an
        # error; only a default, it turns idempotence off (3.0.1 on, KAFKA-13598/KAFKA-13673)
        strict = explicit_idem or legacy
        conflicts = []
        if not s["retries"].explicit and not client.at_least("2.1"):
            _set(cfg, "retries", 2147483647, f"{client} sets Integer.MAX_VALUE for the idempotent "
                 f"producer")
        if s["retries"].value == 0:
            conflicts.append(("Must set retries to non-zero when using the idempotent producer.",
                              "retries is 0"))
        if s["acks"].value != -1:
            if s["acks"].explicit:
                conflicts.append(("Must set acks to all in order to use the idempotent producer. "
                                  "Otherwise we cannot guarantee idempotence.",
                                  f"acks is {s['acks'].shown()}"))
            elif legacy:
                _set(cfg, "acks", -1, f"{client} sets acks=all for the idempotent producer")
        if s["max.in.flight.requests.per.connection"].value > 5:
            msg = ("Must set max.in.flight.requests.per.connection to at most 5 to use the "
                   "idempotent producer.")
            if ver.in_flight_over_five_is_error(client):
                out.append(f"{s['max.in.flight.requests.per.connection'].source}: {msg} "
                           f"(from 4.0 also when idempotence is only the default, KAFKA-17927)")
            else:
                conflicts.append((msg, "max.in.flight.requests.per.connection is above 5"))
        for msg, why in conflicts:
            if strict:
                out.append(f"{_where(cfg, why)}: {msg}")
            else:
                idem = False
                _set(cfg, "enable.idempotence", False,
                     f"{client} turns its default off because {why} (KAFKA-13673)")
                cfg.notes.append(f"idempotence is off: {why}, and enable.idempotence was not set "
                                 f"(Kafka logs this at INFO level)")
                break
    if txn and not idem:
        out.append("Cannot set a transactional.id without also enabling idempotence.")
    # KafkaProducer.configureDeliveryTimeout (2.1 on, KIP-91)
    if client.at_least("2.1"):
        need = min(s["linger.ms"].value + s["request.timeout.ms"].value, 2**31 - 1)
        if s["delivery.timeout.ms"].value < need:
            if s["delivery.timeout.ms"].explicit:
                out.append(f"{s['delivery.timeout.ms'].source}: delivery.timeout.ms should be "
                           f"equal to or larger than linger.ms + request.timeout.ms")
            else:
                _set(cfg, "delivery.timeout.ms", need, "raised to linger.ms + request.timeout.ms "
                     "by KafkaProducer")
    return out


def _where(cfg: Configuration, why: str) -> str:
    key = why.split(" is ")[0]
    return cfg.settings[key].source if key in cfg.settings else "producer"


def _version_rules(cfg: Configuration) -> list[str]:
    """Values the given versions do not have."""
    s, kafka, client, out = cfg.settings, cfg.kafka, cfg.client, []
    pg = s["processing.guarantee"]
    if pg.value == "exactly_once_v2" and not client.at_least("3.0"):
        out.append(f"{pg.source}: processing.guarantee=exactly_once_v2 needs Kafka Streams 3.0 "
                   f"or later ({client}); before 3.0 it was exactly_once_beta (2.6 on)")
    if pg.value == "exactly_once_beta" and not client.at_least("2.6"):
        out.append(f"{pg.source}: processing.guarantee=exactly_once_beta needs Kafka Streams 2.6 "
                   f"or later ({client})")
    if pg.value in ("exactly_once", "exactly_once_beta") and client.at_least("4.0"):
        out.append(f"{pg.source}: Invalid value {pg.value} for configuration processing.guarantee: "
                   f"String must be one of: at_least_once, exactly_once_v2 (removed in 4.0)")
    if pg.value == "exactly_once_v2" and not kafka.at_least("2.5"):
        out.append(f"{pg.source}: processing.guarantee=exactly_once_v2 needs brokers 2.5 or later "
                   f"(KIP-447), not {kafka}")
    tv = s["transaction.version"]
    if tv.value > 2:
        out.append(f"{tv.source}: transaction.version {tv.value} does not exist (0, 1 or 2)")
    elif tv.value == 2 and not kafka.at_least("4.0"):
        out.append(f"{tv.source}: transaction.version=2 needs Kafka 4.0 or later, not {kafka}")
    gp = s["group.protocol"]
    if gp.value == "consumer" and not client.at_least("3.7"):
        out.append(f"{gp.source}: group.protocol=consumer needs a 3.7 or later client "
                   f"(KIP-848), not {client}")
    if s["auto.offset.reset"].value == "none":
        out.append(f"{s['auto.offset.reset'].source}: auto.offset.reset=none is not modelled (the "
                   f"consumer would throw instead of resetting); choose latest or earliest")
    rf = s["replication.factor"]
    if rf.value is None:
        cfg.settings["replication.factor"] = Setting(
            "replication.factor", s["default.replication.factor"].value,
            f"default.replication.factor ({s['default.replication.factor'].source})", False)
        rf = cfg.settings["replication.factor"]
    isr = s["min.insync.replicas"]
    if isr.value > rf.value:
        # Kafka creates the topic, but every acks=all write fails NOT_ENOUGH_REPLICAS
        out.append(f"{isr.source}: min.insync.replicas={isr.value} is above the replication "
                   f"factor {rf.value}: every acks=all write would fail with NOT_ENOUGH_REPLICAS")
    if rf.value > 3:
        out.append(f"{rf.source}: replication factor {rf.value} is beyond the model (at most 3 "
                   f"replicas); check with --set replication.factor=3")
    return out
