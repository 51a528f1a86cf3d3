"""The Z3 engine's bounded model checking agrees with the explorer (issue 4, first part).

For each configuration below, up to the given depth: every ``always``
violation and ``sometimes`` witness the explorer finds within that many
steps, BMC finds at exactly the explorer's (shortest) length, and BMC
finds nothing the explorer does not.  Every BMC trace is replayed through
the concrete model by the engine itself.
"""

from __future__ import annotations

import pytest

from conftest import system

from deliverycheck.engines.explore import explore
from deliverycheck.engines.smt import bmc


@pytest.mark.parametrize("mode,variant,depth", [
    ("at-most-once", "current", 8),
    ("at-least-once", "current", 5),
    pytest.param("exactly-once", "current", 5, marks=pytest.mark.slow),
])
def test_bmc_first_failing_depth_is_the_explorers_shortest_trace(mode, variant, depth):
    sy = system(mode, variant)
    ex = explore(sy, progress=False)
    want = {name: len(ex.path(i)) for name, i in ex.violations.items()
            if sy.spec.property(name).kind in ("always", "sometimes") and len(ex.path(i)) <= depth}
    got = bmc(sy, sy.properties, depth)
    assert got.complete
    assert {name: len(path) for name, path in got.found.items()} == want
    assert want, "the comparison must cover at least one trace"


def test_bmc_stops_at_its_time_limit_as_incomplete():
    sy = system("at-least-once")
    got = bmc(sy, [sy.spec.property("in_order")], 30, max_seconds=1)
    assert not got.complete and got.stop_reason == "time limit" and got.depth < 30
    assert "in_order" not in got.found
