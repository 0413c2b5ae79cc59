"""Staff routes (CONTRACT.md "Staff"). Each declares `auth="staff", roles=(...)`: the route
decorator verifies the token and the role before the handler runs (chalicelib.api.http)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Union

from chalice import Response
from pydantic import ConfigDict, Field, RootModel, create_model

from chalicelib.api.http import (
    IDEMPOTENCY_HEADER,
    answer,
    current_request,
    idempotency_key,
    if_match,
    query,
    route,
)
from chalicelib.auth import principal_of
from chalicelib.domain import workflow as wf
from chalicelib.domain.channels import CHANNELS
from chalicelib.domain.errors import validation_error
from chalicelib.schemas import Out, ReportView, Strict, parse
from chalicelib.services import intake, officers, staff_list, staff_views, workflow
from chalicelib.submission import ReportCreated, StaffReportIn

READERS = ("admin", "opd", "pimpinan")
ACTORS = ("admin", "opd")


def _field_type(name: str) -> Any:
    rule = wf.FIELDS[name]
    if rule.kind == "choice":
        return Literal[rule.choices]  # type: ignore[valid-type]
    if rule.kind == "files":
        return Annotated[list[str], Field(max_length=rule.max_length)]
    if rule.kind == "date":
        return date
    if rule.kind == "bool":
        return bool
    if rule.kind == "rating":
        return Annotated[int, Field(ge=1, le=5)]
    return Annotated[str, Field(min_length=1, max_length=rule.max_length)]


def _action_model(action: wf.Action) -> type[Strict]:
    """One request model per staff action, from the domain's table: its required and optional
    fields with their rules, so a wrong field is a 400 naming it and /openapi.json shows each."""
    fields: dict[str, Any] = {"action": (Literal[action.name], ...)}  # type: ignore[valid-type]
    for name in action.required:
        fields[name] = (_field_type(name), Field(description=wf.FIELDS[name].description))
    for name in action.optional:
        fields[name] = (_field_type(name) | None, Field(default=None, description=wf.FIELDS[name].description))
    title = "".join(part.title() for part in action.name.split("_")) + "Action"
    model: type[Strict] = create_model(title, __base__=Strict, **fields)
    model.__doc__ = f"`{action.name}` ({', '.join(sorted(action.roles))})"
    return model


_ACTION_MODELS = tuple(_action_model(wf.ACTIONS[name]) for name in wf.STAFF_ACTIONS)


class StaffActionIn(RootModel[Annotated[Union[_ACTION_MODELS], Field(discriminator="action")]]):  # type: ignore[valid-type]  # noqa: UP007
    """One action of the workflow's table; `action` picks which fields the body takes."""

    model_config = ConfigDict(defer_build=True)
    tag: ClassVar[str] = "action"  # the field naming the union's member (schemas.parse reports errors without it)


class SlaView(Out):
    stage: str | None
    due_at: str | None
    breached: bool


class ReportSlaView(SlaView):
    breached_by: list[str] = Field(description="the OPDs (or DISKOMINFOTIK) that missed a deadline of this "
                                   "report: what the monthly per-OPD record counts")


class Sp4nView(Out):
    state: Literal["pending", "synced", "failed"]
    complaint_id: str | None
    attempts: int


class LocationView(Out):
    kecamatan: str
    desa: str | None
    desa_name: str | None
    address: str | None
    lat: float | None
    lon: float | None


class StaffReportView(ReportView):
    """The reporter's view plus what staff need (identity per the privacy rules)."""

    version: int
    channel: str = Field(description="how the report came in: " + ", ".join(CHANNELS))
    location: LocationView
    incident_date: str | None
    updated_at: str | None
    disposed_at: str | None = Field(description="when the report was last sent to an OPD")
    first_response_at: str | None = Field(description="the OPD's first response to the current disposition")
    rating: int | None = Field(description="the reporter's rating (1-5) with the feedback")
    opd_code: str | None
    suggested_opd: str | None
    classification: str | None
    sla: ReportSlaView
    sp4n: Sp4nView
    reporter: dict[str, Any] | None = Field(description="name, email, phone (+ nik, nik_on_file for admin)")
    reporter_hidden: bool = Field(description="an anonymous reporter's identity an admin may reveal "
                                  "(POST .../reveal)")
    returned_by: list[str]
    assigned_to: dict[str, Any] | None = Field(default=None, description="the OPD officer the report is assigned "
                                               "to: {id, name} (null: nobody)")
    merged_into: str | None = Field(default=None, description="the primary this duplicate was merged into")
    merged_ids: list[str] = Field(default=[], description="the duplicates merged into this report")
    notes: list[dict[str, Any]]
    audit_trail: list[dict[str, Any]]
    actions: list[str]


class StaffListItem(Out):
    tracking_id: str
    type: str
    title: str
    category: str | None
    status: str
    privacy: str
    opd_code: str | None
    kecamatan: str
    desa: str | None
    desa_name: str | None
    channel: str = Field(description="how the report came in: " + ", ".join(CHANNELS))
    created_at: str
    updated_at: str
    due_at: str | None
    sla: SlaView
    version: int
    assigned_to: dict[str, Any] | None = Field(default=None, description="{id, name} of the assigned officer")
    merged_into: str | None = Field(default=None, description="a duplicate: the primary it was merged into")


class StaffList(Out):
    items: list[StaffListItem]
    next_cursor: str | None


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


_LIST_PARAMS = [
    _q("status", "one status"), _q("opd_code", "an OPD code (an opd user always sees only its own)"),
    _q("kecamatan", "code or name"),
    _q("channel", "how the report came in", {"enum": list(CHANNELS)}),
    _q("assigned", "me: only the reports assigned to the caller (an OPD officer)", {"enum": ["me"]}),
    _q("limit", "1-100, default 20", {"type": "integer"}),
    _q("cursor", "next_cursor of the previous page (opaque, signed)"),
    _q("format", "json (default) or csv (every page, same scope)", {"enum": ["json", "csv"]}),
]


@route("/staff/reports", "POST", summary="Enter a report for a citizen (walk-in, phone, letter, social media)",
       tags=["staff"], auth="staff", roles=("admin",), request=StaffReportIn, responses={201: ReportCreated},
       errors=(400, 409), parameters=IDEMPOTENCY_HEADER)
def enter_report() -> Any:
    # Not under the citizens' per-address limit: the desk enters many a day from one office.
    request = current_request()
    key = idempotency_key(request)
    body = StaffReportIn.from_json(request.raw_body)
    principal = principal_of(request)
    created = intake.submit(body.report(), key, source=body.channel, client=None,
                            entered_by=(principal.role, principal.sub))
    return answer(created, 201)


@route("/staff/reports", "GET", summary="List reports (staff)", tags=["staff"], auth="staff",
       roles=READERS, responses={200: StaffList}, errors=(400,), parameters=_LIST_PARAMS)
def list_reports() -> Any:
    request = current_request()
    params = query(request)
    filters = staff_list.parse_filters(params)
    principal = principal_of(request)
    if params.get("format") == "csv":
        return Response(body=staff_list.export_csv(principal, filters), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": 'attachment; filename="laporan.csv"'})
    return answer(staff_list.list_view(principal, filters))


@route("/staff/reports/{tracking_id}", "GET", summary="A report, staff view", tags=["staff"], auth="staff",
       roles=READERS, responses={200: StaffReportView}, errors=(400, 404))
def get_report(tracking_id: str) -> Any:
    request = current_request()
    params = query(request)
    if "reveal" in params:  # a link must never disclose: revealing is a deliberate POST with a reason
        raise validation_error([{"field": "reveal", "type": "moved",
                                 "message": "Identitas hanya dapat dibuka melalui POST "
                                            "/staff/reports/{tracking_id}/reveal dengan alasan."}],
                               "Parameter reveal tidak lagi diterima.")
    unknown = sorted(set(params))
    if unknown:
        raise validation_error([{"field": n, "type": "extra_forbidden", "message": "parameter tidak dikenal"}
                                for n in unknown])
    principal = principal_of(request)
    return answer(staff_views.read(tracking_id, principal))


class RevealIn(Strict):
    """What to reveal and why; the reason is kept in the audit event."""

    fields: list[str] = Field(max_length=2, description="identity (of an anonim reporter) and/or nik")
    reason: str = Field(max_length=500, description=f"why (at least {staff_views.REVEAL_REASON_MIN} characters)")


class RevealOut(Out):
    tracking_id: str
    version: int = Field(description="the report's version after the audit event")
    revealed: list[str] = Field(description="what this reading disclosed and recorded (empty: nothing new)")
    reporter: dict[str, Any] | None = Field(description="name, email, phone, nik, nik_on_file")


@route("/staff/reports/{tracking_id}/reveal", "POST",
       summary="Reveal an anonymous reporter's identity or a NIK (admin; audited with the reason)",
       tags=["staff"], auth="staff", roles=("admin",), request=RevealIn, responses={200: RevealOut},
       errors=(400, 404, 409))
def reveal(tracking_id: str) -> Any:
    request = current_request()
    body = parse(RevealIn, request.raw_body)
    fields, reason = staff_views.check_reveal(body.fields, body.reason)
    return answer(staff_views.reveal(tracking_id, principal_of(request), fields, reason))


@route("/staff/reports/{tracking_id}/actions", "POST", summary="Act on a report", tags=["staff"],
       auth="staff", roles=ACTORS, request=StaffActionIn, responses={200: StaffReportView}, errors=(404, 409),
       parameters=[{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                    "description": "the version read; a stale one is a 409 version_conflict"}])
def act(tracking_id: str) -> Any:
    request = current_request()
    principal = principal_of(request)
    version = if_match(request)
    body: Strict = parse(StaffActionIn, request.raw_body).root
    fields = body.model_dump(exclude={"action"}, exclude_none=True)
    report = workflow.act(tracking_id, getattr(body, "action"), principal, fields, version)  # noqa: B009
    return answer(staff_views.after_action(report, principal), headers={"ETag": f'"{report.version}"'})


class OfficerItem(Out):
    id: str = Field(description="the officer's user id (Cognito sub): `officer` of the assign action")
    name: str
    email: str | None
    phone: str | None = Field(description="masked")
    opd_code: str


class OfficerList(Out):
    opd_code: str
    items: list[OfficerItem]


@route("/staff/officers", "GET", summary="An OPD's officers (to assign a report to)", tags=["staff"], auth="staff",
       roles=("admin", "opd_admin"), responses={200: OfficerList}, errors=(400,),
       parameters=[_q("opd", "admin: the OPD code; an opd_admin always lists its own")])
def list_officers() -> Any:
    request = current_request()
    params = query(request)
    unknown = sorted(set(params) - {"opd"})
    if unknown:
        raise validation_error([{"field": n, "type": "extra_forbidden", "message": "parameter tidak dikenal"}
                                for n in unknown])
    return answer(officers.list_for(principal_of(request), params.get("opd")))


class SimilarItem(Out):
    tracking_id: str
    score: float = Field(description="0-100: how alike the texts read (rapidfuzz token-set ratio)")
    title: str
    status: str
    privacy: str
    kecamatan: str
    desa: str | None
    category: str | None
    opd_code: str | None
    submitted_at: str
    distance_m: float | None = Field(default=None, description="when both reports carry coordinates")


class SimilarList(Out):
    items: list[SimilarItem]


@route("/staff/reports/{tracking_id}/similar", "GET",
       summary="Open reports that look like the same problem (admin; up to 5, newest first, scored)",
       tags=["staff"], auth="staff", roles=("admin",), responses={200: SimilarList}, errors=(404,))
def similar(tracking_id: str) -> Any:
    from chalicelib.services import duplicates

    request = current_request()
    return answer(duplicates.similar(tracking_id, principal_of(request)))
