"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), for `make run` and the tests.

It answers the calls chalicelib/adapters/whatsapp.py makes, as the Cloud API documents them:
POST /{phone-number-id}/messages (kept, answered with a message id), POST /{phone-number-id}/media
(a file upload, answered with a media id), GET /{media-id} (the media's URL and type) and that URL.
What it was asked to send is listed at GET /_standin/sent (the `outbox` CLI shows it).

    python -m chalicelib.local.whatsapp_standin --port 8200
"""
from __future__ import annotations

import argparse
import itertools
import threading
from typing import Any

from flask import Flask, Response, jsonify, request

TOKEN = "local-access-token"


def create_app(token: str = TOKEN) -> Flask:
    app = Flask("whatsapp_standin")
    lock = threading.Lock()
    sent: list[dict[str, Any]] = []
    media: dict[str, tuple[bytes, str]] = {}
    ids = itertools.count(1)

    def authorised() -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {token}"

    def refuse() -> Any:
        return jsonify({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                  "code": 190}}), 401

    @app.get("/_standin/sent")
    def listed() -> Any:
        with lock:
            return jsonify(list(sent))

    @app.post("/<phone_number_id>/messages")
    def send(phone_number_id: str) -> Any:
        if not authorised():
            return refuse()
        body = request.get_json(silent=True) or {}
        if body.get("messaging_product") != "whatsapp" or not body.get("to") or body.get("type") not in (
                "text", "interactive", "template", "image"):
            return jsonify({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException",
                                      "code": 100}}), 400
        with lock:
            message_id = f"wamid.standin.{next(ids)}"
            sent.append({"id": message_id, "phone_number_id": phone_number_id, **body})
        return jsonify({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                        "messages": [{"id": message_id}]})

    @app.post("/<phone_number_id>/media")
    def upload(phone_number_id: str) -> Any:
        if not authorised():
            return refuse()
        file = request.files.get("file")
        if file is None:
            return jsonify({"error": {"message": "(#100) file is required", "code": 100}}), 400
        with lock:
            media_id = f"media{next(ids)}"
            media[media_id] = (file.read(), file.mimetype or "application/octet-stream")
        return jsonify({"id": media_id})

    @app.get("/_media/<media_id>")
    def download(media_id: str) -> Any:
        if not authorised():
            return refuse()
        if media_id not in media:
            return jsonify({"error": {"message": "not found", "code": 100}}), 404
        data, mime = media[media_id]
        return Response(data, mimetype=mime)

    @app.get("/<media_id>")
    def media_url(media_id: str) -> Any:
        if not authorised():
            return refuse()
        if media_id not in media:
            return jsonify({"error": {"message": "(#100) Unknown media", "code": 100}}), 404
        data, mime = media[media_id]
        return jsonify({"messaging_product": "whatsapp", "id": media_id, "mime_type": mime,
                        "file_size": len(data), "url": f"{request.host_url.rstrip('/')}/_media/{media_id}"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8200)
    args = parser.parse_args()
    create_app().run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
