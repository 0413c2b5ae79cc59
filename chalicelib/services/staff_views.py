"""The staff view of a report (CONTRACT.md "Staff"), filtered by chalicelib.domain.privacy.

Everything in the reporter's view, plus `version`, `opd_code`, `category`, `classification`,
internal `notes`, the full `audit_trail`, `sla` and `sp4n`, the routing help (`suggested_opd`:
what the reporter chose or the category's default OPD), `returned_by`, and the `actions` the
caller's role may take now.

Identity: see chalicelib.domain.privacy. An admin's explicit `reveal` of an anonymous reporter's
identity, or of any NIK, is saved as an internal `identity_viewed` event (with a version bump, in
the same kind of conditional transaction as every other change) BEFORE the data is returned: no
audit event, no identity. The NIK is decrypted (KMS) only for such a reveal, never for an OPD.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.adapters import kms
from chalicelib.auth import Principal
from chalicelib.data import reference, reports
from chalicelib.data.models import Report, ReportEvent
from chalicelib.domain import clock, privacy
from chalicelib.domain import workflow as wf
from chalicelib.errors import ApiError, forbidden, validation_error
from chalicelib.services import sla_state, views
from chalicelib.services import workflow as workflow_service

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


def parse_reveal(value: str | None) -> frozenset[str]:
    try:
        return privacy.parse_reveal(value)
    except privacy.BadReveal as exc:
        raise validation_error([{"field": "reveal", "type": "enum", "message": str(exc)}]) from None


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
        internal = [(k, data.get(k)) for k in ("note", "reason") if data.get(k)]
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
            "kecamatan": report.location.kecamatan, "desa": report.location.desa,
            "address": text(report.location.address),
            "lat": float(report.location.lat) if report.location.lat is not None else None,
            "lon": float(report.location.lon) if report.location.lon is not None else None,
        },
        "incident_date": report.incident_date,
        "source": report.source,
        "updated_at": _iso(report.updated_at),
        "disposed_at": _iso(report.disposed_at),
        "first_response_at": _iso(report.first_response_at),
        "returned_by": list(report.returned_by or []),
        "rating": int(report.rating) if report.rating is not None else None,
        "sla": sla_state.staff_view(report),
        "sp4n": {
            "state": (sp4n.state if sp4n is not None else None) or "pending",
            "complaint_id": sp4n.complaint_id if sp4n is not None else None,
            "attempts": int(sp4n.attempts or 0) if sp4n is not None else 0,
        },
        "reporter": privacy.staff_reporter(role, access, who, nik, has_nik=report.nik_ciphertext is not None),
        "reporter_hidden": access.hidden_for_admin,
        "notes": notes,
        "audit_trail": trail,
        "actions": [a for a in wf.actions_for(report.status, role) if a in wf.STAFF_ACTIONS],
    }
    return view


def _record_reveal(report: Report, principal: Principal, audited: tuple[str, ...], now: datetime) -> Report:
    """Save the `identity_viewed` audit event; re-read and retry when the report just changed."""
    for _ in range(_REVEAL_RETRIES):
        expected = int(report.version)
        seq = int(report.event_seq) + 1
        event = ReportEvent(
            report.tracking_id, seq, at=clock.iso_utc(now), actor="admin", actor_id=principal.sub,
            role=principal.role, action="identity_viewed", from_status=report.status,
            to_status=report.status, message=None, public=False,
            data={"revealed": list(audited), "privacy": report.privacy},
        )
        report.version = expected + 1
        report.event_seq = seq
        report.updated_at = clock.iso_utc(now)
        try:
            reports.save_change(report, expected, [event])
            return report
        except reports.Conflict:
            fresh = reports.get(report.tracking_id)
            if fresh is None:
                break
            report = fresh
    raise ApiError(409, "version_conflict", "The report is changing right now; try again.")


def read(tracking_id: str, principal: Principal, reveal: Iterable[str] = ()) -> dict[str, Any]:
    """GET /staff/reports/{id}: the view, after recording any audited reveal."""
    report = workflow_service.load_for_staff(tracking_id, principal)
    access = access_for(principal, report, reveal)
    if access.audited:
        report = _record_reveal(report, principal, access.audited, clock.now())
        access = access_for(principal, report, reveal)
    nik = None
    if access.nik and report.nik_ciphertext is not None:
        nik = kms.decrypt_nik(report.nik_ciphertext, report.tracking_id)
    return staff_view(report, reports.events(report.tracking_id), principal, access, nik)


def after_action(report: Report, principal: Principal) -> dict[str, Any]:
    """The staff view answered by POST .../actions (no reveal: an action never discloses more)."""
    access = access_for(principal, report)
    return staff_view(report, reports.events(report.tracking_id), principal, access)
