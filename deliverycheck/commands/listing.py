"""``deliverycheck list``: the modes, variants, actions, properties and bounds, described."""

from __future__ import annotations

import argparse
from dataclasses import fields

from deliverycheck.source import load_spec


def run(args: argparse.Namespace) -> int:
    """Print modes, variants, actions, properties and bounds."""
    spec = load_spec()
    from deliverycheck.model import MODES, VARIANTS, Bounds
    from deliverycheck.model.bounds import bound_docs
    from deliverycheck.model.variants import DEFAULT_VARIANT
    print(args.source.describe())
    print("\nModes (--mode):")
    for m in MODES.values():
        own = ", ".join(f"{k}={v}" for k, v in m.bounds)
        deep = ", ".join(f"{k}={v}" for k, v in m.deep_bounds)
        print(f"  {m.name:<24} {m.summary}" + (f" [default bounds: {own}]" if own else "")
              + f" [--engine stateful: {deep}]")
    print("\nVariants (--variant; by default each runs with the modes named in brackets):")
    for v in VARIANTS.values():
        runs = "every mode" if v.name == DEFAULT_VARIANT else ", ".join(v.checked_with) or "with --variant"
        own = ", ".join(f"{k}={val}" for k, val in v.bounds)
        print(f"  {v.name:<24} {v.summary} [{runs}]" + (f" [default bounds: {own}]" if own else ""))
    print("\nActions (* the environment's faults, which spend the fault budget):")
    for a in spec.actions:
        params = ", ".join(a.param_names)
        print(f"  {'*' if a.fault else ' '} {a.name}({params})")
        print(f"  {'':<3}{a.summary}")
    print("\nProperties (--property):")
    for p in spec.properties:
        claims = ", ".join(p.claims) or "no mode"
        print(f"  {p.name:<30} {p.kind:<9} claimed by {claims}")
        print(f"  {'':<30} {p.summary}")
    print("\nBounds (--bound NAME=VALUE; defaults shown, unless a mode above sets its own):")
    docs = bound_docs()
    cells = [(f.name + " = " + str(getattr(Bounds(), f.name)), docs.get(f.name, ""))
             for f in fields(Bounds)]
    width = max(len(cell) for cell, _ in cells)
    for cell, doc in cells:
        print(f"  {cell:<{width}} {doc}")
    return 0
