"""The exactly-once world's names, read from decoded states: for stories and sequence diagrams.

Instances are I1, I2 (instance 0 and 1, also their lane ids); output
partitions o0, o1 and the group's offsets partition; input records r1, r2,
...; transaction attempts #1, #2, ... (history tags).  Every fact these
helpers state is read from the transition (model/telling.py): the requests
put on the wire, the stage an instance was moved to, the partitions added.
Each actor's module tells and draws its own steps with them.
"""

from __future__ import annotations

from typing import Any

from .telling import GROUP, changed, listing, sent
from .txn_state import ABORTABLE, END_KINDS, OFFSETS, PREP_ABORT, PREP_COMMIT, STAGES, STOPPED, epoch_name

PART_NAMES = ("o0", "o1", "offsets")
MARKER_KINDS = {2: "COMMIT", 3: "ABORT"}     # txn_state.COMMIT, ABORT
TC = "TC"          # the transaction coordinator's lane
READER = "R"       # the downstream reader's lane


def inst(i: int) -> str:
    """Lane id of processor instance ``i`` (0-based): I1, I2."""
    return f"I{i + 1}"


def out(o: int) -> str:
    """Lane id of output partition ``o``'s leader; the offsets partition is the group coordinator's."""
    return GROUP if o == OFFSETS else f"O{o}"


def out_lane(c: Any, o: int, d: Any) -> str | None:
    """Lane of output ``o``'s leader in state ``d`` (a decoded dict or a state view; None while
    it has none): with replicas, the leader's broker."""
    if o == OFFSETS or not c.variant.replicated:
        return out(o)
    from .partition import lane
    r = d["leader"][o] if isinstance(d, dict) else d.leader[o]
    return lane(c, o, r) if r < c.variant.replicas else None


def fenced_now(b: dict, x: dict, i: int) -> bool:
    """The step fenced instance ``i``: it stopped."""
    return x["ps_stage"][i] == STOPPED != b["ps_stage"][i]


def late(live: int) -> str:
    """`` (late: its sender gave up on it)`` for a request whose sender no longer waits."""
    return "" if live else " (late: its sender gave up on it)"


def produce_msgs(s: dict, o: int, i: int) -> list:
    """The produce requests from instance ``i`` to output ``o`` (the channel's rows)."""
    return [s["rq_rec"][o][i], s["rq_epoch"][o][i], s["rq_live"][o][i], s["rq_tag"][o][i],
            s["rq_seq"][o][i]]


def end_msgs(s: dict, i: int) -> list:
    """The EndTxn requests of instance ``i`` (the channel's rows)."""
    return [s["et_kind"][i], s["et_epoch"][i], s["et_live"][i]]


def marker_msgs(s: dict, p: int) -> list:
    """The WriteTxnMarkers requests to partition ``p`` (the channel's rows)."""
    return [s["mk_kind"][p], s["mk_pid"][p], s["mk_epoch"][p], s["mk_cepoch"][p]]


def told_stage(b: dict, x: dict, i: int) -> str:
    """What instance ``i`` was told, as the stage the step moved it to ("" if none)."""
    if x["ps_stage"][i] == b["ps_stage"][i]:
        return ""
    if x["ps_stage"][i] == STOPPED:
        return f"; {inst(i)} is fenced and stops"
    if x["ps_stage"][i] == ABORTABLE:
        return f"; {inst(i)} must now abort"
    return f"; {inst(i)} is now {STAGES[x['ps_stage'][i]]}"


def produce_detail(c: Any, epoch: int, seq: int, tag: int) -> str:
    """``epoch 1, seq 0, attempt #1``: what a produce request carries, and whose attempt it is."""
    return f"{epoch_name(c, epoch)}, seq {seq}, attempt #{tag}"


def requests_sent(b: dict, x: dict, i: int, c: Any) -> list[str]:
    """``r1's output to o0 (epoch 1, seq 0, attempt #1)`` for each produce request instance ``i`` sent."""
    out = []
    for o in range(len(x["rq_rec"])):
        for rec, epoch, _, tag, seq in sent(produce_msgs(b, o, i), produce_msgs(x, o, i)):
            out.append(f"r{rec}'s output to o{o} ({produce_detail(c, epoch, seq, tag)})")
    return out


def end_sent(b: dict, x: dict, i: int, c: Any) -> str:
    """``EndTxn(commit, epoch 2)`` for the EndTxn request instance ``i`` sent, if any."""
    msgs = sent(end_msgs(b, i), end_msgs(x, i))
    return listing([f"EndTxn({END_KINDS[kind]}, {epoch_name(c, epoch)})" for kind, epoch, _ in msgs])


def added(b: dict, x: dict, t: int) -> list[str]:
    """The partitions the step added to transaction ``t`` at the coordinator."""
    return [PART_NAMES[p] for p in changed(b["tc_parts"][t], x["tc_parts"][t]) if x["tc_parts"][t][p]]


def marker_taken(b: dict, x: dict, p: int, t: int) -> bool:
    """Partition ``p`` took producer ``t``'s marker: its producer state changed."""
    return any(x[f][p][t] != b[f][p][t] for f in ("pst_first", "pst_epoch", "pst_cepoch"))


def marker_head(a, b, x, c, p, name, epoch_ok):
    """The head of a marker's sentence, and whether the partition's state changed.

    ``epoch_ok``: whether the partition's marker-epoch rule
    (``broker_txn.marker_epoch_ok``) let the marker's producer epoch through.
    """
    k, t = a["k"], a["t"]
    kind = MARKER_KINDS.get(b["mk_kind"][p][k], "?")
    head = (f"{name} gets the {kind} marker ({epoch_name(c, b['mk_epoch'][p][k])}, coordinator epoch "
            f"{b['mk_cepoch'][p][k]})")
    if marker_taken(b, x, p, t):
        return head, True
    # rejected: say what the partition had seen, as facts (the step changed nothing)
    why = []
    if b["mk_cepoch"][p][k] < b["pst_cepoch"][p][t]:
        why.append(f"it has seen coordinator epoch {b['pst_cepoch'][p][t]}")
    epoch, seen = b["mk_epoch"][p][k], b["pst_epoch"][p][t]
    if epoch < seen:
        why.append(f"it has seen producer {epoch_name(c, seen)}")
    elif not epoch_ok:
        why.append(f"its producer epoch is not above the {epoch_name(c, seen)} it has seen, as "
                   f"KIP-1228 requires")
    if why and b["tc_marked"][t][p] == x["tc_marked"][t][p] and b["mk_cepoch"][p][k] == b["tc_cepoch"] \
            and b["tc_state"][t] in (PREP_COMMIT, PREP_ABORT):
        why.append("the coordinator stops sending this transaction's markers")
    return f"{head}: nothing changes{' (' + '; '.join(why) + ')' if why else ''}", False
