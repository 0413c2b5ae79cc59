"""Citizens: submit a report and follow it with the tracking id and access token."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import header, json_response, route
from chalicelib.schemas import ReportCreated, ReportIn, ReportView, parse
from chalicelib.services import intake, views

bp = Blueprint(__name__)

_IDEMPOTENCY_HEADER = [{
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 8, "maxLength": 128},
    "description": "A retry with the same key and body returns the first answer and creates nothing",
}]


@route(bp, "/reports", "POST", summary="Submit a report", tags=["citizen"], request=ReportIn,
       responses={201: ReportCreated}, errors=(409, 429), parameters=_IDEMPOTENCY_HEADER)
def submit_report() -> Any:
    request = bp.current_request
    key = intake.check_idempotency_key(header(request, "idempotency-key"))
    report = parse(ReportIn, request.raw_body)
    return json_response(intake.submit(report, key), 201)


@route(bp, "/reports/{tracking_id}", "GET", summary="The reporter's view of a report", tags=["citizen"],
       auth="token", responses={200: ReportView}, errors=(404, 429))
def get_report(tracking_id: str) -> Any:
    token = header(bp.current_request, "x-access-token")
    return json_response(views.reporter_report(tracking_id, token))
