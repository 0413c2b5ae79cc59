"""The WhatsApp Cloud API webhook: Meta's subscription check, the signature of every update, and
the queue between the two halves.

The API function only checks and enqueues, so Meta gets its 200 at once (it retries a slow
webhook, and a retried update must not become a second report). The signature is Meta's
`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, checked on
the bytes as received, before any parsing, with a constant-time compare. The `whatsapp`
function then takes each message once, keyed on its WhatsApp id (`wamid...`), never on the SQS
message id: Meta's own retries and SQS redeliveries both carry the same WhatsApp id.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.server_keys import server_key
from chalicelib.domain import errors
from chalicelib.domain.events import MalformedEvent
from chalicelib.observability import logger

SIGNATURE_PREFIX = "sha256="
CLAIM_LEASE_SECONDS = 120.0


def app_secret() -> bytes:
    return server_key("WHATSAPP_APP_SECRET")


def verify_token() -> bytes:
    return server_key("WHATSAPP_VERIFY_TOKEN")


def signature_valid(raw_body: bytes, header: str | None, secret: bytes) -> bool:
    """True when `header` is "sha256=" + the hex HMAC-SHA256 of `raw_body` under `secret`."""
    if not header or not secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret, raw_body, hashlib.sha256).hexdigest()
    given = header[len(SIGNATURE_PREFIX):].strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode("ascii", "replace"))


def sign(raw_body: bytes, secret: bytes) -> str:
    """The header Meta would send for `raw_body` (the local stand-in and the chat CLI use it)."""
    return SIGNATURE_PREFIX + hmac.new(secret, raw_body, hashlib.sha256).hexdigest()


def subscribe(mode: str | None, token: str | None, challenge: str | None) -> str:
    """Meta's GET check when the webhook is configured: echo the challenge to the right token."""
    expected = verify_token()
    if mode != "subscribe" or not token or not challenge or not expected \
            or not hmac.compare_digest(token.encode(), expected):
        raise errors.Forbidden("Token verifikasi webhook tidak cocok.")
    return challenge


def accept(raw_body: bytes, signature: str | None) -> int:
    """Check a POSTed update and put it on the queue; return how many messages it carries.

    Raises Unauthenticated (nothing is stored, nothing is parsed) for a missing or wrong
    signature, Invalid for a signed body that is not a WhatsApp update."""
    if not signature_valid(raw_body, signature, app_secret()):
        logger.warning("whatsapp webhook refused: bad signature", extra={"signed": bool(signature)})
        raise errors.Unauthenticated("Tanda tangan X-Hub-Signature-256 tidak ada atau tidak cocok.")
    try:
        update = json.loads(raw_body)
    except ValueError:
        raise errors.validation_error([{"field": "body", "issue": "bukan JSON"}],
                                      "Isi webhook bukan JSON yang sah.") from None
    if not isinstance(update, dict) or update.get("object") != "whatsapp_business_account":
        raise errors.validation_error([{"field": "object", "issue": "bukan whatsapp_business_account"}],
                                      "Isi webhook bukan pembaruan WhatsApp Business.")
    messages = list(iter_messages(update))
    if messages:  # status receipts (sent, delivered, read) need no work
        aws.client("sqs").send_message(QueueUrl=os.environ["WHATSAPP_QUEUE_URL"],
                                       MessageBody=raw_body.decode("utf-8"))
    return len(messages)


def iter_messages(update: dict[str, Any]) -> Any:
    """(message, contact profile, business phone number id) of every message in one update."""
    for entry in update.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if (change or {}).get("field", "messages") != "messages":
                continue
            contacts = {c.get("wa_id"): c for c in value.get("contacts") or [] if isinstance(c, dict)}
            phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
            for message in value.get("messages") or []:
                if isinstance(message, dict) and message.get("id") and message.get("from"):
                    yield message, contacts.get(message["from"], {}), phone_number_id


def parse_update(body: str) -> dict[str, Any]:
    try:
        update = json.loads(body)
    except ValueError:
        raise MalformedEvent("a WhatsApp queue record that is not JSON") from None
    if not isinstance(update, dict):
        raise MalformedEvent("a WhatsApp queue record that is not an object")
    return update


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The `whatsapp` function: every message of every queued update, each exactly once."""
    from chalicelib.services import sqs_batches

    return sqs_batches.process(event, context, handle_update, "whatsapp", parse=parse_update)


def handle_update(update: dict[str, Any], delivery: Any) -> int:
    from chalicelib.data import claims, ledger
    from chalicelib.services import sqs_batches

    handled = 0
    for message, contact, phone_number_id in iter_messages(update):
        claim = claims.acquire(ledger.WHATSAPP_LEASE.key(message["id"]), CLAIM_LEASE_SECONDS)
        if claim is None:
            sqs_batches.count("WhatsappDuplicates")
            continue
        try:
            outcome = on_message(message, contact, phone_number_id)
        except Exception:
            claims.release(claim)
            raise
        claims.complete(claim, type=str(message.get("type", "")), outcome=outcome)
        handled += 1
    sqs_batches.count("WhatsappMessages", handled)
    return handled


def on_message(message: dict[str, Any], contact: dict[str, Any], phone_number_id: str | None) -> str:
    """One inbound message through the chat (its outcome, for the claim's record)."""
    from chalicelib.services import whatsapp_chat

    return whatsapp_chat.handle_message(message, contact, phone_number_id)
