"""Each step told as a sentence in protocol terms, for counterexample stories.

``describe(action, args, before, after, c)`` reads the decoded states around
the step (``{field: value}``) and never changes anything.  Producer sessions
are P1, P2, ... (one per producer id), records r1, r2, ..., batches b1, b2, ...
"""

from __future__ import annotations

from typing import Any, Callable

from .state import ACKED, BATCH_STATES, DUPLICATE, FAILED, QUEUED, RESPONSE_CODES

Tell = Callable[[dict, dict, dict, Any], str]
_TELLERS: dict[str, Tell] = {}


def _teller(fn: Tell) -> Tell:
    _TELLERS[fn.__name__.removeprefix("tell_")] = fn
    return fn


def _rec(s: dict, k: int) -> str:
    return f"r{s['b_rec'][k]}"


def _batch(s: dict, k: int, c: Any) -> str:
    """``b2 (r1, sequence 0)``: a batch with what identifies it on the wire."""
    extra = f", sequence {s['b_seq'][k]}, epoch {s['b_epoch'][k]}" if c.mode.idempotence else ""
    return f"b{k + 1} ({_rec(s, k)}{extra})"


def _producer(s: dict, k: int | None = None) -> str:
    return f"P{(s['b_pid'][k] if k is not None else s['session']) + 1}"


@_teller
def tell_producer_send(a, b, x, c):
    k, p = a["k"], a["r"] % c.bounds.partitions
    told = "; with acks=0 the application is told it is written" if c.mode.acks == 0 else ""
    return f"{_producer(x, k)} sends r{a['r'] + 1} as {_batch(x, k, c)} to partition {p}{told}"


@_teller
def tell_producer_resend(a, b, x, c):
    k, p = a["k"], a["r"] % c.bounds.partitions
    return (f"the application sends r{a['r'] + 1} again: {_producer(x, k)} sends it as new "
            f"{_batch(x, k, c)} to partition {p}")


@_teller
def tell_producer_retry(a, b, x, c):
    k = a["k"]
    return f"{_producer(x, k)} retries {_batch(x, k, c)} on connection {x['conn'][a['p']]}"


@_teller
def tell_producer_timeout(a, b, x, c):
    p = a["p"]
    changed = [k for k in range(len(x["b_state"])) if b["b_state"][k] != x["b_state"][k]]
    fates = ", ".join(f"b{k + 1} {'queued for retry' if x['b_state'][k] == QUEUED else 'failed'}"
                      for k in changed)
    return f"{_producer(x)}'s request to partition {p} times out; it closes the connection ({fates})"


@_teller
def tell_producer_receive(a, b, x, c):
    p, i, k = a["p"], a["i"], a["k"]
    # .get: a counterexample to induction starts in an arbitrary state, where a
    # response slot may hold a code no reachable state has
    code = RESPONSE_CODES.get(b["rs_code"][p][i], f"code {b['rs_code'][p][i]}")
    if b["rs_conn"][p][i] != b["conn"][p]:
        return f"a {code} response for b{k + 1} arrives on a closed connection and is discarded"
    fate = {ACKED: "the application is told it is written", QUEUED: "it will be retried",
            FAILED: "the application is told the send failed"}.get(
                x["b_state"][k], BATCH_STATES[x["b_state"][k]])
    bump = f"; it bumps its epoch to {x['epoch']}" if x["epoch"] != b["epoch"] else ""
    return f"{_producer(x, k)} receives {code} for b{k + 1} ({_rec(x, k)}): {fate}{bump}"


@_teller
def tell_producer_restart(a, b, x, c):
    lost = [f"b{k + 1}" for k in range(len(x["b_state"])) if x["b_state"][k] != b["b_state"][k]]
    return (f"{_producer(b)} crashes and restarts as {_producer(x)} with a new producer id; "
            f"{', '.join(lost)} lost with it")


@_teller
def tell_broker_append(a, b, x, c):
    p, i, k = a["p"], a["i"], a["k"]
    via = f" from connection {b['rq_conn'][p][i]}"
    if x["log_len"][p] > b["log_len"][p]:
        return (f"the leader of partition {p} appends {_batch(x, k, c)}{via} at offset "
                f"{b['log_len'][p]}")
    code = _code(x, p, k)
    if code == RESPONSE_CODES[DUPLICATE]:
        return f"the leader of partition {p} recognises b{k + 1}{via} as a duplicate and does not append it"
    return f"the leader of partition {p} rejects {_batch(x, k, c)}{via} with {code}"


def _code(x: dict, p: int, k: int) -> str:
    """Code of the newest response for batch ``k`` on partition ``p``."""
    for slot in reversed(range(len(x["rs_batch"][p]))):
        if x["rs_batch"][p][slot] == k + 1:
            return RESPONSE_CODES[x["rs_code"][p][slot]]
    return "a response the closed connection drops"


@_teller
def tell_broker_fail_transient(a, b, x, c):
    return (f"the leader of partition {a['p']} answers b{a['k'] + 1} with "
            f"NOT_LEADER_OR_FOLLOWER (retriable) and appends nothing")


@_teller
def tell_broker_expire_producer(a, b, x, c):
    return (f"partition {a['p']} forgets the state of producer P{a['q'] + 1} "
            f"(producer.id.expiration.ms)")


@_teller
def tell_consumer_poll(a, b, x, c):
    p = a["p"]
    return f"the consumer polls r{x['c_rec']} at offset {b['pos'][p]} of partition {p}"


@_teller
def tell_consumer_process(a, b, x, c):
    r = a["r"]
    times = x["out"][r]
    again = "" if times == 1 else f" (time {times})"
    return f"the consumer processes r{r + 1}: its effect is emitted{again}"


@_teller
def tell_consumer_commit(a, b, x, c):
    return f"the consumer commits offsets {_offsets(x['committed'])}"


@_teller
def tell_consumer_restart(a, b, x, c):
    return f"the consumer crashes and restarts from the committed offsets {_offsets(x['committed'])}"


@_teller
def tell_network_lose_request(a, b, x, c):
    p, k = a["p"], a["k"]
    return f"the network loses the request carrying b{k + 1} ({_rec(b, k)}) to partition {p}"


@_teller
def tell_network_lose_response(a, b, x, c):
    p, k = a["p"], a["k"]
    return f"the network loses the response for b{k + 1} ({_rec(b, k)}) from partition {p}"


def _offsets(xs: list[int]) -> str:
    return ", ".join(f"p{p}={o}" for p, o in enumerate(xs))


def describe(name: str, args: dict[str, int], before: dict, after: dict, c: Any) -> str:
    """One sentence telling the step ``name(args)`` from ``before`` to ``after``."""
    teller = _TELLERS.get(name)
    if teller is None:
        inner = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"{name}({inner})"
    return teller(args, before, after, c)


# The exactly-once world's tellers register themselves in the same table.
from . import txn_story  # noqa: E402,F401
