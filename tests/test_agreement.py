"""One model, every interpretation: Z3 and the compiled code read the same actions.

For 500 reachable states of every configuration whose actions
run different code (``STEPS``) and every action instance: the concrete
guard is true exactly when the Z3 step is satisfiable (with the pre-state
fixed to the concrete state), the capacity condition agrees, and the Z3
successor equals the concrete one.  The
compiled step (what the explorer runs) must equal the interpreted one, and
so must every property.
"""

from __future__ import annotations

import pytest
import z3

from conftest import reachable, system

from deliverycheck.core.system import FULL
from deliverycheck.engines.explore import explore
from deliverycheck.native.build import compiler
from deliverycheck.model import MODES

SAMPLE = 500
# Worlds other than the default.  at-most-once has only 84 states at the default bounds: widen
# its world (its 1,264 states need no more than 8 batches and log entries and 4 slots, so the
# capacities are set there: the same states with a sixth of the instances).  The worker
# thread's auto-commit world has 455,629, which the interpreted explorer enumerates slowly:
# with one record it has 2,281, where every one of its actions fires (its auto-commit in both
# branches, between records and with a record not yet processed).
WORLDS = {"at-most-once": {"records": 4, "faults": 3, "batches": 8, "log": 8, "channel": 4},
          "auto-commit-worker-thread": {"records": 1}}
# Configurations whose actions run different code: every delivery-path mode,
# and for exactly-once each protocol branch (TV2, TV1 with and without
# verification, one id per instance, offsets outside the transaction, keyed outputs).  The
# other exactly-once modes differ only in properties, checked below for all.
# The replicated partition's branches: acks=1, producer state on followers with an
# unclean election and today's truncation (KIP-279 with KAFKA-7415), and the older
# truncations (to the high watermark; KIP-101; KIP-279 without KAFKA-7415).  acks=1 with
# one replica runs the same steps as acks=all (its world is at-least-once's).
# at-least-once-auto-commit runs at-least-once's steps and the worker thread's auto-commit (in
# one of its two branches), and keeps at-least-once's properties and the worker thread's
# witness: it is left out.  eos-keyed-outputs sends to the partitions of each record's key.
# idempotent-one-in-flight runs idempotent's steps with one request in flight (a knob the
# sending steps read): its steps are left out, its properties (the proof lemmas) are checked.
SAME_STEPS = {"at-least-once-auto-commit"}
STEPS = [(m, "current") for m in MODES
         if not MODES[m].transactional and MODES[m].acks != 1
         and m not in SAME_STEPS | {"idempotent-one-in-flight"}] + [
    ("at-least-once-acks1", "rf2"), ("idempotent", "rf2-unclean"), ("at-least-once", "pre-kip101"),
    ("at-least-once", "kip101-unclean"), ("at-least-once", "kip279-unclean"),
    ("exactly-once", "current"), ("exactly-once", "tv1"), ("exactly-once", "tv1-no-verification"),
    ("eos-per-instance-id", "no-group-metadata"), ("eos-offsets-outside-txn", "current"),
    ("eos-keyed-outputs", "current"), ("exactly-once", "rf2")]
# Worlds too big for the interpreted explorer: sampled from the first states in breadth-first
# order (a crash, the elections and the follower fetches are among them).
PREFIX = {("exactly-once", "rf2"): 30_000}
EVERY = [(m, "current") for m in MODES if MODES[m].acks != 1 and m not in SAME_STEPS] + [
    ("exactly-once", "tv1"), ("at-least-once", "rf2-unclean")]


_CACHE: dict = {}


def _sample(sy, n):
    """``n`` reachable states spread evenly over the whole breadth-first order.

    The native explorer finds them many times faster than an interpreted
    search, in the explorer's breadth-first order; each sampled state is
    rebuilt from its path by the compiled steps.  Without a C compiler, or
    for a prefix of a big world, an interpreted breadth-first search
    enumerates them.
    """
    key = (sy.cfg, n)
    if key not in _CACHE:
        prefix = PREFIX.get((sy.cfg.mode.name, sy.cfg.variant.name))
        if prefix is None and compiler() is not None:
            ex = explore(sy, backend="native")
            assert ex.complete and ex.states >= n, f"only {ex.states} reachable states"
            _CACHE[key] = [_rebuilt(sy, ex.path(int(i * ex.states / n))) for i in range(n)]
        else:
            states = reachable(sy, prefix)
            assert len(states) >= n, f"only {len(states)} reachable states"
            step = len(states) / n
            _CACHE[key] = [states[int(i * step)] for i in range(n)]
    return _CACHE[key]


def _rebuilt(sy, path):
    """The state the action instances ``path`` lead to from the initial state."""
    s = sy.init
    for j in path:
        s = sy.compiled[j](s)
    return s


def _value(m, t):
    v = m.eval(t, model_completion=True) if isinstance(t, z3.ExprRef) else t
    if isinstance(v, z3.ExprRef):
        return 1 if z3.is_true(v) else 0 if z3.is_false(v) else v.as_long()
    return int(v)


@pytest.mark.slow
@pytest.mark.parametrize("mode,variant", STEPS)
def test_z3_step_agrees_with_concrete_step(mode, variant):
    sy = system(mode, variant, **WORLDS.get(mode, {}))
    pre = sy.z3_cells("pre")
    n = len(sy.instances)
    steps = [sy.z3_step(j, pre) for j in range(n)]
    # One satisfiability check per state decides every instance at once: a
    # Boolean g_j is tied to each guard and f_j to each capacity condition.
    # With the pre-state fixed each is determined, so the model gives their
    # truth; the changed cells of the successor are read from the same model.
    g = [z3.Bool(f"g{j}") for j in range(n)]
    f = [z3.Bool(f"f{j}") for j in range(n)]
    solver = z3.Solver()
    for j, (guard, fits, _) in enumerate(steps):
        solver.add(g[j] == _bool(guard), f[j] == _bool(fits))
    checked = enabled = 0
    for state in _sample(sy, SAMPLE):
        concrete = [fn(state) for fn in sy.compiled]   # = the interpreted step (next test)
        solver.push()
        solver.add(sy.z3_state(pre, state))
        assert solver.check() == z3.sat
        m = solver.model()
        for j, (_, _, post) in enumerate(steps):
            label = sy.instances[j].label()
            assert z3.is_true(m.eval(g[j])) == (concrete[j] is not None), f"{label}: guard disagrees"
            checked += 1
            if concrete[j] is None:
                continue
            assert z3.is_true(m.eval(f[j])) == (concrete[j] is not FULL), f"{label}: capacity disagrees"
            if concrete[j] is FULL:
                continue
            enabled += 1
            for i, t in enumerate(post):
                if t is pre[i]:              # the frame: the pre-state cell itself
                    got = state[i]
                elif not isinstance(t, z3.ExprRef):
                    got = int(t)
                else:
                    v = m.eval(t, model_completion=True)
                    got = int(z3.is_true(v)) if z3.is_bool(v) else v.as_long()
                assert got == concrete[j][i], f"{label}: successor cell {sy.schema.cell_name(i)} differs"
        solver.pop()
    assert checked == SAMPLE * n and enabled > SAMPLE


def _bool(t):
    return t if isinstance(t, z3.ExprRef) else z3.BoolVal(bool(t))


@pytest.mark.slow
@pytest.mark.parametrize("mode,variant", STEPS)
def test_compiled_code_agrees_with_interpreted_model(mode, variant):
    sy = system(mode, variant, **WORLDS.get(mode, {}))
    # the interpreted model is slow (ops dispatch per call): a third of the sample
    for state in _sample(sy, SAMPLE)[::3]:
        for j, fn in enumerate(sy.compiled):
            assert fn(state) == sy.step(state, j), sy.instances[j].label()
        for p in sy.properties:
            assert sy.predicate(p)(state) == sy.holds(p, state), p.name
        assert sy.predicate("finished")(state) == sy.finished(state)


@pytest.mark.parametrize("mode,variant", EVERY)
def test_z3_properties_agree(mode, variant):
    sy = system(mode, variant, **WORLDS.get(mode, {}))
    pre = sy.z3_cells("pre")
    terms = {p.name: sy.z3_holds(p, pre) for p in sy.properties}
    for state in _sample(sy, 200):
        solver = z3.Solver()
        solver.add(sy.z3_state(pre, state))
        assert solver.check() == z3.sat
        m = solver.model()
        for p in sy.properties:
            assert bool(_value(m, terms[p.name])) == sy.holds(p, state), p.name
