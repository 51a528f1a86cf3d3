"""What replication promises: what a consumer read stays, in-sync replicas agree, a leader exists.

These speak of partitions whose leader can change (model/partition.py):
replicated ones, or one replica whose crash can lose unflushed data.  The
loss of acknowledged records is ``acked_in_log`` (properties/delivery.py),
which reads the log of whichever replica leads.  ``available`` is about
availability, not safety, and is reported apart from the rest.
"""

from __future__ import annotations

from deliverycheck.core.ops import all_, and_, any_, implies, or_
from deliverycheck.core.spec import always, sometimes
from deliverycheck.model.partition import (REPLICAS, eligible, failover, leader_entry, leads,
                                           online, replicated)
from deliverycheck.model.state import ACKED

from .delivery import DELIVERY_MODES


def _explain_phantom(s, c):
    out = []
    for p, row in enumerate(s.g_read):
        for j, k in enumerate(row):
            now = leader_entry(s, c, p, j)
            if k and online(s, c, p) and now != k:
                there = f"b{now} (r{s.b_rec[now - 1]})" if now else "nothing"
                out.append(f"the consumer was returned b{k} (r{s.b_rec[k - 1]}) at offset {j} of "
                           f"partition {p}; the leader now has {there} there")
    return out


def _explain_disagree(s, c):
    out = []
    for p in range(c.bounds.partitions):
        for l in REPLICAS(c):
            if not leads(s, p, l):
                continue
            for r in REPLICAS(c):
                bad = [j for j in range(s.hw[p][l]) if s.isr[p][r] and s.log[p][r][j] != s.log[p][l][j]]
                if bad:
                    out.append(f"replica {r} of partition {p} is in the ISR but differs from the "
                               f"leader (replica {l}) at offset{'s' if len(bad) > 1 else ''} "
                               f"{', '.join(map(str, bad))}, below the high watermark {s.hw[p][l]}")
    return out


def _explain_offline(s, c):
    return [f"partition {p} has no leader and no replica the controller may elect, though "
            f"broker{'s' if sum(s.up) > 1 else ''} "
            f"{', '.join(str(b) for b, up in enumerate(s.up) if up)} "
            f"{'are' if sum(s.up) > 1 else 'is'} running"
            for p in range(c.bounds.partitions) if not online(s, c, p)]


@always(scope=failover, claims=DELIVERY_MODES, explain=_explain_phantom)
def no_phantom_read(s, c):
    """A record the consumer was returned is never taken away later.

    For every offset at which a ``poll()`` returned a record, the log of
    whichever replica leads the partition still holds that record there (a
    *phantom read* otherwise: the application acted on a record the
    partition no longer has, and a later reader will see something else).
    """
    return all_(implies(and_(s.g_read[p][j] != 0, online(s, c, p)),
                        leader_entry(s, c, p, j) == s.g_read[p][j])
                for p in range(c.bounds.partitions) for j in range(c.bounds.log))


@always(scope=replicated, claims=DELIVERY_MODES, explain=_explain_disagree)
def replicas_agree(s, c):
    """The replicas of the ISR agree on every offset below the high watermark.

    Every replica in the leader's ISR holds the same entry as the leader at
    every offset below the leader's high watermark: what is committed is
    the same on every replica that may become leader cleanly.
    """
    return all_(implies(and_(leads(s, p, l), s.isr[p][r], j < s.hw[p][l]),
                        s.log[p][r][j] == s.log[p][l][j])
                for p in range(c.bounds.partitions) for l in REPLICAS(c) for r in REPLICAS(c)
                if r != l for j in range(c.bounds.log))


@always(scope=failover, claims=DELIVERY_MODES, explain=_explain_offline, aspect="availability")
def available(s, c):
    """While a broker of a partition runs, the partition has a leader or can get one.

    Availability, not safety: a partition whose leader crashed is offline
    until the controller elects another replica; it stays offline while no
    running replica may be elected (the ISR's members are all down and
    unclean election is off, the "last replica standing").  Every broker
    down is not counted: then no configuration could help.
    """
    return all_(implies(any_(s.up), or_(online(s, c, p), *(eligible(s, c, p, r) for r in REPLICAS(c))))
                for p in range(c.bounds.partitions))


# -- witnesses: the failover really happens ----------------------------------------

@sometimes(scope=failover, claims=DELIVERY_MODES)
def witness_failover(s, c):
    """A partition's leader fails and a new one is elected, holding a record the application was
    told is written."""
    return any_(and_(s.lepoch[p] >= 1, online(s, c, p),
                     any_(and_(s.b_state[k] == ACKED, leader_entry(s, c, p, j) == k + 1)
                          for k in range(c.bounds.batches) for j in range(c.bounds.log)))
                for p in range(c.bounds.partitions))


@sometimes(scope=replicated, claims=DELIVERY_MODES)
def witness_replicated(s, c):
    """A follower in the ISR holds a record below the leader's high watermark (it is committed)."""
    return any_(and_(leads(s, p, l), s.isr[p][r], s.hw[p][l] >= 1, s.log[p][r][0] != 0)
                for p in range(c.bounds.partitions) for l in REPLICAS(c) for r in REPLICAS(c)
                if r != l)


@sometimes(scope=failover, claims=DELIVERY_MODES)
def witness_truncation(s, c):
    """A replica removes entries from its log (truncation after a failover, or a lost suffix)."""
    return s.g_truncated


@sometimes(scope=failover, claims=DELIVERY_MODES)
def witness_read_kept(s, c):
    """After a failover the new leader still holds a record the consumer was returned."""
    return any_(and_(s.lepoch[p] >= 1, online(s, c, p),
                     any_(and_(g != 0, leader_entry(s, c, p, j) == g) for j, g in enumerate(s.g_read[p])))
                for p in range(c.bounds.partitions))


PROPERTIES = [no_phantom_read, replicas_agree, available, witness_failover, witness_replicated,
              witness_truncation, witness_read_kept]
