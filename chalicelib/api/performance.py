"""The monthly per-OPD performance record (staff) and the public statistics. Thin: parse the query,
call chalicelib.services.performance, answer. The definitions are in chalicelib.domain.performance."""
from __future__ import annotations

from typing import Any

from chalice import Response
from pydantic import Field

from chalicelib import auth
from chalicelib.api.http import answer, current_request, query, route
from chalicelib.auth import principal_of
from chalicelib.domain import clock
from chalicelib.domain.errors import forbidden, not_found, validation_error
from chalicelib.domain.performance import FIGURES, check_period
from chalicelib.schemas import Out, Strict, parse
from chalicelib.services import performance

# An OPD's officers see their own row and may object to its figures (opd_admin where that role exists).
OPD_ROLES = tuple(r for r in ("opd", "opd_admin") if r in auth.ROLES)
STAFF_ROLES = ("admin", "pimpinan", *OPD_ROLES)


class Figures(Out):
    received: int = Field(description="Dispositions (verify/redispose) to the OPD in the month (WIB)")
    responded: int = Field(description="Of those, answered by the OPD (its first `respond`)")
    responded_on_time: int = Field(description="First answer by the deadline of the OPD stage in force "
                                   "(respon_opd from the disposition, or tindak_lanjut from an accept made in time)")
    on_time_pct: float | None = Field(description="100 x responded_on_time / (responded_on_time + late); "
                                      "null while nothing is decided")
    median_first_response_hours: float | None = Field(description="Median working hours (07:30-16:00 WIB, "
                                                      "working days) from disposition to first answer")
    overdue_open: int = Field(description="Now with the OPD, waiting on it, past its current deadline")
    returned: int = Field(description="Handed back as not its authority (return)")
    avg_rating: float | None = Field(description="Mean reporter rating (1-5) given while with the OPD")
    breaches: int = Field(description="Dispositions with at least one sla_breach recorded for the OPD")
    returned_pct: float | None = Field(description="100 x returned / received: the mis-routing rate")
    late: int = Field(description="First-response deadline missed (answered late, or held past it unanswered)")
    pending: int = Field(description="Unanswered, still with the OPD, deadline not passed yet")
    withdrawn: int = Field(description="Left the OPD before its deadline without an answer (nothing was due)")
    rated: int = Field(description="Dispositions with a reporter rating")


class OpdFigures(Figures):
    opd_code: str
    opd_name: str
    status: str = Field(description="provisional | final: the month's status")


class ObjectionWindow(Out):
    opens: str = Field(description="00:00 WIB on the 1st of the month")
    closes: str = Field(description="23:59:59 WIB of the 5th working day after the month (regency calendar)")
    state: str = Field(description="not_open | open | closed")


class ObjectionCounts(Out):
    undecided: int
    accepted: int
    rejected: int


class Verification(Out):
    unit: str = Field(description="DISKOMINFOTIK: the complaint desk, not an OPD row")
    stage: str
    forwarded: int = Field(description="Reports forwarded from `diajukan` in the month")
    on_time: int = Field(description="Forwarded within the verifikasi deadline (3 HK), no breach recorded")
    late: int
    on_time_pct: float | None
    breaches: int = Field(description="Forwarded reports with a verifikasi sla_breach")
    median_working_hours: float | None


class Correction(Out):
    final_month: str = Field(description="The final month whose figure the late event changed")
    opd_code: str
    opd_name: str
    tracking_id: str
    disposition_seq: int
    changes: dict[str, int] = Field(description="figure -> +1 / -1 against the frozen record")
    recorded_at: str | None


class PerformanceBoard(Out):
    period: str
    status: str = Field(description="provisional (objections open, figures may move) | final (frozen)")
    finalised_at: str | None
    as_of: str = Field(description="The instant overdue/pending/late were evaluated at (+07:00); "
                       "for a final month the instant it was finalised")
    items: list[OpdFigures] = Field(description="One per OPD that received reports in the month, by code "
                                    "(an OPD's officer: its own row only)")
    totals: Figures = Field(description="The regency: sums of the rows (a report forwarded to two OPDs "
                            "counts for each); median and average over all dispositions")
    objection_window: ObjectionWindow
    objections: ObjectionCounts
    verification: Verification = Field(description="Diskominfotik's own verification time")
    corrections: list[Correction] = Field(description="Late events about earlier final months, recorded here")


class DrillRow(Out):
    tracking_id: str | None = Field(description="null when the caller may not read the report (a `rahasia` "
                                    "report for pimpinan): counted, not listed")
    withheld: bool
    disposition_seq: int
    disposed_at: str
    accepted_at: str | None
    response_due_at: str
    first_response_at: str | None
    first_response_hours: float | None
    outcome: str = Field(description="on_time | late | pending | withdrawn")
    overdue: bool
    stage_due_at: str | None
    returned: bool
    ended_at: str | None
    ended_by: str | None
    breach_seqs: list[int] = Field(description="Seq numbers of the sla_breach events in the audit trail")
    rating: int | None
    waived: list[str] = Field(description="Figures an accepted objection took this report out of")


class DrillDown(Out):
    period: str
    opd_code: str
    opd_name: str
    figure: str
    status: str
    as_of: str
    count: int
    items: list[DrillRow]


class ReportCounts(Out):
    total: int = Field(description="Reports submitted in the month (WIB)")
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_kecamatan: dict[str, int]
    by_channel: dict[str, int] = Field(description="how the reports came in (web, sms, whatsapp, ...): every report")
    by_desa: dict[str, int]
    not_broken_down: int = Field(description="`rahasia` reports: in the total and by status only")


class PublicOpd(Out):
    opd_code: str
    opd_name: str
    received: int
    responded: int
    responded_on_time: int
    on_time_pct: float | None
    median_first_response_hours: float | None


class PublicStats(Out):
    period: str
    as_of: str
    reports: ReportCounts
    opd_response: list[PublicOpd]


_PERIOD = {"name": "period", "in": "query", "required": False,
           "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
           "description": "YYYY-MM (WIB); defaults to the current month"}
_FORMAT = {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "csv"]},
           "description": "csv: text/csv; charset=utf-8 (with BOM), a header and one row per OPD"}
_FIGURE = {"name": "figure", "in": "query", "required": True, "schema": {"type": "string", "enum": list(FIGURES)},
           "description": "Which figure's reports to list"}


def _period(params: dict[str, str]) -> str:
    raw = params.get("period")
    if raw is None:
        return clock.month_wib(clock.now())
    try:
        return check_period(raw)
    except ValueError as exc:
        raise validation_error([{"field": "period", "type": "format", "message": str(exc)}]) from None


@route("/staff/performance", "GET", summary="Monthly per-OPD performance (Tukin review), JSON or CSV",
       tags=["staff", "performance"], auth="staff", roles=STAFF_ROLES, responses={200: PerformanceBoard},
       errors=(400,), parameters=[_PERIOD, _FORMAT])
def staff_performance() -> Any:
    params = query(current_request())
    period = _period(params)
    fmt = params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise validation_error([{"field": "format", "type": "enum", "message": "json atau csv"}])
    who = principal_of(current_request())
    body = performance.board_json(period, opd_code=who.opd_code if who.role in OPD_ROLES else None)
    if fmt == "json":
        return answer(body)
    return Response(body=performance.to_csv(body), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="kinerja-opd-{period}.csv"',
    })


@route("/staff/performance/{opd_code}/reports", "GET",
       summary="The reports behind one figure of one OPD (exactly those counted)",
       tags=["staff", "performance"], auth="staff", roles=STAFF_ROLES, responses={200: DrillDown},
       errors=(400, 404), parameters=[_PERIOD, _FIGURE])
def staff_performance_drilldown(opd_code: str) -> Any:
    params = query(current_request())
    period = _period(params)
    figure = params.get("figure")
    if figure not in FIGURES:
        raise validation_error([{"field": "figure", "type": "enum",
                                 "message": "salah satu dari " + ", ".join(FIGURES)}])
    who = principal_of(current_request())
    if who.role in OPD_ROLES and who.opd_code != opd_code:
        raise forbidden("OPD hanya dapat melihat rincian kinerjanya sendiri.")
    try:
        return answer(performance.drilldown(period, opd_code, figure, role=who.role,
                                                   own_opd=who.role in OPD_ROLES))
    except performance.UnknownOpd:
        raise not_found("Tidak ada OPD dengan kode ini.") from None


_STATS_PERIOD = {**_PERIOD, "description": "YYYY-MM (WIB), from the service's first month to the current "
                 "one; defaults to the current month"}


@route("/stats", "GET", summary="Public monthly statistics (counts only, no personal data)",
       tags=["public"], responses={200: PublicStats}, errors=(400,), parameters=[_STATS_PERIOD],
       rate_limit="stats")
def public_stats() -> Any:
    period = _period(query(current_request()))
    try:
        performance.public_period(period)
    except performance.NotAPeriod as exc:
        raise validation_error([{"field": "period", "type": "range", "message": str(exc).capitalize() + "."}],
                               "Periode tidak tersedia.") from None
    return answer(performance.public_stats(period))


# -- closing the month: objections, decisions, finalisation ----------------------------------

class ObjectionIn(Strict):
    tracking_id: str = Field(min_length=1, max_length=64)
    figure: str = Field(description="late | breaches | overdue_open: a figure that counts against the OPD")
    reason: str = Field(min_length=1, max_length=1000)


class DecisionIn(Strict):
    decision: str = Field(description="accepted | rejected")
    note: str | None = Field(default=None, max_length=1000)


class Objection(Out):
    id: str
    period: str
    opd_code: str
    tracking_id: str
    figure: str
    reason: str
    status: str = Field(description="undecided | accepted | rejected")
    filed_at: str
    decision_note: str | None = None
    decided_at: str | None = None
    disposition_seqs: list[int]


class ObjectionList(Out):
    period: str
    status: str
    objection_window: ObjectionWindow
    items: list[Objection]


def _path_period(period: str) -> str:
    try:
        return check_period(period)
    except ValueError as exc:
        raise validation_error([{"field": "period", "type": "format", "message": str(exc)}]) from None


@route("/staff/months/{period}/objections", "POST", summary="An OPD objects to one figure of one of its reports",
       tags=["staff", "performance"], auth="staff", roles=OPD_ROLES, request=ObjectionIn,
       responses={201: Objection}, errors=(400, 404, 409))
def file_objection(period: str) -> Any:
    from chalicelib.services import month_close

    period = _path_period(period)
    request = current_request()
    body = parse(ObjectionIn, request.raw_body)
    made = month_close.file_objection(period, principal_of(request), body.tracking_id, body.figure, body.reason)
    return answer(made, 201)


@route("/staff/months/{period}/objections", "GET", summary="The month's objections (an OPD: its own)",
       tags=["staff", "performance"], auth="staff", roles=("admin", *OPD_ROLES),
       responses={200: ObjectionList}, errors=(400,))
def list_objections(period: str) -> Any:
    from chalicelib.services import month_close

    return answer(month_close.list_objections(_path_period(period), principal_of(current_request())))


@route("/staff/months/{period}/objections/{objection_id}", "PUT", summary="Accept or reject an objection",
       tags=["staff", "performance"], auth="staff", roles=("admin",), request=DecisionIn,
       responses={200: Objection}, errors=(400, 404, 409))
def decide_objection(period: str, objection_id: str) -> Any:
    from chalicelib.services import month_close

    period = _path_period(period)
    request = current_request()
    body = parse(DecisionIn, request.raw_body)
    return answer(month_close.decide(period, objection_id, principal_of(request), body.decision, body.note))


@route("/staff/months/{period}/finalise", "POST", summary="Finalise the month's record (after the objection window)",
       tags=["staff", "performance"], auth="staff", roles=("admin",), responses={200: PerformanceBoard},
       errors=(400, 409))
def finalise_month(period: str) -> Any:
    from chalicelib.services import month_close

    return answer(month_close.finalise(_path_period(period), principal_of(current_request())))
