"""How long would a proof take?  Sample the step case (k = 1) per action and extrapolate.

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/prove_estimate.py --target idempotent-one-in-flight:in_order \\
        --bound records=3 --bound faults=2            # 3 instances per action
    python benchmarks/prove_estimate.py --target idempotent-one-in-flight:in_order \\
        --bound records=6 --bound faults=3 --sample 1 --budget 1800

A proof at k = 1 asks, for every action instance, whether its step keeps
each conjunct of the invariant (engines/induction.py ``step_keeps``).  In a
big world that is thousands of instances; this asks the question for a
few instances of each action (chosen by a fixed seed), on one core, and
prints per action: the instances that touch the invariant, the mean time
of those sampled, and the extrapolated total; then the slowest single
instances.  A sampled answer other than ``unsat`` is printed too: then
the proof would not go through (or not within its limits) at this world.
``--budget`` stops the sampling after that many seconds; the estimate is
then over the actions sampled so far, and says so.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="idempotent-one-in-flight:in_order", metavar="MODE:PROPERTY")
    ap.add_argument("--bound", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--sample", type=int, default=3, help="instances per action (default 3)")
    ap.add_argument("--budget", type=float, help="stop sampling after this many seconds")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import z3
    from deliverycheck.core.system import System
    from deliverycheck.engines import induction
    from deliverycheck.engines.smt import Deadline, StepTemplate, as_bool
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    from deliverycheck.prove import SPEC, lemmas_for

    mode, _, prop = a.target.partition(":")
    if mode not in MODES or prop not in [p.name for p in SPEC.properties]:
        ap.error(f"--target {a.target}: expected MODE:PROPERTY, e.g. idempotent-one-in-flight:in_order")
    try:
        bounds = {k: int(v) for k, v in (b.split("=", 1) for b in a.bound)}
        cfg = Config(MODES[mode], VARIANTS["current"], for_mode(MODES[mode], **bounds))
    except (ValueError, TypeError) as e:
        ap.error(f"--bound: {e}")
    t0 = time.perf_counter()
    system = System(SPEC, cfg)
    invariant = [SPEC.property(prop), *lemmas_for(cfg, prop)]
    template = StepTemplate(system)
    built = time.perf_counter() - t0
    # the step case at k = 1, as k_induction sets it up: any state in range where I holds
    u, parts = induction.step_case(system, invariant, template)
    u.add(*[as_bool(system.z3_holds(p, u.states[0])) for p in invariant])
    by_action: dict[str, list[int]] = defaultdict(list)
    for j, inst in enumerate(system.instances):
        if induction.touches(u, parts, j):
            by_action[inst.action.name].append(j)
    print(f"{mode} {prop} at {cfg.bounds}")
    print(f"{len(system.instances)} instances ({sum(map(len, by_action.values()))} touch the invariant), "
          f"{len(parts)} conjuncts, {len(template.pre)} cells; step built in {built:.1f} s")
    rng = random.Random(a.seed)
    deadline, slow = Deadline(None, None), Counter()
    total, timed, sampled = 0.0, [], time.perf_counter()
    for action in sorted(by_action):
        if a.budget is not None and time.perf_counter() - sampled > a.budget:
            print(f"budget of {a.budget:.0f} s spent: actions from {action} on are not sampled")
            break
        js = by_action[action]
        spent = []
        for j in rng.sample(js, min(a.sample, len(js))):
            t1 = time.perf_counter()
            answer, name = induction.step_keeps(u, parts, j, deadline, slow)
            spent.append(time.perf_counter() - t1)
            timed.append((spent[-1], system.instances[j].label()))
            if answer != z3.unsat:
                print(f"  {system.instances[j].label()}: {answer} for {name}")
        mean = sum(spent) / len(spent)
        total += mean * len(js)
        print(f"{action:28s} {len(js):6d} instances, mean {mean:8.2f} s -> {mean * len(js):9.0f} s",
              flush=True)
    print(f"estimated step case on one core: {total:.0f} s ({total / 3600:.1f} h)")
    for seconds, label in sorted(timed, reverse=True)[:5]:
        print(f"  slowest: {label} {seconds:.1f} s")


if __name__ == "__main__":
    main()
