"""The WhatsApp Cloud API webhook (chalicelib/services/whatsapp_webhook.py does the checks)."""
from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.http import answer, current_request, header, query, route
from chalicelib.services import whatsapp_webhook


@route("/channels/whatsapp", "GET", summary="WhatsApp webhook verification (Meta)", tags=["channels"],
       errors=(403,), produces="text/plain",
       parameters=[{"name": n, "in": "query", "schema": {"type": "string"}}
                   for n in ("hub.mode", "hub.verify_token", "hub.challenge")])
def verify() -> Any:
    params = query(current_request())
    challenge = whatsapp_webhook.subscribe(params.get("hub.mode"), params.get("hub.verify_token"),
                                           params.get("hub.challenge"))
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain; charset=utf-8"})


@route("/channels/whatsapp", "POST", summary="WhatsApp webhook update (signed by Meta)", tags=["channels"],
       errors=(400, 401),
       parameters=[{"name": "X-Hub-Signature-256", "in": "header", "required": True,
                    "schema": {"type": "string"}}])
def update() -> Any:
    request = current_request()
    # The signature is over the bytes Meta sent: never re-serialise a parsed body to check it.
    raw = request.raw_body or b""
    whatsapp_webhook.accept(raw.encode() if isinstance(raw, str) else raw, header(request, "x-hub-signature-256"))
    return answer({"status": "ok"})
