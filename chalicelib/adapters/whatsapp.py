"""The WhatsApp Cloud API (Meta's Graph API), the documented HTTP endpoints only:
POST /{phone-number-id}/messages (text, interactive buttons and lists) and GET /{media-id}
then the media URL. urllib from the standard library: nothing to load at a cold start, and the
API function never imports this module (only the `whatsapp` function does).

WHATSAPP_GRAPH_URL points at the local stand-in; the access token is a server key
(WHATSAPP_ACCESS_TOKEN locally, WHATSAPP_ACCESS_TOKEN_ID naming a secret in AWS).
"""
from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from chalicelib.adapters.server_keys import server_key

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
TIMEOUT_SECONDS = 10
BODY_LIMIT, BUTTON_TITLE, ROW_TITLE = 1024, 20, 24  # the Cloud API's limits on interactive parts


class GraphError(Exception):
    """The Graph API refused or failed a call; the queue retries the message."""


def base_url() -> str:
    return os.environ.get("WHATSAPP_GRAPH_URL", DEFAULT_GRAPH_URL).rstrip("/")


def _call(method: str, url: str, payload: dict[str, Any] | None = None) -> bytes:
    if not url.startswith(("https://", "http://")):  # a media URL comes from an answer: no file: or ftp:
        raise GraphError(f"{method}: not an http(s) URL")
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310 scheme checked above
        "Authorization": "Bearer " + server_key("WHATSAPP_ACCESS_TOKEN", local=b"local-access-token").decode(),
        **({"Content-Type": "application/json"} if data is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 scheme checked above
            return bytes(response.read())
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise GraphError(f"{method} {url.split('?')[0].rsplit('/', 1)[-1]}: {type(exc).__name__} "
                         f"{getattr(exc, 'code', '')}") from None


def message_payload(to: str, body: str, buttons: list[tuple[str, str]] | None = None,
                    rows: list[tuple[str, str]] | None = None, button_label: str = "Pilih") -> dict[str, Any]:
    """The /messages body: text, reply buttons (at most 3) or a list (at most 10 rows)."""
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    text = body[:BODY_LIMIT]
    if buttons:
        return {**base, "type": "interactive", "interactive": {
            "type": "button", "body": {"text": text},
            "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t[:BUTTON_TITLE]}}
                                   for i, t in buttons[:3]]}}}
    if rows:
        return {**base, "type": "interactive", "interactive": {
            "type": "list", "body": {"text": text},
            "action": {"button": button_label[:BUTTON_TITLE], "sections": [{
                "title": button_label[:ROW_TITLE],
                "rows": [{"id": i, "title": t[:ROW_TITLE]} for i, t in rows[:10]]}]}}}
    return {**base, "type": "text", "text": {"body": body[:4096], "preview_url": False}}


def send(phone_number_id: str, payload: dict[str, Any]) -> str:
    """Send one message; return its WhatsApp id."""
    answer = json.loads(_call("POST", f"{base_url()}/{phone_number_id}/messages", payload) or b"{}")
    return str(((answer.get("messages") or [{}])[0]).get("id", ""))


def download_media(media_id: str) -> tuple[bytes, str]:
    """A media item's bytes and MIME type: its URL first, then the file (both with the token)."""
    meta = json.loads(_call("GET", f"{base_url()}/{media_id}"))
    return _call("GET", str(meta["url"])), str(meta.get("mime_type", "application/octet-stream"))
