"""One inbound WhatsApp message through the chat (chalicelib/domain/whatsapp_chat.py): count it
against the sender's limit, load the state, take the step (fetch and scan a photo), file the
report through the web form's intake, save the state, send the replies. The guarantees (once per
message, a retry resends the saved replies, the flood limit): docs/CHANNELS.md, "WhatsApp".
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.adapters import contact_key
from chalicelib.adapters import whatsapp as graph
from chalicelib.data import reference, whatsapp_chats
from chalicelib.domain import errors, identity, uploads
from chalicelib.domain import whatsapp_chat as chat
from chalicelib.domain.whatsapp_chat import Inbound, Reply
from chalicelib.observability import logger
from chalicelib.services import rate_limits

GEO_FILE = Path(__file__).resolve().parents[1] / "config" / "kecamatan_geo.json"
PHOTO_TYPES = (uploads.JPEG, uploads.PNG)  # the web form's image types; a PDF is no photo

STATUS_LABELS = {
    "diajukan": "diterima, menunggu verifikasi", "perlu_kelengkapan": "perlu kelengkapan dari Anda",
    "ditolak": "ditolak", "didisposisikan": "diteruskan ke perangkat daerah", "diproses": "sedang diproses",
    "dikembalikan": "dikembalikan untuk ditinjau", "ditindaklanjuti": "sudah ditindaklanjuti", "selesai": "selesai",
}


def inbound_of(message: dict[str, Any]) -> Inbound:
    """The parts of a Cloud API message the chat reads (text, a chosen button/row, a location)."""
    kind = message.get("type")
    if kind == "text":
        return Inbound(text=str((message.get("text") or {}).get("body", "")))
    if kind == "interactive":
        part = message.get("interactive") or {}
        chosen = part.get("button_reply") or part.get("list_reply") or {}
        return Inbound(text=str(chosen.get("title", "")), choice=str(chosen.get("id", "")))
    if kind == "button":  # a quick reply of a template message
        button = message.get("button") or {}
        return Inbound(text=str(button.get("text", "")), choice=str(button.get("payload", "")))
    if kind == "location":
        where = message.get("location") or {}
        address = ", ".join(str(where[k]) for k in ("name", "address") if where.get(k)) or None
        return Inbound(lat=float(where["latitude"]), lon=float(where["longitude"]), address=address)
    if kind in ("image", "document", "sticker"):
        part = message.get(kind) or {}
        return Inbound(text=str(part.get("caption") or ""), media_id=str(part.get("id") or "") or "-")
    return Inbound()  # audio, video, contacts...: the step asks again


def kecamatan_options() -> list[tuple[str, str]]:
    return [(code, str(item["name"])) for code, item in reference.kecamatan().items()]


@cache
def kecamatan_geo() -> dict[str, Any]:
    """Where the kecamatan are (approximate centres and the regency's box), for a shared location."""
    data: dict[str, Any] = json.loads(GEO_FILE.read_text(encoding="utf-8"))
    return data


def _client(sender: str) -> str:
    """The rate limits' client: the number, keyed (never the number itself in a counter's key)."""
    return "wa:" + identity.contact_hash(contact_key.key(), "phone", sender)[:32]


def _over_limit(phone_number_id: str | None, sender: str) -> bool:
    """Count the message; True (and at most one reply per window) when the number is past its limit."""
    client = _client(sender)
    already_told = rate_limits.known_refused(rate_limits.WHATSAPP, client)
    try:
        rate_limits.check(rate_limits.WHATSAPP, client)
    except errors.RateLimited as exc:
        if not already_told:
            _send(phone_number_id, sender, [chat.rate_limited(int(exc.retry_after or 60))])
        return True
    return False


def handle_message(message: dict[str, Any], contact: dict[str, Any], phone_number_id: str | None) -> str:
    sender = "+" + str(message["from"]).lstrip("+")
    key = identity.contact_hash(contact_key.key(), "phone", sender)
    state = whatsapp_chats.load(key)
    if state is not None and state.get("last_message") == message["id"]:
        _send(phone_number_id, sender, [Reply(**r) for r in state.get("outbox", [])])
        return "resent"
    if _over_limit(phone_number_id, sender):
        return "rate_limited"
    part, inbound = _chat_part(state), inbound_of(message)
    waiting = _waiting_report(key) if part is None and inbound.text and not inbound.choice \
        and not chat.is_command(inbound) else None
    if waiting:
        turn = chat.offer_reply(waiting, inbound.text)
    else:
        turn = chat.step(part, inbound, kecamatan_options(), kecamatan_geo())
    if turn.media and turn.state is not None:
        turn = _take_photo(turn.state, turn.media)
    replies = list(turn.replies)
    outcome = "step"
    if turn.reply:
        replies.append(Reply(_send_reply(key, *turn.reply)))
        outcome = "reply"
    if turn.check:
        replies.append(Reply(_status_text(turn.check, sender)))
        outcome = "check"
    if turn.submit and turn.state is not None:
        try:
            created = _file(turn.state, message, contact, sender)
        except errors.RateLimited:
            replies.append(Reply("Terlalu banyak laporan dari nomor ini; coba lagi nanti. Ketik *batal* untuk "
                                 "membatalkan."))
        except errors.DomainError as exc:
            replies.append(Reply(f"Laporan belum bisa dikirim: {exc.message} Ketik *batal* untuk mengulang."))
        else:
            replies.append(Reply(_receipt(created)))
            turn.state = None
            outcome = "submitted"
    if turn.state is None:
        whatsapp_chats.save(key, {"last_message": message["id"], "outbox": [_plain(r) for r in replies], "ended": True})
    else:
        whatsapp_chats.save(key, {**turn.state, "last_message": message["id"], "outbox": [_plain(r) for r in replies]})
    _send(phone_number_id, sender, replies)
    return outcome


def _chat_part(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None or state.get("ended"):
        return None
    return {k: v for k, v in state.items() if k not in ("last_message", "outbox", "last_in_at")}


def _waiting_report(phone_hash: str) -> str | None:
    """The report from this number that waits for its reporter's reply (a `request_info`
    question, or the OPD's answer), the latest if several; None if none does."""
    from chalicelib.data import reports
    from chalicelib.domain import workflow as wf

    waits = {str(edge.source) for edge in wf.ACTIONS["reply"].edges}
    found = [r for r in (reports.get(t, consistent=False) for t in reports.by_contact(phone_hash=phone_hash))
             if r is not None and str(r.status) in waits]
    return max(found, key=lambda r: str(r.updated_at)).tracking_id if found else None


def _send_reply(phone_hash: str, tracking_id: str, text: str) -> str:
    """The chat's text as the reporter's `reply` on their report (the number is the proof)."""
    from chalicelib.services import workflow

    try:
        report = workflow.reporter_act_by_phone(tracking_id, phone_hash, "reply", {"message": text})
    except errors.DomainError as exc:
        return f"Balasan belum dapat dikirim: {exc.message}"
    label = STATUS_LABELS.get(str(report.status), str(report.status))
    return f"Balasan Anda untuk laporan {tracking_id} terkirim. Status laporan: {label}."


def _take_photo(state: dict[str, Any], media_id: str) -> chat.Turn:
    """Fetch a photo from the Graph API and check it as a web upload is: quarantine, type proved
    from the bytes, metadata (EXIF, GPS) stripped. A file we cannot take is a reply, not a retry."""
    from chalicelib.services import attachments

    try:
        data, mime = graph.download_media(media_id, PHOTO_TYPES, uploads.MAX_BYTES)
    except graph.MediaRefused as refused:
        return chat.photo_refused(state, refused.code)
    except (graph.GraphError, KeyError, ValueError):
        # Meta keeps media for a while; an id that no longer answers will not answer on a retry.
        logger.warning("whatsapp media not fetched")
        return chat.photo_refused(state, "unavailable")
    attachment_id, outcome = attachments.take(data, mime)
    if outcome != "clean":
        logger.info("whatsapp photo refused", extra={"attachment_id": attachment_id, "outcome": outcome})
        return chat.photo_refused(state, outcome.removeprefix("rejected:"))
    return chat.photo_taken(state, attachment_id)


def _plain(reply: Reply) -> dict[str, Any]:
    data = asdict(reply)
    data["buttons"] = [list(b) for b in reply.buttons]
    data["rows"] = [list(r) for r in reply.rows]
    return data


def _send(phone_number_id: str | None, sender: str, replies: list[Reply]) -> None:
    if not phone_number_id:
        raise ValueError("a WhatsApp update without metadata.phone_number_id")
    for reply in replies:
        graph.send(phone_number_id, graph.message_payload(
            sender.lstrip("+"), reply.body, [tuple(b) for b in reply.buttons],  # type: ignore[misc]
            [tuple(r) for r in reply.rows], reply.button_label))  # type: ignore[misc]


def _file(state: dict[str, Any], message: dict[str, Any], contact: dict[str, Any], sender: str) -> dict[str, Any]:
    from pydantic_core import ValidationError

    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    privacy = state.get("privacy")
    name = str((contact.get("profile") or {}).get("name") or "").strip()[:100] or "Warga (WhatsApp)"
    try:
        report = ReportIn.from_data({
            "type": state["type"], "title": chat.title_of(str(state["description"])),
            "description": state["description"], "privacy": privacy,
            "location": {"kecamatan": state["kecamatan"], "lat": state.get("lat"), "lon": state.get("lon"),
                         "address": (state.get("address") or None) and str(state["address"])[:300]},
            "reporter": {"phone": sender, **({"name": name} if privacy != "anonim" else {})},
            "attachments": list(state.get("photos") or []),
        })
    except ValidationError as exc:
        raise errors.validation_error([], "isian laporan tidak lengkap atau nomor bukan nomor Indonesia.") from exc
    return intake.submit(report, idempotency_key="wa-" + str(message["id"])[:120], source="whatsapp",
                         client=_client(sender))


def _receipt(created: dict[str, Any]) -> str:
    web = os.environ.get("WEB_URL", "").rstrip("/")  # the web client's address (a stack output)
    link = f"{web}/#/lacak" if web else ""
    return (f"Laporan terkirim. Nomor laporan: *{created['tracking_id']}*\nKode akses: *{created['access_token']}*\n"
            "Simpan kode ini: hanya ditampilkan sekali dan diperlukan untuk melihat laporan."
            + (f"\nLacak di {link}" if link else "")
            + f"\nAtau ketik *cek {created['tracking_id']}* di sini.")


def _status_text(tracking_id: str, sender: str) -> str:
    from chalicelib.data import reports  # "cek" only: most messages are chat steps

    report = reports.get(tracking_id, consistent=False)
    if report is None or report.phone_hash != identity.contact_hash(contact_key.key(), "phone", sender):
        # The same answer for "no such report" and "not yours": no oracle for other numbers.
        return f"Laporan {tracking_id} tidak ditemukan untuk nomor ini."
    label = STATUS_LABELS.get(str(report.status), str(report.status))
    return f"Status laporan {tracking_id}: {label}."
