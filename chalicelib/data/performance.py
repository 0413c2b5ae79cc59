"""Storage of the monthly performance facts (chalicelib.domain.performance.Fact), their
corrections, and the monthly digest: a month's facts are one partition of PerformanceTable, read
with one Query. The layout and why a fact is written only if it does not go back in time:
docs/DESIGN.md, "Tables" (Performance).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.data import digests, items, month_close
from chalicelib.data.models import PerformanceFact, ReportEvent
from chalicelib.domain.month_close import FINAL
from chalicelib.domain.performance import Fact

DIGEST_ACTION = "performance_digest"


CORRECTION = "~correction#"  # sorts after every OPD code: a drill-down's begins_with never meets it


@dataclass
class Read:
    facts: list[Fact]
    items_read: int  # ScannedCount summed over the pages: what DynamoDB read (and bills)
    # Late events about an earlier, final month, recorded in this month's record: each
    # {"fact": Fact, "changes": {figure: +1|-1}, "final_month", "recorded_at"}.
    corrections: list[dict[str, Any]] = field(default_factory=list)


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


def save_unless_final(facts: Iterable[Fact]) -> tuple[int, list[Fact]]:
    """`save`, each fact in one transaction with a check that its month is not final (the month's
    `close#` state item, chalicelib/data/month_close.py): a finalisation racing this write can
    never see a fact change under it. Returns (written, the facts refused because their month
    is final)."""
    meta: Any = PerformanceFact.Meta
    written, final = 0, []
    for fact in facts:
        check = {"ConditionCheck": {
            "TableName": meta.table_name,
            "Key": {"month": {"S": month_close.partition(fact.month)}, "fact_key": {"S": month_close.STATE}},
            "ConditionExpression": "attribute_not_exists(#s) OR #s <> :final",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":final": {"S": FINAL}},
        }}
        put = {"Put": {
            "TableName": meta.table_name, "Item": items.item(_item(fact)),
            "ConditionExpression": "attribute_not_exists(#b) OR #b <= :b",
            "ExpressionAttributeNames": {"#b": "basis_seq"},
            "ExpressionAttributeValues": {":b": {"N": str(fact.basis_seq)}},
        }}
        try:
            items.transact_write(PerformanceFact, [check, put])
        except items.Cancelled as exc:
            if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                final.append(fact)
            elif len(exc.reasons) > 1 and exc.reasons[1] == "ConditionalCheckFailed":
                continue  # a newer fold won: keep it
            else:
                raise
            continue
        written += 1
    return written, final


def save_correction(period: str, fact: Fact, changes: dict[str, int], recorded_at: str) -> bool:
    """Record in `period`'s record the latest fold of a fact of an earlier, final month (same
    rule as `save`: never a fold of a shorter log over a longer one)."""
    body = {"fact": fact.as_dict(), "changes": changes, "final_month": fact.month, "recorded_at": recorded_at}
    item = PerformanceFact(period, f"{CORRECTION}{fact.month}#{fact.key}", tracking_id=fact.tracking_id,
                           opd_code=fact.opd_code, basis_seq=fact.basis_seq, fact=body)
    condition = PerformanceFact.basis_seq.does_not_exist() | (PerformanceFact.basis_seq <= fact.basis_seq)
    try:
        item.save(condition=condition)
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def stored(fact: Fact) -> Fact | None:
    """The fact as stored in its own month (for a final month: as frozen)."""
    try:
        item = PerformanceFact.get(fact.month, fact.key, consistent_read=True)
    except PerformanceFact.DoesNotExist:
        return None
    return Fact.from_dict(item.fact or {})


def _read(month: str, prefix: str | None = None) -> Read:
    condition = PerformanceFact.fact_key.startswith(prefix) if prefix else None
    # No page size: DynamoDB pages by 1 MB (about 1,500 facts), the fewest round trips.
    pages = PerformanceFact.query(month, range_key_condition=condition)
    facts, corrections = [], []
    for item in pages:
        if item.fact_key.startswith(CORRECTION):
            raw = dict(item.fact or {})
            corrections.append({**raw, "fact": Fact.from_dict(raw.get("fact") or {})})
        else:
            facts.append(Fact.from_dict(item.fact or {}))
    return Read(facts=facts, items_read=pages.page_iter.total_scanned_count, corrections=corrections)


def month(period: str) -> Read:
    """Every fact of one month (all OPDs)."""
    return _read(period)


def opd_month(period: str, opd_code: str) -> Read:
    """The facts of one OPD in one month."""
    return _read(period, f"{opd_code}#")


# -- the monthly digest ---------------------------------------------------------------------
# Stored like the weekly SLA digest (chalicelib/data/digests.py): event `digest#monthly#YYYY-MM`,
# seq 1, and its idempotency record of the same key, in one transaction. The `digest#` tracking id
# tells consumers it belongs to no report.

def _period_key(period: str) -> str:
    return f"monthly#{period}"


def record_digest(period: str, now: datetime, data: dict[str, Any]) -> bool:
    """Append the month's digest event exactly once; False when it was already recorded."""
    return digests.record(_period_key(period), now, data, action=DIGEST_ACTION)


def digest(period: str) -> ReportEvent | None:
    return digests.get(_period_key(period))
