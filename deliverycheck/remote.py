"""verify's searches as tasks: one mode x variant per task, on Dask (docs/scale-out.md).

A worker runs the search exactly as ``deliverycheck verify`` would
(:func:`search_task`) and sends back the run as plain data
(:func:`portable`): the exploration without its per-state arrays, each
trace as its ITF text.  The command's process turns it back into the run
it would have made itself (:func:`restore`): it writes the traces (the
worker's text, byte for byte) and their stories, and rebuilds each trace by
replaying it through its own copy of the model, for the pictures.  So a
run on any number of workers prints and writes what a run in one process
does.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Sequence


def search_task(mode: str, variant: str, engine: str, properties: Sequence[str], overrides: dict,
                expected: Any, limits: Any, budget: Any, depth: int, query_seconds: float | None,
                explorer: str, store: str) -> Any:
    """One verify search, on whichever process runs it; the run as plain data."""
    from deliverycheck.source import load_spec
    spec = load_spec()
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import deep_for_mode, for_mode
    from deliverycheck.verify import run, run_smt, run_stateful
    bounds_of = deep_for_mode if engine == "stateful" else for_mode
    cfg = Config(MODES[mode], VARIANTS[variant], bounds_of(MODES[mode], VARIANTS[variant], **overrides))
    props = [spec.property(n) for n in properties]
    if engine == "stateful":
        r = run_stateful(cfg, props, expected, None, budget, None, limits)
    elif engine == "smt":
        r = run_smt(cfg, props, expected, None, depth, limits.max_seconds, query_seconds, None, limits)
    else:
        r = run(cfg, props, expected, None, limits, None, backend=explorer, store=store, workers=1)
    return portable(r)


def portable(r: Any) -> Any:
    """``r`` without what cannot leave its process (the model, per-state arrays, traces)."""
    from deliverycheck import trace as tr
    for res in r.results:
        if res.shown is not None:
            res.itf, res.shown = tr.dumps(res.shown), None
    if r.exploration is not None:
        r.exploration = dataclasses.replace(r.exploration, parents=None, via=None, system=None,
                                            edges=None)
    return r


def restore(r: Any) -> Any:
    """A run from :func:`portable`, its traces rebuilt against this process's model (each keeps
    the worker's ITF text for :func:`write_traces`)."""
    from deliverycheck import trace as tr
    from deliverycheck.catalog import SPEC
    from deliverycheck.core.system import System
    from deliverycheck.model import MODES, VARIANTS, Config
    system = System(SPEC, Config(MODES[r.mode], VARIANTS[r.variant], r.bounds))
    for res in r.results:
        if res.itf is not None:
            res.shown = tr.from_itf(json.loads(res.itf), system)
    return r


def write_traces(r: Any, out: Path | None) -> Any:
    """Write the traces of a restored run under ``out`` as verify does (the ITF text as made)."""
    from deliverycheck import trace as tr
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.verify import folder_of, write_trace
    folder = folder_of(out, Config(MODES[r.mode], VARIANTS[r.variant], r.bounds))
    for res in r.results:
        if res.shown is not None and folder is not None:
            write_trace(res, res.itf or tr.dumps(res.shown), res.shown, folder)
        res.itf = None
    return r
