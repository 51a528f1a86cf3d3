"""A new user's first hour: install from a fresh clone as the README says, change the protocol
as docs/checking-a-protocol-change.md says, and see ``verify`` notice.

The commands are read from the README and the walkthrough themselves, so
the documents cannot drift from what works.  The non-editable install
(``pip install .``, as the walkthrough's CI workflow does) must notice the
change too: the checkout, not the installed copy, is what is checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


def _fresh_clone(dest: Path) -> Path:
    """The repository's files as a fresh clone of this working tree has them (no venvs, no caches)."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _setup_commands() -> list[str]:
    """The README's two setup commands (its Setup section's ``sh`` blocks, in order)."""
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Setup", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", setup, flags=re.S)]


def _walkthrough_edit() -> tuple[str, str, str]:
    """(file, old line, new line) of the one-line change the walkthrough makes."""
    doc = (ROOT / "docs" / "checking-a-protocol-change.md").read_text()
    file = re.search(r"is\s+`(\w+)`\s+in\s+`(model/[\w/]+\.py)`", doc).group(2)
    diff = re.search(r"```diff\n(.*?)```", doc, flags=re.S).group(1)
    old = next(line[1:] for line in diff.splitlines() if line.startswith("-"))
    new = next(line[1:] for line in diff.splitlines() if line.startswith("+"))
    return file, old, new


def _run(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=900)


def test_the_documented_protocol_change_fails_verify_in_a_fresh_install(tmp_path):
    install, tests = _setup_commands()
    assert install.endswith("&& deliverycheck verify"), install
    assert "pytest" in tests
    clone = _fresh_clone(tmp_path / "clone")
    # the README's install, without its full verification (a minute; the edit is checked below)
    p = _run(install.removesuffix("&& deliverycheck verify").strip(), clone)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    file, old, new = _walkthrough_edit()
    source = (clone / file).read_text()
    assert old in source, f"the walkthrough's change no longer matches {file}"
    (clone / file).write_text(source.replace(old, new))
    verify = ". .venv/bin/activate && deliverycheck verify --mode idempotent-one-in-flight --quiet"
    p = _run(verify, clone)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-2000:]
    assert "idempotent-one-in-flight/current no_duplicate_send: violated, expected holds" in p.stdout
    assert f"from {clone}" in p.stdout.splitlines()[0]      # the header says what was checked
    # a non-editable install of the unchanged protocol, run in the changed checkout
    pristine = _fresh_clone(tmp_path / "pristine")
    p = _run(f". .venv/bin/activate && pip install -q --no-deps --force-reinstall {pristine}", clone)
    assert p.returncode == 0, p.stderr[-2000:]
    p = _run(verify, clone)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-2000:]
    assert "read in place of the installed copy" in p.stdout.splitlines()[0]
    assert "idempotent-one-in-flight/current no_duplicate_send: violated, expected holds" in p.stdout
    # the installed copy (not editable) checks a configuration: its package data is there,
    # and the pytest plugin is registered by its entry point
    check = (". .venv/bin/activate && cd / && deliverycheck check --spec installed --set "
             "enable.auto.commit=false --kafka trunk --no-fixes --json -q --out "
             f"{tmp_path / 'out'}")
    p = _run(check, clone)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-2000:]
    import json
    doc = json.loads(p.stdout)
    assert doc["model"]["mode"] == "idempotent" and "installed copy" in doc["spec"]
    p = _run(". .venv/bin/activate && python -c \"import importlib.metadata as m; "
             "print([e.value for e in m.entry_points(group='pytest11')])\"", clone)
    assert "deliverycheck.pytest_plugin" in p.stdout, p.stdout[-2000:] + p.stderr[-2000:]
