"""Properties and expectations: the promises, the manifest, and what the checker finds."""

from __future__ import annotations

import pytest

from conftest import run, system

from deliverycheck.catalog import SPEC
from deliverycheck.core.spec import KINDS
from deliverycheck.expected import ExpectationError, load
from deliverycheck.model import MODES, VARIANTS


def test_every_property_is_documented_and_named_stably():
    names = [p.name for p in SPEC.properties]
    assert len(set(names)) == len(names)
    for p in SPEC.properties:
        assert p.kind in KINDS and p.doc and p.name.islower()
        assert set(p.claims) <= set(MODES), p.name


def _default_pairs():
    from deliverycheck.verify import plan
    return plan(list(MODES), list(VARIANTS), False)


def _on_request_pairs(exp):
    """Default-world expectations beyond the default plan: rows too big for every run (a variant
    that lists no mode to run with by default), checked with ``--variant``."""
    from deliverycheck.model.variants import relevant
    extra = set(exp.default) - set(_default_pairs())
    for mode, variant in extra:
        assert not VARIANTS[variant].checked_with, (mode, variant, "a stale expectation")
        assert relevant(VARIANTS[variant], MODES[mode].transactional), (mode, variant)
    return extra


def test_expected_covers_every_checked_mode_variant_and_property():
    """Every pair ``deliverycheck verify`` checks by default, and every row run on request, has
    every verdict pinned."""
    from deliverycheck.model import Config
    exp = load(modes=MODES, variants=list(VARIANTS), kinds={p.name: p.kind for p in SPEC.properties})
    assert set(_default_pairs()) <= set(exp.default)
    for mode, variant in _default_pairs() + sorted(_on_request_pairs(exp)):
        e = exp.default[(mode, variant)]
        props = [p for p in SPEC.properties if p.applies(Config.of(mode, variant))]
        assert set(e.verdicts) == {p.name for p in props}, (mode, variant)
        assert e.states and e.depth
        # every counterexample and witness has a pinned length
        for p in props:
            found = e.verdicts[p.name] in ("violated", "reached")
            assert (p.name in e.lengths) == found, (mode, variant, p.name)


def test_named_worlds_pin_what_they_list():
    """Each named world is a real set of bounds and pins every verdict of the pairs it lists."""
    from deliverycheck.model import Config
    from deliverycheck.model.bounds import for_mode
    exp = load(modes=MODES, variants=list(VARIANTS), kinds={p.name: p.kind for p in SPEC.properties})
    assert exp.worlds, "expected.toml names the README tour's extra worlds"
    for name, world in exp.worlds.items():
        assert world.about, name
        for (mode, variant), e in exp.named[name].items():
            bounds = for_mode(MODES[mode], VARIANTS[variant], **world.bounds)
            assert bounds != for_mode(MODES[mode], VARIANTS[variant]), (name, mode)
            assert exp.find(MODES[mode], variant, bounds) is e
            props = [p for p in SPEC.properties if p.applies(Config(MODES[mode], VARIANTS[variant], bounds))]
            assert set(e.verdicts) == {p.name for p in props}, (name, mode, variant)


def test_claimed_promises_are_expected_to_hold():
    """A mode that claims a promise is expected to keep it (else the claim is a lie): with
    today's Kafka, or, for a promise about replication, in some replicated configuration; a
    claim today's Kafka is known to break (OPEN_BUGS, with its report) is expected broken."""
    from deliverycheck.properties.delivery import OPEN_BUGS
    exp = load()
    pairs = _default_pairs()
    for p in SPEC.properties:
        for mode in p.claims:
            want = "reached" if p.kind == "sometimes" else "holds"
            if (mode, p.name) in OPEN_BUGS:
                want = "violated"
            where = [v for m, v in pairs if m == mode and p.name in exp.default[(m, v)].verdicts]
            assert where, (mode, p.name)
            kept = ["current"] if "current" in where else where
            assert any(exp.default[(mode, v)].verdicts[p.name] == want for v in kept), (mode, p.name)


def test_every_promise_has_reachability_witnesses():
    """No promise holds vacuously: every mode reaches the witnesses it claims, in every variant."""
    exp = load()
    for mode, variant in _default_pairs():
        witnesses = [p for p in SPEC.properties if p.kind == "sometimes" and mode in p.claims
                     and p.name in exp.default[(mode, variant)].verdicts]
        assert witnesses, mode
        for w in witnesses:
            assert exp.default[(mode, variant)].verdicts[w.name] == "reached", (mode, variant, w.name)


@pytest.mark.parametrize("text,message", [
    ('["idempotent".current.verdicts]\nno_loss = "maybe"\n',
     "no_loss is a final property: use 'holds' or 'violated'"),
    ('["idempotent".current.verdicts]\nwitness_dedup = "holds"\n', "use 'reached' or 'unreachable'"),
    ('["idempotent".current.verdicts]\nno_such = "holds"\n', "unknown property"),
    ('[worlds.big]\nabout = "x"\n["worlds".big.idempotent.current]\nstates = 3\n',
     r"\[worlds.big\] needs bounds"),
    ('[worlds.big]\nbounds = { recs = 3 }\n', "unknown bound 'recs'"),
    ('[worlds.big]\nbounds = { records = 3 }\n', "lists no mode and variant"),
    ("not toml [", "cannot read"),
])
def test_malformed_expectations_are_reported(tmp_path, text, message):
    bad = tmp_path / "e.toml"
    bad.write_text(text)
    with pytest.raises(ExpectationError, match=message):
        load(bad, kinds={p.name: p.kind for p in SPEC.properties})


def test_default_bounds_match_the_manifest(default_runs):
    """The whole verification at the default bounds agrees with expected.toml."""
    assert len(default_runs) == len(_default_pairs())
    for mode, r in default_runs.items():
        assert r.exploration.complete, mode
        assert r.matches, [(x.property, x.differs, x.figures) for x in r.results if not x.matches] + r.figures
        assert not r.exploration.coverage.blocked, "default bounds must not truncate the search"
        # every action fires, or expected.toml says which never do and why
        pinned = r.expected.never_fired if r.expected is not None else None
        assert r.exploration.coverage.never_fired() == (pinned or []), mode


def test_acked_in_log_is_checked_at_every_step_not_only_at_the_end():
    sy = system("at-least-once")
    s = run(sy, ["producer_send(r=0, k=0)", "broker_append(p=0, i=0, k=0, r=0)",
                 "producer_receive(p=0, i=0, k=0)"])
    assert sy.holds("acked_in_log", s)
    # an acked batch missing from the log (a state only a broken model reaches)
    d = sy.schema.decode(s)
    d["log"], d["log_len"] = [[[0] * 6]], [[0]]
    assert not sy.holds("acked_in_log", sy.schema.encode(d))


def test_in_order_compares_only_one_producer_session():
    sy = system("idempotent")
    d = sy.schema.decode(sy.init)
    d.update(b_rec=[1, 2, 0, 0, 0, 0], b_pid=[1, 0, 0, 0, 0, 0], log=[[[1, 2, 0, 0, 0, 0]]],
             log_len=[[2]], hw=[[2]])
    assert sy.holds("in_order", sy.schema.encode(d))             # different PIDs: no order promised
    d.update(b_pid=[0, 0, 0, 0, 0, 0], log=[[[2, 1, 0, 0, 0, 0]]])
    assert not sy.holds("in_order", sy.schema.encode(d))         # same PID, b2 before b1


@pytest.mark.parametrize("bounds,prop", [
    ({"faults": 0}, "no_duplicate_log"),
    ({"faults": 0}, "no_duplicate_output"),
])
def test_without_faults_at_least_once_keeps_what_faults_break(bounds, prop):
    from deliverycheck.core.system import System
    from deliverycheck.engines.explore import explore
    from deliverycheck.model import Config
    sy = System(SPEC, Config.of("at-least-once", **bounds))
    ex = explore(sy, [SPEC.property(prop)])
    assert ex.complete and prop not in ex.violations


@pytest.mark.parametrize("variant,broken", [("pre-2.4-retention", True), ("current", False)])
def test_producer_state_expiry_breaks_deduplication_only_while_the_producer_retries(variant, broken):
    """docs/protocol.md, producer state expiry: once the leader forgot the PID, a late retry is
    appended twice; today's Kafka forgets only an idle producer, so nothing is left to retry."""
    from deliverycheck.core.system import System
    from deliverycheck.engines.explore import explore
    from deliverycheck.model import Config
    sy = System(SPEC, Config.of("idempotent", variant, expiries=1, faults=1))
    ex = explore(sy, [SPEC.property("no_duplicate_send")])
    assert ex.complete and ("no_duplicate_send" in ex.violations) == broken
    if broken:
        assert len(ex.path(ex.violations["no_duplicate_send"])) == 6
    assert ex.coverage.new["broker_expire_producer"] > 0     # the state does go, in both


@pytest.mark.parametrize("knob", ["group_metadata", "stable_offsets"])
def test_rebalance_fenced_needs_both_halves_of_kip_447(knob):
    """Without the generation check, or without the stable-offset fetch, the old owner commits
    after the new one took the input over; with both (today's Kafka) it never does."""
    from dataclasses import replace
    from deliverycheck.core.system import System
    from deliverycheck.engines.explore import explore
    from deliverycheck.model import VARIANTS, Config
    from deliverycheck.model.bounds import for_mode
    from deliverycheck.model.modes import MODES
    mode = MODES["eos-per-instance-id"]
    prop = [SPEC.property("rebalance_fenced")]
    variant = replace(VARIANTS["current"], name=f"no-{knob}", **{knob: False})
    ex = explore(System(SPEC, Config(mode, variant, for_mode(mode, variant))), prop)
    assert ex.complete and "rebalance_fenced" in ex.violations


def test_model_guide_names_every_action_and_property():
    """docs/model.md stays true to the model: every name is explained there."""
    from pathlib import Path
    guide = (Path(__file__).parents[1] / "docs" / "model.md").read_text()
    for a in SPEC.actions:
        assert f"**{a.name}(" in guide, a.name
    for p in SPEC.properties:
        assert f"**{p.name}**" in guide, p.name


def test_every_counterexample_says_what_is_wrong_at_its_end(default_runs):
    """A property's explain() agrees with its predicate: each of its counterexamples gets a fact."""
    from deliverycheck.render.story import wrong_at_end
    explained = 0
    for run_ in default_runs.values():
        for r in run_.results:
            prop = SPEC.property(r.property)
            if r.verdict == "violated" and r.shown is not None and prop.explain is not None:
                facts = wrong_at_end(r.shown)
                assert facts, f"{r.mode}/{r.variant} {r.property}: explain() found nothing wrong"
                explained += 1
    assert explained >= 25
    from deliverycheck.properties import LEMMAS
    promises = [p for p in SPEC.properties if p.kind != "sometimes" and p.name not in LEMMAS]
    assert all(p.explain is not None for p in promises), [p.name for p in promises if not p.explain]
