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

        from deliverycheck.native.search import prebuild

        from .run import build, lay_out, mutants_of, searches_of
        from .sites import Finder
        spec = load_spec()
        expectations = load(modes=MODES, variants=list(VARIANTS),
                            kinds={p.name: p.kind for p in spec.properties})
        finder = Finder(chosen().model)
        prepared = [lay_out(m, v, expectations, chosen().model, finder) for m, v in searches_of(mode)]
        # the searches' modules compile side by side (one per core) while the first is awaited
        prebuild([lambda p=p: (p.switched, p.properties) for p in prepared])
        for prep in prepared:
            build(prep, baseline=states is None)
            if states is not None:
                prep.states = states[prep.variant]
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
