"""The explorer on toy models with known answers."""

from __future__ import annotations

import networkx as nx
import pytest

from deliverycheck.core.ops import and_
from deliverycheck.core.schema import Schema, num
from deliverycheck.core.spec import Effect, Spec, action, final, progress, sometimes
from deliverycheck.core.system import System
from deliverycheck.engines.explore import Limits, explore
from deliverycheck.trace import from_path

import twophase


def _graph(sy: System) -> nx.DiGraph:
    """The whole state graph, built independently of the explorer."""
    g = nx.DiGraph()
    todo, seen = [sy.init], {sy.init}
    while todo:
        s = todo.pop()
        g.add_node(s)
        for fn in sy.compiled:
            t = fn(s)
            if isinstance(t, bytes):
                g.add_edge(s, t)
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
    return g


@pytest.fixture(params=["python", "native"])
def backend(request):
    """Each explorer test runs on both back ends (tests/test_native.py compares them)."""
    if request.param == "native":
        from conftest import needs_compiler
        needs_compiler()
    return request.param


def test_two_phase_commit_has_288_states_and_is_consistent(backend):
    sy = System(twophase.SPEC, twophase.TPConfig(rms=3))
    ex = explore(sy, backend=backend)
    assert ex.complete and ex.states == 288
    assert "tc_consistent" not in ex.violations           # the invariant holds
    assert "all_committed" in ex.violations               # ... and commits really happen
    assert "impossible" not in ex.violations              # an unreachable witness stays unreachable
    assert ex.states == _graph(sy).number_of_nodes()
    assert ex.coverage.never_fired() == []


def test_broken_two_phase_commit_gives_a_shortest_counterexample(backend):
    sy = System(twophase.SPEC, twophase.TPConfig(rms=3, broken=True))
    ex = explore(sy, backend=backend)
    idx = ex.violations["tc_consistent"]
    trace = from_path(sy, ex.path(idx), property="tc_consistent", verdict="violated")
    assert not sy.holds("tc_consistent", trace.last_state())
    g = _graph(sy)
    dist = nx.single_source_shortest_path_length(g, sy.init)
    bad = [s for s in g if not sy.holds("tc_consistent", s)]
    assert len(trace) == min(dist[s] for s in bad) == 3


@pytest.mark.parametrize("limits,reason", [
    (Limits(max_states=50), "state limit"),
    (Limits(max_seconds=1e-9), "time limit"),
])
def test_limits_end_in_incomplete(limits, reason, backend):
    sy = System(twophase.SPEC, twophase.TPConfig(rms=3))
    ex = explore(sy, limits=limits, backend=backend)
    assert not ex.complete and reason in ex.stop_reason
    assert ex.states < 288


def test_memory_limit_ends_in_incomplete(backend):
    # Needs enough states to reach the periodic memory check.
    sy = System(twophase.SPEC, twophase.TPConfig(rms=6))
    ex = explore(sy, limits=Limits(max_memory_mb=1), backend=backend)
    assert not ex.complete and "memory limit" in ex.stop_reason


def _counter(stop_at: int):
    schema = Schema([num("n", 5)])

    @action()
    def tick(s, c):
        """Count up to stop_at."""
        return Effect(when=s.n < stop_at, then={"n": s.n + 1})

    @action()
    def never(s, c):
        """Enabled in no reachable state."""
        return Effect(when=s.n == 5, then={"n": 0})

    @final()
    def reached_three(s, c):
        """Every terminal state has n = 3."""
        return s.n == 3

    @sometimes()
    def two(s, c):
        """n reaches 2."""
        return and_(s.n == 2)

    return Spec("counter", lambda c: schema, lambda c: {}, [tick, never], [reached_three, two])


def test_terminal_states_stuck_detection_and_coverage(backend):
    ok = explore(System(_counter(3), None), backend=backend)
    assert ok.terminal == 1 and "reached_three" not in ok.violations
    stuck = explore(System(_counter(2), None), backend=backend)
    assert stuck.violations["reached_three"] == 2          # the terminal state n = 2
    assert stuck.coverage.never_fired() == ["never"]       # warned about
    assert stuck.coverage.fired["tick"] == 2 and stuck.coverage.new["tick"] == 2


def _fragile(heals: bool):
    """A sender whose message can be lost; without ``heals`` nothing resends it."""
    schema = Schema([num("sent", 1), num("wire", 1), num("got", 1), num("faults", 1)])

    @action()
    def send(s, c):
        """Put the message on the wire."""
        return Effect(when=s.sent == 0, then={"sent": 1, "wire": 1})

    @action()
    def deliver(s, c):
        """The message arrives."""
        return Effect(when=s.wire == 1, then={"wire": 0, "got": 1})

    @action(fault=True)
    def lose(s, c):
        """The network loses the message (a fault)."""
        return Effect(when=and_(s.wire == 1, s.faults == 0), then={"wire": 0, "faults": 1})

    @action()
    def resend(s, c):
        """A timeout after a loss resends (healing, not a fault)."""
        ok = and_(s.sent == 1, s.wire == 0, s.got == 0) if heals else False
        return Effect(when=ok, then={"wire": 1})

    @progress()
    def delivered(s, c):
        """Once faults stop, the message can still arrive."""
        return s.got == 1

    return Spec("fragile", lambda c: schema, lambda c: {}, [send, deliver, lose, resend],
                [delivered], fault_fields=("faults",))


def test_progress_needs_recovery_without_faults(backend):
    healing = explore(System(_fragile(heals=True), None), backend=backend)
    assert "delivered" not in healing.violations
    broken = System(_fragile(heals=False), None)
    ex = explore(broken, backend=backend)
    bad = ex.violations["delivered"]
    trace = from_path(broken, ex.path(bad))
    assert [s.action for s in trace.steps[1:]] == ["send", "lose"]


@pytest.mark.parametrize("mode,records", [("at-most-once", 2), ("at-least-once", 1)])
def test_progress_agrees_with_networkx(mode, records):
    """co_reachable against networkx's ancestors, on the Kafka model's real graph."""
    from conftest import system
    from deliverycheck.engines.graph import co_reachable, to_networkx
    sy = system(mode, records=records)
    ex = explore(sy, [sy.spec.property("can_settle")], backend="python")   # it records the edges
    src, dst = ex.edges
    free = to_networkx(ex.states, src, dst)
    states = list(_index_order(sy, ex))
    goal = [sy.predicate("can_settle")(s) for s in states]
    want = set(v for v in range(ex.states) if goal[v])
    for v in list(want):
        want |= nx.ancestors(free, v)
    got = co_reachable(ex.states, src, dst, bytearray(goal))
    assert {v for v in range(ex.states) if got[v]} == want
    # the recorded edges are exactly the transitions that spend no fault
    assert ex.states > 50 and 0 < len(src) < ex.transitions
    for a, b in zip(src, dst):
        assert states[a][sy.fault_cells[0]] == states[b][sy.fault_cells[0]]


def _index_order(sy, ex):
    """States by explorer index, rebuilt from the parent pointers."""
    from deliverycheck.trace import from_path
    for i in range(ex.states):
        yield from_path(sy, ex.path(i)).last_state()


def test_progress_cut_short_by_capacity_is_undecided_not_violated(backend):
    """A full batch table dead-ends runs; that is no evidence the protocol cannot recover."""
    from conftest import system
    sy = system("at-least-once", batches=1, faults=0)
    ex = explore(sy, [sy.spec.property("can_settle")], backend=backend)
    assert ex.complete and ex.truncated > 0
    assert "can_settle" not in ex.violations and ex.undecided == ["can_settle"]


def test_the_explorer_reports_compilation_and_search_to_a_progress_reporter(backend):
    """The explorer tells its reporter how compilation and the search go (duck-typed)."""
    calls = []

    class Recorder:
        def compiling(self, done, total):
            calls.append(("compiling", done, total))

        def exploring(self, states, depth, queue):
            calls.append(("exploring", states))

    from conftest import system
    sy = system("at-least-once")
    explore(sy, progress=Recorder(), backend=backend)
    compiled = [c for c in calls if c[0] == "compiling"]
    assert compiled and compiled[-1][1] == compiled[-1][2] == len(sy.instances)
    assert any(c[0] == "exploring" for c in calls)
