"""Items behind the reporters' access codes, in the ledger (TTL, point-in-time
recovery, the data key; the API and the notify consumer may both write it):

- `seal#<tracking_id>#<seq>`: the sealed copy of a code that event `seq` sends to the reporter
  (`response.sealed`), deleted by the notify consumer once sent, else by the TTL after a day;
- `recovery#<tracking_id>`: the pending recovery code, as its HMAC (`fingerprint`), the wrong
  tries so far (`hits`) and its end (`expires_at`, which is also the TTL: a lapsed code goes).
A newer recovery code replaces the pending one.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from chalicelib.data import ledger
from chalicelib.data.models import LedgerItem

SEAL_TTL_SECONDS = 24 * 3600


def _table() -> str:
    meta: Any = LedgerItem.Meta
    return str(meta.table_name)


def _client() -> Any:
    return LedgerItem._get_connection().connection.client


def seal_key(tracking_id: str, seq: int) -> str:
    return ledger.ACCESS_SEAL.key(tracking_id, seq)


def put_seal(tracking_id: str, seq: int, sealed: str, now: float) -> dict[str, Any]:
    """The transaction item that keeps a sealed code for the event `seq` of the report."""
    return {"Put": {"TableName": _table(), "Item": {
        "key": {"S": seal_key(tracking_id, seq)},
        "state": {"S": "sealed"},
        "response": {"S": json.dumps({"sealed": sealed})},
        "expires_at": {"N": str(int(now) + SEAL_TTL_SECONDS)},
    }}}


def read_seal(tracking_id: str, seq: int, now: float) -> str | None:
    """The sealed code of event `seq`, or None when it was sent (deleted) or has lapsed."""
    try:
        record = LedgerItem.get(seal_key(tracking_id, seq), consistent_read=True)
    except LedgerItem.DoesNotExist:
        return None
    if record.expires_at is not None and float(record.expires_at) <= now:
        return None  # DynamoDB's TTL deletes lazily
    value = (record.response or {}).get("sealed")
    return str(value) if value else None


def drop_seal(tracking_id: str, seq: int) -> None:
    LedgerItem(seal_key(tracking_id, seq)).delete()


def recovery_key(tracking_id: str) -> str:
    return ledger.RECOVERY.key(tracking_id)


class Pending(NamedTuple):
    digest: str
    tries: int
    expires_at: int


def put_recovery(tracking_id: str, digest: str, expires_at: int) -> dict[str, Any]:
    """The transaction item of a new recovery code (it replaces a pending one)."""
    return {"Put": {"TableName": _table(), "Item": {
        "key": {"S": recovery_key(tracking_id)}, "state": {"S": "recovery"},
        "fingerprint": {"S": digest}, "hits": {"N": "0"}, "expires_at": {"N": str(expires_at)},
    }}}


def pending(tracking_id: str) -> Pending | None:
    try:
        record = LedgerItem.get(recovery_key(tracking_id), consistent_read=True)
    except LedgerItem.DoesNotExist:
        return None
    if not record.fingerprint:
        return None
    return Pending(str(record.fingerprint), int(record.hits or 0), int(record.expires_at or 0))


def count_wrong_try(tracking_id: str, digest: str) -> None:
    """One wrong try against the pending code `digest` (nothing if it was replaced meanwhile)."""
    try:
        _client().update_item(
            TableName=_table(), Key={"key": {"S": recovery_key(tracking_id)}},
            UpdateExpression="ADD #h :1", ConditionExpression="#f = :f",
            ExpressionAttributeNames={"#h": "hits", "#f": "fingerprint"},
            ExpressionAttributeValues={":1": {"N": "1"}, ":f": {"S": digest}})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def consume_recovery(tracking_id: str, digest: str, max_tries: int) -> dict[str, Any]:
    """The transaction item that uses the pending code up: it fails (so the whole confirmation
    does) if the code was replaced, used, or ran out of tries meanwhile."""
    return {"Delete": {"TableName": _table(), "Key": {"key": {"S": recovery_key(tracking_id)}},
                       "ConditionExpression": "#f = :f AND #h < :max",
                       "ExpressionAttributeNames": {"#f": "fingerprint", "#h": "hits"},
                       "ExpressionAttributeValues": {":f": {"S": digest}, ":max": {"N": str(max_tries)}}}}
