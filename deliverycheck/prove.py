"""Proofs: k-induction runs for ``deliverycheck prove``, with their counterexamples written out.

For each (mode, variant, property) the target is strengthened by the lemmas
properties/lemmas.py lists for it (those that apply to the mode), and
:func:`deliverycheck.engines.induction.k_induction` decides it.  A
counterexample from the initial state (``violated``) or to induction (``not
inductive at k``) is rebuilt as a trace, replayed, and written as ITF plus
a story, like every other trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deliverycheck import trace as tr
from deliverycheck.catalog import SPEC
from deliverycheck.core.system import System
from deliverycheck.engines.induction import Proof, k_induction
from deliverycheck.model import Bounds, Config
from deliverycheck.render.story import story
from deliverycheck.errors import MODEL_BUGS, ModelError
from deliverycheck.properties.lemmas import LEMMA_WORLD, STATED_FOR, STRENGTHENING

# What `deliverycheck prove` proves when no --mode / --property is given:
# the log-level promises of the idempotent producer, and exactly-once's
# atomicity and isolation (docs/smt.md).
TARGETS: tuple[tuple[str, str], ...] = (
    ("idempotent-one-in-flight", "no_duplicate_send"), ("idempotent-one-in-flight", "in_order"),
    ("exactly-once", "atomic_transactions"), ("exactly-once", "no_aborted_read"))


@dataclass
class ProofRun:
    """One proof attempt and where its trace went."""

    mode: str
    variant: str
    proof: Proof
    bounds: Bounds
    trace: str | None = None
    story: str | None = None


def lemmas_for(cfg: Config, prop: str) -> list:
    """The strengthening lemmas of ``prop`` that exist in ``cfg``.

    A lemma list naming a property that does not exist, or one that is not
    an ``always`` property, is a model error (one line, exit 2).
    """
    out = []
    for n in STRENGTHENING.get(prop, ()):
        try:
            lemma = SPEC.property(n)
        except KeyError:
            raise ModelError(f"properties/lemmas.py: STRENGTHENING[{prop!r}] names {n!r}, "
                             "which is no property") from None
        if lemma.kind != "always":
            raise ModelError(f"lemma {n} is a {lemma.kind} property; a lemma must be an "
                             "`always` property")
        if lemma.applies(cfg):
            out.append(lemma)
    return out


def not_stated(cfg: Config, prop: str) -> str | None:
    """Why the lemmas of ``prop`` are not stated for ``cfg``'s bounds (None: they are, or it has none)."""
    if STRENGTHENING.get(prop) and not lemmas_for(cfg, prop):
        lost = f" with unflushed={cfg.bounds.unflushed}" if cfg.bounds.unflushed else ""
        where = LEMMA_WORLD.get(prop, "a partition whose one replica leads for good")
        return (f"none of its lemmas is about mode {cfg.mode.name}, variant "
                f"{cfg.variant.name}{lost} (they speak of {where})")
    why = STATED_FOR.get(prop)
    return why(cfg.bounds) if why and lemmas_for(cfg, prop) else None


def prove(cfg: Config, prop: str, max_k: int, out: Path | None,
          max_seconds: float | None = None, query_seconds: float | None = None,
          workers: int | None = None) -> ProofRun:
    """k-induction for ``prop`` in ``cfg`` on ``workers`` cores (default all); write its counterexample, if any, under ``out``."""
    system = System(SPEC, cfg)
    target = SPEC.property(prop)
    lemmas = lemmas_for(cfg, prop)
    for p in (target, *lemmas):  # a lemma that cannot be evaluated is a model error, said once
        try:
            system.z3_holds(p, system.z3_cells("check"))
        except MODEL_BUGS as e:
            raise ModelError(f"property {p.name} cannot be evaluated: {e}") from e
    proof = k_induction(system, target, lemmas, max_k=max_k,
                        max_seconds=max_seconds, query_seconds=query_seconds, workers=workers)
    result = ProofRun(cfg.mode.name, cfg.variant.name, proof, cfg.bounds)
    folder = out / "proofs" / cfg.mode.name / cfg.variant.name if out else None
    if folder:
        for f in folder.glob(f"{prop}.*"):  # no stale trace survives a new verdict
            f.unlink()
    trace = None
    if proof.path is not None:
        trace = tr.from_path(system, proof.path, property=proof.broken, verdict="violated")
    elif proof.cti is not None and proof.verdict == "not inductive":
        start, path = proof.cti
        meta = {"proof": f"not inductive at k={proof.k}", "target": prop, "lemmas": proof.lemmas}
        if proof.blocked is not None:
            # the invariant allows a state where a step cannot be made: the
            # trace ends there, and names the step and why (story.py tells it)
            meta["blocked"] = {"step": system.instances[proof.blocked].label(),
                               "why": proof.broken}
        trace = tr.from_path(system, path, start=start, verdict="violated", meta=meta,
                             property=prop if proof.blocked is not None else proof.broken)
    if trace is not None and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        kind = "cti" if not trace.from_init else "counterexample"
        itf = folder / f"{prop}.{kind}.itf.json"
        itf.write_text(tr.dumps(trace))
        (folder / f"{prop}.{kind}.story.txt").write_text(story(trace))
        result.trace, result.story = str(itf), str(folder / f"{prop}.{kind}.story.txt")
    return result
