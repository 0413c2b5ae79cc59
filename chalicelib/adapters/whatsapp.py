"""The WhatsApp Cloud API (Meta's Graph API), the documented HTTP endpoints only:
POST /{phone-number-id}/messages (text, interactive buttons and lists, template messages) and
GET /{media-id} then the media URL. http.client from the standard library: nothing to load at a cold start, and the
API function never imports this module (only the `whatsapp` function does).

WHATSAPP_GRAPH_URL points at the local stand-in; the access token is a server key
(WHATSAPP_ACCESS_TOKEN locally, WHATSAPP_ACCESS_TOKEN_ID naming a secret in AWS).
"""
from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import urlsplit

from chalicelib.adapters.server_keys import server_key

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
TIMEOUT_SECONDS = 10
BODY_LIMIT, BUTTON_TITLE, ROW_TITLE = 1024, 20, 24  # the Cloud API's limits on interactive parts
TEMPLATE_PARAMETER = 1024  # characters of one template body parameter


class GraphError(Exception):
    """The Graph API refused or failed a call; the queue retries the message."""


def base_url() -> str:
    return os.environ.get("WHATSAPP_GRAPH_URL", DEFAULT_GRAPH_URL).rstrip("/")


def _call(method: str, url: str, payload: dict[str, Any] | None = None, limit: int | None = None) -> bytes:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:  # a media URL comes from an answer
        raise GraphError(f"{method}: not an http(s) URL")
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Authorization": "Bearer " + server_key("WHATSAPP_ACCESS_TOKEN", local=b"local-access-token").decode()}
    if data is not None:
        headers["Content-Type"] = "application/json"
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path or "/", body=data, headers=headers)
        response = connection.getresponse()
        # A download never reads more than its limit (+1 byte, to know it was exceeded).
        body = response.read() if limit is None else response.read(limit + 1)
    except OSError as exc:
        raise GraphError(f"{method} {parts.path.rsplit('/', 1)[-1]}: {type(exc).__name__}") from None
    finally:
        connection.close()
    if response.status >= 300:
        raise GraphError(f"{method} {parts.path.rsplit('/', 1)[-1]}: HTTP {response.status}")
    if limit is not None and len(body) > limit:
        raise MediaRefused("too_large")
    return body


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


class MediaRefused(Exception):
    """A media item we do not fetch: `code` is too_large or unsupported."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def download_media(media_id: str, allowed_types: tuple[str, ...], max_bytes: int) -> tuple[bytes, str]:
    """A media item's bytes and MIME type: GET /{media-id} for its URL, type and size, then the
    file (both with the token). The type and size Meta states are checked before the download and
    the size again on the bytes; the bytes' real type is the scanner's to prove."""
    if not media_id or not media_id.replace("_", "").replace("-", "").isalnum():
        raise MediaRefused("unsupported")
    meta = json.loads(_call("GET", f"{base_url()}/{media_id}"))
    mime = str(meta.get("mime_type") or "").split(";")[0].strip().lower()
    if mime not in allowed_types:
        raise MediaRefused("unsupported")
    if int(meta.get("file_size") or 0) > max_bytes:
        raise MediaRefused("too_large")
    data = _call("GET", str(meta["url"]), limit=max_bytes)
    return data, mime


def template_payload(to: str, name: str, language: str, parameters: list[str]) -> dict[str, Any]:
    """The /messages body of an approved template message (outside the 24-hour window): its
    body's {{1}}, {{2}}, ... filled in order."""
    # The Cloud API refuses a parameter with a newline, a tab or more than four spaces in a row.
    cleaned = [" ".join(str(p).split())[:TEMPLATE_PARAMETER] or "-" for p in parameters]
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
            "template": {"name": name, "language": {"code": language},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": p}
                                                                        for p in cleaned]}]}}
