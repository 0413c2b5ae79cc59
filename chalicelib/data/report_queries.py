"""Paged reads of reports through the GSIs (never a Scan), with bounded cost per request.

`page()` reads at most `max_pages` DynamoDB pages and returns at most `limit` reports plus the
key to resume from. With a filter (e.g. kecamatan), pages may hold fewer matches than wanted; the
caller gets what was found within the budget and a resume key (a short page is not the end).
"""
from __future__ import annotations

from collections.abc import Iterator
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


@dataclass(frozen=True)
class RawPage:
    """One DynamoDB page of a Query: its reports, the items it read (ScannedCount, what a filter
    dropped included) and the key to resume from (None: the partition is done)."""
    items: list[Report]
    read: int
    resume: dict[str, Any] | None


def _one_page(index: Any, hash_value: str, range_key_condition: Condition, size: int,
              start: dict[str, Any] | None, filter_condition: Condition | None = None) -> RawPage | None:
    pages = index.query(hash_value, range_key_condition=range_key_condition, filter_condition=filter_condition,
                        scan_index_forward=False, page_size=size, last_evaluated_key=start).page_iter
    try:
        raw = next(pages)
    except StopIteration:
        return None
    rows = raw.get("Items", [])
    return RawPage([Report.from_raw_data(row) for row in rows], int(raw.get("ScannedCount", len(rows))),
                   pages.last_evaluated_key)


def changed_page(month: str, after: str, size: int, start: dict[str, Any] | None) -> RawPage | None:
    """ONE page of the public reports last changed in `month` (the sparse by_updated_month index,
    which holds no rahasia report) after `after`, newest change first, at most `size` items read;
    None when nothing is left from `start` on."""
    return _one_page(Report.by_updated_month, month, Report.updated_at > after, size, start)


def created_page(month: str, first: str, last: str, size: int, start: dict[str, Any] | None) -> RawPage | None:
    """ONE page of the reports created in `month` between `first` and `last` (by_month), newest
    first, rahasia ones filtered out (they still count as read), at most `size` items read."""
    return _one_page(Report.by_month, month, Report.created_at.between(first, last), size, start,
                     Report.privacy != "rahasia")


def by_ids(tracking_ids: list[str]) -> list[Report]:
    """The reports of these ids that exist (one BatchGetItem per 100, eventually consistent)."""
    return list(Report.batch_get(tracking_ids))


class Counted(Iterator[Report]):
    """The reports of a Query as they are read, and how many items it has read so far."""

    def __init__(self, pages: Any) -> None:
        self._pages = pages

    def __next__(self) -> Report:
        return next(self._pages)  # type: ignore[no-any-return]

    @property
    def items_read(self) -> int:
        return int(self._pages.page_iter.total_scanned_count)


def due(shard: str, until: str, page_size: int) -> Counted:
    """Reports of one sweep shard whose `sweep_at` is at or before `until`, oldest check first
    (key condition only on the by_sweep index: nothing read is wasted)."""
    return Counted(Report.by_sweep.query(shard, Report.sweep_at <= until, page_size=page_size))


def in_sweep(shard: str, page_size: int) -> Iterator[Report]:
    """Every report of one sweep shard (the open work with a deadline), whatever its sweep_at."""
    return iter(Report.by_sweep.query(shard, page_size=page_size))


def breached(status: str) -> Iterator[Report]:
    """Reports of `status` past their stage's deadline (by_status, filtered on sla_breached)."""
    return iter(Report.by_status.query(status, filter_condition=Report.sla_breached == True))  # noqa: E712 (a condition)


def count_unmerged(status: str) -> int:
    """How many reports of `status` are not merged into another: a COUNT Query on by_status,
    which reads keys only, never an item's content."""
    return int(Report.by_status.count(status, filter_condition=Report.merged_into.does_not_exist()))


def month_summaries(month: str) -> Counted:
    """Every report created in `month` (YYYY-MM, WIB; by_month), with only the fields the public
    statistics count: status, category, kecamatan, privacy, source and the desa."""
    return Counted(Report.by_month.query(month, attributes_to_get=["status", "category", "kecamatan", "privacy",
                                                                   "source", "location.desa"]))


def matching(*, kecamatan: str | None = None, source: str | None = None, assigned_to: str | None = None,
             hidden_privacies: tuple[str, ...] = ()) -> Condition | None:
    """A filter for `page`: every given field equal, no report of a hidden privacy (filtered in
    the Query, so a page is not emptied by rows its reader may not see). None: no filter."""
    parts: list[Condition] = []
    if kecamatan:
        parts.append(Report.kecamatan == kecamatan)
    if source:
        parts.append(Report.source == source)
    if assigned_to:
        parts.append(Report.assigned_to == assigned_to)
    parts.extend(Report.privacy != hidden for hidden in hidden_privacies)
    condition: Condition | None = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition
