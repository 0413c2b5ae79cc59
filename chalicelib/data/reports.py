"""Report storage. A report and the event that changed it are written in ONE transaction, with a
version check: nothing half-stored, and two officers acting at once cannot both win."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from chalicelib.data import items
from chalicelib.data.models import LedgerItem, Report, ReportEvent
from chalicelib.domain import clock, retention
from chalicelib.domain.workflow import is_open

if TYPE_CHECKING:  # the submission's limit: loaded by the write that counts one
    from chalicelib.domain import report as entity
    from chalicelib.domain.ratelimit import Window


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


def updated_month(privacy: str | None, updated_at: str | None) -> str | None:
    """The `by_updated_month` key of a report: the WIB month of its last change, or None (out of
    the index) for a rahasia report. Both writes below set it, so no writer can forget it."""
    if privacy == "rahasia" or not updated_at:
        return None
    return clock.month_wib(clock.parse(updated_at))


def backfill_updated_month(month: str) -> int:
    """Give `updated_month` to the reports created in `month` that were stored before the key
    existed (a one-off migration, not a write path: the key is derived from fields the item
    already has, and the condition leaves alone any report a real write has touched since)."""
    done = 0
    missing = Report.updated_month.does_not_exist() & (Report.privacy != "rahasia")
    for report in Report.by_month.query(month, filter_condition=missing):
        value = updated_month(report.privacy, report.updated_at)
        if value is None:
            continue
        try:
            report.update(actions=[Report.updated_month.set(value)],
                          condition=Report.updated_month.does_not_exist() & (Report.updated_at == report.updated_at))
            done += 1
        except UpdateError:
            continue  # changed meanwhile: that write set the key itself
    return done


def get(tracking_id: str, consistent: bool = True) -> Report | None:
    try:
        return Report.get(tracking_id, consistent_read=consistent)
    except Report.DoesNotExist:
        return None


def get_many(tracking_ids: Iterable[str]) -> dict[str, Report]:
    """Several reports in one BatchGetItem per hundred, strongly consistent; a missing one is
    absent from the answer."""
    keys = list(dict.fromkeys(tracking_ids))
    if not keys:
        return {}
    if len(keys) == 1:
        one = get(keys[0])
        return {keys[0]: one} if one is not None else {}
    return {r.tracking_id: r for r in Report.batch_get(keys, consistent_read=True)}


def create(report: Report | Mapping[str, Any], event: ReportEvent | Mapping[str, Any],
           idempotency: LedgerItem | None = None, rate_limit: Window | None = None,
           claims: Sequence[dict[str, Any]] = (), extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
    """Store a new report, its first event, (optionally) the idempotency record, the client's
    rate-limit hit and the claims on its attachments, all or nothing, in ONE TransactWriteItems.
    Conflict.failed(name) says which condition failed: "report" (tracking id taken), "event",
    "idempotency" (a retry), "rate_limit" (the allowance is spent), "attachment". The hot path:
    the items are built by chalicelib/data/items.py, not by PynamoDB's TransactWrite, and the
    report and event may be given as the values of their models (items.item_of), unbuilt."""
    names = ["report", "event"]
    if isinstance(report, Mapping):
        report = {**report, "updated_month": updated_month(report.get("privacy"), report.get("updated_at")),
                  "dupe_place": dupe_place_of(report.get("status"), report.get("kecamatan"), report.get("merged_into"))}
    else:
        report.updated_month = updated_month(report.privacy, report.updated_at)
        report.dupe_place = dupe_place_of(report.status, report.kecamatan, report.merged_into)
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
        from chalicelib.data import rate_limits

        writes.append(rate_limits.transaction_item(rate_limit))
        names.append("rate_limit")
    writes.extend(claims)
    names.extend(["attachment"] * len(claims))
    _add_extra(writes, names, extra)
    try:
        items.transact_write(Report, writes)
    except items.Cancelled as exc:
        raise Conflict(exc.reasons, names) from exc


def _add_extra(writes: list[dict[str, Any]], names: list[str], extra: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Other items that belong to the same change, each (name for Conflict.failed, write)."""
    for name, write in extra:
        names.append(name)
        writes.append(write)


def _put_new(cls: Any, given: Any) -> dict[str, Any]:
    return items.put_new(cls, given) if isinstance(given, Mapping) else items.put_new(given)


def save_change(report: Report, expected_version: int, events: Iterable[ReportEvent],
                claims: Sequence[dict[str, Any]] = (), extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
    """Write the changed report (version already bumped by the caller), its new events (each
    stamped with the version this write produces) and the claims on attachments it newly
    references, all or nothing.

    Raises Conflict when someone else changed the report since `expected_version` was read
    (failed("report")), or an attachment cannot be claimed (failed("attachment")).
    """
    writes: list[dict[str, Any]] = [_put_changed(report, expected_version)]
    names = ["report"]
    for event in events:
        event.version = expected_version + 1
        writes.append(items.put_new(event))
        names.append("event")
    writes.extend(claims)
    names.extend(["attachment"] * len(claims))
    _add_extra(writes, names, extra)
    try:
        items.transact_write(Report, writes)
    except items.Cancelled as exc:
        raise Conflict(exc.reasons, names) from exc


# -- the entity a move works on ------------------------------------------------------------
@lru_cache(maxsize=1)
def _entity_fields() -> tuple[str, ...]:
    """The entity's fields that are the model's own attributes of the same name; `desa` lives in
    the model's `location` map (with a copy of the kecamatan). The entity module is loaded by the
    first move, not by every function that reads reports."""
    from chalicelib.domain import report as entity

    return tuple(f.name for f in fields(entity.Report) if f.name != "desa")


def entity_of(report: Report) -> entity.Report:
    """The stored report as the domain's entity (a copy: change it, then `apply_entity`)."""
    from chalicelib.domain import report as entity

    values = {name: getattr(report, name) for name in _entity_fields()}
    values["returned_by"] = list(values["returned_by"] or [])
    values["sla_breached"] = bool(values["sla_breached"])
    values["rating"] = int(values["rating"]) if values["rating"] is not None else None
    return entity.Report(**values, desa=report.location.desa if report.location else None)


def apply_entity(changed: entity.Report, report: Report) -> None:
    """Bring the stored report in step with the entity a move changed."""
    for name in _entity_fields():
        setattr(report, name, getattr(changed, name))
    if report.location is not None:
        report.location.kecamatan = changed.kecamatan
        report.location.desa = changed.desa


def event_of(tracking_id: str, seq: int, event: entity.Event) -> ReportEvent:
    """The domain's event as the row `update` numbers and stores."""
    return ReportEvent(tracking_id, seq, at=clock.iso_utc(event.at), actor=event.actor, actor_id=event.actor_id,
                       role=event.role, action=event.action, from_status=event.from_status,
                       to_status=event.to_status, message=event.message, public=event.public,
                       data=dict(event.data))


@dataclass
class Change:
    """What a change of one report writes besides the report: its new events (numbered by
    `update`), the claims on attachments it newly references and other items of the same
    transaction, each (name for Conflict.failed, write)."""

    events: list[entity.Event]
    claims: Sequence[dict[str, Any]] = ()
    extra: Sequence[tuple[str, dict[str, Any]]] = ()


@dataclass
class Saved:
    """What `update` did: the report as it stands, its new events as stored, and whether it wrote at all
    (False when `mutate` found nothing to do)."""

    report: Report
    events: list[ReportEvent]
    written: bool


def lost_version_race(_seen_seq: int, conflict: Conflict) -> bool:
    """The default reason to try a change again: someone else wrote the report first."""
    return conflict.failed("report")


def update(tracking_id: str, mutate: Callable[[Report], Change | list[entity.Event] | None], *, attempts: int,
           retry: Callable[[int, Conflict], bool] = lost_version_race,
           read: Callable[[str], Report | None] | None = None,
           current: Report | None = None) -> Saved | None:
    """The one read-modify-write of a report. Read it, let `mutate` change it in memory and say
    what else to write (None: nothing, no write), and store all of it under the version check
    (`save_change`). When the write loses, `retry(seen_event_seq, conflict)` decides whether to
    read again and start over, at most `attempts` writes; otherwise, or when the attempts run
    out, the Conflict is raised for the caller to explain.

    `read` (default `get`) reads the report; None means it is gone, and `update` returns None.
    `current`: the report as the caller has just read it, used by the first attempt instead of
    a read."""
    read = read or get
    failure: Conflict | None = None
    for attempt in range(attempts):
        report = current if attempt == 0 and current is not None else read(tracking_id)
        if report is None:
            return None
        seen = int(report.event_seq or 0)
        expected = int(report.version or 1)
        change = mutate(report)
        if change is None:
            return Saved(report, [], written=False)
        if not isinstance(change, Change):
            change = Change(list(change))
        rows = [event_of(report.tracking_id, seen + i, event) for i, event in enumerate(change.events, 1)]
        report.version, report.event_seq = expected + 1, seen + len(rows)
        try:
            save_change(report, expected, rows, change.claims, change.extra)
        except Conflict as exc:
            if not retry(seen, exc):
                raise
            failure = exc
            continue
        return Saved(report, rows, written=True)
    if failure is None:
        raise ValueError("attempts must be at least 1")
    raise failure


def _put_changed(report: Report, expected_version: int) -> dict[str, Any]:
    """The conditional Put of a changed report, with every derived index key brought in step."""
    _stamp_retention(report)
    sp4n_watch(report)
    meta: Any = Report.Meta
    report.updated_month = updated_month(report.privacy, report.updated_at)
    report.dupe_place = dupe_place_of(report.status, report.kecamatan, report.merged_into)
    return {"Put": {
        "TableName": meta.table_name, "Item": items.item(report),
        "ConditionExpression": "#0 = :0", "ExpressionAttributeNames": {"#0": Report.version.attr_name},
        "ExpressionAttributeValues": {":0": {"N": str(expected_version)}},
    }}


def also_changed(report: Report, events: Iterable[entity.Event]) -> list[tuple[str, dict[str, Any]]]:
    """A second report changed in the same transaction as the one `update` writes (a merge's
    primary), under its own version check, with its events: items for `Change.extra`. The
    report's version and event numbers are bumped here; its Conflict is failed("report") too."""
    expected = int(report.version or 1)
    seq = int(report.event_seq or 0)
    writes: list[tuple[str, dict[str, Any]]] = []
    numbered = []
    for event in events:
        seq += 1
        row = event_of(report.tracking_id, seq, event)
        row.version = expected + 1
        numbered.append(row)
    report.version, report.event_seq = expected + 1, seq
    writes.append(("report", _put_changed(report, expected)))
    writes.extend(("event", items.put_new(event)) for event in numbered)
    return writes


def dupe_place_of(status: str | None, kecamatan: str | None, merged_into: str | None) -> str | None:
    """The `by_dupe_place` key: the kecamatan of an open report not merged into another."""
    if not status or not kecamatan or merged_into or not is_open(status):
        return None
    return str(kecamatan)


# Duplicate suggestions look this far back and read at most this many candidates: a bound on
# the reads that does not grow with the table (closed and merged reports are not in the index).
DUPE_WINDOW_DAYS = 90
DUPE_MAX_CANDIDATES = 200


def open_in_place(kecamatan: str, since: str) -> tuple[list[Report], int]:
    """Open, unmerged reports of `kecamatan` created at or after `since` (ISO UTC), newest
    first, at most DUPE_MAX_CANDIDATES; and the items DynamoDB read for them."""
    pages = Report.by_dupe_place.query(kecamatan, Report.created_at >= since, scan_index_forward=False,
                                       limit=DUPE_MAX_CANDIDATES, page_size=100)
    found = list(pages)
    return found, int(pages.page_iter.total_scanned_count)


def backfill_dupe_place() -> int:
    """Give `dupe_place` to the open reports stored before the key existed (a one-off migration:
    a Query per open status on by_status, never a Scan; the condition leaves alone any report a
    real write has touched since, which set the key itself)."""
    from chalicelib.domain.workflow import OPEN_STATUSES

    done = 0
    missing = Report.dupe_place.does_not_exist() & Report.merged_into.does_not_exist()
    for status in sorted(OPEN_STATUSES):
        for report in Report.by_status.query(status.value, filter_condition=missing):
            value = dupe_place_of(report.status, report.kecamatan, report.merged_into)
            if value is None:
                continue
            try:
                report.update(actions=[Report.dupe_place.set(value)],
                              condition=Report.dupe_place.does_not_exist() & (Report.version == report.version))
                done += 1
            except UpdateError:
                continue
    return done


@lru_cache(maxsize=1)
def _closed_statuses() -> frozenset[str]:
    return retention.load_policy().closed_statuses


def _stamp_retention(report: Report) -> None:
    """Every write of a changed report passes here, so no path can close a report without
    starting its retention clock (the sparse by_retention index the daily erasure reads)."""
    fields = retention.closure_fields(report.status, report.updated_at, report.closed_at, report.erased_at,
                                      _closed_statuses())
    report.closed_at = fields["closed_at"]
    report.retention_due = fields["retention_due"]


def sp4n_watch(report: Report) -> None:
    """Keep the sparse by_sp4n_watch keys in step with the report (every write passes here)."""
    s = report.sp4n
    if s is not None and (s.problem or s.state == "failed" or s.privacy_divergence):
        report.sp4n_watch = "problem"
    elif s is not None and s.complaint_id and is_open(report.status) and not report.merged_into:
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


def privacy_modes(tracking_ids: Iterable[str]) -> dict[str, str | None]:
    """Each report's privacy mode, by BatchGetItem of that one attribute (a report not found
    maps to None). For views that list ids of reports they do not otherwise read."""
    keys = sorted(set(tracking_ids))
    out: dict[str, str | None] = dict.fromkeys(keys)
    if keys:
        for r in Report.batch_get(keys, attributes_to_get=["tracking_id", "privacy"]):
            out[str(r.tracking_id)] = r.privacy
    return out


def due_for_erasure(closed_before: str, limit: int) -> list[str]:
    """Tracking ids of closed reports not yet anonymised, closed before `closed_before` (ISO UTC),
    oldest first: a Query of the sparse by_retention index, which erased reports leave."""
    return [r.tracking_id for r in Report.by_retention.query("yes", Report.closed_at < closed_before, limit=limit)]


def by_contact(phone_hash: str | None = None, email_hash: str | None = None) -> list[str]:
    """Tracking ids of the reports whose reporter has this phone or email (their keyed hashes)."""
    found: dict[str, None] = {}
    if phone_hash:
        found.update((r.tracking_id, None) for r in Report.by_phone_hash.query(phone_hash))
    if email_hash:
        found.update((r.tracking_id, None) for r in Report.by_email_hash.query(email_hash))
    return list(found)


def scrub_event(tracking_id: str, seq: int, changes: Mapping[str, Any]) -> None:
    """Blank personal fields (`message`, `data`) of a stored event. The ONE update of an event in
    the code base (tests/integration/test_audit_append_only.py): only the retention eraser calls
    it, and it records each erasure as an event of its own."""
    allowed = {"message", "data"}
    if not changes or set(changes) - allowed:
        raise ValueError(f"only {sorted(allowed)} of an event may be blanked")
    actions = [getattr(ReportEvent, name).set(value) for name, value in changes.items()]
    ReportEvent(tracking_id, seq).update(actions=actions, condition=ReportEvent.seq.exists())
