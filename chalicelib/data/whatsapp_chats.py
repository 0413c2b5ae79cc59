"""WhatsApp chat state: one item per citizen's number in the ledger (key prefix
`wa-chat#`, the number keyed by the contact-index HMAC, never in clear), expiring 24 hours after
the last message. DynamoDB's TTL deletes late, so a read also ignores an expired item. The same
item tells the notifier whether the 24-hour window for free-form messages is open."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.data import ledger
from chalicelib.data.models import LedgerItem

PREFIX = ledger.CHAT.prefix
TTL_SECONDS = 24 * 3600


def load(chat_key: str) -> dict[str, Any] | None:
    try:
        item = LedgerItem.get(PREFIX + chat_key, consistent_read=True)
    except DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= time.time():
        return None
    return dict(item.response or {})


def save(chat_key: str, state: dict[str, Any]) -> None:
    """Save the chat after a message of the citizen's (so `last_in_at` is when they last wrote)."""
    now = time.time()
    LedgerItem(PREFIX + chat_key, state="chat", response={**state, "last_in_at": int(now)},
                      expires_at=int(now + TTL_SECONDS)).save()


def window_open(chat_key: str, now: float | None = None) -> bool:
    """True within 24 hours of the citizen's last message: WhatsApp then allows free-form
    messages; outside it only approved templates (chalicelib/services/whatsapp_outbound.py)."""
    state = load(chat_key)
    at = state.get("last_in_at") if state else None
    return at is not None and (time.time() if now is None else now) - float(at) < TTL_SECONDS


def end(chat_key: str) -> None:
    LedgerItem(PREFIX + chat_key).delete()
