"""Stories follow the model: a protocol edit changes what the sentences say.

Each case copies model/ and properties/ into a scratch folder, changes one
action's effect there the way a protocol designer would, and tells the same
steps with the scratch copy (``deliverycheck.source.select``, what ``--spec``
does) and with the real one.  A sentence that assumed the old protocol
would still describe it; these must describe what the edited step did.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

TELL = """
import json, sys
from deliverycheck.source import select
select(sys.argv[1])
from deliverycheck.catalog import SPEC
from deliverycheck.core.system import FULL, System
from deliverycheck.model import Config
from deliverycheck.render.story import sentence
from deliverycheck.trace import Step, Trace, replay
mode, labels = sys.argv[2], json.loads(sys.argv[3])
sy = System(SPEC, Config.of(mode))
by_label = {i.label(): j for j, i in enumerate(sy.instances)}
steps, state = [Step(None, {}, sy.init)], sy.init
for label in labels:
    j = by_label[label]
    nxt = sy.step(state, j)
    assert nxt not in (None, FULL), label + " is not enabled"
    steps.append(Step(sy.instances[j].name, sy.instances[j].args, nxt))
    state = nxt
trace = replay(Trace(sy, steps))
print(json.dumps([sentence(trace, n) for n in range(1, len(steps))]))
"""


def _tell(spec: Path, mode: str, labels: list[str]) -> list[str]:
    p = subprocess.run([sys.executable, "-c", TELL, str(spec), mode, json.dumps(labels)],
                       capture_output=True, text=True, cwd=spec.parent)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _scratch(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the specification with ``{file: (old, new)}`` applied (each old text must be there)."""
    spec = tmp_path / "spec"
    for folder in ("model", "properties"):
        shutil.copytree(ROOT / folder, spec / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, (old, new) in edits.items():
        f = spec / name
        text = f.read_text()
        assert old in text, f"{name} no longer holds the text this test edits: {old!r}"
        f.write_text(text.replace(old, new))
    return spec


SEND = ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)"]
EOS = ["processor_init(i=0)", "processor_fetch_offsets(i=0)", "processor_begin(i=0)",
       "processor_send(i=0)", "processor_send_offsets(i=0)"]

CASES = {
    # where the consumer restarts from
    "restart": ("at-least-once", SEND + ["consumer_poll(p=0, k=0, r=0)", "consumer_process(r=0)",
                                         "consumer_restart()"],
                {"model/consumer.py": ('"pos": list(s.committed),', '"pos": list(s.pos),')},
                -1, "restarts from the committed offsets p0=0",
                "restarts at offsets p0=1 (the committed offsets are p0=0)"),
    # the answer a leader sends
    "answer": ("at-least-once", SEND,
               {"model/partition.py": ("        answer = and_(open_, not_(any_(waits)))", "        answer = False")},
               -1, "at offset 0 and answers OK", "at offset 0 and sends no answer"),
    # what the application is told
    "told": ("at-least-once", SEND[:1],
             {"model/producer.py": ('("b_state", k): ACKED if fire_and_forget else INFLIGHT,',
                                    '("b_state", k): ACKED,')},
             0, "P1 sends r1 as b1 (r1) to partition 0", "; the application is told it is written"),
    # whether an offset is pending or applied
    "pending": ("exactly-once", EOS,
                {"model/groups.py": ('        ("gc_pending", t): ite(accepted, offset + 1, s.gc_pending[t]),',
                                     '        "gc_committed": ite(accepted, offset, s.gc_committed),')},
                -1, "offset 1 is pending at the group", "the committed offset becomes 1"),
    # what the coordinator's answer makes of the client
    "answered": ("exactly-once", ["processor_init(i=0)", "processor_fetch_offsets(i=0)",
                                  "processor_begin(i=0)", "processor_abort(i=0)",
                                  "coordinator_end_txn(i=0, k=0)", "coordinator_log_written(t=0)"],
                 {"model/txn_client.py": ("STOPPED, FETCH if rewinds(c) else READY)", "STOPPED, READY)")},
                 -1, "it answers I1, which is now fetching offsets", "it answers I1, which is now ready"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_sentence_says_what_the_edited_step_did(tmp_path, case):
    mode, labels, edits, n, before, after = CASES[case]
    original = _tell(ROOT, mode, labels)[n]
    edited = _tell(_scratch(tmp_path, edits), mode, labels)[n]
    assert before in original and after not in original, original
    assert after in edited and edited != original, edited
