"""Kafka's own configuration files as the way in: settings, versions, and the model's knobs.

:func:`load` reads the files and ``KEY=VALUE`` pairs into a
:class:`Configuration` (every effective value with where it came from,
Kafka's refusals as a :class:`ConfigError`); :func:`mapped` turns it into
the model's mode and variant rows.
"""

from deliverycheck.config.mapping import Mapped, mapped
from deliverycheck.config.resolve import Configuration, ConfigError, Setting, load

__all__ = ["Configuration", "ConfigError", "Mapped", "Setting", "load", "mapped"]
