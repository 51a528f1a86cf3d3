"""Checking a configuration: the promises a user cares about, and the change that keeps them.

:func:`check` takes a :class:`~deliverycheck.config.Configuration` (Kafka's
own settings and versions, :func:`deliverycheck.config.load`), builds the
model's mode and variant for it (:func:`deliverycheck.config.mapped`),
runs one engine over the model at the mode's default bounds (or the
bounds given), and answers, for each promise of :data:`PROMISES`, with
``holds``, ``violated`` (the shortest trace and its story), ``incomplete``
or ``not applicable``.  The promises are the user's words; each names the
model's properties that state it (properties/*.py), and a promise is
violated when one of them is.

For each violated promise, :func:`check` then looks for the smallest
change of settings that makes it hold: it changes one setting at a time
(then two, within a time budget) among the values in :data:`CHANGES`,
plus an upgrade of the brokers or the client, keeps the changes Kafka
accepts, and checks each changed configuration again with the same
engine and bounds - no table of known fixes.  A change that keeps the
promise but breaks another one that held is reported with what it breaks.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from deliverycheck import trace as tr
from deliverycheck.catalog import SPEC
from deliverycheck.config import Configuration, ConfigError, Mapped, mapped
from deliverycheck.config.mapping import CUSTOM_MODE
from deliverycheck.config import versions as ver
from deliverycheck.engines.explore import Limits
from deliverycheck.model import Config
from deliverycheck.model.bounds import deep_for_mode, for_mode
from deliverycheck.verify import Result, Run, run, run_smt, run_stateful


@dataclass(frozen=True)
class Promise:
    """A promise in the user's words, and the model's properties that state it."""

    name: str            # a short identifier (the --json key, the pytest plugin's argument)
    title: str
    properties: tuple[str, ...]
    # why it does not apply to the transactional loop, when it does not
    not_transactional: str = "the transactional loop has no separate producer and consumer"


_TOGETHER = "the transactional loop's loss and duplicates are checked together: see exactly once end to end"
PROMISES: tuple[Promise, ...] = (
    Promise("no-loss-acked", "no loss of acknowledged records", ("acked_in_log",)),
    Promise("no-loss", "no loss end to end", ("no_loss", "no_skip"), _TOGETHER),
    Promise("no-duplicate-log", "no duplicate in the log", ("no_duplicate_log",)),
    Promise("no-duplicate-output", "no duplicate output", ("no_duplicate_output",), _TOGETHER),
    Promise("order", "per-partition order", ("in_order",)),
    Promise("exactly-once", "exactly once end to end", ("exactly_once",)),
    Promise("atomic", "transactional atomicity", ("atomic_transactions", "offsets_match_outputs")),
    Promise("no-aborted-read", "no aborted read", ("no_aborted_read",)),
    Promise("zombies-fenced", "zombies fenced", ("zombie_fenced", "rebalance_fenced")),
    Promise("no-hanging-transaction", "no transaction left hanging", ("no_hanging_transaction",)),
)
NOT_TRANSACTIONAL = "nothing is transactional (no transactional.id)"
PROMISE_NAMES = tuple(p.name for p in PROMISES)

# The settings a fix may change, and the values tried (each only where it differs from the
# configuration's and Kafka accepts the result).
CHANGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("acks", ("all", "1", "0")),
    ("enable.idempotence", ("true", "false")),
    ("retries", ("2147483647", "0")),
    ("max.in.flight.requests.per.connection", ("1", "5")),
    ("enable.auto.commit", ("false", "true")),
    ("isolation.level", ("read_committed", "read_uncommitted")),
    ("auto.offset.reset", ("earliest", "latest")),
    ("replication.factor", ("3", "2", "1")),
    ("min.insync.replicas", ("2", "1")),
    ("unclean.leader.election.enable", ("false", "true")),
    ("transaction.version", ("2",)),
    ("transaction.partition.verification.enable", ("true",)),
    ("group.protocol", ("classic",)),
    ("deliverycheck.commit", ("after-processing", "before-processing")),
    ("deliverycheck.resend", ("true", "false")),
    ("deliverycheck.worker-thread", ("false",)),
    ("deliverycheck.offsets", ("transaction",)),
    ("deliverycheck.rewind", ("true",)),
)
FIX_SECONDS = 120.0     # default time budget of the search for fixes
PER_RUN_SECONDS = 10.0  # at least this long for each changed configuration's search
REPLICATION_KEYS = ("replication.factor", "min.insync.replicas", "unclean.leader.election.enable")
# the bounds that size the world (the capacities follow from them, model/bounds.py)
WORLD_BOUNDS = ("records", "partitions", "retries", "faults", "expiries", "unflushed",
                "marker_retries", "epochs")


@dataclass
class Fix:
    """A change of settings after which a violated promise holds."""

    changes: tuple[str, ...]          # "acks=all", "--kafka trunk", ...
    breaks: tuple[str, ...] = ()      # promises that held and break with the change


@dataclass
class PromiseVerdict:
    """One promise: its verdict, the property that decided it, the trace, the fixes found."""

    promise: Promise
    verdict: str                      # holds, violated, incomplete, bounded, sampled, not applicable
    property_name: str | None = None  # the property whose verdict this is (shortest violation)
    result: Result | None = None
    fixes: list[Fix] = field(default_factory=list)
    fix_note: str | None = None       # why no fix is listed (searched within a budget, ...)
    why_not: str | None = None        # why it does not apply (verdict "not applicable")

    @property
    def trace(self) -> tr.Trace | None:
        """The counterexample (a violation's shortest trace)."""
        return self.result.shown if self.result else None

    @property
    def story(self) -> str | None:
        """The counterexample's story, step by step."""
        from deliverycheck.render.story import story
        return story(self.trace) if self.trace is not None else None


@dataclass
class CheckResult:
    """What :func:`check` found for one configuration."""

    configuration: Configuration
    mapped: Mapped
    config: Config                    # the model's configuration (mode, variant, bounds)
    engine: str
    run: Run
    promises: list[PromiseVerdict]
    seconds: float
    fix_seconds: float = 0.0
    fix_checked: int = 0              # changed configurations checked in the search for fixes
    fix_unfinished: list[str] = field(default_factory=list)  # changes whose check ran out of time

    def verdict(self, name: str) -> PromiseVerdict:
        """The verdict on promise ``name`` (one of :data:`PROMISE_NAMES`)."""
        for p in self.promises:
            if p.promise.name == name:
                return p
        raise KeyError(f"unknown promise {name!r}: one of {', '.join(PROMISE_NAMES)}")

    @property
    def violated(self) -> list[PromiseVerdict]:
        """The promises the configuration breaks."""
        return [p for p in self.promises if p.verdict == "violated"]

    @property
    def witnesses(self) -> list[Result]:
        """The reachability witnesses of the run (what the model shows can happen)."""
        return [r for r in self.run.results if r.kind == "sometimes"]


def _search(cfg: Config, engine: str, out: Path | None, limits: Limits | None,
            depth: int, examples: int, seed: int, progress: Any) -> Run:
    props = SPEC.properties
    if engine == "explore":
        return run(cfg, props, None, out, limits=limits, progress=progress)
    if engine == "smt":
        return run_smt(cfg, props, None, out, depth=depth, progress=progress, limits=limits)
    if engine == "stateful":
        from deliverycheck.engines.stateful import Budget
        return run_stateful(cfg, props, None, out, Budget(examples=examples, seed=seed),
                            progress=progress, limits=limits)
    raise ValueError(f"unknown engine {engine!r}: explore, smt or stateful")


def _judge(run_: Run, transactional: bool) -> list[PromiseVerdict]:
    by_name = {r.property: r for r in run_.results}
    out = []
    for p in PROMISES:
        mine = [by_name[n] for n in p.properties if n in by_name]
        if not mine:
            why = p.not_transactional if transactional else NOT_TRANSACTIONAL
            out.append(PromiseVerdict(p, "not applicable", why_not=why))
            continue
        broken = [r for r in mine if r.verdict == "violated"]
        if broken:
            worst = min(broken, key=lambda r: (r.length or 0, p.properties.index(r.property)))
            out.append(PromiseVerdict(p, "violated", worst.property, worst))
            continue
        for word in ("incomplete", "bounded", "sampled"):
            undecided = [r for r in mine if r.verdict == word]
            if undecided:
                out.append(PromiseVerdict(p, word, undecided[0].property, undecided[0]))
                break
        else:
            out.append(PromiseVerdict(p, "holds", mine[0].property, mine[0]))
    return out


def model_config(c: Configuration, bounds: dict[str, int] | None = None,
                 mode_changes: Mapping[str, Any] | None = None,
                 variant_changes: Mapping[str, Any] | None = None,
                 engine: str = "explore") -> tuple[Mapped, Config]:
    """The model's mode, variant and bounds for ``c`` (the mode's defaults, with ``bounds``;
    for the stateful engine its bigger world, as `deliverycheck verify` samples).

    ``mode_changes`` and ``variant_changes`` set knobs of the mode and variant rows
    (model/modes.py, model/variants.py) beyond what the settings say: a team's own protocol
    variant, checked without editing the installed package.
    """
    m = mapped(c, epochs=bool((bounds or {}).get("epochs")))
    if mode_changes or variant_changes:
        mode = replace(m.mode, name=CUSTOM_MODE, **mode_changes) if mode_changes else m.mode
        variant = (replace(m.variant, name=f"{m.variant.name}-changed", **variant_changes)
                   if variant_changes else m.variant)
        changed = [f"{k}={v!r}" for k, v in {**(mode_changes or {}), **(variant_changes or {})}.items()]
        m = Mapped(mode, variant, m.assumptions + (f"knobs set by the caller: {', '.join(changed)}",))
    world = deep_for_mode if engine == "stateful" else for_mode
    return m, Config(m.mode, m.variant, world(m.mode, m.variant, **(bounds or {})))


def check(c: Configuration, engine: str = "explore", bounds: dict[str, int] | None = None,
          fixes: bool = True, fix_seconds: float = FIX_SECONDS, out: Path | None = None,
          limits: Limits | None = None, depth: int = 10, examples: int = 100, seed: int = 0,
          progress: Any = None, mode_changes: Mapping[str, Any] | None = None,
          variant_changes: Mapping[str, Any] | None = None,
          fix_keys: Sequence[str] | None = None) -> CheckResult:
    """Check configuration ``c``: every promise's verdict, and fixes for the violated ones.

    ``engine`` is ``explore`` (exhaustive at the bounds), ``smt`` (bounded
    model checking to ``depth`` steps) or ``stateful`` (``examples`` random
    histories from ``seed``); ``out`` is where trace files go (None: none
    are written); ``limits`` stops a search early (its verdicts are then
    ``incomplete``).  ``fixes``: look for changes of settings that keep
    each violated promise, for at most ``fix_seconds``.  ``mode_changes``,
    ``variant_changes``: knobs set beyond the settings (:func:`model_config`);
    the fixes are then searched with the same knobs set.  ``fix_keys``: the
    settings a fix may change (default: every one of :data:`CHANGES`, and
    upgrades; name ``--kafka`` or ``--client`` to allow those).
    """
    start = time.perf_counter()
    knobs = dict(mode_changes=mode_changes, variant_changes=variant_changes)
    m, cfg = model_config(c, bounds, engine=engine, **knobs)
    run_ = _search(cfg, engine, out, limits, depth, examples, seed, progress)
    verdicts = _judge(run_, cfg.mode.transactional)
    result = CheckResult(c, m, cfg, engine, run_, verdicts, time.perf_counter() - start)
    if fixes and result.violated and engine != "explore":
        for v in result.violated:
            v.fix_note = ("no fix searched: a fix must hold in a complete search, which only "
                          "the explorer makes (--engine explore)")
    elif fixes and result.violated and run_.complete:
        t0 = time.perf_counter()
        if progress is not None:
            progress.note(f"looking for the smallest change of settings that keeps "
                          f"{len(result.violated)} violated promise(s) (at most {fix_seconds:.0f} s)")
        _find_fixes(result, bounds, knobs, engine, limits, depth, examples, seed, fix_seconds,
                    fix_keys)
        result.fix_seconds = time.perf_counter() - t0
    elif fixes and result.violated:
        for v in result.violated:
            v.fix_note = "no fix searched: the search was cut short"
    return result


Change = tuple[str, Callable[[Configuration], Configuration]]   # (label, apply)


def _set_change(key: str, value: str) -> Change:
    return f"{key}={value}", lambda c: c.changed(key, value)


def _version_change(kafka: str | None, client: str | None) -> Change:
    label = " ".join(x for x in (kafka and f"--kafka {kafka}", client and f"--client {client}") if x)
    return label, lambda c: c.with_versions(ver.parse_kafka(kafka) if kafka else c.kafka,
                                            ver.parse_client(client) if client else c.client)


def _changes(c: Configuration) -> list[Change]:
    """The single changes a fix may make to ``c``: settings first (replication last: its
    worlds are the biggest), then upgrades of the brokers, the client, or both."""
    out = []
    for key, values in sorted(CHANGES, key=lambda kv: kv[0] in REPLICATION_KEYS):
        for value in values:
            if c.raw.get(key, ("",))[0].strip().lower() != value:
                out.append(_set_change(key, value))
    newest, client = ver.NEWEST, "java-" + ver.NEWEST
    for kafka, cl in ((newest, client), (newest, None), (None, client),
                      (ver.TRUNK, "java-" + ver.TRUNK)):
        if (kafka and kafka != c.kafka.text) or (cl and cl != c.client.text):
            out.append(_version_change(kafka, cl))
    return out


def _neighbours(c: Configuration, changes: list[Change]) -> list[tuple[tuple[str, ...], Configuration]]:
    """The configurations one change away from ``c`` that Kafka accepts, with the change."""
    out = []
    for label, apply in changes:
        try:
            out.append(((label,), apply(c)))
        except ConfigError:
            continue
    return out


def _find_fixes(result: CheckResult, bounds: dict[str, int] | None, knobs: dict, engine: str,
                limits: Limits | None, depth: int, examples: int, seed: int,
                budget: float, keys: Sequence[str] | None = None) -> None:
    """Fill in each violated promise's smallest fixes (one change, else two, within ``budget``).

    A changed configuration may have other default bounds than the original (a replicated
    topic's world has one record): it is checked in the larger of the two worlds, bound by
    bound, and a fix counts only if the original, in that same world, breaks the promise, so
    a smaller world is never taken for a fix.  What it "breaks" is compared there too.
    """
    deadline = time.perf_counter() + budget
    per_run = max(PER_RUN_SECONDS, budget / 12)  # one huge world does not take the whole budget
    wanted = {p.promise.name for p in result.violated}
    base = result.config
    verdicts: dict[tuple, dict[str, str] | None] = {
        (base.mode, base.variant, base.bounds): {p.promise.name: p.verdict for p in result.promises}}
    found: dict[str, list[Fix]] = {}
    tried: set[tuple] = set()
    too_big: set[str] = set()     # single changes whose check did not finish in its time
    cut = False

    def verdicts_at(cfg: Config) -> dict[str, str] | None:
        key = (cfg.mode, cfg.variant, cfg.bounds)
        if key not in verdicts:
            left = min(deadline - time.perf_counter(), per_run)
            lim = Limits(max_seconds=max(left, 1.0), max_states=limits.max_states if limits else None,
                         max_memory_mb=limits.max_memory_mb if limits else None)
            r = _search(cfg, engine, None, lim, depth, examples, seed, None)
            verdicts[key] = {p.promise.name: p.verdict for p in _judge(r, cfg.mode.transactional)} if r.complete else None
        return verdicts[key]

    def consider(changes: tuple[str, ...], conf: Configuration) -> None:
        try:
            _, cfg = model_config(conf, bounds, **knobs)
        except (ConfigError, ValueError):
            return
        # never a smaller world than the original's (a replicated topic's default world has one
        # record): each bound is the larger of the two configurations' defaults
        world = {**(bounds or {}), **{f: max(getattr(base.bounds, f), getattr(cfg.bounds, f))
                                      for f in WORLD_BOUNDS}}
        cfg = Config(cfg.mode, cfg.variant, for_mode(cfg.mode, cfg.variant, **world))
        key = (cfg.mode, cfg.variant, cfg.bounds)
        if key in tried or key == (base.mode, base.variant, base.bounds):
            return          # the same model as a change already tried, or as the original
        tried.add(key)
        before = verdicts_at(Config(base.mode, base.variant,
                                    for_mode(base.mode, base.variant, **world)))
        after = verdicts_at(cfg) if before is not None else None
        if after is None:
            if len(changes) == 1:     # a pair with this change is a world at least as big
                too_big.add(changes[0])
            result.fix_unfinished.append(" and ".join(changes))
            return
        result.fix_checked += 1
        breaks = tuple(n for n in PROMISE_NAMES
                       if before.get(n) == "holds" and after.get(n) == "violated")
        for name in wanted:
            if before.get(name) == "violated" and after.get(name) == "holds":
                found.setdefault(name, []).append(Fix(changes, breaks))

    changes = [ch for ch in _changes(result.configuration)
               if keys is None or ch[0].split("=")[0].split(" ")[0] in keys]
    singles = _neighbours(result.configuration, changes)
    apply = dict(changes)
    for changes_, conf in singles:
        if time.perf_counter() > deadline:
            cut = True
            break
        consider(changes_, conf)
    if not cut and wanted - set(found):
        for (c1, n1), (c2, _) in itertools.combinations(singles, 2):
            if not wanted - set(found):
                break
            if time.perf_counter() > deadline:
                cut = True
                break
            upgrades = c1[0].startswith("--") and c2[0].startswith("--")
            if upgrades or c1[0].split("=")[0] == c2[0].split("=")[0]:
                continue    # two values of one key, or two upgrades
            if c1[0] in too_big or c2[0] in too_big:
                continue    # its search alone did not finish in its time
            try:
                conf = apply[c2[0]](n1)
            except ConfigError:
                continue
            consider(c1 + c2, conf)
    for v in result.violated:
        fixes = found.get(v.promise.name, [])
        smallest = min((len(f.changes) for f in fixes), default=0)
        v.fixes = [f for f in fixes if len(f.changes) == smallest]
        if not v.fixes:
            v.fix_note = (f"no change of one or two settings found within {budget:.0f} s "
                          f"(raise it with --fix-seconds)" if cut else
                          "no change of one or two settings keeps it")
