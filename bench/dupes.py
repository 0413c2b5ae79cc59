"""Items read per duplicate suggestion (counted, never timed): dupes_items_read_per_suggestion.

N reports arriving at a steady ten a day (so a bigger table is a longer history, as it is for the
regency), spread over the 16 kecamatan, each a full copy of a real submission with its own times
and index keys. Reports of the last 30 days are half open; older ones are closed but for one in
fifty still open (stragglers). Then GET /staff/reports/{id}/similar for a new report (the
service call behind it), counted with the meter of bench/reads.py (ScannedCount of every
Query/Scan page, one per item a Get returns). The suggestion reads the report and one Query of
the sparse `by_dupe_place` index: the open reports of one kecamatan in the last 90 days, bounded
by DUPE_MAX_CANDIDATES. Flat in N means it reads recent open work, not the table.

    python -m bench.dupes 10000
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
PER_DAY = 10
KECAMATAN = ("batujajar", "cihampelas", "cikalongwetan", "cililin", "cipatat", "cipeundeuy", "cipongkor",
             "cisarua", "gununghalu", "lembang", "ngamprah", "padalarang", "parongpong", "rongga",
             "saguling", "sindangkerta")


def fill(table: str, total: int, template: dict[str, Any], now: datetime) -> None:
    from chalicelib.domain import clock

    def items() -> Iterator[dict[str, Any]]:
        for i in range(total):
            created = now - timedelta(days=i / PER_DAY, minutes=5)
            recent = now - created <= timedelta(days=30)
            turn = i // len(KECAMATAN)  # the how-many-th report of its kecamatan
            is_open = (turn % 2 == 0) if recent else (turn % 50 == 0)
            kecamatan = KECAMATAN[i % len(KECAMATAN)]
            item = {**template, "tracking_id": {"S": f"KBB-D{i:07d}"}, "kecamatan": {"S": kecamatan},
                    "created_at": {"S": clock.iso_utc(created)}, "created_month": {"S": clock.month_wib(created)},
                    "updated_at": {"S": clock.iso_utc(created)},
                    "status": {"S": "diajukan" if is_open else "selesai"}}
            location = dict(template["location"]["M"])
            location["kecamatan"] = {"S": kecamatan}
            item["location"] = {"M": location}
            for key in ("dupe_place", "sweep_at", "sweep_shard", "status_created", "updated_month"):
                item.pop(key, None)
            if is_open:
                item["dupe_place"] = {"S": kecamatan}
            yield item

    write_items(table, items())


def items_read_per_suggestion(total: int) -> dict[str, float]:
    from bench.submit_cpu import REPORT
    from chalicelib.auth import Principal
    from chalicelib.domain import clock
    from chalicelib.domain.clock import WIB
    from chalicelib.services import duplicates, intake
    from chalicelib.submission import ReportIn

    now = NOW.replace(tzinfo=WIB)
    with moto_stack() as env:
        body = {**REPORT, "reporter": {k: v for k, v in REPORT["reporter"].items() if k != "nik"}}
        original_now = clock.now
        try:
            clock.now = lambda: now  # type: ignore[assignment]
            template_id = intake.submit(ReportIn.from_data(body))["tracking_id"]
            probe = intake.submit(ReportIn.from_data(body))["tracking_id"]  # the report at the desk
        finally:
            clock.now = original_now  # type: ignore[assignment]
        table = env["REPORTS_TABLE"]
        fill(table, total, template_item(table, template_id), now)
        admin = Principal(sub="bench-admin", role="admin")
        with metered() as meter:
            found = duplicates.similar(probe, admin)["items"]
        assert meter.calls["Scan"] == 0, meter.calls
        assert len(found) == 5, found  # the open copies of the same report in its kecamatan
        return {"items_read": meter.total, "suggested": len(found), "per_suggestion": float(meter.total)}


if __name__ == "__main__":
    print(json.dumps(items_read_per_suggestion(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
