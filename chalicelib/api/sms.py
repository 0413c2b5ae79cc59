"""The SMS gateway's callback: `POST /channels/sms`. The signature is checked on the raw bytes
before anything is read; a good message is queued and the gateway answered at once (an empty
TwiML answer: replies go out through SNS). chalicelib/services/sms_inbound.py does the rest."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.adapters import sms_gateway
from chalicelib.api.http import current_request, route
from chalicelib.domain.errors import unauthenticated
from chalicelib.services import sms_inbound

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@route("/channels/sms", "POST", summary="Inbound SMS from the SMS gateway (signed callback)", tags=["channels"],
       errors=(401,), produces="text/xml",
       openapi_request={"required": True, "content": {FORM: {"schema": {
           "type": "object", "required": ["From", "Body", "MessageSid"],
           "properties": {"From": {"type": "string"}, "To": {"type": "string"}, "Body": {"type": "string"},
                          "MessageSid": {"type": "string"}}}}}},
       openapi_responses={"200": {"description": "queued; replies come by SMS",
                                  "content": {"text/xml": {"schema": {"type": "string"}}}}})
def inbound_sms() -> Any:
    request = current_request()
    try:
        raw = request.raw_body or b""
        message = sms_gateway.gateway().read(sms_gateway.webhook_url(), request.headers,
                                             raw if isinstance(raw, bytes) else raw.encode())
    except sms_gateway.BadSignature:
        raise unauthenticated("Tanda tangan gateway SMS tidak ada atau tidak cocok.") from None
    sms_inbound.accept(message)
    return Response(body=EMPTY_TWIML, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})
