"""WhatsApp chat state: one item per citizen's number in the idempotency table (key prefix
`wa-chat#`, the number keyed by the contact-index HMAC, never in clear), expiring 24 hours after
the last message. DynamoDB's TTL deletes late, so a read also ignores an expired item."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.data.models import IdempotencyRecord

PREFIX = "wa-chat#"
TTL_SECONDS = 24 * 3600


def load(chat_key: str) -> dict[str, Any] | None:
    try:
        item = IdempotencyRecord.get(PREFIX + chat_key, consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= time.time():
        return None
    return dict(item.response or {})


def save(chat_key: str, state: dict[str, Any]) -> None:
    IdempotencyRecord(PREFIX + chat_key, state="chat", response=state,
                      expires_at=int(time.time() + TTL_SECONDS)).save()


def end(chat_key: str) -> None:
    IdempotencyRecord(PREFIX + chat_key).delete()
