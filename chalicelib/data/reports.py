"""Report storage. A report and the event that changed it are written in ONE transaction, with a
version check: nothing half-stored, and two officers acting at once cannot both win."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.data import items, rate_limits
from chalicelib.data.models import IdempotencyRecord, Report, ReportEvent
from chalicelib.domain.ratelimit import Window


class Conflict(Exception):
    """A condition of the transaction failed; `reasons` gives each item's code, in write order,
    and `names` (when the writer gave them) says which item each one is."""

    def __init__(self, reasons: list[str | None], names: list[str] | None = None) -> None:
        super().__init__(f"transaction conditions failed: {reasons}")
        self.reasons = reasons
        self.names = names or []

    def failed(self, name: str) -> bool:
        """Did the named item's condition fail? ("report", "event", "idempotency", "rate_limit")"""
        return any(n == name and r == "ConditionalCheckFailed" for n, r in zip(self.names, self.reasons, strict=False))


def _connection() -> Connection:
    # The model's cached connection (reset by models.bind()): a new Connection per transaction
    # would build a new botocore session and client each time, ~0.5 s of CPU per write.
    return Report._get_connection().connection


def _codes(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def get(tracking_id: str, consistent: bool = True) -> Report | None:
    try:
        return Report.get(tracking_id, consistent_read=consistent)
    except Report.DoesNotExist:
        return None


def create(report: Report, event: ReportEvent, idempotency: IdempotencyRecord | None = None,
           rate_limit: Window | None = None) -> None:
    """Store a new report, its first event, (optionally) the idempotency record and the client's
    rate-limit hit, all or nothing, in ONE TransactWriteItems (a submission's AWS budget is three
    calls). Conflict.failed("rate_limit") means the client's allowance was spent. The hot path:
    the items are built by chalicelib/data/items.py, not by PynamoDB's TransactWrite."""
    names = ["report", "event"]
    writes = [items.put_new(report), items.put_new(event)]
    if idempotency is not None:
        writes.append(items.put_new(idempotency))
        names.append("idempotency")
    if rate_limit is not None:
        writes.append(rate_limits.transaction_item(rate_limit))
        names.append("rate_limit")
    try:
        items.transact_write(Report, writes)
    except items.Cancelled as exc:
        raise Conflict(exc.reasons, names) from exc


def save_change(report: Report, expected_version: int, events: Iterable[ReportEvent]) -> None:
    """Write the changed report (version already bumped by the caller) and its new events.

    Raises Conflict when someone else changed the report since `expected_version` was read.
    """
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(report, condition=Report.version == expected_version)
            for event in events:
                tx.save(event, condition=ReportEvent.seq.does_not_exist())
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            raise Conflict(_codes(exc)) from exc
        raise


def events(tracking_id: str) -> list[ReportEvent]:
    return list(ReportEvent.query(tracking_id, consistent_read=True))


def iter_by_opd(opd_code: str, status: str | None = None, **kwargs: Any) -> Iterator[Report]:
    condition = Report.status_created.startswith(f"{status}#") if status else None
    return Report.by_opd.query(opd_code, range_key_condition=condition, scan_index_forward=False, **kwargs)
