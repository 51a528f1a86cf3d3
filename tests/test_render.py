"""Rendering, against golden files.

The story, sequence diagram (DOT) and Mermaid text of a few counterexamples
at the default bounds are compared byte for byte with tests/golden/; the
message flow behind the diagrams is checked on its own.  When a deliberate change alters them, rerun
with ``DELIVERYCHECK_UPDATE_GOLDEN=1`` and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import SPEC, instance, run, system

from deliverycheck import trace as tr
from deliverycheck.engines.explore import explore
from deliverycheck.render.files import render
from deliverycheck.render.flow import flow
from deliverycheck.render.mermaid import to_mermaid
from deliverycheck.render.sequence import to_dot
from deliverycheck.render.stategraph import TooLarge, neighbourhood
from deliverycheck.render.stategraph import to_dot as graph_dot
from deliverycheck.trace import Step, Trace
from deliverycheck.render.story import story

GOLDEN = Path(__file__).parent / "golden"
CASES = [("at-most-once", "current", "no_skip"), ("at-least-once", "current", "in_order"),
         ("idempotent", "current", "no_duplicate_log"), ("exactly-once", "kafka-2.4", "no_aborted_read")]
SUFFIX = {"text": "story.txt", "dot": "dot", "mermaid": "mmd"}


def shown(default_runs, mode, variant, prop) -> tr.Trace:
    """The trace ``deliverycheck verify`` reports for ``prop`` (the explorer's shortest)."""
    r = next(r for r in default_runs[(mode, variant)].results if r.property == prop)
    assert r.shown is not None, f"{mode}/{variant} {prop} has no trace"
    return r.shown


@pytest.mark.parametrize("fmt", list(SUFFIX))
@pytest.mark.parametrize("mode,variant,prop", CASES)
def test_rendering_matches_golden(default_runs, mode, variant, prop, fmt):
    text = render(shown(default_runs, mode, variant, prop), fmt)
    path = GOLDEN / f"{mode}.{variant}.{prop}.{SUFFIX[fmt]}"
    if os.environ.get("DELIVERYCHECK_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{fmt} differs from {path}"


def test_a_story_tells_an_arbitrary_start_state_without_crashing():
    # a counterexample to induction starts anywhere the invariant holds: here a
    # response slot holds code 0, which no reachable state has (CI once hit it)
    from conftest import reachable
    from deliverycheck.core.system import FULL
    sy = system("at-least-once", records=1, faults=1)
    receive = [j for j, i in enumerate(sy.instances) if i.name == "producer_receive"]
    code_cell = next(i for i in range(sy.schema.width) if sy.schema.cell_name(i) == "rs_code[0][0]")
    for s in reachable(sy):
        j = next((j for j in receive if sy.step(s, j) not in (None, FULL)), None)
        if j is None:
            continue
        odd = bytearray(s)
        odd[code_cell] = 0
        nxt = sy.step(bytes(odd), j)
        if isinstance(nxt, bytes):
            inst = sy.instances[j]
            t = Trace(sy, [Step(None, {}, bytes(odd)), Step(inst.name, inst.args, nxt)],
                      from_init=False)
            assert "code 0" in story(t)
            return
    pytest.skip("no producer_receive stays enabled with code 0")


# -- the message flow behind the diagrams ------------------------------------

def test_arrows_pair_each_request_with_the_step_that_handles_it(default_runs):
    f = flow(shown(default_runs, "at-least-once", "current", "in_order"))
    got = [(a.src, a.dst, a.label, a.sent, a.ended, a.fate) for a in f.arrows]
    assert got == [
        ("P1", "L0", "Produce b1", 1, 3, ""), ("P1", "L0", "Produce b2", 2, 6, ""),
        ("L0", "P1", "NOT_LEADER b1", 3, 4, ""),    # the leader refuses b1 (a fault) ...
        ("P1", "L0", "Produce b1", 5, 7, ""),       # ... so its retry arrives after b2
        ("L0", "P1", "OK b2", 6, None, ""),         # still in flight when the promise breaks
        ("L0", "P1", "OK b1", 7, None, ""),
    ]
    assert [lane.id for lane in f.lanes] == ["P1", "L0"]
    assert f.mark == 7 and f.mark_text == "broken: in_order"
    assert [r.fault for r in f.rows] == [False, False, True, False, False, False, False]


def test_a_network_loss_ends_its_arrow_in_the_row_it_happens(default_runs):
    f = flow(shown(default_runs, "at-most-once", "current", "no_loss"))
    lost = [(a.label, a.ended, a.fate) for a in f.arrows if a.lost]
    assert lost == [("Produce b1", 3, "lost"), ("Produce b2", 4, "lost")]
    assert all(r.event.lane is None for r in f.rows[2:])   # the network, not an actor


def test_every_action_has_an_event():
    from deliverycheck.model.telling import EVENTS
    assert sorted(EVENTS) == sorted(a.name for a in SPEC.actions)


def test_every_trace_verify_reports_can_be_drawn(default_runs):
    channels, actions = set(), set()
    for (mode, variant), run_ in default_runs.items():
        for r in run_.results:
            if r.shown is None:
                continue
            f = flow(r.shown)
            ids = {lane.id for lane in f.lanes}
            for row in f.rows:
                assert row.event.lane is None or row.event.lane in ids
                assert row.event.label, f"{mode}/{variant} {r.property}: step {row.n} has no label"
                actions.add(row.action)
            for a in f.arrows:
                assert a.sent < (a.ended or len(f.rows) + 1) and {a.src, a.dst} <= ids
                channels.add(a.label.split()[0])
            assert to_dot(f).startswith("digraph") and to_mermaid(f).startswith("sequenceDiagram")
    # the traces exercise every kind of message and most actions
    assert {"Produce", "OK", "EndTxn(commit,", "EndTxn(abort,", "COMMIT", "ABORT"} <= channels
    assert len(actions) >= 25, sorted(actions)


def test_a_message_in_flight_at_the_start_is_drawn_from_the_top():
    sy = system("at-least-once", records=1, faults=1)
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)"])
    j = instance(sy, "producer_receive(p=0, i=0, k=0)")
    t = Trace(sy, [Step(None, {}, s), Step("producer_receive", {"p": 0, "i": 0, "k": 0}, sy.step(s, j))],
              from_init=False)
    f = flow(t)
    assert [(a.label, a.sent, a.ended) for a in f.arrows] == [("OK b1", 0, 1)]
    assert '"h_L0" -> "s1"' in to_dot(f)
    assert "(in flight at the start, arrives at step 1)" in to_mermaid(f)


def test_mermaid_escapes_what_mermaid_would_read_as_syntax(default_runs):
    text = render(shown(default_runs, "exactly-once", "tv1", "no_aborted_read"), "mermaid")
    assert "begin #35,1" not in text and "begin #35;1" in text   # '#1' would be an entity code
    body = [line for line in text.splitlines()[1:] if not line.strip().startswith(("participant", "rect", "end"))]
    assert all(";" not in line.replace("#35;", "") for line in body)


def test_state_graph_around_a_trace():
    sy = system("at-least-once")
    ex = explore(sy)
    t = tr.from_path(sy, ex.path(ex.violations["in_order"]), property="in_order", verdict="violated")
    g = neighbourhood(t)
    spine = sorted(d["spine"] for _, d in g.nodes(data=True) if d["spine"] is not None)
    assert spine == list(range(len(t) + 1))
    assert sum(d["path"] for _, _, d in g.edges(data=True)) == len(t)
    assert any(d.get("broken") for _, d in g.nodes(data=True))   # other branches break it too
    text = graph_dot(g, t)
    assert text.startswith("digraph states") and 'fillcolor="#f7b4b4", group=spine, label="7"' in text
    with pytest.raises(TooLarge, match="more than 5 states"):
        neighbourhood(t, limit=5)
