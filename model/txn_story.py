"""The exactly-once steps told as sentences, for counterexample stories.

Instances are I1, I2 (instance 0 and 1); output partitions o0, o1; input
records r1, r2, ...; transaction attempts #1, #2, ... (history tags).
Tellers read only the decoded states around the step.
"""

from __future__ import annotations

from .story import _teller
from .txn_state import ABORT, COMMIT, END_KINDS, IN_TXN, PREP_COMMIT, PREP_FENCE, STOPPED, TC_STATES, tid


def _inst(i: int) -> str:
    return f"I{i + 1}"


def _late(live: int) -> str:
    return "" if live else " (late: its sender gave up on it)"


def _stopped(b: dict, x: dict, i: int) -> str:
    return "; it is fenced and stops" if x["ps_stage"][i] == STOPPED != b["ps_stage"][i] else ""


@_teller
def tell_processor_start(a, b, x, c):
    i = a["i"]
    others = [j for j in range(len(x["ps_stage"])) if j != i and b["ps_stage"][j] not in (0, STOPPED)]
    zombie = f"; {', '.join(_inst(j) for j in others)} still runs: a zombie" if others else ""
    return f"{_inst(i)} starts and joins the group (generation {x['gc_generation']}){zombie}"


@_teller
def tell_processor_init(a, b, x, c):
    i, t = a["i"], tid(c, a["i"])
    if x["ps_epoch"][i] != b["ps_epoch"][i]:
        return (f"{_inst(i)} calls initTransactions(): InitProducerId gives it epoch "
                f"{x['ps_epoch'][i]}, fencing every older instance")
    return (f"{_inst(i)} calls initTransactions(): the TC finds a transaction Ongoing, fences "
            f"it ({TC_STATES[PREP_FENCE]}, epoch {x['tc_epoch'][t]}) and answers "
            "CONCURRENT_TRANSACTIONS")


@_teller
def tell_processor_fetch_offsets(a, b, x, c):
    return f"{_inst(a['i'])} fetches the committed input offset {x['ps_pos'][a['i']]}"


@_teller
def tell_processor_begin(a, b, x, c):
    i = a["i"]
    return (f"{_inst(i)} polls r{x['ps_pos'][i]} and begins a transaction "
            f"(attempt #{x['ps_tag'][i]})")


@_teller
def tell_processor_send(a, b, x, c):
    i = a["i"]
    how = "" if c.variant.tv2 else "adds o0, o1 to the transaction and "
    if x["ps_stage"][i] == STOPPED:
        return f"{_inst(i)} tries to add o0, o1: PRODUCER_FENCED, it stops"
    return (f"{_inst(i)} {how}sends r{b['ps_pos'][i]}'s output to o0 and o1 "
            f"(epoch {b['ps_epoch'][i]}, attempt #{b['ps_tag'][i]})")


@_teller
def tell_processor_send_offsets(a, b, x, c):
    i = a["i"]
    if x["ps_offsets"][i]:
        return f"{_inst(i)} sends offset {b['ps_pos'][i]} to the transaction (pending at the group)"
    if x["ps_lost"][i] and not b["ps_lost"][i]:
        return (f"{_inst(i)} sends its offset: ILLEGAL_GENERATION, it has lost the input "
                "and must abort")
    return f"{_inst(i)} sends its offset: fenced (stale producer epoch), it stops"


@_teller
def tell_processor_commit(a, b, x, c):
    i = a["i"]
    return f"{_inst(i)} calls commitTransaction(): EndTxn(commit, epoch {b['ps_epoch'][i]})"


@_teller
def tell_processor_abort(a, b, x, c):
    i = a["i"]
    why = " after an application error" if b["ps_stage"][i] == IN_TXN else ""
    return (f"{_inst(i)} calls abortTransaction(){why}: EndTxn(abort, epoch {b['ps_epoch'][i]}) "
            f"for attempt #{b['ps_tag'][i]}")


@_teller
def tell_processor_timeout(a, b, x, c):
    i = a["i"]
    premature = " while the request is still on its way" if x["faults"] > b["faults"] else ""
    if b["ps_stage"][i] == IN_TXN:
        return (f"{_inst(i)}'s produce request times out{premature}: the transaction must "
                "abort")
    return f"{_inst(i)}'s EndTxn times out{premature}; it sends EndTxn again"


@_teller
def tell_processor_commit_offsets(a, b, x, c):
    i = a["i"]
    if x["ps_stage"][i] == STOPPED:
        return f"{_inst(i)} calls commitSync(): ILLEGAL_GENERATION, it has lost the input"
    return f"{_inst(i)} calls commitSync() after the commit: committed offset {x['gc_committed']}"


@_teller
def tell_coordinator_end_txn(a, b, x, c):
    i, k, t = a["i"], a["k"], tid(c, a["i"])
    kind, epoch = END_KINDS[b["et_kind"][i][k]], b["et_epoch"][i][k]
    head = f"the TC gets EndTxn({kind}, epoch {epoch}) from {_inst(i)}{_late(b['et_live'][i][k])}"
    if x["tc_state"][t] != b["tc_state"][t]:
        bump = (f", epoch bumped to {x['tc_epoch'][t]}" if x["tc_epoch"][t] != b["tc_epoch"][t]
                else "")
        return f"{head}: it writes {TC_STATES[x['tc_state'][t]]}{bump}"
    if x["g_fenced"] and not b["g_fenced"]:
        return f"{head}: PRODUCER_FENCED"
    return f"{head}: answered at once ({TC_STATES[b['tc_state'][t]]})"


@_teller
def tell_coordinator_log_written(a, b, x, c):
    t = a["t"]
    told = [j for j in range(len(x["ps_stage"])) if x["ps_stage"][j] != b["ps_stage"][j]]
    answer = f"; it answers {', '.join(_inst(j) for j in told)}: done" if told else ""
    return (f"{TC_STATES[x['tc_state'][t]]} (epoch {x['tc_epoch'][t]}) is durable in "
            f"__transaction_state{answer}")


@_teller
def tell_coordinator_send_markers(a, b, x, c):
    t = a["t"]
    kind = "COMMIT" if x["tc_state"][t] == PREP_COMMIT else "ABORT"
    parts = [n for n, p in zip(("o0", "o1", "offsets"), x["tc_parts"][t]) if p]
    again = " again, as the new coordinator" if x["g_resent"] and not b["g_resent"] else ""
    return (f"the TC sends {kind} markers{again} (epoch {x['tc_epoch'][t]}, coordinator epoch "
            f"{x['tc_cepoch']}) to {', '.join(parts) or 'no partition'}")


@_teller
def tell_coordinator_complete(a, b, x, c):
    return f"every marker is written: the TC writes {TC_STATES[x['tc_state'][a['t']]]}"


@_teller
def tell_coordinator_timeout(a, b, x, c):
    t = a["t"]
    return (f"transaction.timeout.ms expires: the TC fences the producer (epoch "
            f"{x['tc_epoch'][t]}) and aborts")


@_teller
def tell_coordinator_failover(a, b, x, c):
    states = ", ".join(TC_STATES[s] for s in x["tc_state"])
    return (f"the TC fails over: the new one (coordinator epoch {x['tc_cepoch']}) reloads "
            f"{states} from the log")


@_teller
def tell_broker_append_txn(a, b, x, c):
    o, i, k = a["o"], a["i"], a["k"]
    rec, epoch, live = b["rq_rec"][o][i][k], b["rq_epoch"][o][i][k], b["rq_live"][o][i][k]
    what = f"r{rec}'s output from {_inst(i)} (epoch {epoch}, attempt #{b['rq_tag'][o][i][k]})"
    if x["log_len"][o] > b["log_len"][o]:
        return f"o{o} appends {what} at offset {b['log_len'][o]}{_late(live)}"
    return f"o{o} rejects {what}{_late(live)}{_stopped(b, x, i)}"


def _marker(a, b, x, p, name):
    k = a["k"]
    kind = "COMMIT" if b["mk_kind"][p][k] == COMMIT else "ABORT"
    head = (f"{name} gets the {kind} marker (epoch {b['mk_epoch'][p][k]}, coordinator epoch "
            f"{b['mk_cepoch'][p][k]})")
    t = a["t"]
    if x["pst_cepoch"][p][t] == b["pst_cepoch"][p][t] and b["mk_cepoch"][p][k] < b["pst_cepoch"][p][t]:
        return f"{head}: rejected, an older coordinator sent it"
    if b["mk_epoch"][p][k] < b["pst_epoch"][p][t]:
        return f"{head}: rejected, an older producer epoch"
    return head


@_teller
def tell_broker_write_marker(a, b, x, c):
    o = a["o"]
    head = _marker(a, b, x, o, f"o{o}")
    if x["log_len"][o] > b["log_len"][o]:
        return f"{head}: written at offset {b['log_len'][o]}, the transaction ends there"
    return head if "rejected" in head else f"{head}: no open transaction there"


@_teller
def tell_groups_write_marker(a, b, x, c):
    head = _marker(a, b, x, 2, "the offsets partition")
    if "rejected" in head:
        return head
    if x["gc_committed"] != b["gc_committed"]:
        return f"{head}: committed offset {x['gc_committed']}"
    return f"{head}: the pending offset is dropped" if b["mk_kind"][2][a["k"]] == ABORT else head

