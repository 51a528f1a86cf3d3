"""What several commands read from their options: modes, variants, properties, bounds, folders."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Sequence

from deliverycheck.errors import UsageError, not_a_file


def choose(given: Sequence[str] | None, known: Sequence[str], what: str) -> list[str]:
    """The names given (each checked against ``known``), or all of ``known``."""
    if not given:
        return list(known)
    for g in given:
        if g not in known:
            raise UsageError(f"unknown {what} {g!r}; choose from: {', '.join(known)}")
    return list(dict.fromkeys(given))


def parse_bounds(items: Sequence[str]) -> dict[str, int]:
    """``["records=3", ...]`` -> the bounds given, checked, with one-line errors.

    Bounds not given take each mode's defaults (``deliverycheck list``).
    The same bound given twice with different values is refused.
    """
    from deliverycheck.model import MODES, Bounds
    from deliverycheck.model.bounds import deep_for_mode, for_mode
    names = [f.name for f in fields(Bounds)]
    over: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--bound expects NAME=VALUE, e.g. --bound records=3; got {item!r}")
        if name not in names:
            raise UsageError(f"unknown bound {name!r}; choose from: {', '.join(names)}")
        try:
            n = int(value)
        except ValueError:
            raise UsageError(f"bound {name} must be an integer, got {value!r}") from None
        if name in over and over[name] != n:
            raise UsageError(f"--bound {name} is given twice ({over[name]} and {n}); give it once")
        over[name] = n
    for mode in MODES.values():
        try:
            for_mode(mode, **over)
            deep_for_mode(mode, **over)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return over


def out_dir(name: str, option: str = "--out") -> Path:
    """The output directory, created; a one-line error when it cannot be."""
    out = Path(name)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {name!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create {option} directory {name!r}: {e.strerror}; "
                         "choose a writable place") from None
    return out


def input_file(path: str, what: str) -> Path:
    """``path`` as a readable input file; a one-line error saying what it is otherwise."""
    why = not_a_file(path)
    if why:
        raise UsageError(f"{what} {path!r} {why}")
    return Path(path)
