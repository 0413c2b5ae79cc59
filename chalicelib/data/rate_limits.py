"""Rate-limit counters: one item per client, scope and window in the ledger (it already
has a TTL, point-in-time recovery and the data key, and the API function may write it).

Every hit is ONE conditional write: `ADD hits 1` only if `hits < limit` (or no item yet). DynamoDB
applies it atomically, so 20 requests racing for the last 3 slots get exactly 3 successes: there
is no read-then-write for two requests to interleave in.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.data.models import LedgerItem
from chalicelib.domain.ratelimit import Window


class Exceeded(Exception):
    """The window's allowance is spent."""


def update(window: Window) -> dict[str, Any]:
    """The counted hit as DynamoDB's Update: `ADD hits 1` only if `hits < limit` (or no item)."""
    meta: Any = LedgerItem.Meta
    return {
        "TableName": meta.table_name,
        "Key": {LedgerItem.key.attr_name: {"S": window.key}},
        "ConditionExpression": "attribute_not_exists (#0) OR #0 < :0",
        "UpdateExpression": "SET #1 = :1 ADD #0 :2",
        "ExpressionAttributeNames": {"#0": LedgerItem.hits.attr_name,
                                     "#1": LedgerItem.expires_at.attr_name},
        "ExpressionAttributeValues": {":0": {"N": str(window.policy.limit)}, ":1": {"N": str(window.expires_at())},
                                      ":2": {"N": "1"}},
    }


def hit(window: Window) -> int:
    """Count one request; returns the count so far in the window, or raises Exceeded."""
    client = LedgerItem._get_connection().connection.client
    try:
        out = client.update_item(**update(window), ReturnValues="UPDATED_NEW")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise Exceeded(window.key) from exc
        raise
    return int(out["Attributes"][LedgerItem.hits.attr_name]["N"])


def transaction_item(window: Window) -> dict[str, Any]:
    """The same counted hit as one item of a caller's TransactWriteItems (chalicelib/data/items.py):
    the hit counts only if the whole transaction is written, and costs no extra AWS call."""
    return {"Update": update(window)}
