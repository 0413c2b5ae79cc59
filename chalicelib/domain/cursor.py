"""Opaque, tamper-proof list cursors. Pure (stdlib only).

A cursor is `base64url(json) "." base64url(hmac_sha256(key, json))`. The JSON holds where the
next page starts (DynamoDB's last evaluated key, and for multi-partition walks the partition) and
a fingerprint of the query it belongs to, so a cursor cannot be edited, forged, or replayed on
another query (another filter, another OPD's scope): any of these is an InvalidCursor (a 400).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 4096


class InvalidCursor(ValueError):
    """Not a cursor this service issued for this query."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(query: Mapping[str, Any]) -> str:
    """A short stable digest of the query a cursor belongs to."""
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode(position: Mapping[str, Any], query: Mapping[str, Any], key: bytes) -> str:
    payload = json.dumps({"q": fingerprint(query), "p": position}, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def decode(cursor: str, query: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """The position stored in `cursor`, if this service signed it for this very query."""
    if not cursor or len(cursor) > MAX_LENGTH or cursor.count(".") != 1:
        raise InvalidCursor("malformed cursor")
    body, mac = cursor.split(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (ValueError, TypeError):
        raise InvalidCursor("malformed cursor") from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise InvalidCursor("cursor signature does not match")
    try:
        data = json.loads(payload)
    except ValueError:
        raise InvalidCursor("malformed cursor") from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), dict):
        raise InvalidCursor("malformed cursor")
    if not hmac.compare_digest(str(data.get("q")), fingerprint(query)):
        raise InvalidCursor("cursor belongs to another query")
    position: dict[str, Any] = data["p"]
    return position
