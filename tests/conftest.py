"""Shared helpers: build systems and drive them step by step by action label."""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # tests/test_check.py runs the pytest plugin as a team would

sys.path.insert(0, str(Path(__file__).parent))  # the toy specs next to the tests

from deliverycheck.catalog import SPEC  # noqa: E402
from deliverycheck.core.system import FULL, System  # noqa: E402
from deliverycheck.model import Config  # noqa: E402


def needs_compiler() -> None:
    """Skip a test of the native explorer on a machine without a C compiler; in CI
    (``CI=true``, where .ci/run installs gcc) a missing compiler fails instead."""
    import os
    from deliverycheck.native.build import compiler
    if compiler() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no C compiler; .ci/run installs gcc with apt-get")
        pytest.skip("no C compiler (apt-get install gcc): the native explorer is not tested")


# The replicated (mode, variant) pairs the cross-engine suites check in CI; the other
# replicated pairs of the default plan run with `python -m pytest -m deep` (each engine
# agrees with the explorer on these, and the explorer itself checks every pair).
REPRESENTATIVE_REPLICATED = {("at-least-once", "rf2"), ("idempotent", "rf2")}
# Historical transactional rows that add no code path the cross-engine suites do not
# already cover with tv1 and tv1-no-verification (their flags are read by the same steps),
# and tv2-4.0's world of 1.3 million states, too big for the Python explorer in CI: the
# explorer checks them in every verify run; the engines agree on them under -m deep.  The
# epoch rows' bug cases (tv2-before-18660, kafka-4.0.0) are flags read by the steps
# epochs-run-out takes, which the suites check in CI.
DEEP_HISTORICAL = {"tv1-client-2.4", "kafka-2.4", "tv2-4.0", "kip-1228-without-19999",
                   "tv2-before-18660", "kafka-4.0.0"}
# The auto-commit loop's rows: every step they take is at-least-once's or the worker-thread
# mode's, whose auto-commit has both of its branches (between records and with a record in
# hand; the new consumer before KAFKA-18641 takes the second): the cross-engine suites check
# auto-commit-worker-thread in CI and these under -m deep.
DEEP_PAIRS = {("at-least-once-auto-commit", "current"),
              ("at-least-once-auto-commit", "new-consumer-before-18641"),
              # the idempotent rows' steps, with one request in flight (a knob the sending
              # steps read) and with the older first-sequence rule (a flag the leader's check
              # reads): the suites check idempotent/current in CI and these under -m deep
              ("idempotent-one-in-flight", "current"), ("idempotent", "before-15591"),
              # a client that skips the rewind after an abort: one flag the abort's step reads
              # (txn_client.rewinds); exactly-once/current runs that step in CI
              ("exactly-once", "no-rewind")}


def ci_marks(mode: str, variant: str) -> list:
    """[pytest.mark.deep] for a pair a cross-engine suite leaves out of CI, else []: the
    replicated pairs but the representative ones, the historical transactional rows of
    ``DEEP_HISTORICAL``, the pairs of ``DEEP_PAIRS``, and acks=1 with one replica (whose world
    is at-least-once's: the same states, steps and verdicts)."""
    from deliverycheck.model import MODES, VARIANTS
    if variant in DEEP_HISTORICAL or (mode, variant) in DEEP_PAIRS:
        return [pytest.mark.deep]
    replicated = VARIANTS[variant].replicated
    if replicated and (mode, variant) not in REPRESENTATIVE_REPLICATED:
        return [pytest.mark.deep]
    return [pytest.mark.deep] if MODES[mode].acks == 1 and not replicated else []


def system(mode: str, variant: str = "current", **bounds: int) -> System:
    """The Kafka model in ``mode`` x ``variant`` at its default bounds, overridden by ``bounds``."""
    return System(SPEC, Config.of(mode, variant, **bounds))


def instance(sy: System, label: str) -> int:
    """Index of the action instance labelled like ``producer_send(r=0, k=0)``."""
    for j, inst in enumerate(sy.instances):
        if inst.label() == label:
            return j
    raise KeyError(f"no action instance {label}")


def run(sy: System, labels: list[str], state: bytes | None = None) -> bytes:
    """Take the labelled steps in order (interpreted model); each must be enabled."""
    state = sy.init if state is None else state
    for n, label in enumerate(labels, 1):
        nxt = sy.step(state, instance(sy, label))
        assert nxt is not None, f"step {n}: {label} is not enabled"
        assert nxt is not FULL, f"step {n}: {label} hits a capacity bound"
        assert sy.compiled[instance(sy, label)](state) == nxt, f"step {n}: compiled step differs"
        state = nxt
    return state


def enabled(sy: System, state: bytes) -> list[str]:
    """Labels of the instances enabled in ``state``."""
    return [i.label() for j, i in enumerate(sy.instances)
            if sy.step(state, j) not in (None, FULL)]


def reachable(sy: System, limit: int | None = None) -> list[bytes]:
    """Reachable states in breadth-first order (all, or the first ``limit``)."""
    seen = {sy.init}
    order = [sy.init]
    todo = deque(order)
    while todo and (limit is None or len(order) < limit):
        s = todo.popleft()
        for fn in sy.compiled:
            t = fn(s)
            if isinstance(t, bytes) and t not in seen:
                seen.add(t)
                order.append(t)
                todo.append(t)
    return order if limit is None else order[:limit]


@pytest.fixture(scope="session")
def default_runs(tmp_path_factory):
    """One verification of what ``deliverycheck verify`` checks by default, shared by tests.

    Keyed by ``(mode, variant)``: every mode with the default variant, the
    protocol variants with the exactly-once modes they change, and the
    replication variants with the delivery modes they change.
    """
    from deliverycheck.verify import plan
    from deliverycheck.expected import load
    from deliverycheck.model import MODES, VARIANTS
    from deliverycheck.verify import run as verify_run
    out = tmp_path_factory.mktemp("verify-out")
    exp = load()
    return {(m, v): verify_run(Config.of(m, v), SPEC.properties, exp.get((m, v)), out)
            for m, v in plan(list(MODES), list(VARIANTS), False)}
