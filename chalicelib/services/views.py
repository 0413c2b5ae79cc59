"""What each audience sees of a report. The reporter's view: public events only, no staff names."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.adapters import access_key
from chalicelib.data import reference, reports
from chalicelib.domain import access_code, clock
from chalicelib.domain import workflow as wf
from chalicelib.domain.errors import not_found
from chalicelib.domain.tracking import normalise_tracking_id

if TYPE_CHECKING:
    from chalicelib.data.models import Report, ReportEvent


def _iso(value: str | None) -> str | None:
    return clock.iso(clock.parse(value)) if value else None


def opd_ref(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    opd = reference.opds().get(code, {})
    return {"code": code, "name": str(opd.get("name", code))}


# Statuses in which an OPD's planned completion date still means something to the reporter.
_PLANNING = frozenset({"diproses", "perlu_kelengkapan"})


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
    out = []
    for e in events:
        if not e.public:
            continue
        entry: dict[str, Any] = {"at": _iso(e.at), "status": e.to_status, "actor": e.actor, "message": e.message,
                                 "action": e.action, "attachments": event_attachments(e)}
        if e.action == "progress":
            entry["planned_completion"] = (e.data or {}).get("planned_completion")
        out.append(entry)
    return out


def desa_fields(report: Report) -> dict[str, str | None]:
    """The stored Kemendagri code and its name from the reference data (None for reports without
    one, and the code alone for a code the reference no longer lists)."""
    code = report.location.desa if report.location else None
    return {"desa": code, "desa_name": reference.desa_names().get(code) if code else None}


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
        **desa_fields(report),
        "opd": opd_ref(report.opd_code),
        "created_at": _iso(report.created_at),
        "due_at": _iso(report.due_at),
        "planned_completion": report.planned_completion if report.status in _PLANNING else None,
        "attachments": list(report.attachments or []),
        "timeline": timeline(events),
    }


def load_for_reporter(tracking_id: str, token: str | None) -> Report:
    """The report if `token` opens it. Unknown id and wrong token fail the same way (one 404 body)."""
    report = reports.get(normalise_tracking_id(tracking_id))
    if report is None or not access_code.matches(access_key.key(), token, report.access_token_hash):
        raise not_found("Tidak ada laporan dengan nomor dan kode akses ini.")
    return report


def reporter_report(tracking_id: str, token: str | None) -> dict[str, Any]:
    report = load_for_reporter(tracking_id, token)
    events = reports.events(report.tracking_id)
    view = reporter_view(report, events)
    primary = reports.get(report.merged_into) if report.merged_into else None
    if primary is None:
        return view
    merged_at = next((e.at for e in reversed(events) if e.action == "merge"), None)
    return followed_view(view, merged_at, primary, reports.events(primary.tracking_id))


def followed_view(view: dict[str, Any], merged_at: str | None, primary: Report,
                  primary_events: list[ReportEvent]) -> dict[str, Any]:
    """The view of a duplicate merged into `primary`, for its reporter: the primary's status,
    OPD and deadline, and the primary's public steps since the merge after the duplicate's own.

    Never the primary's id, texts or files: those are its reporter's. A step's text is shown only
    when the primary is not `rahasia` (an OPD's answer to the shared problem); of a `rahasia`
    primary only the status and a neutral sentence."""
    secret = primary.privacy == "rahasia"
    since = clock.parse(merged_at) if merged_at else None
    steps = []
    for t in timeline([e for e in primary_events if since is not None and clock.parse(e.at) > since]):
        message = t["message"]
        if secret or t["actor"] == "pelapor":  # the other reporter's own words are never shown
            message = wf.neutral_text(t["action"], t["status"])
        steps.append({**t, "message": message, "attachments": []})
    status = primary.status
    return {
        **view,
        "status": status,
        "merged": True,
        "opd": opd_ref(primary.opd_code),
        "due_at": _iso(primary.due_at),
        "planned_completion": primary.planned_completion if status in _PLANNING else None,
        "timeline": [*view["timeline"], *steps],
    }
