"""Rate-limit counters: one item per client, scope and window in the idempotency table (it already
has a TTL, point-in-time recovery and the data key, and the API function may write it).

Every hit is ONE conditional write: `ADD hits 1` only if `hits < limit` (or no item yet). DynamoDB
applies it atomically, so 20 requests racing for the last 3 slots get exactly 3 successes: there
is no read-then-write for two requests to interleave in.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from chalicelib.data.models import IdempotencyRecord
from chalicelib.domain.ratelimit import Window


class Exceeded(Exception):
    """The window's allowance is spent."""


def _update(window: Window) -> tuple[IdempotencyRecord, list[Any], Condition]:
    actions = [IdempotencyRecord.hits.add(1), IdempotencyRecord.expires_at.set(window.expires_at())]
    condition = IdempotencyRecord.hits.does_not_exist() | (IdempotencyRecord.hits < window.policy.limit)
    return IdempotencyRecord(window.key), actions, condition


def hit(window: Window) -> int:
    """Count one request; returns the count so far in the window, or raises Exceeded."""
    record, actions, condition = _update(window)
    try:
        record.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Exceeded(window.key) from exc
        raise
    return int(record.hits or 0)


def add_to(tx: Any, window: Window) -> None:
    """The same counted hit as one item of a caller's TransactWriteItems (a pynamodb TransactWrite):
    the hit counts only if the whole transaction is written, and costs no extra AWS call."""
    record, actions, condition = _update(window)
    tx.update(record, actions=actions, condition=condition)
