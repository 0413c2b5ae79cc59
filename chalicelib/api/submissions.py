"""POST /reports: a citizen submits a report.

A route module of its own, and one that loads no pydantic: a cold API container's first request
is often this one (the body is checked by chalicelib/submission.py with pydantic-core alone; the
answer's model is named, not imported)."""
from __future__ import annotations

from typing import Any

from chalicelib.api.http import IDEMPOTENCY_HEADER, client_ip, current_request, idempotency_key, json_response, route
from chalicelib.services import intake
from chalicelib.submission import ReportIn


@route("/reports", "POST", summary="Submit a report", tags=["citizen"], request=ReportIn,
       responses={201: "ReportCreated"}, errors=(409, 429), parameters=IDEMPOTENCY_HEADER)
def submit_report() -> Any:
    request = current_request()
    key = idempotency_key(request)
    report = ReportIn.from_json(request.raw_body)
    # The per-client limit is counted inside the submission's own transaction (not by route()).
    return json_response(intake.submit(report, key, client=client_ip(request)), 201)
