"""Mutation testing: the mutants, their classes, and the runs on Dask.

The classes are checked against an independent search: for a mutant the
native search calls equivalent, a breadth-first search in Python over the
mutant's own compiled steps finds exactly the model's reachable states and
edges; for one it calls survived, it finds a difference.  A kill comes with
the mutant's trace, which the mutant replays and the model does not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import pytest

from deliverycheck import cluster
from deliverycheck.cli import main
from deliverycheck.core.system import FULL
from deliverycheck.mutate.rewrite import MutantSystem
from deliverycheck.mutate.run import check
from deliverycheck.mutate.sites import KINDS
from deliverycheck.mutate.tasks import prepared_mode
from deliverycheck.trace import from_itf, replay

from conftest import needs_compiler

SMALL = "idempotent-one-in-flight"   # one search of 13,456 states, 649 mutants
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small():
    needs_compiler()
    return prepared_mode(SMALL)


def _mutant(mutants, text, kind, action):
    return next(m for m in mutants if m.text == text and m.key.kind == kind and action in m.actions)


def test_every_kind_of_mutant_is_found_and_named_by_its_source(small):
    prepared, mutants = small
    assert {m.key.kind for m in mutants} == set(KINDS)
    assert [m.id for m in mutants] == list(range(1, len(mutants) + 1))
    assert [m.key for m in mutants] == sorted(m.key for m in mutants)
    for m in mutants:
        line = (ROOT / m.key.file).read_text().splitlines()[m.key.line - 1]
        if m.key.kind != "drop-update":   # a node's span is the model's own text on that line
            assert m.text.split()[0] in line or m.key.end_line > m.key.line, (m.name, m.text, line)
        assert m.actions and m.change


def test_a_mutant_that_breaks_a_promise_is_killed_with_the_mutants_trace(small):
    prepared, mutants = small
    m = _mutant(mutants, "s.c_stage == IDLE", "comparison", "consumer_poll")
    out = check(prepared, m)
    assert out.status == "killed" and out.property in out.reasons[0] and out.story
    doc = json.loads(out.trace)
    prep = prepared[0]
    mine = MutantSystem(prep.system, prep.lowered, m.key, prep.found[m.key].nodes)
    last = replay(from_itf(doc, mine)).last_state()   # the mutant takes these steps...
    assert out.property == "no_loss" and not prep.system.holds("no_loss", last)
    # ...and ends there, where the model still polls: what keeps no_loss is the poll it dropped
    assert mine.terminal(last) and not prep.system.terminal(last)


def _graph(system, instances):
    """Every reachable state -> (its successors, whether a capacity blocks a step), by BFS."""
    seen, todo = {}, deque([system.init])
    steps = [(j, system.compiled[j]) for j in instances]
    while todo:
        s = todo.popleft()
        if s in seen:
            continue
        succ, blocked = set(), False
        for j, step in steps:
            t = step(s)
            if t is FULL:
                blocked = True
            elif t is not None:
                succ.add(t)
                todo.append(t)
        seen[s] = (frozenset(succ), blocked)
    return seen


def test_equivalent_and_survived_agree_with_an_independent_search(small):
    prepared, mutants = small
    prep = prepared[0]
    on = [j for j, low in enumerate(prep.lowered) if low is not None]
    model = _graph(prep.system, on)
    assert len(model) == prep.states
    found = {"equivalent": 0, "survived": 0}
    for m in mutants[::7]:
        if all(found.values()) and min(found.values()) >= 2:
            break
        out = check(prepared, m)
        if out.status not in found or found[out.status] >= 2:
            continue
        found[out.status] += 1
        mine = _graph(MutantSystem(prep.system, prep.lowered, m.key, prep.found[m.key].nodes), on)
        assert (mine == model) == (out.status == "equivalent"), (m.name, out.status, out.reasons)
    assert found == {"equivalent": 2, "survived": 2}


def test_a_pinned_figure_alone_kills_some_mutants(small):
    prepared, mutants = small
    m = _mutant(mutants, "ite(s.out[r] < MANY, s.out[r] + 1, MANY)", "condition-false", "consumer_process")
    out = check(prepared, m)
    assert out.status == "killed-by-figure" and "distinct states, expected 13,456" in out.reasons[0]


def _json_of(capsys, *args):
    code = main(["mutate", "--mode", SMALL, "--json", "-q", *args])
    out = json.loads(capsys.readouterr().out)
    for mode in out["modes"]:
        for m in mode["mutants"]:
            m.pop("seconds", None)
    return code, out


def test_dask_gives_what_one_process_gives(capsys, tmp_path):
    needs_compiler()
    opts = ["--action", "consumer_commit", "--action", "consumer_process", "--out", str(tmp_path)]
    code1, serial = _json_of(capsys, "--serial", *opts)
    code2, dask = _json_of(capsys, "--workers", "2", *opts)
    assert code1 == code2 == 0
    assert serial["modes"] == dask["modes"]
    assert dask["run"]["workers"] == 2 and serial["run"]["workers"] == 0
    statuses = {m["status"] for m in serial["modes"][0]["mutants"]}
    assert {"killed", "killed-by-figure", "equivalent"} <= statuses


def _dies_once(marker: str, x: int) -> int:
    if x == 1 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)   # the worker process is lost in the middle of the task
    return x * x


def test_a_lost_workers_task_runs_again(tmp_path):
    marker = str(tmp_path / "died")
    with cluster.Pool(workers=2) as pool:
        got = dict(pool.run(_dies_once, [(marker, x) for x in range(4)]))
    assert got == {0: 0, 1: 1, 2: 4, 3: 9} and Path(marker).exists()


def test_an_interrupted_run_keeps_what_finished(tmp_path):
    needs_compiler()
    cmd = [sys.executable, "-m", "deliverycheck.cli", "mutate", "--mode", SMALL, "--workers", "1",
           "--out", str(tmp_path), "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.time() + 120
    for line in p.stderr:
        if " done, " in line or time.time() > deadline:
            break
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 130
    doc = json.loads(out)
    run = doc["run"]
    assert run["stopped"] == "interrupted" and 0 < run["not_run"] < run["mutants"]
    done = [m for m in doc["modes"][0]["mutants"] if m["status"] != "not-run"]
    assert len(done) == run["mutants"] - run["not_run"]
    assert (tmp_path / "mutation.html").is_file()


@pytest.mark.parametrize("args,message", [
    (["--mode", "nope"], "unknown mode 'nope'"),
    (["--action", "nope"], "unknown action 'nope'"),
    (["--max-seconds", "0"], "expected a positive number"),
    (["--serial", "--workers", "2"], "--serial runs in this process"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    assert main(["mutate", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_unreachable_scheduler_is_one_line_and_exit_2(capsys):
    start = time.perf_counter()
    code = main(["mutate", "--mode", "at-most-once", "--scheduler", "tcp://127.0.0.1:9", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and time.perf_counter() - start < 30
    assert err[-1].startswith("deliverycheck: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
