"""What `deliverycheck check` prints: the effective configuration, the guarantees, the fixes.

:func:`text` is the terminal report, :func:`to_json` the ``--json``
document (schema in docs/config.md), :func:`about` the lines that open
the HTML report.  Timings are the only part that changes between two
runs of the same check.
"""

from __future__ import annotations

from typing import Any

from deliverycheck import __version__
from deliverycheck.checking import CheckResult, PromiseVerdict
from deliverycheck.config.keys import KEYS

def _verdict_line(v: PromiseVerdict) -> str:
    if v.verdict == "not applicable":
        return f"not applicable: {v.why_not}"
    r = v.result
    if v.verdict == "violated" and r is not None:
        where = f": {r.story}" if r.story else ""
        return f"VIOLATED ({v.property_name}, {r.length} step{'s' if r.length != 1 else ''}{where})"
    return f"{v.verdict} ({v.property_name})"


def settings_lines(result: CheckResult) -> list[str]:
    """The effective value of every key the model reads, and where it came from."""
    c = result.configuration
    width = max(len(k) for k in KEYS)
    values = max(len(c.settings[k].shown()) for k in KEYS)
    out = [f"Configuration: Kafka {c.kafka} brokers, {c.client} client"]
    for key in KEYS:
        s = c.settings[key]
        out.append(f"  {key:<{width}}  {s.shown():<{values}}  {s.source}")
    for note in c.notes:
        out.append(f"  note: {note}")
    if c.not_modelled:
        out.append("Not modelled (Kafka keys the model does not read): "
                   + ", ".join(f"{k} ({w})" for k, w in c.not_modelled))
    if c.unknown:
        out.append("Unknown keys (neither Kafka's nor the model's; ignored): "
                   + ", ".join(f"{k} ({w})" for k, w in c.unknown))
    return out


def model_lines(result: CheckResult) -> list[str]:
    """Which mode, variant, bounds and engine checked it, and what the mapping assumed."""
    cfg, run_ = result.config, result.run
    bounds = ", ".join(f"{k}={v}" for k, v in vars(cfg.bounds).items())
    size = (f"{run_.exploration.states:,} states" if run_.exploration is not None else
            f"depth {run_.bmc.depth}" if run_.bmc is not None else "random histories")
    done = "" if run_.complete else f", INCOMPLETE ({run_.stop_reason})"
    out = [f"Checked as mode {cfg.mode.name}, variant {cfg.variant.name} ({bounds}); "
           f"engine {result.engine}: {size}{done}"]
    out += [f"  assumes: {a}" for a in result.mapped.assumptions]
    out += [f"  warning: {w}" for w in run_.warnings]
    return out


def guarantee_lines(result: CheckResult) -> list[str]:
    """One line per promise, with the fixes found for each violated one."""
    width = max(len(v.promise.title) for v in result.promises)
    out = ["Guarantees:"]
    for v in result.promises:
        out.append(f"  {v.promise.title:<{width}}  {_verdict_line(v)}")
        for f in v.fixes:
            breaks = [result.verdict(b).promise.title for b in f.breaks]
            extra = f" - but it breaks: {', '.join(breaks)}" if breaks else ""
            out.append(f"  {'':<{width}}    holds with {' and '.join(f.changes)}{extra}")
        if v.fix_note:
            out.append(f"  {'':<{width}}    {v.fix_note}")
    if result.fix_checked or result.fix_unfinished:
        out.append(f"Fixes: {result.fix_checked} changed configuration(s) checked"
                   + (f"; not finished in time (so not fixes): {', '.join(result.fix_unfinished)}"
                      if result.fix_unfinished else ""))
    reached = [w for w in result.witnesses if w.verdict == "reached"]
    out.append(f"Witnesses (what can happen in this world): {len(reached)} of "
               f"{len(result.witnesses)} reached"
               + ("" if len(reached) == len(result.witnesses) else "; cannot happen here: " + ", ".join(
                   w.property for w in result.witnesses if w.verdict != "reached")))
    return out


def text(result: CheckResult, stories: bool = True, header: str | None = None) -> str:
    """The whole terminal report (``stories``: each violation's story after the table;
    ``header``: a first line, such as which model was checked)."""
    out = ([header] if header else []) + about(result)
    seconds = f"Checked in {result.seconds:.1f} s"
    if result.fix_seconds:
        seconds += f"; fixes searched in {result.fix_seconds:.1f} s"
    out.append(seconds)
    if stories:
        for v in result.violated:
            if v.story:
                out += ["", f"--- {v.promise.title}: the shortest history that breaks it ---",
                        v.story.rstrip("\n")]
    return "\n".join(out) + "\n"


def about(result: CheckResult) -> list[str]:
    """The lines that open the HTML report."""
    return settings_lines(result) + [""] + model_lines(result) + [""] + guarantee_lines(result)


def to_json(result: CheckResult, spec: str | None = None) -> dict[str, Any]:
    """The ``--json`` document (docs/config.md, "JSON"); ``spec``: which model was checked."""
    c, cfg, run_ = result.configuration, result.config, result.run
    return {
        "deliverycheck": __version__, "spec": spec,
        "kafka": str(c.kafka), "client": str(c.client),
        "settings": [{"key": k, "role": KEYS[k].role, "value": c.settings[k].shown(),
                      "source": c.settings[k].source, "explicit": c.settings[k].explicit}
                     for k in KEYS],
        "notes": list(c.notes),
        "not_modelled": [{"key": k, "where": w} for k, w in c.not_modelled],
        "unknown": [{"key": k, "where": w} for k, w in c.unknown],
        "model": {"mode": cfg.mode.name, "variant": cfg.variant.name,
                  "bounds": dict(vars(cfg.bounds)), "engine": result.engine,
                  "assumptions": list(result.mapped.assumptions),
                  "states": run_.exploration.states if run_.exploration is not None else None,
                  "complete": run_.complete, "stop_reason": run_.stop_reason,
                  "warnings": list(run_.warnings)},
        "promises": [{"name": v.promise.name, "title": v.promise.title, "verdict": v.verdict,
                      "property": v.property_name,
                      "steps": v.result.length if v.verdict == "violated" and v.result else None,
                      "trace": v.result.trace if v.verdict == "violated" and v.result else None,
                      "story": v.story if v.verdict == "violated" else None,
                      "fixes": [{"changes": list(f.changes), "breaks": list(f.breaks)}
                                for f in v.fixes],
                      "fix_note": v.fix_note, "why_not": v.why_not}
                     for v in result.promises],
        "witnesses": [{"property": w.property, "verdict": w.verdict, "steps": w.length}
                      for w in result.witnesses],
        "fix_checked": result.fix_checked, "fix_unfinished": list(result.fix_unfinished),
        "seconds": round(result.seconds, 3), "fix_seconds": round(result.fix_seconds, 3),
    }
