"""Kafka and client versions, and what each version does (with the evidence).

``--kafka 4.1`` names the brokers' version, ``--client java-3.9`` the
Java client's (producer, consumer and Kafka Streams, which ship together).
A version without a patch number means its first release (``4.0`` is
4.0.0); ``trunk`` means Kafka's main branch as the model's ``current``
variant describes it, with every fix the model knows of.

The producer's idempotence rules per client version are below (its defaults
are in keys.py), each with its KIP or ticket; what each broker and client version does in
the protocol is the specification's (model/releases.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# the feature releases this module knows, oldest first
RELEASES = ("0.11", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8",
            "3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9",
            "4.0", "4.1", "4.2")
NEWEST = RELEASES[-1]
TRUNK = "trunk"
_TRUNK_KEY = (99, 0, 0)


class VersionError(ValueError):
    """A version this module cannot read or does not know (the message says which it knows)."""


@dataclass(frozen=True, order=True)
class Version:
    """A Kafka release (major, minor, patch), or trunk (after every release)."""

    key: tuple[int, int, int]
    text: str = ""

    @property
    def trunk(self) -> bool:
        """Kafka's main branch rather than a release."""
        return self.key == _TRUNK_KEY

    def at_least(self, text: str) -> bool:
        """This version is ``text`` (``"2.5"`` or ``"4.0.1"``) or later."""
        return self.key >= _key(text)

    def __str__(self) -> str:
        return self.text


def _key(text: str) -> tuple[int, int, int]:
    a, b, c = ([int(p) for p in text.split(".")] + [0, 0])[:3]
    return a, b, c


def parse_kafka(text: str) -> Version:
    """``4.1``, ``4.0.1`` or ``trunk`` as a Kafka version (``VersionError`` otherwise)."""
    t = text.strip().lower()
    if t == TRUNK:
        return Version(_TRUNK_KEY, TRUNK)
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", t)
    if not m:
        raise VersionError(f"Kafka version {text!r} is not of the form X.Y or X.Y.Z (or 'trunk'), "
                           f"e.g. --kafka 4.1")
    if f"{m[1]}.{m[2]}" not in RELEASES:
        raise VersionError(f"Kafka version {text!r} is not one this tool knows: "
                           f"{RELEASES[0]} to {NEWEST}, or 'trunk'")
    return Version(_key(t), t)


def parse_client(text: str) -> Version:
    """``java-3.9`` (or ``java-3.0.1``, ``java-trunk``) as the Java client's version."""
    t = text.strip().lower()
    if not t.startswith("java-"):
        raise VersionError(f"client {text!r} is not one this tool models: only the Java client "
                           f"(producer, consumer, Kafka Streams) is, named java-X.Y, e.g. "
                           f"--client java-3.9")
    try:
        v = parse_kafka(t[len("java-"):])
    except VersionError as e:
        raise VersionError(str(e).replace("Kafka version", "client version")) from None
    return Version(v.key, "java-" + v.text)


# -- what each version does ---------------------------------------------------------------
#
# Producer defaults (the Java client's ProducerConfig of each version, and the upgrade notes):
#   acks: "1" before 3.0, "all" from 3.0 (KIP-679);
#   enable.idempotence: false before 3.0, true from 3.0 (KIP-679); in 3.0.0 and 3.1.0 the
#     default was not applied, so idempotence stayed off unless set (KAFKA-13598, fixed in
#     3.0.1, 3.1.1 and 3.2.0, which also turn it off silently when other settings conflict);
#   retries: 0 before 2.1, Integer.MAX_VALUE from 2.1 (KIP-91, which added delivery.timeout.ms);
#   linger.ms: 0 before 4.0, 5 from 4.0 (KIP-1030).

def idempotence_default_applies(client: Version) -> bool:
    """The client turns idempotence on when the user does not set it (KIP-679, KAFKA-13598).

    Where it does not (before 3.0, and 3.0.0 and 3.1.0), the producer
    follows the 2.x rules (``ProducerConfig.idempotenceEnabled``):
    idempotence is on when set true or when a transactional.id is set,
    and then a conflicting acks, retries or in-flight setting is an error.
    """
    if not client.at_least("3.0"):
        return False
    return client.key not in ((3, 0, 0), (3, 1, 0))


def in_flight_over_five_is_error(client: Version) -> bool:
    """From 4.0 more than 5 requests in flight with idempotence on is an error even when
    idempotence is only the default (KAFKA-17927); before, it turned idempotence off."""
    return client.at_least("4.0")
