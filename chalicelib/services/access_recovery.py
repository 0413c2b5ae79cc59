""""Lupa kode akses": a reporter who lost the access code gets a new one through the contact
given in the report: `request` sends a 6-digit code there, `confirm` swaps it for a new access
code. The limits, and why a flood by others cannot lock the reporter out: docs/PRIVACY.md,
"Access codes and their recovery".
"""
from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING

from chalicelib.adapters import access_key
from chalicelib.data import access, rate_limits, reports
from chalicelib.domain import access_code, identity
from chalicelib.domain import clock as domain_clock
from chalicelib.domain.errors import Invalid, validation_error
from chalicelib.domain.report import Event
from chalicelib.domain.tracking import normalise_tracking_id
from chalicelib.services import rate_limits as limits

if TYPE_CHECKING:
    from chalicelib.data.models import Report

clock = time.time  # tests move time through this (the code's 15 minutes)
_RETRIES = 3

ACCEPTED = ("Jika nomor HP atau email tersebut sama dengan yang tercantum di laporan, kode pemulihan 6 angka "
            "telah kami kirim ke sana. Kode berlaku 15 menit.")
_WRONG = "Kode pemulihan salah, sudah dipakai, atau kedaluwarsa. Minta kode baru bila perlu."


def _channel(report: Report, contact: str) -> str | None:
    """"sms" or "email" when `contact` is the report's own mobile or email, else None."""
    reporter = report.reporter
    if reporter is None:
        return None
    typed = contact.strip()
    if "@" in typed:
        stored = identity.normalise_email(reporter.email or "")
        return "email" if stored and hmac.compare_digest(stored.encode(), identity.normalise_email(typed).encode()) \
            else None
    try:
        phone = identity.normalise_phone(typed)
    except ValueError:
        return None
    stored_phone = reporter.phone or ""
    if stored_phone and identity.is_mobile(stored_phone) and hmac.compare_digest(stored_phone.encode(), phone.encode()):
        return "sms"
    return None


def request(tracking_id: str, contact: str) -> str:
    """Send a recovery code if `contact` is the report's; the same message whatever happened."""
    report = reports.get(normalise_tracking_id(tracking_id))
    channel = _channel(report, contact) if report is not None else None
    if report is not None and channel is not None and _within_send_budget(report.tracking_id):
        _issue(report, channel)
    return ACCEPTED


def _within_send_budget(tracking_id: str) -> bool:
    win = limits.window(limits.RECOVERY_SENDS, tracking_id, clock())
    if win is None:
        return True
    try:
        rate_limits.hit(win)
    except rate_limits.Exceeded:
        return False  # silently: a 429 here would say that the contact matched
    return True


def _event(report: Report, action: str, data: dict[str, object]) -> Event:
    # The system's bookkeeping (no status change, not public): an officer's If-Match still holds.
    return Event.bookkeeping(report.status, action, domain_clock.now(), data)


def _issue(first: Report, channel: str) -> None:
    tracking_id = str(first.tracking_id)
    otp = access_code.new_otp()
    digest = access_code.otp_digest(access_key.key(), tracking_id, otp)
    def record(report: Report) -> reports.Change:
        now = clock()
        event = _event(report, "access_recovery", {"sealed": True, "channel": channel,
                                                   "valid_minutes": access_code.OTP_TTL_SECONDS // 60})
        # The seal is bound to the event's number, which `update` gives: the next one.
        seq = int(report.event_seq or 0) + 1
        sealed = access_key.seal(otp, f"{tracking_id}#{seq}")
        return reports.Change([event], extra=[
            ("recovery", access.put_recovery(tracking_id, digest, int(now) + access_code.OTP_TTL_SECONDS)),
            ("sealed", access.put_seal(tracking_id, seq, sealed, now)),
        ])

    try:
        reports.update(tracking_id, record, attempts=_RETRIES, current=first)
    except reports.Conflict as exc:
        if not exc.failed("report"):
            raise
        raise RuntimeError(f"could not record a recovery code for {tracking_id}") from None


def wrong_code() -> Invalid:
    return validation_error([{"field": "code", "type": "invalid", "message": _WRONG}], _WRONG)


def confirm(tracking_id: str, typed: str) -> str:
    """The new access code (grouped), or 400 when the code is wrong, used up or lapsed."""
    tid = normalise_tracking_id(tracking_id)
    key = access_key.key()
    otp = access_code.clean_otp(typed)
    pending = access.pending(tid)
    now = clock()
    if pending is None or pending.expires_at <= now or pending.tries >= access_code.OTP_MAX_TRIES:
        raise wrong_code()
    if otp is None or not hmac.compare_digest(access_code.otp_digest(key, tid, otp), pending.digest):
        access.count_wrong_try(tid, pending.digest)
        raise wrong_code()
    new = access_code.new_code()

    def reissue(report: Report) -> reports.Change:
        event = _event(report, "access_reissued", {"sealed": True})
        seq = int(report.event_seq or 0) + 1
        report.access_token_hash = access_code.digest(key, new)
        sealed = access_key.seal(new, f"{tid}#{seq}")
        return reports.Change([event], extra=[
            ("recovery", access.consume_recovery(tid, pending.digest, access_code.OTP_MAX_TRIES)),
            ("sealed", access.put_seal(tid, seq, sealed, now)),
        ])

    try:
        saved = reports.update(tid, reissue, attempts=_RETRIES,
                               retry=lambda _seen, exc: exc.failed("report") and not exc.failed("recovery"))
    except reports.Conflict as exc:
        if exc.failed("recovery"):
            raise wrong_code() from None  # used, replaced or tried out meanwhile
        if not exc.failed("report"):
            raise
        raise RuntimeError(f"could not reissue the access code of {tid}") from None
    if saved is None:
        raise wrong_code()
    return new
