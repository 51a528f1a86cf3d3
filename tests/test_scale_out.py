"""verify's searches and stateful seeds as Dask tasks: the same results as one process.

A run on an embedded cluster must print and write exactly what the same run
in one process does (the command line in report.html aside), for the
explorer and for a swarm of stateful seeds; the options that cannot go
together are one-line usage errors.
"""

from __future__ import annotations

import filecmp
import json

import pytest

from deliverycheck.cli import main

from conftest import needs_compiler

TIMINGS = {"seconds", "states_per_second", "peak_memory_mb", "compile_seconds", "graph_seconds",
           "steps_per_second", "first_seconds", "shrink_seconds", "workers", "command", "line",
           "trace", "story"}


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in TIMINGS}
    if isinstance(doc, list):
        return [_strip(x) for x in doc]
    return doc


def _same_files(a, b):
    """Every file the two runs wrote is the same, but report.html's line naming the command."""
    cmp = filecmp.dircmp(a, b)
    stack = [cmp]
    while stack:
        c = stack.pop()
        assert not c.left_only and not c.right_only, (c.left, c.left_only, c.right_only)
        for name in c.diff_files:
            assert name == "report.html", f"{c.left}/{name} differs"
            left = f"{c.left}/{name}"
            right = f"{c.right}/{name}"
            strip = [line for line in open(left).read().splitlines() if "class=\"about\"" not in line]
            assert strip == [line for line in open(right).read().splitlines()
                             if "class=\"about\"" not in line]
        stack.extend(c.subdirs.values())


def _verify(capsys, out, *args):
    code = main(["verify", "--json", "-q", "--out", str(out), *args])
    return code, _strip(json.loads(capsys.readouterr().out))


def test_verify_on_dask_gives_what_one_process_gives(capsys, tmp_path):
    needs_compiler()
    args = ["--mode", "at-most-once", "--mode", "idempotent-one-in-flight"]
    code1, one = _verify(capsys, tmp_path / "one", *args)
    code2, dask = _verify(capsys, tmp_path / "dask", "--dask-workers", "2", *args)
    assert code1 == code2 == 0 and one == dask
    _same_files(tmp_path / "one", tmp_path / "dask")


def test_a_swarm_of_seeds_on_dask_gives_what_one_process_gives(capsys, tmp_path):
    args = ["--mode", "at-most-once", "--variant", "current", "--engine", "stateful", "--seeds", "2",
            "--examples", "10", "--hunt", "0"]
    code1, one = _verify(capsys, tmp_path / "one", *args)
    code2, dask = _verify(capsys, tmp_path / "dask", "--dask-workers", "2", *args)
    assert code1 == code2 == 0 and one == dask
    _same_files(tmp_path / "one", tmp_path / "dask")
    # each kept trace names the seed that found it; the swarm found what one seed finds, or shorter
    code3, single = _verify(capsys, tmp_path / "single", *args[:-6], "--examples", "10", "--hunt", "0")
    lengths = {r["property"]: r["length"] for r in one["results"] if r["length"] is not None}
    for r in single["results"]:
        if r["length"] is not None:
            assert lengths[r["property"]] <= r["length"]


@pytest.mark.parametrize("args,message", [
    (["--dask-workers", "2", "--workers", "2"], "--workers sets one search's threads"),
    (["--dask-workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "give one of them"),
    (["--seeds", "2"], "--seeds applies to --engine stateful"),
])
def test_options_that_do_not_go_together_are_one_line_and_exit_2(capsys, args, message):
    assert main(["verify", "--mode", "at-most-once", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
