"""Citizens: follow a report with the tracking id and access token (submitting it: submissions.py)."""
from __future__ import annotations

from typing import Any

from chalicelib.api.http import answer, current_request, header, route
from chalicelib.schemas import (
    AccessRecovered,
    FeedbackIn,
    RecoveryAccepted,
    RecoveryConfirmIn,
    RecoveryIn,
    ReplyIn,
    ReportView,
    parse,
)

# The reporter's view and moves (services views, workflow) and access recovery are imported by
# the routes that use them: a cold container's first submission need not load their graphs.



@route("/reports/{tracking_id}", "GET", summary="The reporter's view of a report", tags=["citizen"],
       auth="token", responses={200: ReportView}, errors=(404, 429))
def get_report(tracking_id: str) -> Any:
    token = header(current_request(), "x-access-token")
    from chalicelib.services import views

    return answer(views.reporter_report(tracking_id, token))


@route("/reports/{tracking_id}/replies", "POST", summary="The reporter replies (more information, or to an answer)",
       tags=["citizen"], auth="token", request=ReplyIn, responses={200: ReportView}, errors=(404, 409, 429))
def reply(tracking_id: str) -> Any:
    request = current_request()
    token = header(request, "x-access-token")
    body = parse(ReplyIn, request.raw_body)
    from chalicelib.services import views, workflow

    report = workflow.reporter_act(tracking_id, token, "reply", body.model_dump())
    return answer(views.reporter_report(report.tracking_id, token))


@route("/reports/{tracking_id}/feedback", "POST", summary="The reporter confirms or reopens an answered report",
       tags=["citizen"], auth="token", request=FeedbackIn, responses={200: ReportView}, errors=(404, 409, 429))
def feedback(tracking_id: str) -> Any:
    request = current_request()
    token = header(request, "x-access-token")
    body = parse(FeedbackIn, request.raw_body)
    from chalicelib.services import views, workflow

    report = workflow.reporter_act(tracking_id, token, "feedback", body.model_dump())
    return answer(views.reporter_report(report.tracking_id, token))


@route("/reports/{tracking_id}/access-recovery", "POST", tags=["citizen"], request=RecoveryIn,
       summary="Lupa kode akses: send a 6-digit code to the report's own phone or email",
       responses={202: RecoveryAccepted}, errors=(404, 429), rate_limit="recovery")
def access_recovery_request(tracking_id: str) -> Any:
    # 202 whether or not the pair matches (and for an unknown tracking id): no enumeration.
    body = parse(RecoveryIn, current_request().raw_body)
    from chalicelib.services import access_recovery

    return answer({"message": access_recovery.request(tracking_id, body.contact)}, 202)


@route("/reports/{tracking_id}/access-recovery/confirm", "POST", tags=["citizen"], request=RecoveryConfirmIn,
       summary="Lupa kode akses: the 6-digit code gives a new access code; the old one stops working",
       responses={200: AccessRecovered}, errors=(404, 429), rate_limit="recovery")
def access_recovery_confirm(tracking_id: str) -> Any:
    body = parse(RecoveryConfirmIn, current_request().raw_body)
    from chalicelib.services import access_recovery

    return answer({"access_token": access_recovery.confirm(tracking_id, body.code)})
