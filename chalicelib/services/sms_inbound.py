"""SMS as a way in, as on LAPOR!'s 1708 line: the gateway's checked callback is queued, and the
`sms_inbound` consumer files `LAPOR#<kecamatan>#<isi>`, answers `CEK#<nomor>` and sends help for
anything else, exactly once per gateway message id and within per-number limits.
The commands, guarantees and limits: docs/CHANNELS.md, "SMS".
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from chalicelib.adapters import aws, contact_key
from chalicelib.adapters.mail import Outgoing
from chalicelib.adapters.sms_gateway import InboundSms
from chalicelib.data import claims, ledger, reference, reports
from chalicelib.domain import clock, identity, sms_command
from chalicelib.domain.errors import DomainError, RateLimited
from chalicelib.observability import logger
from chalicelib.services import rate_limits, sqs_batches, templates

CONSUMER = "sms_inbound"
LEASE_SECONDS = 120.0
QUEUE_URL = "SMS_INBOUND_QUEUE_URL"


# -- the callback: queue it ----------------------------------------------------------------

def accept(message: InboundSms) -> None:
    """Queue a checked gateway message (the API answers the gateway at once)."""
    body = {"message_id": message.message_id, "sender": message.sender, "text": message.text,
            "received_at": clock.iso_utc(clock.now())}
    aws.client("sqs").send_message(QueueUrl=os.environ[QUEUE_URL], MessageBody=json.dumps(body))


# -- the consumer --------------------------------------------------------------------------

def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for SmsInboundQueue: Powertools' partial batch response."""
    return sqs_batches.process(event, context, handle_message, CONSUMER, parse=json.loads)


def handle_message(body: dict[str, Any], delivery: sqs_batches.Delivery | None = None) -> str:
    message_id, text = str(body["message_id"]), str(body.get("text") or "")
    try:
        sender = identity.normalise_phone(str(body["sender"]))
    except ValueError:
        logger.warning("inbound SMS from a number we cannot answer", extra={"message_id": message_id})
        return "ignored"
    claim = claims.acquire(ledger.SMS_LEASE.key(message_id), LEASE_SECONDS)
    if claim is None:
        return "duplicate"
    try:
        outcome = _answer(message_id, sender, text)
    except Exception:
        claims.release(claim)
        raise
    claims.complete(claim, outcome=outcome)
    logger.info("inbound SMS handled", extra={"message_id": message_id, "outcome": outcome})
    return outcome


def _client(sender: str) -> str:
    """The rate limits' client: the number, keyed (never the number itself in a counter's key)."""
    return "sms:" + identity.contact_hash(contact_key.key(), "phone", sender)[:32]


def _answer(message_id: str, sender: str, text: str) -> str:
    try:
        rate_limits.check(rate_limits.SMS, _client(sender))
    except RateLimited:
        return "rate_limited"
    names = {code: str(item["name"]) for code, item in reference.kecamatan().items()}
    command = sms_command.parse(text, names)
    if isinstance(command, sms_command.File):
        return _file(message_id, sender, command)
    if isinstance(command, sms_command.Check):
        return _check(sender, command.tracking_id)
    _reply(sender, "pelapor_sms_bantuan", {"masalah": _PROBLEM[command.reason]})
    return f"help:{command.reason}"


_PROBLEM = {
    "format": "Format tidak dikenali.",
    "kecamatan": "Kecamatan tidak dikenal.",
    "short": "Isi laporan minimal 20 huruf.",
    "long": "Isi laporan terlalu panjang.",
    "tracking_id": "Nomor laporan tidak dikenal.",
}


def _file(message_id: str, sender: str, command: sms_command.File) -> str:
    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    report = ReportIn.from_data({
        "type": "pengaduan", "title": command.title, "description": command.text,
        "location": {"kecamatan": command.kecamatan}, "privacy": "anonim", "reporter": {"phone": sender},
    })
    key = "sms-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
    try:
        created = intake.submit(report, idempotency_key=key, source="sms", client=_client(sender))
    except RateLimited:
        return "rate_limited"
    except DomainError as exc:  # the web form's rules: said in the help text, nothing stored
        logger.info("inbound SMS refused by intake", extra={"message_id": message_id, "code": exc.code})
        _reply(sender, "pelapor_sms_bantuan", {"masalah": "Laporan belum dapat diterima."})
        return "help:invalid"
    _reply(sender, "pelapor_sms_diterima", {"nomor": created["tracking_id"], "kode": created["access_token"]})
    return "filed"


def _check(sender: str, tracking_id: str) -> str:
    report = reports.get(tracking_id)
    phone = (report.reporter.phone if report is not None and report.reporter is not None else None) or ""
    if report is None or not hmac.compare_digest(phone.encode(), sender.encode()):
        _reply(sender, "pelapor_sms_tidak_ditemukan", {"nomor": tracking_id})
        return "check:not_found"
    status = templates.labels()["status"].get(report.status, report.status)
    _reply(sender, "pelapor_sms_status", {"nomor": tracking_id, "status": status,
                                          "tanggal": clock.to_wib(clock.parse(report.updated_at)).strftime("%d-%m-%Y")})
    return "check:found"


def _reply(to: str, template: str, values: dict[str, Any]) -> None:
    from chalicelib.services import notify

    text = templates.render_sms(template, values)
    if text is not None and identity.is_mobile(to):
        notify.senders()["sms"].send(Outgoing("sms", to, text))
