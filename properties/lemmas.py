"""Strengthening lemmas: invariants that make the promises provable by k-induction.

A promise like ``in_order`` holds in every reachable state, but it is not
*inductive*: some unreachable state satisfies it and has a step out of it
(a request for a batch slot never created, a leader that forgot a PID it
logged).  ``deliverycheck prove`` strengthens the promise with the lemmas
listed in :data:`STRENGTHENING` and proves the conjunction.  Each lemma is
an ordinary ``always`` property: ``deliverycheck verify`` checks it like any
promise, and expected.toml records its verdicts.

The idempotent producer's argument, in four lemmas (docs/protocol.md §4, KIP-98):

* every batch the network or a log mentions was created by the producer;
* the producer hands out (epoch, sequence) *keys* in increasing order per
  PID and partition: send order is key order;
* the leader remembers, for every batch it logged, a key at least as large;
* so an append (which needs a key above the leader's) is a batch sent
  after everything already logged for that PID, and never a logged one.
"""

from __future__ import annotations

from typing import Any

from deliverycheck.core.ops import all_, and_, any_, get, implies, ite, or_
from deliverycheck.core.spec import always
from deliverycheck.model.modes import pipeline
from deliverycheck.model.state import UNUSED, batch_in

from . import lemmas_txn


def _sequenced(cfg: Any) -> bool:
    """Configurations whose batches carry sequence numbers (idempotent delivery path)."""
    return pipeline(cfg) and cfg.mode.idempotence


def _key_below(e1: Any, q1: Any, e2: Any, q2: Any) -> Any:
    """(epoch e1, sequence q1) comes strictly before (e2, q2)."""
    return or_(e1 < e2, and_(e1 == e2, q1 < q2))


def _same_partition(s: Any, c: Any, k: int, j: int) -> Any:
    return any_(and_(batch_in(s, c, k, p), batch_in(s, c, j, p)) for p in range(c.bounds.partitions))


@always(scope=_sequenced, claims=("idempotent",))
def lemma_batches_exist(s, c):
    """Every batch a request or a log entry names was created.

    Batch ids in the network and in the logs are below the number of
    batches created, every log entry below the log end names a batch, and
    the producer's table holds nothing past the batches it created.
    """
    made = s.nbatches
    B, P = c.bounds.batches, c.bounds.partitions
    return and_(
        all_(implies(s.rq_batch[p][i] != 0, s.rq_batch[p][i] <= made)
             for p in range(P) for i in range(c.bounds.channel)),
        all_(implies(i < s.log_len[p], and_(s.log[p][i] != 0, s.log[p][i] <= made))
             for p in range(P) for i in range(c.bounds.log)),
        all_(ite(k < made, s.b_rec[k] != 0, s.b_state[k] == UNUSED) for k in range(B)))


@always(scope=_sequenced, claims=("idempotent",))
def lemma_keys_follow_send_order(s, c):
    """Per PID and partition, a batch sent later has a larger (epoch, sequence) key.

    Sequence numbers rise by one per batch and restart at 0 only with a
    bumped epoch (KIP-360); a new session has a new PID.  Also: the
    producer's next key is above every key it has handed out.
    """
    B = c.bounds.batches
    made = s.nbatches
    order = all_(implies(and_(j < made, s.b_pid[k] == s.b_pid[j], _same_partition(s, c, k, j)),
                         _key_below(s.b_epoch[k], s.b_seq[k], s.b_epoch[j], s.b_seq[j]))
                 for j in range(B) for k in range(j))
    ahead = all_(implies(and_(k < made, batch_in(s, c, k, p)),
                         and_(s.b_pid[k] <= s.session,
                              implies(s.b_pid[k] == s.session,
                                      _key_below(s.b_epoch[k], s.b_seq[k], s.epoch, s.next_seq[p]))))
                 for k in range(B) for p in range(c.bounds.partitions))
    return and_(order, ahead)


@always(scope=_sequenced, claims=("idempotent",))
def lemma_leader_remembers_logged(s, c):
    """For every logged batch, the leader holds its PID's state with a key at least as large.

    ProducerStateManager keeps the epoch and last sequence per PID; an
    append only moves them forward.  (With producer-state expiry, off by
    default, the leader forgets, and this fails: that is the point of
    expiry being a fault.)
    """
    def remembered(p, e):
        k = e - 1
        pid = get(s.b_pid, k)
        st_epoch, last = get(s.ps_epoch[p], pid), get(s.ps_seq[p], pid)
        return and_(get(s.ps_known[p], pid),
                    or_(get(s.b_epoch, k) < st_epoch,
                        and_(get(s.b_epoch, k) == st_epoch, get(s.b_seq, k) <= last)))
    return all_(implies(i < s.log_len[p], remembered(p, s.log[p][i]))
                for p in range(c.bounds.partitions) for i in range(c.bounds.log))


PROPERTIES = [lemma_batches_exist, lemma_keys_follow_send_order, lemma_leader_remembers_logged]

# target property -> the lemmas ``deliverycheck prove`` strengthens it with
# (those of the exactly-once proofs are in lemmas_txn.py)
STRENGTHENING: dict[str, tuple[str, ...]] = {
    "no_duplicate_send": ("lemma_batches_exist", "lemma_keys_follow_send_order",
                          "lemma_leader_remembers_logged"),
    "in_order": ("lemma_batches_exist", "lemma_keys_follow_send_order",
                 "lemma_leader_remembers_logged"),
    **lemmas_txn.STRENGTHENING,
}
