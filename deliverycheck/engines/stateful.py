"""The stateful engine: Hypothesis stateful testing generated from the model.

Exhaustive search and bounded model checking are shallow by necessity; this
engine runs long random histories in big worlds (ten records, several
faults, hundreds of steps) and shrinks whatever breaks to a short story.
It is built from the same action and property lists as the other engines
(docs/architecture.md: one model, every engine), as a Hypothesis ``RuleBasedStateMachine``:

* one **rule per action**: it is valid when some instance of the action is
  enabled in the current state, and its parameters are drawn from exactly
  those instances (so every step taken is a protocol step);
* one **invariant per property**: an ``always`` property in every state, a
  ``final`` property in every terminal state (no instance enabled), and a
  ``progress`` property in every terminal state too - from a terminal state
  nothing is reachable, so a terminal state without the goal is a genuine
  counterexample (non-terminal stuck states are the explorer's business);
* ``sometimes`` properties are witnesses: the shortest path seen to each.

When nothing the run allows is enabled, the ``restart`` rule begins a new
history from the initial state, so one Hypothesis example holds as many
histories as its steps allow and no step is spent standing still.

**Swarm testing** (Groce et al., ISSTA 2012): each example first draws
which fault actions it switches off and a weight for every action (1, 2,
4 ... 64); each step picks an enabled action with probability proportional
to its weight, then one of its enabled instances uniformly.  A low weight
keeps an action waiting - a late request stays in the network while the
protocol moves on, which is what most exactly-once counterexamples need.
Hypothesis's own rule-level swarm is replaced by this one: it switches off
protocol steps too, and discards an example whose only enabled steps are
switched off, which in a protocol model (often one enabled step) wastes
most examples.

**Failures** are recorded, not raised: an invariant that fails remembers
the history up to that state (the first one per property) and the history
goes on, so one pass of the budget hunts every property at once.  Each
recorded history is then shrunk by :func:`reduce.reduce_path` (delta
debugging on steps).  Hypothesis's own shrinker works on its choice
sequence and was measured slower for no shorter traces (docs/stateful.md),
and raising would stop generation at the first failure.  The search is
deterministic for a given seed; Hypothesis's example database is not used
(there is nothing failing for it to keep: counterexamples are kept as ITF
traces), and Hypothesis's other files go to the user's cache
(``~/.cache/deliverycheck/hypothesis``), so no ``.hypothesis/`` directory
appears where it runs.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, Phase, Verbosity, seed as hyp_seed, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (RuleBasedStateMachine, RuleStrategy, initialize, invariant,
                                 precondition, rule, run_state_machine_as_test)

from deliverycheck.core.compile import FULL
from deliverycheck.core.spec import Property
from deliverycheck.core.system import System
from deliverycheck.engines.reduce import reduce_path

RESTART = "restart"  # the rule taken when nothing the run allows is enabled: a new history
CHUNK = 500          # examples per Hypothesis run (bounds its memory; see hunt)
HUNT_CHUNK = 50  # hunting examples per Hypothesis run: the hunt stops soon after its last find
MAX_LEVEL = 6        # swarm weights are 2 ** 0 .. 2 ** 6 (measured best of 4, 6, 8: docs/stateful.md)


@dataclass(frozen=True)
class Budget:
    """How much random testing one search does."""

    examples: int = 100         # Hypothesis examples (max_examples)
    steps: int = 300            # steps per example (stateful_step_count)
    seed: int = 0               # Hypothesis seed: same seed, same examples
    swarm: bool = True          # per example: some faults off, a weight per action
    max_seconds: float | None = None  # stop the whole search after this long (incomplete)
    # the hunt: after ``examples``, while a property in ``wanted`` (a violation or a
    # witness the expectations say exists) is still not found, go on with examples of
    # ``hunt_steps`` steps, up to ``hunt_examples`` more (0: no hunt)
    wanted: frozenset[str] = frozenset()
    hunt_examples: int = 0
    hunt_steps: int = 1000


@dataclass
class Finding:
    """A broken property: the shrunk counterexample and what it took to get."""

    property: str
    path: list[int]             # action instances from the initial state, shrunk
    switched_off: list[str]     # fault actions the failing example had switched off
    first_seconds: float        # from the start of the search to the failing state
    first_length: int           # steps of the failing history, before shrinking
    shrink_seconds: float       # time spent shrinking it


@dataclass
class StatefulResult:
    """What one search found, and how much it tried."""

    found: dict[str, Finding]
    witnesses: dict[str, list[int]]     # sometimes property -> shortest path seen (shrunk)
    fired: dict[str, int]               # per action: steps that took it
    enabled: dict[str, int]             # per action: steps at which it could have been taken
    blocked: dict[str, int]             # per action: steps at which a capacity bound disabled it
    off: set[str]                       # actions the configuration disables outright
    examples: int                       # Hypothesis examples run
    histories: int                      # histories begun (an example restarts after an end)
    ended: int                          # histories that reached a terminal state
    steps: int                          # protocol steps taken (restarts not counted)
    seconds: float                      # the whole search, shrinking included
    budget: Budget
    complete: bool = True
    stop_reason: str | None = None
    seeds: tuple[int, ...] = ()         # a swarm of seeds merged (verify --seeds): each one's seed

    @property
    def steps_per_second(self) -> float:
        """Protocol steps per second of the whole search."""
        return self.steps / max(self.seconds, 1e-9)


class _Stop(KeyboardInterrupt):
    """End the search early: a KeyboardInterrupt, which Hypothesis lets through at once
    (any other exception would be taken for a failing example)."""

    def __init__(self, reason: str | None):
        super().__init__(reason)
        self.reason = reason    # None: everything was found, the search is complete


@dataclass
class _Search:
    """What every example of one search shares: the system, what was found, counters."""

    system: System
    action_of: list[str]                    # instance -> action name
    actions: list[str]                      # actions with instances, in model order
    faults: list[str]                       # fault actions among them
    candidates: Callable[[bytes], list[int]]
    deadline: float | None
    hunted: set[str]                        # always/final/progress properties still open
    witness_preds: dict[str, Callable[[bytes], bool]]
    start: float = field(default_factory=time.perf_counter)
    first: dict[str, tuple[float, list[int], list[str]]] = field(default_factory=dict)
    witnesses: dict[str, list[int]] = field(default_factory=dict)
    fired: dict[str, int] = field(default_factory=dict)
    enabled: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, int] = field(default_factory=dict)
    examples: int = 0
    histories: int = 0
    ended: int = 0
    steps: int = 0
    progress: Any = None                    # deliverycheck.progress.Progress, if reported
    wanted: frozenset[str] = frozenset()    # what the hunt looks for (Budget.wanted)
    hunting: bool = False                   # the budget's examples are spent: only the hunt goes on
    _index: dict[int, Any] = field(default_factory=dict)

    def index(self, n: int) -> Any:
        """The strategy choosing a number below ``n`` (shrinks to 0)."""
        if n not in self._index:
            self._index[n] = st.integers(0, n - 1)
        return self._index[n]

    def successors(self, state: bytes, count: bool = False) -> dict[str, list[tuple[int, bytes]]]:
        """Per action, its instances enabled in ``state`` with their successors.

        An action a capacity bound blocks is listed with no instances (so the
        state is not taken for a terminal one); with ``count`` such blocks
        are counted per action.
        """
        en: dict[str, list[tuple[int, bytes]]] = {}
        compiled = self.system.compiled
        for j in self.candidates(state):
            nxt = compiled[j](state)
            if nxt is None:
                continue
            a = self.action_of[j]
            if nxt is FULL:
                if count:
                    self.blocked[a] = self.blocked.get(a, 0) + 1
                en.setdefault(a, [])
                continue
            en.setdefault(a, []).append((j, nxt))
        return en

    def saw(self, state: bytes, path: list[int]) -> None:
        """Record the witnesses ``state`` satisfies (the shortest path seen wins)."""
        for name, pred in self.witness_preds.items():
            best = self.witnesses.get(name)
            if (best is None or len(path) < len(best)) and pred(state):
                self.witnesses[name] = list(path)
                if best is None:
                    self._done()

    def record(self, prop: str, path: list[int], switched_off: frozenset[str]) -> None:
        """The first violation of ``prop``: kept, and no longer looked for."""
        self.first[prop] = (time.perf_counter() - self.start, list(path), sorted(switched_off))
        self.hunted.discard(prop)
        self._done()

    def _done(self) -> None:
        """Stop the search once every property is broken and every witness reached
        (in the hunt: once nothing wanted is missing)."""
        if not self.hunted and len(self.witnesses) == len(self.witness_preds):
            raise _Stop(None)
        if self.hunting and not self.missing():
            raise _Stop(None)

    def missing(self) -> set[str]:
        """What the hunt wants (a violation or witness expected to exist) and has not found."""
        return set(self.wanted) - set(self.first) - set(self.witnesses)


class _Rules(RuleStrategy):
    """Hypothesis's rule choice, restricted to the rules the current state enables and
    weighted by the example's swarm weights (replaces ``RuleStrategy``'s feature flags)."""

    def __init__(self, machine: "_ModelMachine"):
        super().__init__(machine)
        self.by_name = {r.function.__name__: r for r in self.rules}

    def do_draw(self, data: Any) -> tuple[Any, dict[str, Any]]:
        m: _ModelMachine = self.machine  # type: ignore[assignment]
        names = m.allowed() or [RESTART]
        name = names[0]
        if len(names) > 1:  # weighted choice: a number below the total weight
            weights = [m.weights.get(a, 1) for a in names]
            x = data.draw(m.search.index(sum(weights)))
            for name, w in zip(names, weights):
                if x < w:
                    break
                x -= w
        r = self.by_name[name]
        return r, {k: data.draw(s) for k, s in r.arguments_strategies.items()}


class _ModelMachine(RuleBasedStateMachine):
    """One example: the current history's state and path, and the swarm's choices."""

    search: _Search

    def __init__(self) -> None:
        super().__init__()
        self._rules_strategy = _Rules(self)
        self.switched_off: frozenset[str] = frozenset()
        self.weights: dict[str, int] = {}   # per action; absent: 1
        self.search.examples += 1
        if self.search.progress:
            s = self.search
            s.progress.working(f"{s.examples:,} examples, {s.histories:,} histories, "
                               f"{s.steps:,} steps, {len(s.first)} found")
        self.new_history()

    def new_history(self) -> None:
        """Start a history from the initial state (the swarm's choices stay)."""
        s = self.search
        if s.deadline is not None and time.perf_counter() > s.deadline:
            raise _Stop("time limit")
        s.histories += 1
        self.state: bytes = s.system.init
        self.path: list[int] = []
        self._enabled: dict[str, list[tuple[int, bytes]]] | None = None
        s.saw(self.state, self.path)

    def enabled(self) -> dict[str, list[tuple[int, bytes]]]:
        """Per action, its enabled instances in this state with their successors."""
        if self._enabled is None:
            s = self.search
            self._enabled = s.successors(self.state, count=True)
            for a, options in self._enabled.items():
                s.enabled[a] += bool(options)
        return self._enabled

    def allowed(self) -> list[str]:
        """Enabled actions that this example has not switched off, in model order."""
        en = self.enabled()
        return [a for a in self.search.actions if en.get(a) and a not in self.switched_off]

    def terminal(self) -> bool:
        """No instance at all is enabled (a switched-off fault counts as enabled, and
        a step that only a capacity bound blocks keeps the state from being terminal)."""
        return not self.enabled()

    def take(self, action: str, pick: int) -> None:
        """Take the ``pick``-th enabled instance of ``action``."""
        s = self.search
        j, nxt = self.enabled()[action][pick]
        self.state, self._enabled = nxt, None
        self.path.append(j)
        s.steps += 1
        s.fired[action] += 1
        s.saw(nxt, self.path)

    def check_invariants(self, settings: Any, output: Any, runtimes: Any) -> None:
        """Run the property invariants after each step.

        Hypothesis's own loop compares the verbosity setting twice per
        invariant and step, which took most of the engine's time (60% of a
        run with six properties); the runs are quiet, so call the invariants
        directly, in the same order and with the same rule about
        initialisation.
        """
        pending = self._initialize_rules_to_run
        for invar in self.invariants:
            if not (pending and not invar.check_during_init):
                invar.function(self)


def machine_for(search: _Search, properties: list[Property], swarm: bool) -> type[_ModelMachine]:
    """The state machine class of ``search.system`` checking ``properties``."""
    system = search.system
    body: dict[str, Any] = {"search": search}
    if swarm:
        faults, actions = list(search.faults), list(search.actions)

        @initialize(off=st.lists(st.booleans(), min_size=len(faults), max_size=len(faults)),
                    levels=st.lists(st.integers(0, MAX_LEVEL), min_size=len(actions),
                                    max_size=len(actions)))
        def swarm_choices(self, off, levels):
            """Swarm testing: switch off the fault actions drawn True; weigh each
            action 2 ** level."""
            self.switched_off = frozenset(a for a, o in zip(faults, off) if o)
            self.weights = {a: 1 << n for a, n in zip(actions, levels)}
        body["swarm_choices"] = swarm_choices

    for name in search.actions:
        body[name] = _action_rule(name)

    @precondition(lambda self: not self.allowed())
    @rule()
    def restart(self):
        """Nothing this example allows is enabled: the history is over, begin another."""
        if self.terminal():
            self.search.ended += 1
        self.new_history()
    body[RESTART] = restart

    for p in properties:
        if p.kind != "sometimes":
            body[f"check_{p.name}"] = _property_invariant(p, system.predicate(p))
    return type(f"Stateful_{_ident(system)}", (_ModelMachine,), body)


def _action_rule(name: str) -> Any:
    """The rule of one action: valid when it is enabled; draws one of its enabled instances."""

    def fire(self, data):
        options = self.enabled()[name]
        self.take(name, data.draw(self.search.index(len(options))) if len(options) > 1 else 0)
    fire.__name__ = fire.__qualname__ = name
    fire.__doc__ = f"Take an enabled instance of {name}."
    return precondition(lambda self: name in self.allowed())(rule(data=st.data())(fire))


def _property_invariant(p: Property, pred: Callable[[bytes], bool]) -> Any:
    """The invariant of one property (see the module docstring for each kind).

    Only the first violation is recorded: after it the property is no
    longer checked, and the history goes on for the others.
    """
    name, always = p.name, p.kind == "always"

    def check(self):
        if name in self.search.hunted and (always or self.terminal()) and not pred(self.state):
            self.search.record(name, self.path, self.switched_off)
    check.__name__ = check.__qualname__ = f"check_{name}"
    check.__doc__ = f"{p.kind} property {name}: {p.summary}"
    return invariant()(check)


def _ident(system: System) -> str:
    """A Python identifier naming the configuration (for Hypothesis's reports)."""
    cfg = system.cfg
    bounds = "_".join(f"{k}{v}" for k, v in vars(cfg.bounds).items())
    return f"{cfg.mode.name}_{cfg.variant.name}_{bounds}".replace("-", "_")


def _candidates(system: System) -> Callable[[bytes], list[int]]:
    """The instances worth trying in a state (System.dispatch's index), in instance order."""
    keyed, unkeyed = system.dispatch()

    def candidates(state: bytes) -> list[int]:
        out = list(unkeyed)
        for cell, by_value in keyed:
            out.extend(by_value[state[cell]])
        out.sort()
        return out
    return candidates


def hunt(system: System, properties: list[Property], budget: Budget = Budget(),
         progress: Any = None) -> StatefulResult:
    """Random histories of ``system`` looking for violations of ``properties``.

    ``always``/``final``/``progress`` properties are hunted, ``sometimes``
    properties are witnesses.  The search ends when the budget is spent or
    everything was found; the time limit and Ctrl-C end it early
    (incomplete) and keep what was found.
    """
    _hypothesis_home()
    static = system.static_off
    with_instances = {system.instances[j].name for j in range(len(system.instances)) if not static[j]}
    actions = [a.name for a in system.spec.actions if a.name in with_instances]
    fault_names = {a.name for a in system.spec.actions if a.fault}
    search = _Search(
        system=system, action_of=[i.name for i in system.instances], actions=actions,
        faults=[a for a in actions if a in fault_names], candidates=_candidates(system),
        deadline=None if budget.max_seconds is None else time.perf_counter() + budget.max_seconds,
        hunted={p.name for p in properties if p.kind != "sometimes"},
        witness_preds={p.name: system.predicate(p) for p in properties if p.kind == "sometimes"},
        fired=dict.fromkeys(actions, 0), enabled=dict.fromkeys(actions, 0), progress=progress,
        wanted=frozenset(budget.wanted))
    complete, reason = True, None
    cls = machine_for(search, properties, budget.swarm)
    try:
        with _fixed_constants():
            _run_chunks(search, cls, budget)
    except _Stop as e:
        if e.reason is not None:
            complete, reason = False, f"{e.reason} ({budget.max_seconds:g} s)"
    except KeyboardInterrupt:   # Ctrl-C: keep what was found
        complete, reason = False, "interrupted"
    return _result(search, system, budget, complete, reason)


def _run_chunks(search: "_Search", cls: Any, budget: Budget) -> None:
    """The Hypothesis runs of a hunt (raises :class:`_Stop` to end it early)."""
    # in chunks of examples, each its own Hypothesis run with a seed derived from
    # the budget's: Hypothesis keeps a tree of every choice it made in a run, which
    # grew past 0.8 GB in 5,000 examples of 300 steps.  Then the hunt, in chunks of
    # longer examples, only while something wanted is still missing.
    chunks = [(min(CHUNK, budget.examples - start), budget.steps, False)
              for start in range(0, budget.examples, CHUNK)]
    chunks += [(min(HUNT_CHUNK, budget.hunt_examples - start), budget.hunt_steps, True)
               for start in range(0, budget.hunt_examples, HUNT_CHUNK)]
    for k, (n, steps, hunting) in enumerate(chunks):
        if not (search.hunted or search.witness_preds) or (hunting and not search.missing()):
            break  # nothing (left) to look for
        search.hunting = hunting
        conf = settings(max_examples=n,
                        stateful_step_count=steps, deadline=None, database=None,
                        verbosity=Verbosity.quiet, phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck), print_blob=False)
        run_state_machine_as_test(hyp_seed((budget.seed << 16) + k)(cls), settings=conf)


@contextmanager
def _fixed_constants() -> Iterator[None]:
    """Hypothesis draws, now and then, one of the literals of the "local" modules this process
    has loaded (``providers._get_local_constants``): the command, pytest and a Dask worker load
    different modules, and the same seed would give them different histories.  For the
    hunt, only Hypothesis's own fixed constants are drawn, so a seed gives the same
    histories in every process (an internal of Hypothesis: if it is gone, nothing changes).
    """
    try:
        from hypothesis.internal.conjecture import providers
        original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE
        none = providers.Constants()
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: none
    cache.cache.clear()   # the permitted values cached with the process's local constants
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _result(search: "_Search", system: System, budget: Budget, complete: bool,
            reason: str | None) -> StatefulResult:
    """What a hunt found: each finding reduced to a 1-minimal history."""
    found = {}
    for name, (t, path, off) in sorted(search.first.items()):
        start = time.perf_counter()
        short = _reduce(search, system.spec.property(name), path)
        found[name] = Finding(name, short, off, t, len(path), time.perf_counter() - start)
    witnesses = {name: _reduce(search, system.spec.property(name), path)
                 for name, path in sorted(search.witnesses.items())}
    return StatefulResult(
        found=found, witnesses=witnesses, fired=search.fired, enabled=search.enabled,
        blocked=search.blocked,
        off={a.name for a in system.spec.actions if a.applies(system.cfg)} - set(search.actions),
        examples=search.examples, histories=search.histories, ended=search.ended,
        steps=search.steps, seconds=time.perf_counter() - search.start, budget=budget,
        complete=complete, stop_reason=reason)


def _hypothesis_home() -> None:
    """Where Hypothesis keeps its files: the user's cache, not the working directory.

    Even without an example database Hypothesis writes a cache (constants it
    collects from source) under ``.hypothesis/`` in the working directory,
    which would litter every repository the tool runs in.
    ``HYPOTHESIS_STORAGE_DIRECTORY``, when set, still wins.
    """
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        set_hypothesis_home_dir(cache / "deliverycheck" / "hypothesis")


def _reduce(search: _Search, prop: Property, path: list[int]) -> list[int]:
    """``path`` cut down by reduce_path to a 1-minimal history that still shows ``prop``."""
    pred = search.system.predicate(prop)
    return reduce_path(search.system.init, path, search.action_of, search.successors,
                       lambda state, terminal: prop.shown_by(bool(pred(state)), terminal),
                       per_state=prop.kind in ("always", "sometimes"))
