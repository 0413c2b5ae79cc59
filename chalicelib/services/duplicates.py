"""Duplicate reports: suggestions for the verification desk (GET /staff/reports/{id}/similar),
and `merge`. What is read, what merge writes in its one transaction and what a merged duplicate
does then: docs/DESIGN.md, "Duplicates: suggestions and `merge`".
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.auth import Principal
from chalicelib.data import reports
from chalicelib.domain import clock
from chalicelib.domain import duplicates as dup
from chalicelib.domain import workflow as wf
from chalicelib.domain.errors import not_found, validation_error, version_conflict
from chalicelib.domain.report import Actor, Event
from chalicelib.domain.tracking import normalise_tracking_id
from chalicelib.observability import logger
from chalicelib.services import workflow

if TYPE_CHECKING:
    from chalicelib.data.models import Report


def _place(report: Report) -> dup.Place:
    loc = report.location
    return dup.Place(
        kecamatan=report.kecamatan, desa=loc.desa if loc else None, category=report.category,
        lat=float(loc.lat) if loc is not None and loc.lat is not None else None,
        lon=float(loc.lon) if loc is not None and loc.lon is not None else None,
    )


def _text(report: Report) -> dup.Text:
    return dup.Text(report.title or "", report.description or "")


def similar(tracking_id: str, principal: Principal) -> dict[str, Any]:
    """Up to five open reports that look like the same problem, newest first, each with its score."""
    report = workflow.load_for_staff(normalise_tracking_id(tracking_id), principal)
    since = clock.iso_utc(clock.parse(report.created_at) - timedelta(days=reports.DUPE_WINDOW_DAYS))
    found, items_read = reports.open_in_place(report.kecamatan, since)
    by_id = {c.tracking_id: c for c in found
             if not c.merged_into and wf.is_open(c.status) and workflow.visible_to(principal, c)}
    picked = dup.suggest(
        (report.tracking_id, _place(report), _text(report)),
        ((c.tracking_id, c.created_at, _place(c), _text(c)) for c in by_id.values()),
    )
    logger.info("duplicate suggestions", extra={"tracking_id": report.tracking_id, "candidates": len(found),
                                                "items_read": items_read, "suggested": len(picked)})
    items = []
    for s in picked:
        c = by_id[s.tracking_id]
        item: dict[str, Any] = {
            "tracking_id": c.tracking_id, "score": s.score, "title": c.title, "status": c.status,
            "privacy": c.privacy, "kecamatan": c.kecamatan, "desa": c.location.desa if c.location else None,
            "category": c.category, "opd_code": c.opd_code,
            "submitted_at": clock.iso(clock.parse(c.created_at)),
        }
        if s.distance_m is not None:
            item["distance_m"] = s.distance_m
        items.append(item)
    return {"items": items}


# -- merge ---------------------------------------------------------------------------------

def merge(tracking_id: str, principal: Principal, fields: Mapping[str, Any], if_match: int | None = None,
          now: datetime | None = None) -> Report:
    """Link the report `tracking_id` (the duplicate) to `fields["primary"]`. Refusals: 404 for a
    duplicate the caller cannot see; 400 for a missing or unknown primary; 409 version_conflict
    for a stale If-Match; 409 invalid_transition for what domain.workflow.check_merge refuses."""
    who = workflow.staff_actor(principal)

    def link(duplicate: Report) -> reports.Change:
        if not workflow.visible_to(principal, duplicate):
            raise not_found("Tidak ada laporan dengan nomor ini.")
        clean = workflow._check_fields("merge", fields, duplicate)
        primary = reports.get(normalise_tracking_id(str(clean["primary"])))
        if primary is None or not workflow.visible_to(principal, primary):
            raise validation_error([{"field": "primary", "type": "unknown",
                                     "message": "laporan utama tidak ditemukan"}])
        expected = int(duplicate.version)
        # As for every action: a change since the client's version that was only the system's
        # bookkeeping (the SP4N-LAPOR! sync record of the submission) is no conflict.
        if if_match is not None and if_match != expected and not workflow._unseen_only_bookkeeping(
                duplicate.tracking_id, if_match, expected):
            raise version_conflict(
                f"Laporan sudah pada versi {expected}, bukan {if_match}; muat ulang lalu coba lagi.")
        moment = now or clock.now()
        try:
            wf.check_merge(duplicate_id=duplicate.tracking_id, duplicate_status=duplicate.status,
                           duplicate_merged_into=duplicate.merged_into,
                           duplicate_has_merged=bool(duplicate.merged_ids),
                           primary_id=primary.tracking_id, primary_status=primary.status,
                           primary_merged_into=primary.merged_into, role=who.role)
            event = workflow.apply_move(duplicate, "merge", who, {**clean, "primary": primary.tracking_id}, moment)
        except wf.WorkflowError as exc:
            raise workflow._refusal(exc) from None
        received = _received(primary, duplicate, who, moment)
        return reports.Change([event], extra=reports.also_changed(primary, [received]))

    try:
        # Either report changed meanwhile: read both again and decide again.
        saved = reports.update(tracking_id, link, attempts=workflow._RETRIES)
    except reports.Conflict:
        raise workflow._conflict() from None
    if saved is None:
        raise not_found("Tidak ada laporan dengan nomor ini.")
    duplicate = saved.report
    logger.info("report merged", extra={"tracking_id": duplicate.tracking_id, "primary": duplicate.merged_into})
    return duplicate


def _received(primary: Report, duplicate: Report, who: Actor, now: datetime) -> Event:
    """The primary's side of a merge: its list of duplicates and an internal audit event."""
    primary.merged_ids = [*(primary.merged_ids or []), duplicate.tracking_id]  # type: ignore[list-item]
    primary.updated_at = clock.iso_utc(now)
    return Event(at=now, actor=who.actor, actor_id=who.actor_id, role=who.role, action="merge_received",
                 from_status=primary.status, to_status=primary.status, public=False,
                 data={"duplicate": duplicate.tracking_id, "privacy": duplicate.privacy})

