"""Storage of the monthly performance facts (chalicelib.domain.performance.Fact) and of the
monthly digest.

Layout (PerformanceTable): hash `month` (YYYY-MM, WIB, of the disposition), range `fact_key`
(`<OPD>#<tracking_id>#<disposition seq>`), the fact itself as JSON. So:
- a month's scoreboard is ONE Query on the month's partition: it reads that month's dispositions
  and nothing else, however many reports the other months hold (never a Scan);
- an OPD's drill-down is the same Query with `begins_with(fact_key, "<OPD>#")`.

A fact is the fold of its report's whole event log up to `basis_seq`. Writes are conditional on
not going back in time (`basis_seq` stored <= ours), so a consumer that read the log before
another one wrote a newer fold can never overwrite it: deliveries in any order, any number of
times, end in the fold of the longest log seen.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.data import reports
from chalicelib.data.models import IdempotencyRecord, PerformanceFact, ReportEvent
from chalicelib.domain import clock
from chalicelib.domain.performance import Fact

DIGEST_ACTION = "performance_digest"
# A year: no late retry of the schedule could ever record a month twice.
DIGEST_TTL_SECONDS = 366 * 24 * 3600


@dataclass
class Read:
    facts: list[Fact]
    items_read: int  # ScannedCount summed over the pages: what DynamoDB read (and bills)


def _item(fact: Fact) -> PerformanceFact:
    return PerformanceFact(fact.month, fact.key, tracking_id=fact.tracking_id, opd_code=fact.opd_code,
                           basis_seq=fact.basis_seq, fact=fact.as_dict())


def save(facts: Iterable[Fact]) -> int:
    """Store each fact unless a fold of a longer event log is already stored. Returns how many
    were written (0 for a duplicate or outdated delivery)."""
    written = 0
    for fact in facts:
        item = _item(fact)
        condition = PerformanceFact.basis_seq.does_not_exist() | (PerformanceFact.basis_seq <= fact.basis_seq)
        try:
            item.save(condition=condition)
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                continue  # a newer fold won: keep it
            raise
        written += 1
    return written


def _read(month: str, prefix: str | None = None) -> Read:
    condition = PerformanceFact.fact_key.startswith(prefix) if prefix else None
    # No page size: DynamoDB pages by 1 MB (about 1,500 facts), the fewest round trips.
    pages = PerformanceFact.query(month, range_key_condition=condition)
    facts = [Fact.from_dict(item.fact or {}) for item in pages]
    return Read(facts=facts, items_read=pages.page_iter.total_scanned_count)


def month(period: str) -> Read:
    """Every fact of one month (all OPDs)."""
    return _read(period)


def opd_month(period: str, opd_code: str) -> Read:
    """The facts of one OPD in one month."""
    return _read(period, f"{opd_code}#")


# -- the monthly digest ---------------------------------------------------------------------

def digest_key(period: str) -> str:
    return f"digest#monthly#{period}"


def record_digest(period: str, now: datetime, data: dict[str, Any]) -> bool:
    """Append the month's digest event (tracking_id `digest#monthly#YYYY-MM`, seq 1) with its
    idempotency record in one transaction; False when it was already recorded (nothing written).

    The event reaches the notifier through the events stream like any other; its `digest#`
    tracking id tells consumers it belongs to no report.
    """
    key = digest_key(period)
    event = ReportEvent(key, 1, at=clock.iso_utc(now), actor="sistem", role="sistem", action=DIGEST_ACTION,
                        from_status=None, to_status=None, public=False, message=None, data=data)
    marker = IdempotencyRecord(key, state="done", response={"period": period, "at": clock.iso_utc(now)},
                               expires_at=int(time.time()) + DIGEST_TTL_SECONDS)
    try:
        with TransactWrite(connection=reports._connection()) as tx:
            tx.save(marker, condition=IdempotencyRecord.key.does_not_exist())
            tx.save(event, condition=ReportEvent.seq.does_not_exist())
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise
    return True


def digest(period: str) -> ReportEvent | None:
    try:
        return ReportEvent.get(digest_key(period), 1, consistent_read=True)
    except ReportEvent.DoesNotExist:
        return None
