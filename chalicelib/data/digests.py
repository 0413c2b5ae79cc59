"""Storage of digests for pimpinan: one event per period, written exactly once. The weekly SLA
digest uses the ISO week as its period (`2026-W13`); the monthly performance digest
(chalicelib/data/performance.py) uses `monthly#YYYY-MM` and its own action.

The digest is not about one report, so its event lives under its own key in the events table
(`tracking_id` = `digest#<iso-week>`, seq 1) and reaches the fan-out through the same stream as
every other event. The idempotency record `digest#<iso-week>` is written in the same transaction
with a does-not-exist condition: a second run (a retried schedule, two containers) records nothing.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from chalicelib.data import items, ledger
from chalicelib.data.models import LedgerItem, ReportEvent
from chalicelib.domain import clock

# Kept for a year: long enough that no late retry could ever record a week twice.
DIGEST_TTL_SECONDS = 366 * 24 * 3600
ACTION = "sla_digest"


def key(week: str) -> str:
    return ledger.DIGEST_MARKER.key(week)


def record(week: str, now: datetime, data: dict[str, Any], *, action: str = ACTION) -> bool:
    """Store the digest of `week` (the period); False when it was already stored (nothing written)."""
    digest_key = key(week)
    event = ReportEvent(digest_key, 1, at=clock.iso_utc(now), actor="sistem", role="sistem", action=action,
                        from_status=None, to_status=None, public=False, message=None, data=data)
    marker = LedgerItem(digest_key, state="done", response={"week": week, "at": clock.iso_utc(now)},
                               expires_at=int(time.time()) + DIGEST_TTL_SECONDS)
    try:
        items.transact_write(ReportEvent, [items.put_new(marker), items.put_new(event)])
    except items.Cancelled:
        return False
    return True


def get(week: str) -> ReportEvent | None:
    try:
        return ReportEvent.get(key(week), 1, consistent_read=True)
    except ReportEvent.DoesNotExist:
        return None
