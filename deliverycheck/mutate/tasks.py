"""The unit of work: one mutant of one mode, in whichever process runs it.

A process keeps each mode it has seen ready (its searches lowered, built and
loaded; its mutants numbered), so a worker pays for a mode once however
many of its mutants it is given.  The process that starts a run prepares
each mode itself first, with the baseline check, and tells the workers the
model's state counts, which bound each mutant's search.
"""

from __future__ import annotations

from typing import Any

_MODES: dict[str, tuple[list, list]] = {}


def prepared_mode(mode: str, states: dict[str, int] | None = None) -> tuple[list, list]:
    """``(prepared searches, mutants)`` of ``mode``, made once per process.

    Without ``states`` (the process that starts the run) each search's
    baseline is checked against expected.toml; with them (a worker) it is
    taken as given.
    """
    if mode not in _MODES:
        from deliverycheck.expected import load
        from deliverycheck.model import MODES, VARIANTS
        from deliverycheck.source import chosen, load_spec

        from .run import mutants_of, prepare, searches_of
        from .sites import Finder
        spec = load_spec()
        expectations = load(modes=MODES, variants=list(VARIANTS),
                            kinds={p.name: p.kind for p in spec.properties})
        finder = Finder(chosen().model)
        prepared = []
        for m, v in searches_of(mode):
            prep = prepare(m, v, expectations, chosen().model, finder, baseline=states is None)
            if states is not None:
                prep.states = states[v]
            prepared.append(prep)
        _MODES[mode] = (prepared, mutants_of(prepared, finder))
    return _MODES[mode]


def mutant_task(mode: str, mutant_id: int, key: Any, states: dict[str, int],
                max_seconds: float | None) -> Any:
    """Check mutant ``mutant_id`` of ``mode`` (its ``key`` must match this process's numbering)."""
    from .run import check
    prepared, mutants = prepared_mode(mode, states)
    mutant = mutants[mutant_id - 1]
    if mutant.key != key:
        raise RuntimeError(f"mutant M{mutant_id} of {mode} is another change on this worker: it "
                           "reads a different model")
    return check(prepared, mutant, max_seconds)
