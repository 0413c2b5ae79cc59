"""Paged reads of reports through the GSIs (never a Scan), with bounded cost per request.

`page()` reads at most `max_pages` DynamoDB pages and returns at most `limit` reports plus the
key to resume from. With a filter (e.g. kecamatan), pages may hold fewer matches than wanted; the
caller gets what was found within the budget and a resume key (a short page is not the end).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.data.models import Report

# index name -> (hash key attribute, range key attribute)
INDEXES: dict[str, tuple[str, str]] = {
    "by_opd": ("opd_code", "status_created"),
    "by_status": ("status", "created_at"),
    "by_month": ("created_month", "created_at"),
}


@dataclass(frozen=True)
class Page:
    items: list[Report]
    resume: dict[str, Any] | None  # DynamoDB's ExclusiveStartKey for the next page; None: the end


def _index(name: str) -> Any:
    return {"by_opd": Report.by_opd, "by_status": Report.by_status, "by_month": Report.by_month}[name]


def page(index: str, hash_value: str, *, range_prefix: str | None = None, filter_condition: Condition | None = None,
         start: dict[str, Any] | None = None, limit: int = 20, max_pages: int = 4) -> Page:
    """Newest first (descending range key) from one partition of `index`."""
    hash_attr, range_attr = INDEXES[index]
    key_names = ("tracking_id", hash_attr, range_attr)
    range_condition = getattr(Report, range_attr).startswith(range_prefix) if range_prefix else None
    page_size = limit if filter_condition is None else min(100, max(limit * 3, 25))
    pages = _index(index).query(
        hash_value, range_key_condition=range_condition, filter_condition=filter_condition,
        scan_index_forward=False, last_evaluated_key=start, page_size=page_size,
    ).page_iter
    items: list[Report] = []
    resume = start
    for _ in range(max_pages):
        try:
            raw = next(pages)
        except StopIteration:
            return Page(items, None)
        rows = raw.get("Items", [])
        for i, row in enumerate(rows):
            items.append(Report.from_raw_data(row))
            if len(items) == limit:
                more = i < len(rows) - 1 or pages.last_evaluated_key is not None
                return Page(items, {k: row[k] for k in key_names} if more else None)
        resume = pages.last_evaluated_key
        if resume is None:
            return Page(items, None)
    return Page(items, resume)
