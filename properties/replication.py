"""What replication promises: what a consumer read stays, in-sync replicas agree, a leader exists.

These speak of partitions whose leader can change (model/partition.py):
replicated ones, or one replica whose crash can lose unflushed data; the
delivery path's partitions, and (``replicas_agree``, ``available``,
``witness_truncation``, ``witness_txn_failover``) the exactly-once world's
output partitions.  The loss of acknowledged records is ``acked_in_log``
(properties/delivery.py), which reads the log of whichever replica leads;
the exactly-once promises (properties/exactly_once.py) read the output
partitions' leaders.  ``available`` is about availability, not safety, and
is reported apart from the rest.
"""

from __future__ import annotations

from deliverycheck.core.ops import all_, and_, any_, implies, not_, or_
from deliverycheck.core.spec import always, sometimes
from deliverycheck.model.partition import (OFFSETS, PARTS, REPLICAS, entry_columns, eligible, failover,
                                           failover_pipeline, leader_entry, leads, online,
                                           replicated, replicated_pipeline, replicated_txn)
from deliverycheck.model.state import ACKED

from deliverycheck.model import broker_txn

from deliverycheck.model.variants import VARIANTS

from .delivery import DELIVERY_MODES

# the delivery modes some default variant runs with replicated partitions (model/variants.py):
# the replication promises are claimed for them
REPLICATED_DELIVERY = tuple(m for m in DELIVERY_MODES
                            if any(v.replicated and m in v.checked_with for v in VARIANTS.values()))

# the exactly-once mode whose default variants include a replicated one (model/variants.py)
REPLICATED_EOS = ("exactly-once",)

# what an entry holds, compared between replicas: not its history columns, nor the leader
# epoch it was appended in (the same record may be copied in a later epoch's batch)
_NOT_DATA = ("ent_tag", "ent_stale", "lep")


def _data_columns(c):
    return [col for col in entry_columns(c) if col not in _NOT_DATA]


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


def _differ(s, c, p, r, l, j):
    """Replica ``r``'s entry ``j`` of ``p`` differs from replica ``l``'s."""
    return or_(*(getattr(s, col)[p][r][j] != getattr(s, col)[p][l][j] for col in _data_columns(c)))


def _explain_disagree(s, c):
    out = []
    for p in PARTS(c):
        for l in REPLICAS(c):
            if not leads(s, p, l):
                continue
            for r in REPLICAS(c):
                bad = [j for j in range(s.hw[p][l]) if s.isr[p][r] and _differ(s, c, p, r, l, j)]
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
            for p in PARTS(c) if not online(s, c, p)]


@always(scope=failover_pipeline, claims=REPLICATED_DELIVERY, explain=_explain_phantom)
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


@always(scope=replicated, claims=(*REPLICATED_DELIVERY, *REPLICATED_EOS), explain=_explain_disagree)
def replicas_agree(s, c):
    """The replicas of the ISR agree on every offset below the high watermark.

    Every replica in the leader's ISR holds the same entry as the leader at
    every offset below the leader's high watermark: what is committed is
    the same on every replica that may become leader cleanly.
    """
    return all_(implies(and_(leads(s, p, l), s.isr[p][r], j < s.hw[p][l]),
                        not_(_differ(s, c, p, r, l, j)))
                for p in PARTS(c) for l in REPLICAS(c) for r in REPLICAS(c)
                if r != l for j in OFFSETS(c))


@always(scope=failover, claims=(*REPLICATED_DELIVERY, *REPLICATED_EOS), explain=_explain_offline,
        aspect="availability")
def available(s, c):
    """While a broker of a partition runs, the partition has a leader or can get one.

    Availability, not safety: a partition whose leader crashed is offline
    until the controller elects another replica; it stays offline while no
    running replica may be elected (the ISR's members are all down and
    unclean election is off, the "last replica standing").  Every broker
    down is not counted: then no configuration could help.
    """
    return all_(implies(any_(s.up), or_(online(s, c, p), *(eligible(s, c, p, r) for r in REPLICAS(c))))
                for p in PARTS(c))


# -- witnesses: the failover really happens ----------------------------------------

@sometimes(scope=failover_pipeline, claims=REPLICATED_DELIVERY)
def witness_failover(s, c):
    """A partition's leader fails and a new one is elected, holding a record the application was
    told is written."""
    return any_(and_(s.lepoch[p] >= 1, online(s, c, p),
                     any_(and_(s.b_state[k] == ACKED, leader_entry(s, c, p, j) == k + 1)
                          for k in range(c.bounds.batches) for j in range(c.bounds.log)))
                for p in range(c.bounds.partitions))


@sometimes(scope=replicated_pipeline, claims=REPLICATED_DELIVERY)
def witness_replicated(s, c):
    """A follower in the ISR holds a record below the leader's high watermark (it is committed)."""
    return any_(and_(leads(s, p, l), s.isr[p][r], s.hw[p][l] >= 1, s.log[p][r][0] != 0)
                for p in range(c.bounds.partitions) for l in REPLICAS(c) for r in REPLICAS(c)
                if r != l)


@sometimes(scope=failover, claims=(*REPLICATED_DELIVERY, *REPLICATED_EOS))
def witness_truncation(s, c):
    """A replica removes entries from its log (truncation after a failover, or a lost suffix)."""
    return s.g_truncated


@sometimes(scope=failover_pipeline, claims=REPLICATED_DELIVERY)
def witness_read_kept(s, c):
    """After a failover the new leader still holds a record the consumer was returned."""
    return any_(and_(s.lepoch[p] >= 1, online(s, c, p),
                     any_(and_(g != 0, leader_entry(s, c, p, j) == g) for j, g in enumerate(s.g_read[p])))
                for p in range(c.bounds.partitions))


@sometimes(scope=replicated_txn, claims=REPLICATED_EOS)
def witness_txn_failover(s, c):
    """A record an output partition's old leader appended survives its failover: the reader is
    returned it, committed, from a leader of a later leader epoch."""
    return any_(and_(broker_txn.col(s, c, "lep", o)[j] < s.lepoch[o], broker_txn.fetched(s, c, o, j))
                for o in PARTS(c) for j in OFFSETS(c))


PROPERTIES = [no_phantom_read, replicas_agree, available, witness_failover, witness_replicated,
              witness_truncation, witness_read_kept, witness_txn_failover]
