"""Reading ``properties/expected.toml``: what each mode should keep and break, per world.

A *world* is a set of bounds.  Each mode's default world (its default
bounds, ``deliverycheck list``) has a table per mode and variant::

    ["at-least-once".current]
    states = 195785            # distinct states of the explorer's complete search
    depth = 34                 # its BFS depth: the longest shortest history, in steps

    ["at-least-once".current.verdicts]
    no_duplicate_log = "violated"   # why, in a comment
    witness_retry = "reached"       # a witness is "reached" or "unreachable"

    ["at-least-once".current.lengths]
    no_duplicate_log = 5       # steps of the shortest counterexample (or witness)

    ["eos-per-instance-id".no-group-metadata.deep_verdicts]
    offsets_match_outputs = "violated"   # where the stateful engine's bigger world differs

    ["at-least-once".rf2]
    never_fired = ["consumer_reset"]   # actions the complete search never takes (pinned too)

Named extra worlds hold the expectations of other bounds, with the same
tables under ``worlds.NAME``::

    [worlds.idempotent-expiry]
    bounds = { expiries = 1 }          # overrides of each mode's default bounds
    about = "why this world is worth checking"

    [worlds.idempotent-expiry.idempotent.current.verdicts]
    no_duplicate_send = "violated"

A run is compared with the world whose bounds are exactly its own
(:meth:`Expectations.find`); a run at bounds no world names has no
expectations and is reported without comparison.  ``states``, ``depth``
and ``lengths`` are *pinned figures*: compared where given, for the
engines that measure them (the explorer; bounded model checking for
lengths).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from deliverycheck.errors import not_a_file
from deliverycheck.model.bounds import Bounds, deep_for_mode, for_mode
from deliverycheck.model.variants import VARIANTS

PROMISE_VERDICTS = ("holds", "violated")
WITNESS_VERDICTS = ("reached", "unreachable")
DEFAULT_WORLD = "default"
STATEFUL_WORLD = "stateful"   # each mode's bigger world for --engine stateful
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ExpectationError(Exception):
    """expected.toml is malformed or names something that does not exist."""


def words(kind: str) -> tuple[str, str]:
    """The two verdicts a property of ``kind`` can be expected to have (kept / broken)."""
    return WITNESS_VERDICTS if kind == "sometimes" else PROMISE_VERDICTS


@dataclass
class Expected:
    """Expectations for one mode x variant in one world."""

    world: str = DEFAULT_WORLD
    states: int | None = None
    depth: int | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    deep_verdicts: dict[str, str] = field(default_factory=dict)  # in the stateful world
    never_fired: list[str] | None = None   # actions a complete search never takes (None: not pinned)

    def deep(self) -> "Expected":
        """The expectations for the stateful engine's bigger world (verdicts only)."""
        return Expected(STATEFUL_WORLD, verdicts={**self.verdicts, **self.deep_verdicts})


@dataclass(frozen=True)
class World:
    """A named extra world: bounds (overrides of each mode's defaults) and why it is there."""

    name: str
    bounds: Mapping[str, int]
    about: str = ""


@dataclass
class Expectations:
    """The whole file: the default world, the named worlds, and where it came from."""

    path: Path
    default: dict[tuple[str, str], Expected]
    worlds: dict[str, World] = field(default_factory=dict)
    named: dict[str, dict[tuple[str, str], Expected]] = field(default_factory=dict)

    def get(self, key: tuple[str, str]) -> Expected | None:
        """The default world's expectations for ``(mode, variant)``."""
        return self.default.get(key)

    def find(self, mode: Any, variant: str, bounds: Bounds, engine: str = "explore") -> Expected | None:
        """The expectations of a run of ``mode`` x ``variant`` at ``bounds``, or None.

        The default world at the mode's default bounds (its stateful world
        for the stateful engine), else the named world with exactly these
        bounds.
        """
        key = (mode.name, variant)
        var = VARIANTS.get(variant)
        if engine == "stateful" and bounds == deep_for_mode(mode):
            exp = self.default.get(key)
            return exp.deep() if exp is not None else None
        if bounds == for_mode(mode, var):
            return self.default.get(key)
        for name, world in self.worlds.items():
            if key in self.named[name] and for_mode(mode, var, **world.bounds) == bounds:
                return self.named[name][key]
        return None


def default_path() -> Path:
    """The expectations of the specification this run reads (deliverycheck.source)."""
    from deliverycheck.source import chosen
    return chosen().expected


def load(path: Path | None = None, *, modes: Mapping[str, Any] | None = None,
         variants: Any = (), kinds: Mapping[str, str] | None = None) -> Expectations:
    """Parse and validate expected.toml.

    ``modes`` maps mode names to modes, ``variants`` lists variant names
    and ``kinds`` maps each property name to its kind; whatever is given
    is checked (unknown names, a verdict word that does not fit the
    property's kind, bounds a world cannot have).
    """
    path = Path(path) if path is not None else default_path()
    why = not_a_file(path)
    if why:
        raise ExpectationError(f"expected-verdicts file {str(path)!r} {why}")
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ExpectationError(f"cannot read {path}: {e}") from None
    check = _Checker(path, modes, variants, kinds or {})
    worlds_data = data.pop("worlds", {})
    out = Expectations(path, check.pairs(data, DEFAULT_WORLD))
    if not isinstance(worlds_data, dict):
        raise ExpectationError(f"{path}: [worlds] must be a table of named worlds")
    for name, body in worlds_data.items():
        world, pairs = check.world(name, body)
        out.worlds[name], out.named[name] = world, pairs
    return out


class _Checker:
    """Validation of expected.toml's tables, with messages that name the table."""

    def __init__(self, path: Path, modes, variants, kinds: Mapping[str, str]):
        self.path, self.modes, self.variants, self.kinds = path, modes, variants, kinds

    def fail(self, where: str, what: str) -> ExpectationError:
        return ExpectationError(f"{self.path}: {where}{what}")

    def pairs(self, data: dict, world: str) -> dict[tuple[str, str], Expected]:
        prefix = "" if world == DEFAULT_WORLD else f"worlds.{world}."
        out = {}
        for mode, per_variant in data.items():
            if self.modes is not None and mode not in self.modes:
                raise self.fail("", f"[{prefix}{mode}]: unknown mode {mode!r}")
            if not isinstance(per_variant, dict):
                raise self.fail("", f"[{prefix}{mode}] must be a table of variants")
            for variant, body in per_variant.items():
                where = f"[{prefix}{mode}.{variant}] "
                if self.variants and variant not in self.variants:
                    raise self.fail(where, f"unknown variant {variant!r}")
                out[(mode, variant)] = self.expected(where, world, body)
        return out

    def expected(self, where: str, world: str, body: Any) -> Expected:
        if not isinstance(body, dict):
            raise self.fail(where, "must be a table")
        allowed = {"states", "depth", "verdicts", "lengths", "never_fired"} | (
            {"deep_verdicts"} if world == DEFAULT_WORLD else set())
        for key in body:
            if key not in allowed:
                raise self.fail(where, f"unknown key {key!r}; use {', '.join(sorted(allowed))}")
        for key in ("states", "depth"):
            if key in body and (not isinstance(body[key], int) or body[key] < 0):
                raise self.fail(where, f"{key} must be a non-negative integer")
        never = body.get("never_fired")
        if never is not None and (not isinstance(never, list)
                                  or not all(isinstance(a, str) for a in never)):
            raise self.fail(where, "never_fired must be a list of action names")
        exp = Expected(world, body.get("states"), body.get("depth"), dict(body.get("verdicts", {})),
                       dict(body.get("lengths", {})), dict(body.get("deep_verdicts", {})),
                       sorted(never) if never is not None else None)
        for name in (*exp.verdicts, *exp.lengths, *exp.deep_verdicts):
            if self.kinds and name not in self.kinds:
                raise self.fail(where, f"names unknown property {name!r}")
        for name, v in {**exp.verdicts, **exp.deep_verdicts}.items():
            allowed_words = words(self.kinds[name]) if self.kinds else (*PROMISE_VERDICTS, *WITNESS_VERDICTS)
            if v not in allowed_words:
                kind = f"a {self.kinds[name]} property" if self.kinds else "a property"
                raise self.fail(where, f"{name} = {v!r}; {name} is {kind}: use "
                                       f"{' or '.join(repr(w) for w in allowed_words)}")
        for name, n in exp.lengths.items():
            if not isinstance(n, int) or n < 0:
                raise self.fail(where, f"lengths.{name} must be a non-negative integer")
        return exp

    def world(self, name: str, body: Any) -> tuple[World, dict[tuple[str, str], Expected]]:
        where = f"[worlds.{name}] "
        if not _NAME.match(name):
            raise self.fail(where, "a world's name is lower-case letters, digits and dashes")
        if not isinstance(body, dict):
            raise self.fail(where, "must be a table")
        bounds = body.pop("bounds", None)
        about = body.pop("about", "")
        if not isinstance(bounds, dict) or not bounds:
            raise self.fail(where, "needs bounds = { name = value, ... } (overrides of the "
                                   "mode's default bounds)")
        names = {f for f in Bounds.__dataclass_fields__}
        for key, value in bounds.items():
            if key not in names:
                raise self.fail(where, f"unknown bound {key!r}; choose from: {', '.join(names)}")
            if not isinstance(value, int):
                raise self.fail(where, f"bound {key} must be an integer")
        pairs = self.pairs(body, name)
        if not pairs:
            raise self.fail(where, "lists no mode and variant")
        if self.modes is not None:
            for mode, variant in pairs:
                try:
                    for_mode(self.modes[mode], VARIANTS.get(variant), **bounds)
                except ValueError as e:
                    raise self.fail(where, str(e)) from None
        return World(name, dict(bounds), str(about)), pairs
