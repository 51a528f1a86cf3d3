"""The two-phase commit spec (Lamport's TwoPhase.tla) in deliverycheck's vocabulary.

A toy with a known answer for the explorer: with three resource managers it
has exactly 288 reachable states, and TCConsistent (no RM committed while
another aborted) holds.  ``broken=True`` lets the TM commit without waiting
for every RM to prepare, which breaks TCConsistent.
"""

from __future__ import annotations

from dataclasses import dataclass

from deliverycheck.core.ops import all_, and_, any_, implies, not_
from deliverycheck.core.schema import Schema, flag, num
from deliverycheck.core.spec import Effect, Spec, action, always, sometimes

WORKING, PREPARED, COMMITTED, ABORTED = range(4)
INIT, TM_COMMITTED, TM_ABORTED = range(3)


@dataclass(frozen=True)
class TPConfig:
    rms: int = 3
    broken: bool = False


def RMS(c):
    return range(c.rms)


def schema(c):
    n = c.rms
    return Schema([
        num("rm_state", 3, "working/prepared/committed/aborted", shape=(n,)),
        num("tm_state", 2, "init/committed/aborted"),
        flag("tm_prepared", "the TM has received Prepared from rm", shape=(n,)),
        flag("msg_prepared", "a Prepared message from rm is in msgs", shape=(n,)),
        flag("msg_commit", "the Commit message is in msgs"),
        flag("msg_abort", "the Abort message is in msgs"),
    ])


@action(rm=RMS)
def tm_rcv_prepared(s, c, rm):
    """The TM receives a Prepared message from resource manager rm."""
    return Effect(when=and_(s.tm_state == INIT, s.msg_prepared[rm]),
                  then={("tm_prepared", rm): True})


@action()
def tm_commit(s, c):
    """The TM commits once every RM has prepared."""
    ready = True if c.broken else all_(s.tm_prepared)
    return Effect(when=and_(s.tm_state == INIT, ready),
                  then={"tm_state": TM_COMMITTED, "msg_commit": True})


@action()
def tm_abort(s, c):
    """The TM spontaneously aborts."""
    return Effect(when=s.tm_state == INIT, then={"tm_state": TM_ABORTED, "msg_abort": True})


@action(rm=RMS)
def rm_prepare(s, c, rm):
    """Resource manager rm prepares and tells the TM."""
    return Effect(when=s.rm_state[rm] == WORKING,
                  then={("rm_state", rm): PREPARED, ("msg_prepared", rm): True})


@action(rm=RMS)
def rm_choose_to_abort(s, c, rm):
    """Resource manager rm spontaneously aborts."""
    return Effect(when=s.rm_state[rm] == WORKING, then={("rm_state", rm): ABORTED})


@action(rm=RMS)
def rm_rcv_commit_msg(s, c, rm):
    """Resource manager rm receives the Commit message."""
    return Effect(when=s.msg_commit, then={("rm_state", rm): COMMITTED})


@action(rm=RMS)
def rm_rcv_abort_msg(s, c, rm):
    """Resource manager rm receives the Abort message."""
    return Effect(when=s.msg_abort, then={("rm_state", rm): ABORTED})


@always()
def tc_consistent(s, c):
    """No resource manager has committed while another has aborted."""
    return all_(implies(s.rm_state[a] == ABORTED, s.rm_state[b] != COMMITTED)
                for a in RMS(c) for b in RMS(c))


@sometimes()
def all_committed(s, c):
    """Every resource manager commits."""
    return all_(x == COMMITTED for x in s.rm_state)


@sometimes()
def impossible(s, c):
    """A committed TM that sent an Abort message (never happens)."""
    return and_(s.tm_state == TM_COMMITTED, s.msg_abort, not_(any_([False])))


SPEC = Spec("two-phase-commit", schema, lambda c: {},
            [tm_rcv_prepared, tm_commit, tm_abort, rm_prepare, rm_choose_to_abort,
             rm_rcv_commit_msg, rm_rcv_abort_msg],
            [tc_consistent, all_committed, impossible])
