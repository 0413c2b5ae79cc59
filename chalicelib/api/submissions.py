"""POST /reports: a citizen submits a report.

A route module of its own, and one that loads no pydantic: a cold API container's first request
is often this one (the body and the answer are chalicelib/submission.py's, checked by pydantic-core
alone)."""
from __future__ import annotations

from typing import Any

from chalicelib.api.http import IDEMPOTENCY_HEADER, answer, client_ip, current_request, idempotency_key, route
from chalicelib.services import intake
from chalicelib.submission import ReportCreated, ReportIn


@route("/reports", "POST", summary="Submit a report", tags=["citizen"], request=ReportIn,
       responses={201: ReportCreated}, errors=(409, 429), parameters=IDEMPOTENCY_HEADER)
def submit_report() -> Any:
    request = current_request()
    key = idempotency_key(request)
    report = ReportIn.from_json(request.raw_body)
    # The per-client limit is counted inside the submission's own transaction (not by route()).
    return answer(intake.submit(report, key, client=client_ip(request)), 201)
