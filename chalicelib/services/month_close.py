"""Closing a Tukin month: OPDs' objections, Diskominfotik's decisions, finalisation.

The rules are chalicelib.domain.month_close's; the storage (one transaction per change, with its
audit event in `audit#performance#YYYY-MM`) is chalicelib.data.month_close's.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.auth import Principal
from chalicelib.data import audit
from chalicelib.data import month_close as closing
from chalicelib.data import performance as store
from chalicelib.domain import clock
from chalicelib.domain import month_close as mc
from chalicelib.domain import performance as perf
from chalicelib.domain.errors import Conflict, Forbidden, not_found, validation_error
from chalicelib.observability import logger
from chalicelib.services import performance, sla_fields

NOTE_MAX = 1000


def _event(now: datetime, who: Principal, action: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"at": clock.iso(now), "actor": "admin" if who.role == "admin" else "opd", "actor_id": who.sub,
            "role": who.role, "action": action, "public": False, "data": data}


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("id", "period", "opd_code", "tracking_id", "figure", "reason", "status",
                                       "filed_at", "decision_note", "decided_at", "disposition_seqs")}


def file_objection(period: str, who: Principal, tracking_id: Any, figure: Any, reason: Any,
                   now: datetime | None = None) -> dict[str, Any]:
    """An OPD objects to one figure of one of its own reports in `period`."""
    now = now or clock.now()
    if not who.opd_code:
        raise Forbidden("Akun OPD ini tidak terhubung ke OPD mana pun.")
    if not isinstance(tracking_id, str) or not tracking_id.strip():
        raise validation_error([{"field": "tracking_id", "type": "missing", "message": "nomor laporan wajib diisi"}])
    figure, reason = mc.check_objection(figure, reason)
    mc.check_may_object(period, sla_fields.calendar(), now, final=closing.state(period).final)
    own = [f for f in store.opd_month(period, who.opd_code).facts if f.tracking_id == tracking_id]
    if not own:
        raise not_found("Laporan ini tidak diteruskan ke OPD Anda pada bulan tersebut.")
    counted = [f for f in own if perf.in_figure(f, figure, now)]
    if not counted:
        raise validation_error([{"field": "figure", "type": "value",
                                 "message": "laporan ini tidak terhitung pada angka tersebut"}],
                               "Laporan ini tidak terhitung pada angka yang dikeberatkan.")
    oid = mc.objection_id(period, who.opd_code, tracking_id, figure)
    record = {"id": oid, "period": period, "opd_code": who.opd_code, "tracking_id": tracking_id, "figure": figure,
              "reason": reason, "filed_at": clock.iso(now), "filed_by": who.sub,
              "disposition_seqs": [f.seq for f in counted]}
    try:
        closing.file_objection(period, record, _event(now, who, "objection_filed", {
            "objection_id": oid, "opd_code": who.opd_code, "tracking_id": tracking_id, "figure": figure,
            "reason": reason}))
    except audit.Changed as exc:
        if closing.objection(period, oid) is not None:
            raise Conflict("Keberatan atas angka ini untuk laporan ini sudah diajukan.", code="objection_exists") \
                from exc
        raise Conflict("Bulan ini sudah final; keberatan tidak dapat diajukan lagi.", code="month_final") from exc
    logger.info("objection filed", extra={"period": period, "opd_code": who.opd_code, "figure": figure})
    return _public({**record, "status": mc.UNDECIDED})


def decide(period: str, objection_id: str, who: Principal, decision: Any, note: Any,
           now: datetime | None = None) -> dict[str, Any]:
    """Diskominfotik accepts or rejects an undecided objection."""
    now = now or clock.now()
    problems = []
    if decision not in mc.DECISIONS:
        problems.append({"field": "decision", "type": "enum", "message": "accepted atau rejected"})
    if note is not None and (not isinstance(note, str) or len(note) > NOTE_MAX):
        problems.append({"field": "note", "type": "length", "message": f"catatan paling banyak {NOTE_MAX} karakter"})
    if problems:
        raise validation_error(problems)
    current = closing.objection(period, objection_id)
    if current is None:
        raise not_found("Keberatan tidak ditemukan.")
    if current["status"] != mc.UNDECIDED:
        raise Conflict("Keberatan ini sudah diputuskan.", code="objection_decided")
    if closing.state(period).final:
        raise Conflict("Bulan ini sudah final.", code="month_final")
    record = {k: v for k, v in current.items() if k != "status"}
    record.update(decision_note=(note or "").strip() or None, decided_at=clock.iso(now), decided_by=who.sub)
    try:
        closing.decide(period, record, str(decision), _event(now, who, "objection_decided", {
            "objection_id": objection_id, "opd_code": record["opd_code"], "tracking_id": record["tracking_id"],
            "figure": record["figure"], "decision": decision, "note": record["decision_note"]}))
    except audit.Changed as exc:
        raise Conflict("Keberatan ini sudah diputuskan atau bulan sudah final.", code="objection_decided") from exc
    performance.clear_cache()
    logger.info("objection decided", extra={"period": period, "decision": decision})
    return _public({**record, "status": decision})


def list_objections(period: str, who: Principal) -> dict[str, Any]:
    items = closing.objections(period)
    if who.role != "admin":
        items = [o for o in items if o.get("opd_code") == who.opd_code]
    items.sort(key=lambda o: (o.get("filed_at") or "", o.get("id") or ""))
    state = closing.state(period)
    window = mc.objection_window(period, sla_fields.calendar())
    return {"period": period, "status": state.status, "objection_window": window.as_dict(clock.now()),
            "items": [_public(o) for o in items]}


def finalise(period: str, who: Principal, now: datetime | None = None) -> dict[str, Any]:
    """Make the month final: after the objection window, with every objection decided."""
    now = now or clock.now()
    state = closing.state(period)
    mc.check_may_finalise(period, sla_fields.calendar(), now, final=state.final, undecided=state.open_objections)
    body = performance.board_json(period, now)
    frozen = {"finalised_at": clock.iso(now), "finalised_by": who.sub, "totals": body["totals"],
              "items": body["items"], "verification": body["verification"]}
    try:
        closing.finalise(period, frozen, _event(now, who, "month_finalised", {
            "period": period, "totals": body["totals"], "objections": body["objections"]}))
    except audit.Changed as exc:
        again = closing.state(period)
        mc.check_may_finalise(period, sla_fields.calendar(), now, final=again.final, undecided=again.open_objections)
        raise Conflict("Bulan berubah saat difinalkan; coba lagi.", code="month_changed") from exc
    performance.clear_cache()
    logger.info("performance month finalised", extra={"period": period})
    return performance.board_json(period)
