"""Open work by status, as the gauge `OpenReports` (dimension `status`) for the dashboard.

One Query with Select=COUNT per open status on the `by_status` index: it reads keys only, never
an item's content, and costs what the open reports weigh in the index (a few read units).
"""
from __future__ import annotations

from chalicelib.data import report_queries
from chalicelib.domain.workflow import OPEN_STATUSES
from chalicelib.observability import logger, open_reports


def counts() -> dict[str, int]:
    # A duplicate merged into another report is not work of its own: its primary is.
    return {str(status.value): report_queries.count_unmerged(status.value) for status in sorted(OPEN_STATUSES)}


def publish() -> dict[str, int]:
    by_status = counts()
    open_reports(by_status)
    logger.info("open work", extra={"open_reports": by_status})
    return by_status
