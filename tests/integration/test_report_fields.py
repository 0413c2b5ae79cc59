"""Writes of single report fields outside the versioned path (chalicelib/data/report_fields.py)."""
from __future__ import annotations

import json
from typing import Any


def test_a_backfill_write_loses_to_a_change_made_since_the_read(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.data import report_fields, reports
    from chalicelib.data.models import Report

    tid = client.http.post("/reports", body=json.dumps(valid_report),
                           headers={"Content-Type": "application/json"}).json_body["tracking_id"]
    [read] = [r for r in report_fields.every_report() if r.tracking_id == tid]
    Report(tid).update(actions=[Report.version.add(1)])  # a staff move meanwhile
    assert not report_fields.set_if_unchanged(read, {"closed_at": "2026-01-01T00:00:00Z"})
    assert reports.get(tid).closed_at is None  # left for the next run
    fresh = reports.get(tid)
    assert report_fields.set_if_unchanged(fresh, {"closed_at": "2026-01-01T00:00:00Z", "retention_due": "yes"})
    stored = reports.get(tid)
    assert (stored.closed_at, stored.retention_due, stored.version) == ("2026-01-01T00:00:00Z", "yes", fresh.version)
