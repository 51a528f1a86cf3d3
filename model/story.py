"""Each step told as a sentence in protocol terms, for counterexample stories.

``describe(action, args, before, after, c)`` reads the decoded states around
the step (``{field: value}``) and never changes anything.  Every fact a
sentence states (an offset written, a message sent, an answer, what the
application was told) is read from the transition (model/telling.py), not
assumed from what the action is meant to do.  Producer sessions are P1,
P2, ... (one per producer id), records r1, r2, ..., batches b1, b2, ...
"""

from __future__ import annotations

from typing import Any

from .state import ACKED, BATCH_STATES, FAILED, QUEUED, RESPONSE_CODES
from .telling import TELLERS, changed, listing, offsets, sent, taken, teller



def _rec(s: dict, k: int) -> str:
    return f"r{s['b_rec'][k]}"


def batch_name(s: dict, k: int, c: Any) -> str:
    """``b2 (r1, sequence 0)``: a batch with what identifies it on the wire."""
    extra = f", sequence {s['b_seq'][k]}, epoch {s['b_epoch'][k]}" if c.mode.idempotence else ""
    return f"b{k + 1} ({_rec(s, k)}{extra})"


def _producer(s: dict, k: int | None = None) -> str:
    return f"P{(s['b_pid'][k] if k is not None else s['session']) + 1}"


def _requests(s: dict, p: int) -> list[list[int]]:
    return [s["rq_batch"][p], s["rq_conn"][p]]


def _responses(s: dict, p: int) -> list[list[int]]:
    return [s["rs_batch"][p], s["rs_code"][p], s["rs_conn"][p]]


def _partitions(s: dict) -> range:
    return range(len(s["log_len"]))


def _requested(b: dict, x: dict) -> list[tuple[int, int, int]]:
    """(partition, batch index, connection) of every produce request the step sent."""
    return [(p, m[0] - 1, m[1]) for p in _partitions(x) for m in sent(_requests(b, p), _requests(x, p))]


def answered(b: dict, x: dict, p: int) -> list[tuple[int, str]]:
    """(batch index, code) of every response the step sent from partition ``p``."""
    return [(m[0] - 1, RESPONSE_CODES.get(m[1], f"code {m[1]}"))
            for m in sent(_responses(b, p), _responses(x, p))]


def _sending(b: dict, x: dict, connection: bool = False) -> str:
    """Where the step's produce requests went (and on which connection), read from the channels."""
    out = _requested(b, x)
    if not out:
        return "; no request goes out"
    return "".join(f" {'on connection ' + str(conn) + ' ' if connection else ''}to partition {p}"
                   for p, _, conn in out)


def _told(b: dict, x: dict, k: int) -> str:
    """What completing batch ``k``'s future told the application, if the step completed it."""
    if x["b_state"][k] == b["b_state"][k]:
        return ""
    return {ACKED: "; the application is told it is written",
            FAILED: "; the application is told the send failed"}.get(x["b_state"][k], "")


@teller
def tell_producer_send(a, b, x, c):
    k = a["k"]
    return (f"{_producer(x, k)} sends r{x['b_rec'][k]} as {batch_name(x, k, c)}{_sending(b, x)}"
            f"{_told(b, x, k)}")


@teller
def tell_producer_resend(a, b, x, c):
    k = a["k"]
    return (f"the application sends r{x['b_rec'][k]} again: {_producer(x, k)} sends it as new "
            f"{batch_name(x, k, c)}{_sending(b, x)}{_told(b, x, k)}")


@teller
def tell_producer_retry(a, b, x, c):
    k = a["k"]
    return f"{_producer(x, k)} retries {batch_name(x, k, c)}{_sending(b, x, connection=True)}"


@teller
def tell_producer_timeout(a, b, x, c):
    p = a["p"]
    moved = changed(b["b_state"], x["b_state"])
    fates = ", ".join(f"b{k + 1} {BATCH_STATES[x['b_state'][k]]}" for k in moved) or "no batch changes"
    closes = ("it closes the connection and opens connection " f"{x['conn'][p]}"
              if x["conn"][p] != b["conn"][p] else "its connection stays open")
    dropped = sum(len(taken(_responses(b, q), _responses(x, q))) for q in _partitions(x))
    drop = f", dropping {dropped} unread response{'s' if dropped != 1 else ''}" if dropped else ""
    bump = f"; it bumps its epoch to {x['epoch']}" if x["epoch"] != b["epoch"] else ""
    return f"{_producer(x)}'s request to partition {p} times out; {closes}{drop} ({fates}){bump}"


@teller
def tell_producer_receive(a, b, x, c):
    p, i, k = a["p"], a["i"], a["k"]
    # .get: a counterexample to induction starts in an arbitrary state, where a
    # response slot may hold a code no reachable state has
    code = RESPONSE_CODES.get(b["rs_code"][p][i], f"code {b['rs_code'][p][i]}")
    if x["b_state"][k] == b["b_state"][k]:
        return f"a {code} response for b{k + 1} arrives and is discarded (b{k + 1} stays " \
               f"{BATCH_STATES[x['b_state'][k]]})"
    fate = {ACKED: "the application is told it is written", QUEUED: "it will be retried",
            FAILED: "the application is told the send failed"}.get(
                x["b_state"][k], BATCH_STATES[x["b_state"][k]])
    bump = f"; it bumps its epoch to {x['epoch']}" if x["epoch"] != b["epoch"] else ""
    return f"{_producer(x, k)} receives {code} for b{k + 1} ({_rec(x, k)}): {fate}{bump}"


@teller
def tell_producer_restart(a, b, x, c):
    lost = [f"b{k + 1}" for k in changed(b["b_state"], x["b_state"])]
    new = (f"restarts as {_producer(x)} with a new producer id" if x["session"] != b["session"]
           else "restarts with the same producer id")
    return f"{_producer(b)} crashes and {new}; {', '.join(lost) or 'no batch'} lost with it"


@teller
def tell_consumer_poll(a, b, x, c):
    p = a["p"]
    got = f"r{x['c_rec']}" if x["c_rec"] else "nothing"
    where = f" from replica {a['r']}" if c.variant.replicated else ""
    return (f"the consumer polls {got} at offset {b['pos'][p]} of partition {p}{where}; its "
            f"position becomes {x['pos'][p]}")


@teller
def tell_consumer_reset(a, b, x, c):
    p = a["p"]
    return (f"the consumer's offset {b['pos'][p]} of partition {p} is out of range (the leader's "
            f"log ends at {b['log_len'][p][a['r']]}); it resets to {x['pos'][p]}")


@teller
def tell_consumer_process(a, b, x, c):
    r = a["r"]
    times = x["out"][r]
    if times == b["out"][r]:  # the ghost count stops at "more than once"
        return f"the consumer processes r{r + 1}: its effect is emitted again (a third time or more)"
    again = "" if times == 1 else f" (time {times})"
    return f"the consumer processes r{r + 1}: its effect is emitted{again}"


@teller
def tell_consumer_commit(a, b, x, c):
    same = " (unchanged)" if x["committed"] == b["committed"] else ""
    return f"the consumer commits offsets {offsets(x['committed'])}{same}"


@teller
def tell_consumer_restart(a, b, x, c):
    if x["pos"] == x["committed"]:
        return f"the consumer crashes and restarts from the committed offsets {offsets(x['pos'])}"
    return (f"the consumer crashes and restarts at offsets {offsets(x['pos'])} (the committed "
            f"offsets are {offsets(x['committed'])})")


@teller
def tell_network_lose_request(a, b, x, c):
    p = a["p"]
    gone = taken(_requests(b, p), _requests(x, p))
    what = listing([f"b{m[0]} ({_rec(b, m[0] - 1)})" for m in gone]) or "nothing"
    return f"the network loses the request carrying {what} to partition {p}"


@teller
def tell_network_lose_response(a, b, x, c):
    p = a["p"]
    gone = taken(_responses(b, p), _responses(x, p))
    what = listing([f"b{m[0]} ({_rec(b, m[0] - 1)})" for m in gone]) or "nothing"
    return f"the network loses the response for {what} from partition {p}"


def describe(name: str, args: dict[str, int], before: dict, after: dict, c: Any) -> str:
    """One sentence telling the step ``name(args)`` from ``before`` to ``after``."""
    tell = TELLERS.get(name)
    if tell is None:
        inner = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"{name}({inner})"
    return tell(args, before, after, c)


# The exactly-once world's tellers register themselves in the same table.
from . import txn_story  # noqa: E402,F401
