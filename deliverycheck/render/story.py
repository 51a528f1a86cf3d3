"""The text story of a trace: each step told in protocol terms, with what changed.

Example::

    at-least-once / current: no_duplicate_log is violated (5 steps)
    Promise: No record appears twice in a partition's log.

     1. P1 sends r1 as b1 (r1) to partition 0
          handed 0 -> 1, b_state[0] unused -> in flight, ...
"""

from __future__ import annotations

from deliverycheck.core.spec import View
from deliverycheck.render.diff import changes, show_value
from deliverycheck.trace import Trace


def sentence(trace: Trace, n: int) -> str:
    """Step ``n`` told as one sentence by the model's ``describe``."""
    system = trace.system
    step = trace.steps[n]
    describe = system.spec.describe
    if describe is None:
        inner = ", ".join(f"{k}={v}" for k, v in step.params.items())
        return f"{step.action}({inner})"
    before = system.schema.shared(trace.steps[n - 1].state)
    after = system.schema.shared(step.state)
    return describe(step.action, step.params, before, after, system.cfg)


def shows(trace: Trace) -> str:
    """What the trace shows about its property: violated, witnessed, not inductive, or "" (a run)."""
    if not trace.property:
        return ""
    if not trace.from_init:
        return "not inductive"
    return {"violated": "violated", "reached": "witnessed", "holds": "witnessed"}.get(trace.verdict or "", "")


def wrong_at_end(trace: Trace) -> list[str]:
    """What the broken promise says is wrong in the trace's last state (``Property.explain``;
    nothing for a witness or a property without an account)."""
    if not trace.property or trace.verdict != "violated":
        return []
    system = trace.system
    prop = system.spec.property(trace.property)
    if prop.explain is None:
        return []
    return list(prop.explain(View(system.schema, list(trace.last_state())), system.cfg))


def story(trace: Trace) -> str:
    """The whole story as plain text."""
    system = trace.system
    cfg = system.cfg
    lines = []
    head = f"{cfg.mode.name} / {cfg.variant.name}"
    if trace.property:
        prop = system.spec.property(trace.property)
        what = f"is {shows(trace)}" if shows(trace) else ""
        lines.append(f"{head}: {trace.property} {what} ({len(trace)} step{'s' if len(trace) != 1 else ''})")
        lines.append(f"Promise: {prop.summary}")
    else:
        lines.append(f"{head}: a run of {len(trace)} steps")
    bounds = ", ".join(f"{k}={v}" for k, v in vars(cfg.bounds).items())
    lines.append(f"Bounds: {bounds}")
    lines.append("")
    if not trace.from_init:
        lines.append("Counterexample to induction. It starts in a state that satisfies the "
                     "invariant (the promise and its lemmas) but need not be reachable:")
        lines.extend(f"    {name} = {show_value(system.schema.by_name[name], value)}" for name, value in
                     system.schema.shared(trace.steps[0].state).items())
        lines.append("")
    width = len(str(len(trace)))
    for n in range(1, len(trace.steps)):
        lines.append(f"{n:>{width}}. {sentence(trace, n)}")
        lines.append(" " * (width + 2) + "   " + "; ".join(changes(trace, n)))
    blocked = trace.meta.get("blocked")
    if blocked:
        kind = "a capacity bound blocks it" if blocked["why"].startswith("capacity") else \
            "it would write " + blocked["why"].split("(", 1)[1].rstrip(")")
        lines.append("")
        lines.append(f"In the last state {blocked['step']} is enabled, but {kind}. The invariant "
                     "allows this state, so a proof would hold only for the system whose step is "
                     "left out there: a lemma that rules the state out (one that is true, with "
                     "the bounds it depends on) makes the proof go through.")
    elif trace.property and trace.verdict == "violated":
        prop = system.spec.property(trace.property)
        lines.append("")
        if prop.kind == "progress":
            lines.append(f"From the last state, once faults stop, no run can make this true: "
                         f"{prop.summary}")
        else:
            where = "this terminal state" if prop.kind == "final" else "the last state"
            lines.append(f"In {where} the promise is broken: {prop.summary}")
        lines.extend(f"  - {fact}" for fact in wrong_at_end(trace))
        if not trace.from_init and prop.kind != "progress":
            lines.append("(The invariant does not rule out the first state: a lemma that "
                         "does, and is true, makes the proof go through.)")
    return "\n".join(lines) + "\n"
