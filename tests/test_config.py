"""Kafka's configuration files as the way in: reading, Kafka's rules, versions, the model's rows."""

from __future__ import annotations

import pytest

from deliverycheck.config import ConfigError, load, mapped
from deliverycheck.config.javaprops import PropertiesError, parse, read


def _kv(text: str) -> dict[str, str]:
    return {e.key: e.value for e in parse(text)}


# -- java.util.Properties.load ----------------------------------------------------------------

def test_properties_are_read_as_java_reads_them():
    text = ("# comment\n! also a comment\n\n   acks = all\nretries:3\nlinger.ms 10\n"
            "key\\ with\\ blanks=v\nmulti=first \\\n    second\\\n  third\n"
            "unicode=\\u00e9t\\u00e9\nescapes=a\\tb\\nc\\\\d\\:e\nempty=\nbare\n"
            "acks=1\n# a comment ending in a backslash does not continue \\\nnext=ok\n")
    kv = _kv(text)
    assert kv["acks"] == "1"                       # the last value wins
    assert kv["retries"] == "3" and kv["linger.ms"] == "10"
    assert kv["key with blanks"] == "v"
    assert kv["multi"] == "first secondthird"      # continuations drop leading blanks
    assert kv["unicode"] == "été"
    assert kv["escapes"] == "a\tb\nc\\d:e"
    assert kv["empty"] == "" and kv["bare"] == "" and kv["next"] == "ok"


def test_line_numbers_and_line_endings():
    entries = parse("a=1\r\n# c\r\nb=2\rc=3 \\\n  4\nd=5")
    assert [(e.key, e.value, e.line) for e in entries] == [
        ("a", "1", 1), ("b", "2", 3), ("c", "3 4", 4), ("d", "5", 6)]


def test_a_malformed_unicode_escape_is_an_error():
    with pytest.raises(PropertiesError, match=r"line 2: malformed \\uxxxx"):
        parse("a=1\nb=\\u12g4\n")


@pytest.mark.parametrize("content,why", [
    (b"\x00\x01binary", "binary data"),
    (b'{"acks": "all"}', "looks like JSON"),
])
def test_files_that_are_not_properties_files(tmp_path, content, why):
    f = tmp_path / "producer.properties"
    f.write_bytes(content)
    with pytest.raises(PropertiesError, match=why):
        read(f)
    with pytest.raises(PropertiesError, match="does not exist"):
        read(tmp_path / "missing")
    with pytest.raises(PropertiesError, match="directory"):
        read(tmp_path)


# -- Kafka's values, defaults and rules --------------------------------------------------------

def test_every_value_has_its_source(tmp_path):
    f = tmp_path / "producer.properties"
    f.write_text("bootstrap.servers=k:9092\nacks=1\nfoo.bar=x\n")
    c = load({"producer": [f]}, ["retries=0"], kafka="3.9", client="java-3.9")
    assert c.settings["acks"].value == 1 and c.settings["acks"].source == f"{f}:2"
    assert c.settings["retries"].source == "--set retries"
    # the default (KIP-679) turned off: retries=0 and acks=1 were set, enable.idempotence not
    assert c["enable.idempotence"] is False and "KAFKA-13673" in c.settings["enable.idempotence"].source
    assert any("idempotence is off" in n for n in c.notes)
    assert ("bootstrap.servers", f"{f}:1") in c.not_modelled
    assert ("foo.bar", f"{f}:3") in c.unknown


@pytest.mark.parametrize("client,idempotent,acks", [
    ("java-2.8", False, 1),      # the old defaults
    ("java-3.0", False, -1),     # 3.0.0: acks=all, but the idempotence default is not applied
    ("java-3.1", False, -1),     # 3.1.0 likewise (KAFKA-13598)
    ("java-3.0.1", True, -1),    # fixed in 3.0.1, 3.1.1 and 3.2.0
    ("java-3.2", True, -1),
    ("java-4.1", True, -1),
])
def test_producer_defaults_follow_the_client_version(client, idempotent, acks):
    c = load(kafka="3.9", client=client)
    assert (c["enable.idempotence"], c["acks"]) == (idempotent, acks)


@pytest.mark.parametrize("sets,client,message", [
    (["enable.idempotence=true", "acks=1"], "java-3.9", "Must set acks to all"),
    (["enable.idempotence=true", "retries=0"], "java-3.9", "Must set retries to non-zero"),
    (["enable.idempotence=true", "max.in.flight.requests.per.connection=6"], "java-3.9",
     "at most 5"),
    # from 4.0 also when idempotence is only the default (KAFKA-17927)
    (["max.in.flight.requests.per.connection=6"], "java-4.0", "at most 5"),
    # 3.2 on: a conflicting acks turns the default off, and then a transactional.id is refused
    (["transactional.id=t", "acks=1"], "java-3.9", "Cannot set a transactional.id without"),
    # before 3.0 a transactional.id turns idempotence on, and a conflict is an error
    (["transactional.id=t", "acks=1"], "java-2.8", "Must set acks to all"),
    (["delivery.timeout.ms=1000"], "java-3.9", "delivery.timeout.ms should be equal to or larger"),
    (["acks=2"], "java-3.9", "String must be one of: all, -1, 0, 1"),
    (["retries=many"], "java-3.9", "Not a number of type INT"),
    (["enable.idempotence=yes"], "java-3.9", "Expected value to be either true or false"),
    (["enable.idempotance=true"], "java-3.9", "did you mean 'enable.idempotence'"),
    (["processing.guarantee=exactly_once"], "java-4.0", "removed in 4.0"),
    (["min.insync.replicas=2"], "java-3.9", "above the replication factor 1"),
    (["transaction.version=2"], "java-3.9", "needs Kafka 4.0 or later"),
    (["acks="], "java-3.9", "Invalid value  for configuration acks"),
    (["noequals"], "java-3.9", "expected KEY=VALUE"),
])
def test_combinations_kafka_refuses_are_reported_in_its_words(sets, client, message):
    with pytest.raises(ConfigError) as e:
        load(sets=sets, kafka="3.9", client=client)
    assert any(message in p for p in e.value.problems), e.value.problems
    assert all("\n" not in p for p in e.value.problems)


def test_a_setting_kafka_would_adjust_is_adjusted_and_said():
    c = load(sets=["enable.idempotence=true", "delivery.timeout.ms=120000"], kafka="2.4",
             client="java-2.0")
    assert c["retries"] == 2147483647 and "java-2.0 sets" in c.settings["retries"].source
    assert c["acks"] == -1      # 2.x: idempotence sets acks=all when acks is not given
    c = load(sets=["linger.ms=200000"], kafka="3.9", client="java-3.9")
    assert c["delivery.timeout.ms"] == 230000     # the default raised to linger + request timeout


@pytest.mark.parametrize("kafka,client,message", [
    ("5.1", None, "not one this tool knows"), ("4", None, "X.Y"),
    ("4.1", "librdkafka-2.3", "only the Java client"), ("4.1", "java-9.9", "client version"),
])
def test_unknown_versions(kafka, client, message):
    with pytest.raises(ConfigError, match=message):
        load(kafka=kafka, client=client)


def test_a_streams_key_named_like_a_topic_key_is_not_taken_for_it(tmp_path):
    f = tmp_path / "streams.properties"
    f.write_text("processing.guarantee=exactly_once_v2\nreplication.factor=3\n"
                 "producer.linger.ms=20\nconsumer.isolation.level=read_uncommitted\n")
    c = load({"streams": [f]}, kafka="4.1")
    assert c["replication.factor"] == 1           # the output topic's: the broker default
    assert any(k == "replication.factor" and "internal topics" in w for k, w in c.not_modelled)
    assert c["linger.ms"] == 20 and "producer.linger.ms" in c.settings["linger.ms"].source


# -- the model's rows --------------------------------------------------------------------------

@pytest.mark.parametrize("sets,kafka,client,mode,variant", [
    # the named rows come out of the version facts and settings alone
    (["enable.auto.commit=false"], "trunk", None, "idempotent", "current"),
    (["enable.auto.commit=false"], "4.2", None, "idempotent", "before-15591"),
    (["enable.auto.commit=false", "enable.idempotence=false"], "4.1", None, "at-least-once", "current"),
    (["enable.auto.commit=false", "max.in.flight.requests.per.connection=1"], "trunk", None,
     "idempotent-one-in-flight", "current"),
    (["enable.auto.commit=false", "acks=1"], "4.1", None, "at-least-once-acks1", "current"),
    (["enable.idempotence=false"], "4.1", None, "at-least-once-auto-commit", "current"),
    (["acks=0", "enable.auto.commit=false", "deliverycheck.commit=before-processing"], "4.1", None,
     "at-most-once", "current"),
    (["enable.idempotence=false", "deliverycheck.worker-thread=true"], "4.1", None,
     "auto-commit-worker-thread", "current"),
    (["enable.idempotence=false", "group.protocol=consumer"], "3.9", None,
     "at-least-once-auto-commit", "new-consumer-before-18641"),
    (["transactional.id=t", "isolation.level=read_committed"], "4.2", None, "exactly-once", "current"),
    (["transactional.id=t", "isolation.level=read_committed"], "3.9", None, "exactly-once", "tv1"),
    (["transactional.id=t", "isolation.level=read_committed"], "3.5", None, "exactly-once",
     "tv1-no-verification"),
    (["transactional.id=t", "isolation.level=read_committed"], "2.4", None, "exactly-once", "kafka-2.4"),
    (["transactional.id=t"], "4.2", None, "eos-read-uncommitted", "current"),
    (["transactional.id=t", "isolation.level=read_committed", "deliverycheck.offsets=commit-sync"],
     "4.2", None, "eos-offsets-outside-txn", "current"),
    (["transactional.id=t", "isolation.level=read_committed", "deliverycheck.outputs=by-key"],
     "4.2", None, "eos-keyed-outputs", "current"),
    (["processing.guarantee=exactly_once_v2", "isolation.level=read_committed"], "4.2", None,
     "eos-per-instance-id", "current"),
    (["enable.auto.commit=false", "enable.idempotence=false", "replication.factor=2"], "3.9", None,
     "at-least-once", "rf2"),
    (["enable.auto.commit=false", "enable.idempotence=false", "replication.factor=2",
      "min.insync.replicas=2"], "4.1", None, "at-least-once", "rf2-isr2-elr"),
    (["enable.auto.commit=false", "enable.idempotence=false", "replication.factor=3",
      "min.insync.replicas=2"], "3.9", None, "at-least-once", "rf3-isr2"),
    (["enable.auto.commit=false", "enable.idempotence=false", "replication.factor=2",
      "min.insync.replicas=2", "unclean.leader.election.enable=true"], "3.6", None,
     "at-least-once", "pre-3.7-isr2-unclean"),
    (["enable.auto.commit=false", "enable.idempotence=false", "replication.factor=2",
      "unclean.leader.election.enable=true"], "2.0", "java-2.1", "at-least-once-acks1",
     "kip279-unclean"),
])
def test_configurations_map_onto_the_named_rows(sets, kafka, client, mode, variant):
    m = mapped(load(sets=sets, kafka=kafka, client=client))
    assert (m.mode.name, m.variant.name) == (mode, variant)


def test_a_configuration_no_row_names_gets_its_own_and_says_what_it_assumes():
    m = mapped(load(sets=["enable.auto.commit=false", "replication.factor=2"], kafka="3.6",
                    client="java-2.4"))
    assert m.mode.name == "at-least-once-acks1"    # a 2.4 client: acks=1, no idempotence
    assert m.variant.name == "kafka-3.6-java-2.4" and m.variant.replicas == 2
    assert not m.variant.hw_needs_min_isr          # KAFKA-15583 is in 3.7
    assert any("sends again" in a for a in m.assumptions)


def test_a_topic_setting_overrides_the_brokers(tmp_path):
    topic, broker = tmp_path / "topic.properties", tmp_path / "server.properties"
    topic.write_text("min.insync.replicas=1\nreplication.factor=3\n")
    broker.write_text("min.insync.replicas=2\ndefault.replication.factor=2\n")
    c = load({"topic": [topic], "broker": [broker]}, kafka="3.9")
    assert c["min.insync.replicas"] == 1 and c["replication.factor"] == 3
    c = load({"broker": [broker]}, kafka="3.9")
    assert c["min.insync.replicas"] == 2 and c["replication.factor"] == 2


def test_auto_offset_reset_decides_where_an_out_of_range_position_goes():
    """After an unclean election shortens the log, `latest` moves the consumer to the new
    leader's high watermark and `earliest` to offset 0 (model/consumer.py, consumer_reset)."""
    from dataclasses import replace
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import FULL, System
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    for reset in ("latest", "earliest"):
        mode = replace(MODES["at-least-once"], offset_reset=reset)
        variant = VARIANTS["rf2-unclean"]
        system = System(SPEC, Config(mode, variant, for_mode(mode, variant)))
        resets = [j for j, i in enumerate(system.instances) if i.action.name == "consumer_reset"]
        seen, frontier, moves = {system.init}, [system.init], set()
        while frontier:
            nxt = []
            for s in frontier:
                for j, fn in enumerate(system.compiled):
                    succ = fn(s)
                    if succ is None or succ is FULL:
                        continue
                    if j in resets:
                        v0, v1 = system.schema.decode(s), system.schema.decode(succ)
                        args = system.instances[j].args
                        p, r = args["p"], args["r"]
                        moves.add((v0["pos"][p], v1["pos"][p], v0["hw"][p][r]))
                    if succ not in seen:
                        seen.add(succ)
                        nxt.append(succ)
            frontier = nxt
        assert any(hw > 0 for _, _, hw in moves), "no reset where the two policies differ"
        for before, after, hw in moves:
            assert after == (hw if reset == "latest" else 0) and before > after
