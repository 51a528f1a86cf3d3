"""The exactly-once steps told as sentences, for counterexample stories.

Instances are I1, I2 (instance 0 and 1); output partitions o0, o1; input
records r1, r2, ...; transaction attempts #1, #2, ... (history tags).
Tellers read only the decoded states around the step, and every fact they
state is read from the transition (model/telling.py): the offset a record
was written at, the requests put on the wire, what an instance was told
(the stage it moved to), whether an offset became pending or committed.
"""

from __future__ import annotations

from .telling import teller
from .telling import changed, listing, sent, written
from .txn_state import (ABORTABLE, END_KINDS, PREP_FENCE, STAGES, STOPPED, TC_STATES,
                        WRITTEN, tid)

PARTS = ("o0", "o1", "offsets")
_KINDS = {2: "COMMIT", 3: "ABORT"}


def _inst(i: int) -> str:
    return f"I{i + 1}"


def _late(live: int) -> str:
    return "" if live else " (late: its sender gave up on it)"


def _produce(s: dict, o: int, i: int) -> list:
    return [s["rq_rec"][o][i], s["rq_epoch"][o][i], s["rq_live"][o][i], s["rq_tag"][o][i]]


def _ends(s: dict, i: int) -> list:
    return [s["et_kind"][i], s["et_epoch"][i], s["et_live"][i]]


def _markers(s: dict, p: int) -> list:
    return [s["mk_kind"][p], s["mk_pid"][p], s["mk_epoch"][p], s["mk_cepoch"][p]]


def _stage(b: dict, x: dict, i: int) -> str:
    """What instance ``i`` was told, as the stage the step moved it to ("" if none)."""
    if x["ps_stage"][i] == b["ps_stage"][i]:
        return ""
    if x["ps_stage"][i] == STOPPED:
        return f"; {_inst(i)} is fenced and stops"
    return f"; {_inst(i)} is now {STAGES[x['ps_stage'][i]]}"


def _requests_sent(b: dict, x: dict, i: int) -> list[str]:
    """``r1's output to o0 (epoch 1, attempt #1)`` for each produce request instance ``i`` sent."""
    out = []
    for o in range(len(x["rq_rec"])):
        for rec, epoch, _, tag in sent(_produce(b, o, i), _produce(x, o, i)):
            out.append(f"r{rec}'s output to o{o} (epoch {epoch}, attempt #{tag})")
    return out


def _end_sent(b: dict, x: dict, i: int) -> str:
    """``EndTxn(commit, epoch 2)`` for the EndTxn request instance ``i`` sent, if any."""
    msgs = sent(_ends(b, i), _ends(x, i))
    return listing([f"EndTxn({END_KINDS[kind]}, epoch {epoch})" for kind, epoch, _ in msgs])


def _added(b: dict, x: dict, t: int) -> list[str]:
    """The partitions the step added to transaction ``t`` at the coordinator."""
    return [PARTS[p] for p in changed(b["tc_parts"][t], x["tc_parts"][t]) if x["tc_parts"][t][p]]


@teller
def tell_processor_start(a, b, x, c):
    i = a["i"]
    others = [j for j in range(len(x["ps_stage"])) if j != i and b["ps_stage"][j] not in (0, STOPPED)]
    zombie = f"; {', '.join(_inst(j) for j in others)} still runs: a zombie" if others else ""
    return f"{_inst(i)} starts and joins the group (generation {x['gc_generation']}){zombie}"


@teller
def tell_processor_init(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    if x["ps_epoch"][i] != b["ps_epoch"][i]:
        return (f"{_inst(i)} calls initTransactions(): InitProducerId gives it epoch "
                f"{x['ps_epoch'][i]}, fencing every older instance")
    if x["tc_state"][t] == PREP_FENCE != b["tc_state"][t]:
        return (f"{_inst(i)} calls initTransactions(): the TC finds a transaction Ongoing, fences "
                f"it ({TC_STATES[PREP_FENCE]}, epoch {x['tc_epoch'][t]}) and answers "
                "CONCURRENT_TRANSACTIONS")
    return f"{_inst(i)} calls initTransactions(): it is answered, and nothing changes"


@teller
def tell_processor_fetch_offsets(a, b, x, c):
    i = a["i"]
    pos = x["ps_pos"][i]
    whose = "the committed input offset" if pos == x["gc_committed"] else \
        f"input offset (the committed offset is {x['gc_committed']})"
    return f"{_inst(i)} fetches offsets: its position becomes {pos}, {whose}"


@teller
def tell_processor_begin(a, b, x, c):
    i = a["i"]
    return (f"{_inst(i)} polls r{x['ps_pos'][i]} and begins a transaction "
            f"(attempt #{x['ps_tag'][i]})")


@teller
def tell_processor_send(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    added = _added(b, x, t)
    how = f"adds {listing(added)} to the transaction and " if added else ""
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        return f"{_inst(i)} tries to add o0, o1: PRODUCER_FENCED, it stops"
    what = _requests_sent(b, x, i)
    return f"{_inst(i)} {how}sends {listing(what) or 'nothing'}"


@teller
def tell_processor_send_offsets(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    added = " (the TC adds the offsets partition)" if _added(b, x, t) else ""
    facts = []
    if x["gc_pending"] != b["gc_pending"] and x["gc_pending"][t]:
        facts.append(f"offset {x['gc_pending'][t] - 1} is pending at the group")
    if x["gc_committed"] != b["gc_committed"]:
        facts.append(f"the committed offset becomes {x['gc_committed']}")
    if facts:
        return f"{_inst(i)} sends its offset to the transaction{added}: {listing(facts)}{_stage(b, x, i)}"
    if x["ps_lost"][i] and not b["ps_lost"][i]:
        return (f"{_inst(i)} sends its offset: ILLEGAL_GENERATION, it has lost the input "
                "and must abort")
    return f"{_inst(i)} sends its offset: rejected, nothing is stored{_stage(b, x, i)}"


@teller
def tell_processor_commit(a, b, x, c):
    i = a["i"]
    return f"{_inst(i)} calls commitTransaction(): {_end_sent(b, x, i) or 'no EndTxn is sent'}"


@teller
def tell_processor_abort(a, b, x, c):
    i = a["i"]
    why = " after an application error" if x["faults"] > b["faults"] else ""
    return (f"{_inst(i)} calls abortTransaction(){why}: {_end_sent(b, x, i) or 'no EndTxn is sent'} "
            f"for attempt #{b['ps_tag'][i]}")


@teller
def tell_processor_timeout(a, b, x, c):
    i = a["i"]
    premature = " while the request is still on its way" if x["faults"] > b["faults"] else ""
    again = _end_sent(b, x, i)
    if again:
        return f"{_inst(i)}'s EndTxn times out{premature}; it sends {again} again"
    if x["ps_stage"][i] == ABORTABLE != b["ps_stage"][i]:
        return (f"{_inst(i)}'s produce request times out{premature}: the transaction must "
                "abort")
    return f"{_inst(i)}'s request times out{premature}{_stage(b, x, i)}"


@teller
def tell_processor_commit_offsets(a, b, x, c):
    i = a["i"]
    if x["gc_committed"] != b["gc_committed"]:
        return f"{_inst(i)} calls commitSync() after the commit: committed offset {x['gc_committed']}"
    if x["ps_stage"][i] == STOPPED:
        return f"{_inst(i)} calls commitSync(): ILLEGAL_GENERATION, it has lost the input"
    return (f"{_inst(i)} calls commitSync() after the commit: the committed offset stays "
            f"{x['gc_committed']}{_stage(b, x, i)}")


@teller
def tell_coordinator_end_txn(a, b, x, c):
    i, k, t = a["i"], a["k"], tid(c, a["i"])
    kind, epoch = END_KINDS[b["et_kind"][i][k]], b["et_epoch"][i][k]
    head = f"the TC gets EndTxn({kind}, epoch {epoch}) from {_inst(i)}{_late(b['et_live'][i][k])}"
    if x["tc_state"][t] != b["tc_state"][t]:
        bump = (f", epoch bumped to {x['tc_epoch'][t]}" if x["tc_epoch"][t] != b["tc_epoch"][t]
                else "")
        return f"{head}: it writes {TC_STATES[x['tc_state'][t]]}{bump}"
    told = _stage(b, x, i)
    if x["ps_stage"][i] == STOPPED != b["ps_stage"][i]:
        return f"{head}: PRODUCER_FENCED{told}"
    return f"{head}: answered at once ({TC_STATES[b['tc_state'][t]]}){told}"


@teller
def tell_coordinator_log_written(a, b, x, c):
    t = a["t"]
    told = [f"{_inst(j)}, which is now {STAGES[x['ps_stage'][j]]}"
            for j in changed(b["ps_stage"], x["ps_stage"])]
    answer = f"; it answers {listing(told)}" if told else ""
    return (f"{TC_STATES[x['tc_state'][t]]} (epoch {x['tc_epoch'][t]}) is durable in "
            f"__transaction_state{answer}")


@teller
def tell_coordinator_send_markers(a, b, x, c):
    again = " again, as the new coordinator" if x["g_resent"] and not b["g_resent"] else ""
    out = []
    for p in range(len(x["mk_kind"])):
        for kind, _, epoch, cepoch in sent(_markers(b, p), _markers(x, p)):
            out.append((_KINDS.get(kind, kind), epoch, cepoch, PARTS[p]))
    if not out:
        return "the TC sends no marker"
    kinds = sorted({m[0] for m in out})
    return (f"the TC sends {'/'.join(kinds)} markers{again} (epoch {out[0][1]}, coordinator epoch "
            f"{out[0][2]}) to {listing([m[3] for m in out])}")


@teller
def tell_coordinator_complete(a, b, x, c):
    return f"every marker is written: the TC writes {TC_STATES[x['tc_state'][a['t']]]}"


@teller
def tell_coordinator_timeout(a, b, x, c):
    t = a["t"]
    return (f"transaction.timeout.ms expires: the TC fences the producer and moves the "
            f"transaction to {TC_STATES[x['tc_state'][t]]} (epoch {x['tc_epoch'][t]})")


@teller
def tell_coordinator_failover(a, b, x, c):
    states = ", ".join(TC_STATES[s] for s in x["tc_state"])
    return (f"the TC fails over: the new one (coordinator epoch {x['tc_cepoch']}) reloads "
            f"{states} from the log")


@teller
def tell_broker_append_txn(a, b, x, c):
    o, i, k = a["o"], a["i"], a["k"]
    rec, epoch, live = b["rq_rec"][o][i][k], b["rq_epoch"][o][i][k], b["rq_live"][o][i][k]
    what = f"r{rec}'s output from {_inst(i)} (epoch {epoch}, attempt #{b['rq_tag'][o][i][k]})"
    told = ""
    if x["ps_out"][i][o] != b["ps_out"][i][o]:
        told = f"; {_inst(i)} gets the acknowledgement" \
            if x["ps_out"][i][o] == WRITTEN else ""
    told = told or _stage(b, x, i)
    at = written(b, x, "ent_kind", "log_len", o)
    if at:
        return f"o{o} appends {what} at offset {listing([str(j) for j in at])}{_late(live)}{told}"
    return f"o{o} rejects {what}{_late(live)}{told}"


def _marker(a, b, x, p, name):
    """The head of a marker's sentence, and whether the partition's state changed."""
    k, t = a["k"], a["t"]
    kind = _KINDS.get(b["mk_kind"][p][k], "?")
    head = (f"{name} gets the {kind} marker (epoch {b['mk_epoch'][p][k]}, coordinator epoch "
            f"{b['mk_cepoch'][p][k]})")
    took = any(x[f][p][t] != b[f][p][t] for f in ("pst_first", "pst_epoch", "pst_cepoch"))
    if took:
        return head, True
    # rejected: say what the partition had seen, as facts (the step changed nothing)
    why = []
    if b["mk_cepoch"][p][k] < b["pst_cepoch"][p][t]:
        why.append(f"it has seen coordinator epoch {b['pst_cepoch'][p][t]}")
    if b["mk_epoch"][p][k] < b["pst_epoch"][p][t]:
        why.append(f"it has seen producer epoch {b['pst_epoch'][p][t]}")
    return f"{head}: nothing changes{' (' + '; '.join(why) + ')' if why else ''}", False


@teller
def tell_broker_write_marker(a, b, x, c):
    o, t = a["o"], a["t"]
    head, took = _marker(a, b, x, o, f"o{o}")
    at = written(b, x, "ent_kind", "log_len", o)
    if at:
        ends = ", the transaction ends there" if x["pst_first"][o][t] == 0 != b["pst_first"][o][t] else ""
        return f"{head}: written at offset {listing([str(j) for j in at])}{ends}"
    if took:
        return f"{head}: accepted, no open transaction there, nothing written"
    return head


@teller
def tell_groups_write_marker(a, b, x, c):
    t = a["t"]
    head, took = _marker(a, b, x, 2, "the offsets partition")
    if x["gc_committed"] != b["gc_committed"]:
        return f"{head}: committed offset {x['gc_committed']}"
    if x["gc_pending"][t] != b["gc_pending"][t]:
        return f"{head}: the pending offset {b['gc_pending'][t] - 1} is dropped"
    return head if not took else f"{head}: accepted, no offset was pending"
