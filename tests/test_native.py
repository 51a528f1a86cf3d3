"""The native explorer against the Python explorer: one model, two interpretations, equal.

Every default mode x variant pair is searched by both back ends (the native
one on one thread and on three); they must
find the same states in the same order (so the same counts, parent
pointers and first violations), the same coverage and the same progress
verdicts, and every trace the native search reports must replay through
the concrete model.  The rest covers the native back end's own parts: the
fingerprint store, the cache of built modules, and what happens without a
compiler or when a build fails.
"""

from __future__ import annotations

import os
import stat

import pytest

from deliverycheck.catalog import SPEC
from deliverycheck.core.ops import and_
from deliverycheck.core.ranges import Overflow
from deliverycheck.core.schema import Schema, num
from deliverycheck.core.spec import Effect, Spec, action, always, progress
from deliverycheck.core.system import System
from deliverycheck.engines.explore import explore
from deliverycheck.model import MODES, VARIANTS, Config
from deliverycheck.native.build import BuildError, build, compiler, prebuild
from deliverycheck.native.emit import MAX_PROGRESS, model_c
from deliverycheck.native.search import NativeUnavailable, collision_probability
from deliverycheck.trace import from_path
from deliverycheck.verify import plan

from conftest import ci_marks, needs_compiler, system


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, private cache of built modules."""
    monkeypatch.setenv("DELIVERYCHECK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "native"


PAIRS = plan(list(MODES), list(VARIANTS), False)


@pytest.mark.parametrize("mode,variant", [pytest.param(m, v, marks=ci_marks(m, v), id=f"{m}/{v}")
                                          for m, v in PAIRS])
def test_both_explorers_find_the_same_states_in_the_same_order(mode, variant):
    needs_compiler()
    cfg = Config(MODES[mode], VARIANTS[variant])
    py = explore(System(SPEC, cfg), backend="python")
    sy = System(SPEC, cfg)
    nat = explore(sy, backend="native", workers=3)   # more threads than this machine's cores
    one = explore(System(SPEC, cfg), backend="native", workers=1)
    assert nat.backend == "native" and py.backend == "python" and nat.workers == 3
    assert [one.parents[i] for i in range(one.states)] == [nat.parents[i] for i in range(nat.states)]
    assert one.violations == nat.violations and one.coverage == nat.coverage
    assert py.complete and nat.complete
    for figure in ("states", "depth", "transitions", "terminal", "truncated"):
        assert getattr(nat, figure) == getattr(py, figure), figure
    assert nat.violations == py.violations
    assert nat.undecided == py.undecided
    assert nat.coverage == py.coverage
    # the same parent pointers and steps: the same shortest trace for every finding
    assert [nat.parents[i] for i in range(nat.states)] == list(py.parents)
    assert [nat.via[i] for i in range(1, nat.states)] == list(py.via)[1:]
    assert nat.violations, "nothing found: the comparison of traces would be empty"
    for name, idx in nat.violations.items():
        trace = from_path(sy, nat.path(idx), property=name)   # replays through the concrete model
        prop = sy.spec.property(name)
        if prop.kind in ("always", "sometimes"):
            assert sy.holds(prop, trace.last_state()) == (prop.kind == "sometimes")


def _counter(hi: int = 2):
    """``bump`` writes n + 1 with no capacity condition: an overflow at n == hi."""
    schema = Schema([num("n", hi)])

    @action()
    def bump(s, c):
        """Add one."""
        return Effect(when=True, then={"n": s.n + 1})

    @always()
    def small(s, c):
        """n stays small."""
        return s.n <= hi

    return Spec("counter", lambda c: schema, lambda c: {}, [bump], [small])


def test_an_overflow_is_the_same_model_error_in_both_explorers():
    needs_compiler()
    errors = []
    for backend in ("python", "native"):
        with pytest.raises(Overflow) as e:
            explore(System(_counter(), None), backend=backend)
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "bump() writes n = 3" in errors[0]


def test_the_fingerprint_store_finds_what_the_exact_store_finds():
    needs_compiler()
    cfg = Config.of("exactly-once")
    exact = explore(System(SPEC, cfg), backend="native", store="exact")
    fp = explore(System(SPEC, cfg), backend="native", store="fingerprint")
    assert fp.store == "fingerprint" and exact.collision_probability is None
    assert (fp.states, fp.transitions, fp.depth) == (exact.states, exact.transitions, exact.depth)
    assert fp.violations == exact.violations and fp.coverage == exact.coverage
    assert fp.collision_probability == collision_probability(fp.states, fp.transitions)
    assert 0 < fp.collision_probability < 1e-6


def test_the_collision_estimate_is_tlcs():
    assert collision_probability(2 ** 16, 2 ** 16 + 2 ** 16) == 2 ** 32 / 2 ** 64
    assert collision_probability(10, 10) == 0


def test_a_built_module_is_cached_and_reused(cache):
    needs_compiler()
    sy = System(SPEC, Config.of("at-most-once"))
    source = model_c(sy, sy.properties).source
    _, cached = build(source)
    assert not cached and len(list(cache.glob("*.so"))) == 1
    _, cached = build(source)
    assert cached
    _, cached = build(source + "\n/* another model */\n")
    assert not cached and len(list(cache.glob("*.so"))) == 2


def _counting_cc(tmp_path, real: str | None):
    """A compiler that logs each compile to ``cc.log`` and then runs ``real`` (else fails)."""
    cc, log = tmp_path / "counting-cc", tmp_path / "cc.log"
    run = (f'exec {real} "$@"' if real else
           "echo 'model.c:7:1: error: no room on the device' >&2; exit 1")
    cc.write_text("#!/bin/sh\n"
                  f"if [ \"$1\" = --version ]; then exec {real or 'echo counting-cc'} --version; fi\n"
                  f"echo compile >> {log}\n{run}\n")
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    return cc, log


def test_modules_built_ahead_are_waited_for_and_built_once(cache, tmp_path, monkeypatch):
    needs_compiler()
    cc, log = _counting_cc(tmp_path, compiler())
    monkeypatch.setenv("CC", str(cc))
    systems = [System(SPEC, Config.of(m)) for m in ("at-most-once", "at-least-once", "idempotent")]
    sources = [model_c(sy, sy.properties).source for sy in systems]
    prebuild([lambda src=src: src for src in sources] * 2)   # asked twice: built once
    for src in sources:
        build(src)   # waits for the background build, or finds it done
    assert len(list(cache.glob("*.so"))) == 3 and not list(cache.glob(".*"))
    assert log.read_text().split() == ["compile"] * 3
    assert all(cached for _, cached in map(build, sources))


def test_a_failed_build_ahead_is_reported_by_the_build_that_needs_it(cache, tmp_path, monkeypatch):
    cc, log = _counting_cc(tmp_path, None)
    monkeypatch.setenv("CC", str(cc))
    sy = System(SPEC, Config.of("at-most-once"))
    source = model_c(sy, sy.properties).source
    prebuild([lambda: source])
    with pytest.raises(BuildError, match="^the C compiler failed: model.c:7:1: error: no room on the device$"):
        build(source)
    assert log.read_text().split() == ["compile"]
    assert not list(cache.glob("*.so")) and not list(cache.glob(".*"))


def test_without_a_compiler_the_python_explorer_runs_with_a_note(cache, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler")
    sy = System(SPEC, Config.of("at-most-once"))
    ex = explore(sy)
    assert ex.backend == "python" and ex.complete
    assert ex.note.startswith("native explorer unavailable: no C compiler found")
    assert "\n" not in ex.note
    with pytest.raises(NativeUnavailable, match="--explorer python"):
        explore(sy, backend="native")


def test_a_failed_build_names_the_compilers_first_error_and_falls_back(cache, tmp_path, monkeypatch):
    cc = tmp_path / "broken-cc"
    cc.write_text("#!/bin/sh\n"
                  "if [ \"$1\" = --version ]; then echo 'broken-cc 1.0'; exit 0; fi\n"
                  "echo 'model.c: In function a0:' >&2\n"
                  "echo 'model.c:12:5: error: the disk is full' >&2\n"
                  "echo 'model.c:13:5: error: and more' >&2\n"
                  "exit 1\n")
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CC", str(cc))
    sy = System(SPEC, Config.of("at-most-once"))
    ex = explore(sy)
    assert ex.backend == "python" and ex.complete
    assert ex.note == ("native explorer unavailable: the C compiler failed: "
                       "model.c:12:5: error: the disk is full; the Python explorer runs instead")
    assert not list(cache.glob("*.so")) and not list(cache.glob(".*"))


def _many_goals(n: int):
    schema = Schema([num("x", 1)])

    @action()
    def flip(s, c):
        """Set x."""
        return Effect(when=s.x == 0, then={"x": 1})

    goals = []
    for k in range(n):
        def goal(s, c):
            return and_(s.x == 1)
        goal.__name__ = goal.__qualname__ = f"goal{k}"
        goal.__doc__ = "x can still be set."
        goals.append(progress()(goal))
    return Spec("goals", lambda c: schema, lambda c: {}, [flip], goals)


def test_a_model_beyond_the_native_back_end_is_refused_and_checked_in_python():
    needs_compiler()
    sy = System(_many_goals(MAX_PROGRESS + 1), None)
    ex = explore(sy)
    assert ex.backend == "python" and ex.complete and not ex.violations
    assert f"{MAX_PROGRESS + 1} progress properties" in ex.note
    fits = System(_many_goals(MAX_PROGRESS), None)
    assert explore(fits).backend == "native"


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    from deliverycheck.native.build import cache_dir
    monkeypatch.setenv("DELIVERYCHECK_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "native"
    monkeypatch.delenv("DELIVERYCHECK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "deliverycheck" / "native"
    assert os.path.isabs(cache_dir())


def test_one_module_serves_every_choice_of_properties(cache):
    """The module holds every property of the configuration; a search asks for some."""
    needs_compiler()
    from deliverycheck.native.search import load
    cfg = Config.of("exactly-once")
    sy = System(SPEC, cfg)
    assert not load(sy, sy.properties).cached
    for names in (["no_aborted_read", "witness_commit"], ["no_hanging_transaction"]):
        props = [sy.spec.property(n) for n in names]
        assert load(sy, props).cached
        nat = explore(System(SPEC, cfg), props, backend="native")
        py = explore(System(SPEC, cfg), props, backend="python")
        assert nat.violations == py.violations and set(nat.checked) == set(names)
        assert nat.states == py.states
    assert len(list(cache.glob("*.so"))) == 1


def test_a_default_bounds_module_is_built_quickly_and_a_bigger_world_at_o1():
    from deliverycheck.native.build import FLAGS, QUICK_FLAGS, flags_for
    from deliverycheck.native.search import module_of
    small = module_of(system("exactly-once"), []).source
    big = module_of(system("exactly-once", records=3), []).source
    assert flags_for(small) == QUICK_FLAGS and "-O0" in QUICK_FLAGS
    assert flags_for(big) == FLAGS and "-O1" in FLAGS
