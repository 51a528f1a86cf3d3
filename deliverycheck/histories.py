"""Histories: saved traces that tell a case the shortest counterexample does not.

The explorer shows, per broken promise, the *shortest* history that breaks
it.  Some cases worth knowing are longer: KIP-890's hanging transaction,
for one, is a late write of an aborted transaction, where the shortest
hanging transaction of the same configuration comes from a late EndTxn.
The specification keeps such traces in ``properties/histories/*.itf.json``
(an ITF trace whose ``#meta`` adds a ``history`` title and an ``about``
paragraph); ``deliverycheck gallery`` replays each through the current
model and draws it beside the counterexamples, and the regression tests
replay them too.  A history must still replay step by step and still
break the promise it was saved for, which expected.toml must expect to be
violated in its mode and variant at its bounds (the default world's or a
named world's): a protocol change that takes the case
away says so instead of keeping a stale picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deliverycheck import trace as tr
from deliverycheck.expected import Expectations
from deliverycheck.replay import Replayed, judge, load_doc, system_of


@dataclass
class History:
    """One saved history, replayed."""

    name: str        # the file's name without .itf.json: the gallery folder's name
    path: Path
    title: str
    about: str
    replayed: Replayed


def folder() -> Path:
    """Where the loaded specification keeps its histories."""
    import deliverycheck.properties as props
    return Path(props.__file__).parent / "histories"


def paths() -> list[Path]:
    """The history files of the loaded specification, by name."""
    return sorted(folder().glob("*.itf.json"))


def load(path: Path) -> History:
    """Read and replay one history (``ReplayError`` or ``TraceFileError`` when it cannot be)."""
    doc = load_doc(path)
    meta = doc["#meta"]
    replayed = judge(tr.from_itf(doc, system_of(doc)))
    return History(path.name.removesuffix(".itf.json"), path, str(meta.get("history", path.name)),
                   str(meta.get("about", "")), replayed)


def problems(h: History, expected: Expectations) -> list[str]:
    """What is wrong with history ``h`` against ``expected``; empty when it still shows what it
    was saved for.

    The history's bounds must be those of a world expected.toml pins: its mode's default
    bounds, or a named world's (a case too big for the default run, such as KIP-890's hanging
    transaction, is saved in the world that shows it), and that world must expect its
    property to be violated.
    """
    t = h.replayed.trace
    cfg, prop = t.system.cfg, h.replayed.recorded
    if prop is None:
        return [f"history {h.name}: its trace names no property (set #meta.property)"]
    exp = expected.find(cfg.mode, cfg.variant.name, cfg.bounds)
    verdict = exp.verdicts.get(prop) if exp is not None else None
    out = []
    if verdict != "violated":
        world = ("at its default bounds" if cfg.default_bounds else
                 "in a world with its bounds" if exp is None else f"in the world {exp.world}")
        out.append(f"history {h.name}: expected.toml does not expect {prop} to be violated in "
                   f"{cfg.mode.name}/{cfg.variant.name} {world}")
    if not h.replayed.shows_recorded():
        out.append(f"history {h.name}: it no longer breaks {prop}")
    return out
