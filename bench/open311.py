"""Items read per Open311 request returned (counted, never timed): open311_items_read_per_item.

N reports over the last 12 months (one in ten rahasia, which the feed must never show), each a
full copy of a real submission with its own times and index keys; then GET requests.json
unfiltered (the spec's default window) and with a start_date/end_date range, counted with the
meter of bench/reads.py (ScannedCount of every Query/Scan page, one per item a Get returns).
Unfiltered, the feed reads the sparse `by_updated_month` index, which holds no rahasia report:
one item read per request returned, whatever N. The dated list reads `by_month`, which holds
them too: about 1 / (1 - the rahasia share).

    python -m bench.open311 10000
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bench.reads import metered, moto_stack
from bench.seed import template_item, write_items

NOW = datetime(2026, 11, 20, 10, 0)
PAGE_SIZE = 50


def fill(table: str, total: int, template: dict[str, Any], now: datetime) -> None:
    from chalicelib.data.reports import updated_month
    from chalicelib.domain import clock

    def items() -> Iterator[dict[str, Any]]:
        span = timedelta(days=365)
        for i in range(total):
            created = now - span * (i / total)
            updated = min(created + timedelta(hours=i % 72), now)
            privacy = "rahasia" if i % 10 == 3 else "publik"
            item = {**template, "tracking_id": {"S": f"KBB-O{i:07d}"}, "privacy": {"S": privacy},
                    "created_at": {"S": clock.iso_utc(created)}, "created_month": {"S": clock.month_wib(created)},
                    "updated_at": {"S": clock.iso_utc(updated)}}
            month = updated_month(privacy, clock.iso_utc(updated))
            item.pop("updated_month", None)
            if month:
                item["updated_month"] = {"S": month}
            yield item

    write_items(table, items())


def items_read_per_item(total: int) -> dict[str, float]:
    from bench.submit_cpu import REPORT
    from chalicelib.data import reference
    from chalicelib.domain.clock import WIB
    from chalicelib.services import intake, open311
    from chalicelib.submission import ReportIn

    now = NOW.replace(tzinfo=WIB)
    with moto_stack() as env:
        body = {**REPORT, "reporter": {k: v for k, v in REPORT["reporter"].items() if k != "nik"}}
        template_id = intake.submit(ReportIn.from_data(body))["tracking_id"]
        table = env["REPORTS_TABLE"]
        fill(table, total, template_item(table, template_id), now)
        reference.opds(), reference.categories(), reference.kecamatan()  # cached per container: warm
        with metered() as meter:
            rows = open311.list_requests(open311.RequestQuery(page_size=PAGE_SIZE, now=now))
        assert meter.calls["Scan"] == 0, meter.calls
        assert len(rows) == PAGE_SIZE, len(rows)
        assert all(r["service_request_id"] for r in rows)
        unfiltered = meter.total
        with metered() as meter:
            dated = open311.list_requests(open311.RequestQuery(
                start=now - timedelta(days=60), end=now - timedelta(days=30), page_size=PAGE_SIZE, now=now))
        assert meter.calls["Scan"] == 0, meter.calls
        assert len(dated) == PAGE_SIZE, len(dated)
        return {"items_read": unfiltered, "returned": len(rows), "per_item": unfiltered / len(rows),
                "dated_items_read": meter.total, "dated_per_item": meter.total / len(dated)}


if __name__ == "__main__":
    print(json.dumps(items_read_per_item(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
