"""The ledger: the table of small control records that make at-least-once delivery and retries
come out once, and remember where the background work stands (model chalicelib.data.models
.LedgerItem). Each kind of item is declared here by its key prefix. Why the table keeps its first
name, "idempotency", and which module holds each kind: docs/DESIGN.md, "Tables" (Ledger).
"""
from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.data.models import LedgerItem
from chalicelib.domain import ratelimit


class Kind(NamedTuple):
    """One kind of ledger item: what it is, its key prefix, and what may follow the prefix."""

    name: str
    prefix: str
    rest: str  # a regular expression for the rest of the key

    def key(self, *parts: object) -> str:
        return self.prefix + "#".join(str(p) for p in parts)

    def owns(self, key: str) -> bool:
        return key.startswith(self.prefix) and re.fullmatch(self.rest, key[len(self.prefix):]) is not None


_TRACKING = r"KBB-[^#]+"
# A submission's answer, by the SHA-256 of its Idempotency-Key (chalicelib/services/intake.py).
IDEMPOTENCY = Kind("idempotency record", "req#", r"[0-9a-f]{64}")
# One client's requests in one window of one scope (chalicelib/domain/ratelimit.py builds the key).
RATE_LIMIT = Kind("rate-limit counter", ratelimit.KEY_PREFIX, r"[^#]+#\d+#[0-9a-f]{32}")
# Consumer leases (chalicelib/data/claims.py): one per consumer and business key, never the
# transport's message id. The sync's keys are its report's, so the cursor below cannot be one.
NOTIFY_LEASE = Kind("consumer lease: notify", "notify#", r".+#\d+#[a-z_]+#[0-9a-f]{32}")
SYNC_LEASE = Kind("consumer lease: SP4N sync", "sync#", rf"{_TRACKING}#(\d+|from#{_TRACKING}#\d+)")
SMS_LEASE = Kind("consumer lease: inbound SMS", "sms_inbound#", r".+")
WHATSAPP_LEASE = Kind("consumer lease: WhatsApp message", "whatsapp:", r".+")
# Where the pull from SP4N-LAPOR! resumes (one item).
SP4N_CURSOR = Kind("SP4N cursor", "sync#pull#cursor", r"")
# LAPOR!'s complaint id -> our report, for the life of the report (no TTL).
COMPLAINT_LINK = Kind("complaint link", "sp4n#complaint#", r"[^#]+")
# A digest recorded for its period: `2026-W13` (weekly SLA) or `monthly#2026-03` (performance).
DIGEST_MARKER = Kind("digest marker", "digest#", r"\d{4}-W\d{2}|monthly#\d{4}-\d{2}")
# The access code sealed for the confirmation message, until notify sent it (chalicelib/data/access.py).
ACCESS_SEAL = Kind("sealed access code", "seal#", rf"{_TRACKING}#\d+")
# A reporter's access-code recovery (chalicelib/data/access.py).
RECOVERY = Kind("access recovery", "recovery#", _TRACKING)
# A WhatsApp conversation's state, by the hashed number (chalicelib/data/whatsapp_chats.py).
CHAT = Kind("WhatsApp chat", "wa-chat#", r".+")

KINDS: tuple[Kind, ...] = (IDEMPOTENCY, RATE_LIMIT, NOTIFY_LEASE, SYNC_LEASE, SMS_LEASE, WHATSAPP_LEASE,
                           SP4N_CURSOR, COMPLAINT_LINK, DIGEST_MARKER, ACCESS_SEAL, RECOVERY, CHAT)


def kind_of(key: str) -> Kind | None:
    """The one kind that owns `key` (None: no kind does)."""
    owners = [kind for kind in KINDS if kind.owns(key)]
    if len(owners) > 1:
        raise ValueError(f"ledger key {key!r} is owned by {[k.name for k in owners]}")
    return owners[0] if owners else None


def _get(key: str) -> LedgerItem | None:
    try:
        return LedgerItem.get(key, consistent_read=True)
    except DoesNotExist:
        return None


# -- idempotency records --------------------------------------------------------------------

def idempotency_key(client_key: str) -> str:
    # Hashed: the client's key is theirs, and may be anything up to the header's limit.
    return IDEMPOTENCY.key(hashlib.sha256(client_key.encode()).hexdigest())


def idempotency_record(client_key: str, fingerprint: str, answer: dict[str, Any], ttl_seconds: int) -> LedgerItem:
    """The record a submission writes in its own transaction (put only if new)."""
    return LedgerItem(idempotency_key(client_key), fingerprint=fingerprint, state="done", response=answer,
                      expires_at=int(time.time()) + ttl_seconds)


class StoredAnswer(NamedTuple):
    fingerprint: str | None
    answer: dict[str, Any]


def stored_answer(client_key: str) -> StoredAnswer | None:
    """What an earlier submission with this Idempotency-Key stored (strongly consistent)."""
    item = _get(idempotency_key(client_key))
    return None if item is None else StoredAnswer(item.fingerprint, dict(item.response or {}))


# -- the SP4N-LAPOR! pull cursor ------------------------------------------------------------

def sp4n_cursor() -> str | None:
    """Where the last pull stopped (ISO time on LAPOR!'s clock), or None before the first."""
    item = _get(SP4N_CURSOR.key())
    since = (item.response or {}).get("since") if item is not None else None
    return str(since) if since else None


def save_sp4n_cursor(since: datetime) -> None:
    LedgerItem(SP4N_CURSOR.key(), state="cursor", response={"since": since.isoformat()}).save()


# -- complaint links ------------------------------------------------------------------------

def complaint_link(complaint_id: str, tracking_id: str) -> LedgerItem:
    """The link item, for a caller's transaction (a report created from LAPOR! writes it with the
    report). No TTL: the link lives as long as the report does."""
    return LedgerItem(COMPLAINT_LINK.key(complaint_id), state="map", response={"tracking_id": tracking_id})


def linked_report(complaint_id: str) -> str | None:
    item = _get(COMPLAINT_LINK.key(complaint_id))
    return str((item.response or {}).get("tracking_id")) if item is not None else None


def link_complaint(complaint_id: str, tracking_id: str) -> bool:
    """Store the link unless the complaint has one already (then False: see `linked_report`)."""
    try:
        complaint_link(complaint_id, tracking_id).save(condition=LedgerItem.key.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return False
    return True
