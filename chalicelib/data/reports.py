"""Report storage. A report and the event that changed it are written in ONE transaction, with a
version check: nothing half-stored, and two officers acting at once cannot both win."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from chalicelib.data import items, rate_limits
from chalicelib.data.models import IdempotencyRecord, Report, ReportEvent
from chalicelib.domain.ratelimit import Window
from chalicelib.domain.workflow import is_open


class Conflict(Exception):
    """A condition of the transaction failed; `reasons` gives each item's code, in write order,
    and `names` (when the writer gave them) says which item each one is."""

    def __init__(self, reasons: list[str | None], names: list[str] | None = None) -> None:
        super().__init__(f"transaction conditions failed: {reasons}")
        self.reasons = reasons
        self.names = names or []

    def failed(self, name: str) -> bool:
        """Did the named item's condition fail? ("report", "event", "idempotency", "rate_limit",
        "attachment")"""
        return any(n == name and r == "ConditionalCheckFailed" for n, r in zip(self.names, self.reasons, strict=False))


def get(tracking_id: str, consistent: bool = True) -> Report | None:
    try:
        return Report.get(tracking_id, consistent_read=consistent)
    except Report.DoesNotExist:
        return None


def create(report: Report | Mapping[str, Any], event: ReportEvent | Mapping[str, Any],
           idempotency: IdempotencyRecord | None = None, rate_limit: Window | None = None,
           claims: Sequence[dict[str, Any]] = ()) -> None:
    """Store a new report, its first event, (optionally) the idempotency record, the client's
    rate-limit hit and the claims on its attachments, all or nothing, in ONE TransactWriteItems.
    Conflict.failed(name) says which condition failed: "report" (tracking id taken), "event",
    "idempotency" (a retry), "rate_limit" (the allowance is spent), "attachment". The hot path:
    the items are built by chalicelib/data/items.py, not by PynamoDB's TransactWrite, and the
    report and event may be given as the values of their models (items.item_of), unbuilt."""
    names = ["report", "event"]
    if isinstance(report, Report):
        sp4n_watch(report)
    if isinstance(event, Mapping):
        event = {**event, "version": 1}
    else:
        event.version = 1
    writes = [_put_new(Report, report), _put_new(ReportEvent, event)]
    if idempotency is not None:
        writes.append(items.put_new(idempotency))
        names.append("idempotency")
    if rate_limit is not None:
        writes.append(rate_limits.transaction_item(rate_limit))
        names.append("rate_limit")
    writes.extend(claims)
    names.extend(["attachment"] * len(claims))
    try:
        items.transact_write(Report, writes)
    except items.Cancelled as exc:
        raise Conflict(exc.reasons, names) from exc


def _put_new(cls: Any, given: Any) -> dict[str, Any]:
    return items.put_new(cls, given) if isinstance(given, Mapping) else items.put_new(given)


def save_change(report: Report, expected_version: int, events: Iterable[ReportEvent],
                claims: Sequence[dict[str, Any]] = ()) -> None:
    """Write the changed report (version already bumped by the caller), its new events (each
    stamped with the version this write produces) and the claims on attachments it newly
    references, all or nothing.

    Raises Conflict when someone else changed the report since `expected_version` was read
    (failed("report")), or an attachment cannot be claimed (failed("attachment")).
    """
    sp4n_watch(report)
    meta: Any = Report.Meta
    writes: list[dict[str, Any]] = [{"Put": {
        "TableName": meta.table_name, "Item": items.item(report),
        "ConditionExpression": "#0 = :0", "ExpressionAttributeNames": {"#0": Report.version.attr_name},
        "ExpressionAttributeValues": {":0": {"N": str(expected_version)}},
    }}]
    names = ["report"]
    for event in events:
        event.version = expected_version + 1
        writes.append(items.put_new(event))
        names.append("event")
    writes.extend(claims)
    names.extend(["attachment"] * len(claims))
    try:
        items.transact_write(Report, writes)
    except items.Cancelled as exc:
        raise Conflict(exc.reasons, names) from exc


def sp4n_watch(report: Report) -> None:
    """Keep the sparse by_sp4n_watch keys in step with the report (every write passes here)."""
    s = report.sp4n
    if s is not None and (s.problem or s.state == "failed"):
        report.sp4n_watch = "problem"
    elif s is not None and s.complaint_id and is_open(report.status):
        report.sp4n_watch = "open"
    else:
        report.sp4n_watch = None
    if report.sp4n_watch is None:
        report.sp4n_checked_at = None
    elif not report.sp4n_checked_at:
        report.sp4n_checked_at = report.created_at  # never checked: first in line


def watched(partition: str, limit: int | None = None) -> Iterator[Report]:
    """Reports of one by_sp4n_watch partition ("open" | "problem"), least recently checked first."""
    return iter(Report.by_sp4n_watch.query(partition, scan_index_forward=True, limit=limit))


def mark_checked(tracking_id: str, at: str) -> None:
    """When the pull last looked at the report on LAPOR! (no version: a workflow write racing it
    may put the older time back, which only brings the report forward in the queue)."""
    from pynamodb.exceptions import UpdateError

    try:
        Report(tracking_id).update(actions=[Report.sp4n_checked_at.set(at)],
                                   condition=Report.sp4n_watch.exists())
    except UpdateError:
        pass  # it left the watch list meanwhile (closed): nothing to mark


def events(tracking_id: str) -> list[ReportEvent]:
    return list(ReportEvent.query(tracking_id, consistent_read=True))


def iter_by_opd(opd_code: str, status: str | None = None, **kwargs: Any) -> Iterator[Report]:
    condition = Report.status_created.startswith(f"{status}#") if status else None
    return Report.by_opd.query(opd_code, range_key_condition=condition, scan_index_forward=False, **kwargs)
