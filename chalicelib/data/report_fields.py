"""Writes of single fields of a report outside the versioned write path of
chalicelib/data/reports.py: diagnostics of the SP4N-LAPOR! sync that must not bump the version a
client's If-Match holds, and the one-off backfill walk over the whole reports table.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.data.models import Report


def count_sync_attempt(tracking_id: str, error: str) -> bool:
    """One more failed sync attempt and its error, on a linked report that exists (no version
    bump). False if the report is gone or was never linked."""
    try:
        Report(tracking_id).update(
            # typed map attributes are document paths on the class (PynamoDB's stubs do not say so)
            actions=[Report.sp4n.attempts.add(1), Report.sp4n.last_error.set(error)],  # type: ignore[attr-defined]
            condition=Report.tracking_id.exists() & Report.sp4n.exists(),
        )
    except UpdateError:
        return False
    return True


def note_lapor_status(tracking_id: str, status_code: str) -> bool:
    """LAPOR!'s last seen status on a linked report (no version bump). False if the report is
    gone or was never linked."""
    try:
        Report(tracking_id).update(
            actions=[Report.sp4n.lapor_status.set(status_code)],  # type: ignore[attr-defined]
            condition=Report.tracking_id.exists() & Report.sp4n.exists())
    except UpdateError:
        return False
    return True


def every_report() -> Iterator[Report]:
    """Every report, by a paginated Scan: for one-off backfills only (daily paths read indexes)."""
    return iter(Report.scan())


def set_if_unchanged(report: Report, values: dict[str, Any]) -> bool:
    """Set these fields of `report` if it still has the version read (no version bump: a backfill
    of derived fields). False: it changed meanwhile, and the next run of the backfill does it."""
    actions = [getattr(Report, name).set(value) for name, value in values.items()]
    try:
        report.update(actions=actions, condition=Report.version == report.version)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return False
    return True
