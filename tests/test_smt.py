"""Bounded model checking (engines/smt.py) agrees with the explorer.

For each mode x variant that ``deliverycheck verify`` checks by default, up
to a depth chosen to fit the test budget: every ``always`` / ``final``
violation and ``sometimes`` witness the explorer finds within that many
steps, BMC finds at exactly the explorer's (shortest) length, and BMC finds
nothing the explorer does not.  Where BMC runs out of histories (no run is
longer; at-most-once) its verdicts are the explorer's, holds included.
Every BMC trace is replayed through the concrete model by the engine.

Depths are the test budget, not the engine's reach (benchmarks/smt_depth.py
measures that); pairs marked ``deep`` run with ``pytest -m deep``.
"""

from __future__ import annotations

import pytest

from conftest import ci_marks, system

from deliverycheck.cli import main
from deliverycheck.verify import plan
from deliverycheck.engines.explore import explore
from deliverycheck.engines.smt import KINDS, bmc
from deliverycheck.model import MODES, VARIANTS

DEPTH = {"at-most-once": 30, "at-least-once": 7, "idempotent": 5}
# in CI: the exactly-once world with its shallowest violations (7 and 11 steps), and
# the replicated partition in the representative pairs (conftest.REPRESENTATIVE_REPLICATED)
SLOW = {("eos-read-uncommitted", "current")}

def _marks(m: str, v: str) -> list:
    if VARIANTS[v].replicated:
        return ci_marks(m, v)
    return [] if m in DEPTH else [pytest.mark.slow] if (m, v) in SLOW else [pytest.mark.deep]


PAIRS = [pytest.param(m, v, DEPTH.get(m, 8), marks=_marks(m, v))
         for m, v in plan(list(MODES), list(VARIANTS), False)]


@pytest.mark.parametrize("mode,variant,depth", PAIRS)
def test_bmc_first_failing_depth_is_the_explorers_shortest_trace(mode, variant, depth):
    sy = system(mode, variant)
    props = [p for p in sy.properties if p.kind in KINDS]
    ex = explore(sy, props, progress=None)
    got = bmc(sy, props, depth)
    assert got.complete
    if got.exhausted:  # BMC saw every history: it decides everything, like the explorer
        # (its depth is the longest history, at least the explorer's: the longest shortest one)
        assert got.depth >= ex.depth
        assert {n: len(p) for n, p in got.found.items()} == {
            n: len(ex.path(i)) for n, i in ex.violations.items()}
        return
    assert got.depth == depth
    want = {n: len(ex.path(i)) for n, i in ex.violations.items() if len(ex.path(i)) <= depth}
    assert {n: len(p) for n, p in got.found.items()} == want
    assert want, "the comparison must cover at least one trace"


def test_bmc_stops_at_its_time_limit_as_incomplete():
    sy = system("at-least-once")
    got = bmc(sy, [sy.spec.property("in_order")], 30, max_seconds=1)
    assert not got.complete and got.stop_reason.startswith("time limit") and got.depth < 30
    assert "in_order" not in got.found


def test_bmc_query_limit_is_reported_as_such():
    sy = system("at-least-once")
    got = bmc(sy, [sy.spec.property("in_order")], 30, query_seconds=0.001)
    assert not got.complete and got.stop_reason.startswith("query time limit")


def test_verify_engine_smt_reports_bounded_verdicts(tmp_path, capsys):
    import json
    args = ["verify", "--engine", "smt", "--mode", "at-least-once", "--variant", "current",
            "--depth", "5", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    by = {r["property"]: r for r in doc["results"]}
    assert by["no_duplicate_log"]["verdict"] == "violated" and by["no_duplicate_log"]["length"] == 5
    assert by["in_order"]["verdict"] == "bounded" and by["witness_dedup"]["verdict"] == "bounded"
    (search,) = doc["searches"]
    assert search["engine"] == "smt" and search["depth"] == 5 and len(search["seconds_per_depth"]) == 6
    assert "can_settle" in search["warnings"][0] and search["z3_statistics"]
    # the solver's work per depth; the depth that breaks no_duplicate_log had to search
    conflicts = search["conflicts_per_depth"]
    assert len(conflicts) == 6 and all(c >= 0 for c in conflicts) and conflicts[5] > 0
    assert sum(conflicts) <= search["z3_statistics"]["sat conflicts"]
    assert (tmp_path / "at-least-once" / "current" / "no_duplicate_log.itf.json").is_file()


def test_verify_engine_smt_flags_a_missed_counterexample(tmp_path, capsys):
    # depth 7 covers in_order's 7-step counterexample in at-least-once; with an
    # expectation of 6 steps the pinned length differs (the verdict matches: exit 3)
    exp = tmp_path / "exp.toml"
    exp.write_text('["at-least-once".current.verdicts]\nin_order = "violated"\n'
                   '["at-least-once".current.lengths]\nin_order = 6\n')
    args = ["verify", "--engine", "smt", "--mode", "at-least-once", "--variant", "current", "--property", "in_order",
            "--depth", "7", "--expected", str(exp), "--out", str(tmp_path)]
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "in_order: shortest trace has 7 steps, expected 6" in out
    assert "Pinned figures that differ" in out


@pytest.mark.parametrize("args,message", [
    (["--engine", "smt", "--max-states", "5"], "--max-states applies to --engine explore"),
    (["--depth", "5"], "--depth applies to --engine smt"),
    (["--engine", "z3"], "invalid choice"),
])
def test_engine_options_are_checked(args, message, capsys):
    assert main(["verify", "--mode", "at-most-once", *args]) == 2
    assert message in capsys.readouterr().err


def test_bmc_reports_where_a_capacity_bound_starts_to_cut():
    # two batch slots: the third send is blocked by the table, not by the protocol
    tiny = system("at-least-once", batches=2)
    small = bmc(tiny, [tiny.spec.property("witness_dedup")], 6)   # unreachable: runs to depth 6
    assert small.capacity_depth is not None and small.capacity_depth <= 6
    sy = system("at-least-once")
    assert bmc(sy, [sy.spec.property("in_order")], 6).capacity_depth is None
