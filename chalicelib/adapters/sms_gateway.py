"""Inbound SMS from a gateway's HTTP callback (`POST /channels/sms`): a provider reads the request
into an `InboundSms`, raising `BadSignature` before anything is used when the request is not the
provider's; `SMS_GATEWAY` picks it (default `twilio`, whose signed form POST comes first).
Why a gateway, the signature and its secret: docs/CHANNELS.md, "SMS".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl

from chalicelib.adapters import server_keys

SECRET = "SMS_GATEWAY_SECRET"  # noqa: S105 (the variable that holds it, not a secret)


class BadSignature(Exception):
    """The request does not carry the gateway's valid signature."""


@dataclass(frozen=True)
class InboundSms:
    message_id: str  # the gateway's id: a redelivered callback carries the same one
    sender: str      # as the gateway wrote it (+62...)
    text: str


class Gateway(Protocol):
    name: str

    def read(self, url: str, headers: Mapping[str, str], raw_body: bytes) -> InboundSms: ...


def twilio_signature(secret: bytes, url: str, params: Mapping[str, str]) -> str:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(secret, payload.encode("utf-8"), hashlib.sha1).digest()).decode()


class Twilio:
    name = "twilio"

    def read(self, url: str, headers: Mapping[str, str], raw_body: bytes) -> InboundSms:
        given = _header(headers, "X-Twilio-Signature")
        try:
            params = dict(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise BadSignature("the body is not UTF-8") from None
        expected = twilio_signature(server_keys.server_key(SECRET), url, params)
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise BadSignature("missing or wrong X-Twilio-Signature")
        sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
        if not sid or not sender:
            raise BadSignature("a signed request without MessageSid or From")
        return InboundSms(sid, sender, params.get("Body") or "")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # chalice's headers are case-insensitive; a plain dict in a test may not be
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


GATEWAYS: dict[str, Gateway] = {"twilio": Twilio()}


def gateway() -> Gateway:
    name = os.environ.get("SMS_GATEWAY", "twilio").strip().lower()
    if name not in GATEWAYS:
        raise RuntimeError(f"SMS_GATEWAY={name!r} is not one of {sorted(GATEWAYS)}")
    return GATEWAYS[name]


def webhook_url() -> str:
    url = os.environ.get("SMS_WEBHOOK_URL", "").strip()
    if not url:
        raise RuntimeError("SMS_WEBHOOK_URL (the URL configured at the SMS gateway) is not set")
    return url
