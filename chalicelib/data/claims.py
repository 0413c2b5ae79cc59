"""Claims in the ledger: "I am doing X" -> "X is done", so an at-least-once queue yields
exactly-once effects for one business key (never the SQS message id). The states, leases and
what a dead holder leaves: docs/DESIGN.md, "Queues and other event sources".
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.data import items
from chalicelib.data.models import LedgerItem

IN_PROGRESS, RETRY, DONE = "in_progress", "retry", "done"
# How long a finished key is remembered: longer than a message can live (4 days in the source
# queue + 14 in the DLQ), so a redrive after two weeks still finds it done.
KEEP_SECONDS = 30 * 24 * 3600


class Busy(Exception):
    """Someone else holds the claim right now: try again later."""


@dataclass
class Claim:
    key: str
    token: str
    data: dict[str, Any] = field(default_factory=dict)  # what earlier attempts recorded
    taken_over: bool = False  # an earlier attempt existed (released or its lease ran out)
    lease_seconds: float = 180.0


def _now() -> float:
    return time.time()


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def get(key: str) -> LedgerItem | None:
    try:
        return LedgerItem.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def acquire(key: str, lease_seconds: float) -> Claim | None:
    """Take the claim on `key`. None: already done. Raises Busy while another holder's lease runs.

    The common case, a key nobody has claimed, is one conditional write; only when the key exists
    is it read, to take over a released or expired claim (or to learn that it is done)."""
    now = _now()
    token = secrets.token_hex(16)

    def held(data: dict[str, Any]) -> LedgerItem:
        return LedgerItem(key, fingerprint=token, state=IN_PROGRESS,
                                 response={**data, "lease_until": now + lease_seconds},
                                 expires_at=int(now + KEEP_SECONDS))

    try:
        held({}).save(condition=LedgerItem.key.does_not_exist())
        return Claim(key, token, {}, taken_over=False, lease_seconds=lease_seconds)
    except PutError as exc:
        if not _conditional_failed(exc):
            raise
    current = get(key)
    if current is None:  # gone between the two calls (its TTL): let the delivery come back
        raise Busy(key)
    if current.state == DONE:
        return None
    data: dict[str, Any] = dict(current.response or {})
    if current.state == IN_PROGRESS and float(data.get("lease_until", 0)) > now:
        raise Busy(key)
    condition = (LedgerItem.fingerprint == current.fingerprint) & (LedgerItem.state == current.state)
    try:
        held(data).save(condition=condition)
    except PutError as exc:
        if not _conditional_failed(exc):
            raise
        again = get(key)
        if again is not None and again.state == DONE:
            return None
        raise Busy(key) from None
    data.pop("lease_until", None)
    return Claim(key, token, data, taken_over=True, lease_seconds=lease_seconds)


MAX_TOGETHER = 100  # DynamoDB's limit of items in one transaction


def acquire_new(keys: list[str], lease_seconds: float) -> list[Claim] | None:
    """Claims on several keys that nobody has claimed yet, in one write (a consumer's messages of
    one event). None if any key exists, or the keys cannot share a transaction: the caller then
    takes them one by one with `acquire`, which knows the other states."""
    if not 1 < len(keys) <= MAX_TOGETHER or len(set(keys)) != len(keys):
        return None
    now = _now()
    claims = [Claim(key, secrets.token_hex(16), {}, taken_over=False, lease_seconds=lease_seconds) for key in keys]
    writes = [items.put_new(LedgerItem, {"key": c.key, "fingerprint": c.token, "state": IN_PROGRESS,
                                                "response": {"lease_until": now + lease_seconds},
                                                "expires_at": int(now + KEEP_SECONDS)}) for c in claims]
    try:
        items.transact_write(LedgerItem, writes)
    except items.Cancelled:
        return None
    return claims


def complete_all(done: list[tuple[Claim, dict[str, Any]]]) -> None:
    """`complete` for several claims in one write, each still on its own token. If one lease was
    lost meanwhile, they are completed one by one (the lost one is left to its new holder)."""
    if len(done) > MAX_TOGETHER:
        for start in range(0, len(done), MAX_TOGETHER):
            complete_all(done[start:start + MAX_TOGETHER])
        return
    if len(done) < 2:
        for claim, data in done:
            complete(claim, **data)
        return
    expires_at = int(_now() + KEEP_SECONDS)
    attrs = LedgerItem.get_attributes()
    names = {"#s": attrs["state"].attr_name, "#r": attrs["response"].attr_name,
             "#e": attrs["expires_at"].attr_name, "#f": attrs["fingerprint"].attr_name}
    writes = []
    for claim, data in done:
        response = {**claim.data, **data}
        writes.append({"Update": {
            "TableName": LedgerItem.Meta.table_name,
            "Key": {attrs["key"].attr_name: {"S": claim.key}},
            "UpdateExpression": "SET #s = :s, #r = :r, #e = :e", "ConditionExpression": "#f = :f",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":s": {"S": DONE}, ":r": {"S": attrs["response"].serialize(response)},
                                          ":e": {"N": str(expires_at)}, ":f": {"S": claim.token}}}})
    try:
        items.transact_write(LedgerItem, writes)
    except items.Cancelled:
        for claim, data in done:
            complete(claim, **data)
        return
    for claim, data in done:
        claim.data.update(data)


def _update(claim: Claim, state: str, data: dict[str, Any], expires_at: int) -> bool:
    claim.data.update(data)
    try:
        LedgerItem(claim.key).update(
            actions=[LedgerItem.state.set(state), LedgerItem.response.set(dict(claim.data)),
                     LedgerItem.expires_at.set(expires_at)],
            condition=LedgerItem.fingerprint == claim.token,
        )
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False  # our lease ran out and someone took over: they finish the job
        raise
    return True


def note(claim: Claim, **data: Any) -> None:
    """Record progress while holding the claim (e.g. "the create went out", "its id is X"); the
    lease is renewed. Raises Busy if the lease was lost: the caller must stop, not go on."""
    claim.data.update(data)
    try:
        LedgerItem(claim.key).update(
            actions=[LedgerItem.response.set({**claim.data, "lease_until": _now() + claim.lease_seconds})],
            condition=(LedgerItem.fingerprint == claim.token) & (LedgerItem.state == IN_PROGRESS),
        )
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise
        raise Busy(claim.key) from None


def complete(claim: Claim, **data: Any) -> bool:
    return _update(claim, DONE, data, int(_now() + KEEP_SECONDS))


def release(claim: Claim, **data: Any) -> bool:
    """Give the claim back after a failure, keeping what is known, so a retry can take over now."""
    return _update(claim, RETRY, data, int(_now() + KEEP_SECONDS))


def forget(key: str) -> None:
    """Drop a finished claim so the work may be done again (an admin's retry of a sync that
    SP4N-LAPOR! refused, once the cause is fixed)."""
    LedgerItem(key).delete()
