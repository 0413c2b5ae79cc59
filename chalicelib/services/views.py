"""What each audience sees of a report. The reporter's view: public events only, no staff names."""
from __future__ import annotations

from typing import Any

from chalicelib.data import reference, reports
from chalicelib.data.models import Report, ReportEvent
from chalicelib.domain import clock
from chalicelib.domain.tracking import normalise_tracking_id, token_matches
from chalicelib.errors import not_found


def _iso(value: str | None) -> str | None:
    return clock.iso(clock.parse(value)) if value else None


def opd_ref(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    opd = reference.opds().get(code, {})
    return {"code": code, "name": str(opd.get("name", code))}


def event_attachments(event: ReportEvent) -> list[str]:
    """The files an event carries (an OPD's `respond`, a reporter's `reply`)."""
    data = event.data if isinstance(event.data, dict) else {}
    return [str(a) for a in data.get("attachments") or []]


def report_files(report: Report, events: list[ReportEvent], *, public_only: bool) -> list[str]:
    """Every file of a report: the submission's, then each step's in order."""
    found = dict.fromkeys(str(a) for a in report.attachments or [])
    for e in events:
        if e.public or not public_only:
            found.update(dict.fromkeys(event_attachments(e)))
    return list(found)


def timeline(events: list[ReportEvent]) -> list[dict[str, Any]]:
    return [
        {"at": _iso(e.at), "status": e.to_status, "actor": e.actor, "message": e.message,
         "attachments": event_attachments(e)}
        for e in events
        if e.public
    ]


def reporter_view(report: Report, events: list[ReportEvent]) -> dict[str, Any]:
    return {
        "tracking_id": report.tracking_id,
        "type": report.type,
        "title": report.title,
        "description": report.description,
        "category": report.category,
        "status": report.status,
        "privacy": report.privacy,
        "kecamatan": report.kecamatan,
        "opd": opd_ref(report.opd_code),
        "created_at": _iso(report.created_at),
        "due_at": _iso(report.due_at),
        "attachments": list(report.attachments or []),
        "timeline": timeline(events),
    }


def load_for_reporter(tracking_id: str, token: str | None) -> Report:
    """The report if `token` opens it. Unknown id and wrong token fail the same way (one 404 body)."""
    report = reports.get(normalise_tracking_id(tracking_id))
    if report is None or not token_matches(token, report.access_token_hash):
        raise not_found("Tidak ada laporan dengan nomor dan kode akses ini.")
    return report


def reporter_report(tracking_id: str, token: str | None) -> dict[str, Any]:
    report = load_for_reporter(tracking_id, token)
    return reporter_view(report, reports.events(report.tracking_id))
