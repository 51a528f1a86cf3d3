"""Interrupted runs keep their work: Ctrl-C and SIGTERM, during a search and while compiling; the memory cap."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deliverycheck.cli", *args, "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(p: subprocess.Popen, text: str, seconds: float = 60) -> None:
    """Read stderr until ``text`` appears (the progress lines say where the run is)."""
    end = time.time() + seconds
    seen = ""
    while time.time() < end:
        line = p.stderr.readline()
        seen += line
        if text in line:
            return
    raise AssertionError(f"never saw {text!r}: {seen}")


@pytest.mark.parametrize("explorer", ["native", "python"])
@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_search_keeps_what_was_found(tmp_path, sig, status, explorer):
    # at-least-once at three records is a search of minutes for either explorer
    modes = ["--mode", "at-most-once", "--mode", "at-least-once", "--mode", "idempotent",
             "--variant", "current"]
    if explorer == "native":
        from conftest import needs_compiler
        needs_compiler()
        _build_native("at-least-once", records=3)   # so the signal lands in the search, not in gcc
    p = _start(["verify", *modes, "--bound", "records=3", "--explorer", explorer], tmp_path)
    _wait_for(p, "at-least-once/current: started")
    time.sleep(4)   # well into the search
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == status, out + err
    assert "Traceback" not in err
    assert "INCOMPLETE (interrupted)" in out and "incomplete" in out
    assert "Not run (interrupted): idempotent/current" in out
    # the finished search's findings and the report are written
    assert (tmp_path / "at-most-once/current/no_loss.itf.json").is_file()
    report = (tmp_path / "report.html").read_text()
    assert "INCOMPLETE (interrupted)" in report or "interrupted" in report


def _build_native(mode: str, **bounds: int) -> None:
    """Build (into the cache the CLI reads) the native module `verify --mode mode` uses."""
    from deliverycheck.catalog import SPEC
    from deliverycheck.engines.explore import Limits
    from deliverycheck.model import MODES, VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    from deliverycheck.verify import run
    cfg = Config(MODES[mode], VARIANTS["current"], for_mode(MODES[mode], **bounds))
    r = run(cfg, SPEC.properties, None, None, Limits(max_states=1), backend="native")
    assert r.exploration.backend == "native" and r.exploration.compile_seconds >= 0


def test_ctrl_c_while_compiling_is_one_line_and_130(tmp_path):
    p = _start(["verify", "--mode", "at-most-once", "--variant", "current", "--bound", "records=60"],
               tmp_path)
    _wait_for(p, "started")
    time.sleep(3)   # compiling 25,000 action instances takes minutes
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, out + err
    assert "Traceback" not in err and out == ""
    # after the progress lines, one line says what happened
    assert err.splitlines()[-1] == ("deliverycheck: interrupted (Ctrl-C) while compiling the model of "
                                    "at-most-once/current; nothing was checked")


def test_a_run_that_outgrows_its_memory_cap_is_incomplete(tmp_path):
    # at-least-once with four faults has tens of millions of states: the
    # store passes 300 MiB within seconds (about 3 million states natively)
    p = subprocess.run([sys.executable, "-m", "deliverycheck.cli", "verify", "--mode", "at-least-once",
                        "--variant", "current", "--bound", "faults=4", "--max-memory", "300",
                        "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "memory cap: 300 MiB" in p.stdout
    assert "INCOMPLETE (memory limit (300 MiB)" in p.stdout
    assert "Undecided (the search was cut short)" in p.stdout


@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_a_proof_and_its_workers(tmp_path, sig, status):
    # the step case runs on forked workers (engines/parallel.py): the parent
    # stops them and says incomplete, never proved
    p = _start(["prove", "--mode", "idempotent-one-in-flight", "--property", "no_duplicate_send",
                "--workers", "2"], tmp_path)
    _wait_for(p, "no_duplicate_send: started")
    time.sleep(6)   # well into the step case (about 90 s at the default bounds)
    children = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    assert p.returncode == status, out + err
    assert "Traceback" not in err
    assert "incomplete at k=1 (interrupted)" in out and "proved" not in out
    assert children, "no worker process was running"
    for child in children:   # every worker has ended
        assert not Path(f"/proc/{child}").exists() or \
            Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
