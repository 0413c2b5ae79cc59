"""Attachments: ask for an upload slot; the reporter or staff fetch a checked file of a report."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.api.http import answer, current_request, header, route
from chalicelib.auth import principal_of
from chalicelib.schemas import AttachmentCreated, AttachmentIn, AttachmentLink, parse
from chalicelib.services import attachments


@route("/attachments", "POST",
       summary="Ask for an upload slot: a presigned POST (10 minutes) into quarantine, limited to the "
               "declared type and size. The file becomes usable once checked (a few seconds).",
       tags=["citizen"], request=AttachmentIn, responses={201: AttachmentCreated}, errors=(413, 415, 429),
       rate_limit="attachments")
def create_attachment() -> Any:
    raw = current_request().raw_body
    try:
        attachments.check_declared(json.loads(raw or b"null"))  # 415 / 413 before the generic 400s
    except ValueError:
        pass  # malformed JSON: parse() below answers it
    body = parse(AttachmentIn, raw)
    return answer(attachments.create(body.content_type, body.size), 201)


@route("/reports/{tracking_id}/attachments/{attachment_id}", "GET",
       summary="A 5-minute download link to a checked attachment of the report", tags=["citizen"],
       auth="token", responses={200: AttachmentLink}, errors=(404, 429))
def reporter_attachment(tracking_id: str, attachment_id: str) -> Any:
    token = header(current_request(), "x-access-token")
    return answer(attachments.reporter_download_url(tracking_id, token, attachment_id))


@route("/staff/reports/{tracking_id}/attachments/{attachment_id}", "GET",
       summary="A 5-minute download link to a checked file of the report (the submission's or a "
               "step's): admin, the assigned OPD, pimpinan except rahasia. Every link is access-logged.",
       tags=["staff"], auth="staff", roles=("admin", "opd", "pimpinan"), responses={200: AttachmentLink},
       errors=(404,))
def staff_attachment(tracking_id: str, attachment_id: str) -> Any:
    request = current_request()
    return answer(attachments.staff_download_url(tracking_id, attachment_id, principal_of(request)))
