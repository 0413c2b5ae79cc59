"""The staff view of a report (docs/CONTRACT.md, "Staff"), filtered by chalicelib.domain.privacy,
and the admin's audited reveal of an anonymous reporter or a NIK. Who sees what, and why a reveal
is recorded before anything is shown: docs/PRIVACY.md.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import kms
from chalicelib.auth import Principal
from chalicelib.data import reference, reports
from chalicelib.domain import clock, privacy
from chalicelib.domain import workflow as wf
from chalicelib.domain.errors import forbidden, validation_error, version_conflict
from chalicelib.domain.report import Event
from chalicelib.observability import access as access_log
from chalicelib.services import officers, sla_fields, views
from chalicelib.services import workflow as workflow_service

if TYPE_CHECKING:
    from chalicelib.data.models import Report, ReportEvent

_REVEAL_RETRIES = 3


def _iso(value: str | None) -> str | None:
    return clock.iso(clock.parse(value)) if value else None


def suggested_opd(report: Report) -> str | None:
    """Routing help: the OPD the reporter named, else the default OPD of the report's category."""
    if report.suggested_opd:
        return str(report.suggested_opd)
    if report.category:
        code = reference.categories().get(report.category, {}).get("opd_code")
        return str(code) if code else None
    return None


def _reporter_map(report: Report) -> dict[str, Any]:
    r = report.reporter
    return {"name": r.name, "email": r.email, "phone": r.phone} if r is not None else {}


def _has_contact(report: Report) -> bool:
    return any(_reporter_map(report).values())


def access_for(principal: Principal, report: Report, reveal: Iterable[str] = ()) -> privacy.IdentityAccess:
    try:
        return privacy.identity_access(principal.role, report.privacy, reveal,
                                       has_nik=report.nik_ciphertext is not None,
                                       has_contact=_has_contact(report))
    except privacy.RevealRefused as exc:
        raise forbidden(str(exc).capitalize() + ".") from None


REVEAL_REASON_MIN = 10


def check_reveal(fields: list[str], reason: str) -> tuple[frozenset[str], str]:
    """The body of a reveal, checked: a 400 naming each bad field, in Indonesian."""
    problems: list[dict[str, Any]] = []
    wanted = frozenset(f.strip().lower() for f in fields)
    unknown = sorted(wanted - set(privacy.REVEALABLE))
    if not wanted:
        problems.append({"field": "fields", "type": "missing",
                         "message": "Sebutkan apa yang dibuka: identity dan/atau nik."})
    elif unknown:
        problems.append({"field": "fields", "type": "enum",
                         "message": "Hanya identity atau nik yang dapat dibuka, bukan " + ", ".join(unknown) + "."})
    reason = " ".join(reason.split())
    if len(reason) < REVEAL_REASON_MIN:
        problems.append({"field": "reason", "type": "too_short",
                         "message": f"Tuliskan alasan membuka data ini (minimal {REVEAL_REASON_MIN} karakter)."})
    if problems:
        raise validation_error(problems, "Permintaan tidak valid.")
    return wanted, reason


def staff_view(report: Report, events: list[ReportEvent], principal: Principal,
               access: privacy.IdentityAccess, nik: str | None = None) -> dict[str, Any]:
    role = principal.role
    who = _reporter_map(report)
    # The report and its events are two reads: an event written in between belongs to a later
    # version, so the view shows exactly the trail of the version it reports.
    events = [e for e in events if int(e.seq) <= int(report.event_seq)]

    def text(value: str | None) -> str | None:
        return privacy.text_for(access, role, value, who, None)

    base = views.reporter_view(report, events)
    timeline = [{**t, "message": text(t["message"])} for t in base["timeline"]]
    trail = [{
        "seq": int(e.seq), "at": _iso(e.at), "actor": e.actor, "actor_id": e.actor_id, "role": e.role,
        "action": e.action, "from_status": e.from_status, "to_status": e.to_status,
        "message": text(e.message), "public": bool(e.public),
        "data": privacy.redact_data(dict(e.data or {}), access, role, who, None),
    } for e in events]
    notes = []
    for e in events:
        data = dict(e.data or {})
        if e.action == "identity_viewed":
            continue  # its reason is in the audit trail, not an internal note about the case
        internal = [(k, data.get(k)) for k in ("note", "reason") if data.get(k)]
        code = data.get("reason_code")
        if code:
            internal.insert(0, ("reason_code", f"{wf.RETURN_REASON_CODES.get(code, code)} ({code})"))
        if e.action == "note" and e.message:
            internal.insert(0, ("note", e.message))
        for kind, value in internal:
            notes.append({"at": _iso(e.at), "actor": e.actor, "actor_id": e.actor_id, "action": e.action,
                          "kind": kind, "message": text(str(value))})
    sp4n = report.sp4n
    view: dict[str, Any] = {
        **base,
        "title": text(report.title),
        "description": text(report.description),
        "timeline": timeline,
        "version": int(report.version),
        "opd_code": report.opd_code,
        "suggested_opd": suggested_opd(report),
        "classification": report.classification,
        "location": {
            "kecamatan": report.location.kecamatan, **views.desa_fields(report),
            "address": text(report.location.address),
            "lat": float(report.location.lat) if report.location.lat is not None else None,
            "lon": float(report.location.lon) if report.location.lon is not None else None,
        },
        "incident_date": report.incident_date,
        "channel": report.source or "web",
        "updated_at": _iso(report.updated_at),
        "disposed_at": _iso(report.disposed_at),
        "first_response_at": _iso(report.first_response_at),
        "returned_by": list(report.returned_by or []),
        "rating": int(report.rating) if report.rating is not None else None,
        "sla": sla_fields.staff_view(report),
        "sp4n": {
            "state": (sp4n.state if sp4n is not None else None) or "pending",
            "complaint_id": sp4n.complaint_id if sp4n is not None else None,
            "attempts": int(sp4n.attempts or 0) if sp4n is not None else 0,
        },
        "reporter": privacy.staff_reporter(role, access, who, nik, has_nik=report.nik_ciphertext is not None),
        "reporter_hidden": access.hidden_for_admin,
        "notes": notes,
        "audit_trail": trail,
        "merged_into": report.merged_into,
        "merged_ids": list(report.merged_ids or []),
        "actions": _actions(report, principal),
        "assigned_to": ({"id": report.assigned_to, "name": officers.name_of(report.opd_code, report.assigned_to)}
                        if report.assigned_to else None),
    }
    return view


def _actions(report: Report, principal: Principal) -> list[str]:
    """What the caller may do now, in table order: an opd_admin's are an OPD's plus its own."""
    held = set()
    for role in principal.roles:
        held.update(wf.actions_for(report.status, role))
    return [a for a in wf.STAFF_ACTIONS if a in held and (not report.merged_into or a in wf.MERGED_ALLOWS)]


def _record_reveal(report: Report, principal: Principal, audited: tuple[str, ...], reason: str,
                   now: datetime) -> Report:
    """Save the `identity_viewed` audit event; re-read and retry when the report just changed."""
    def audit(current: Report) -> list[Event]:
        current.updated_at = clock.iso_utc(now)
        return [Event(at=now, actor="admin", actor_id=principal.sub, role=principal.role, action="identity_viewed",
                      from_status=current.status, to_status=current.status, public=False,
                      data={"revealed": list(audited), "privacy": current.privacy, "reason": reason})]

    try:
        saved = reports.update(report.tracking_id, audit, attempts=_REVEAL_RETRIES, current=report)
    except reports.Conflict:
        saved = None
    if saved is None:
        raise version_conflict("Laporan sedang berubah; silakan coba lagi.")
    return saved.report


def _shown(view_reporter: dict[str, Any] | None) -> tuple[str, ...]:
    """Which kinds of identity a view shows (for the access log): never the values."""
    if view_reporter is None:
        return ()
    return ("contact",) + (("nik",) if view_reporter.get("nik") else ())


def read(tracking_id: str, principal: Principal) -> dict[str, Any]:
    """GET /staff/reports/{id}: the view. It never discloses more than the role sees by default
    (no reveal here: that is a deliberate POST, `reveal`); a view that shows a reporter's
    identity leaves an access-log line."""
    report = workflow_service.load_for_staff(tracking_id, principal)
    view = staff_view(report, reports.events(report.tracking_id), principal, access_for(principal, report))
    if view["reporter"] is not None:
        access_log("report_view", sub=principal.sub, role=principal.role, rows=1,
                   tracking_id=report.tracking_id, fields=_shown(view["reporter"]))
    return view


def reveal(tracking_id: str, principal: Principal, fields: Iterable[str], reason: str) -> dict[str, Any]:
    """POST /staff/reports/{id}/reveal (admin): what an anonymous reporter's identity or a NIK is.

    The `identity_viewed` event (with the admin's reason) is saved BEFORE anything is decrypted
    or answered: no audit event, no identity. Answers the reporter object and the new version."""
    report = workflow_service.load_for_staff(tracking_id, principal)
    access = access_for(principal, report, fields)
    if access.audited:
        report = _record_reveal(report, principal, access.audited, reason, clock.now())
        access = access_for(principal, report, fields)
    nik = None
    if access.nik and report.nik_ciphertext is not None:
        nik = kms.decrypt_nik(report.nik_ciphertext, report.tracking_id)
    reporter = privacy.staff_reporter(principal.role, access, _reporter_map(report), nik,
                                      has_nik=report.nik_ciphertext is not None)
    access_log("reveal", sub=principal.sub, role=principal.role, rows=1, tracking_id=report.tracking_id,
               fields=_shown(reporter))
    return {"tracking_id": report.tracking_id, "version": int(report.version),
            "revealed": list(access.audited), "reporter": reporter}


def after_action(report: Report, principal: Principal) -> dict[str, Any]:
    """The staff view answered by POST .../actions (no reveal: an action never discloses more)."""
    access = access_for(principal, report)
    return staff_view(report, reports.events(report.tracking_id), principal, access)
