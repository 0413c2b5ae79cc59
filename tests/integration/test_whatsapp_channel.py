"""The WhatsApp chat's photos, shared locations, per-number limit and follow-up, over the API
(chalice test Client + moto) and the Graph API stand-in as a real HTTP server: a photo is
fetched with the bearer token, quarantined and scanned like a web upload; a report's status
changes reach the chat as free text within 24 hours of the reporter's last message and as the
configured template after."""
from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from werkzeug.serving import make_server

from tests.integration.test_whatsapp_webhook import STORY, chat_message, deliver
from tests.staff_support import staff_auth  # noqa: F401  (fixture)

SENDER = "6281234567890"
PNID = "PNID"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The Graph API stand-in on a free port; what the chat sends is kept in `sent`."""
    from chalicelib.local.whatsapp_standin import TOKEN, create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", url)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", PNID)

    def upload(data: bytes, mime: str) -> str:
        answer = requests.post(f"{url}/{PNID}/media", headers={"Authorization": f"Bearer {TOKEN}"},
                               files={"file": ("f", data, mime)}, data={"messaging_product": "whatsapp"}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def sent() -> list[dict[str, Any]]:
        return list(requests.get(f"{url}/_standin/sent", timeout=10).json())

    yield {"url": url, "upload": upload, "sent": sent}
    server.shutdown()
    thread.join(5)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib import config
    from chalicelib.services import notify, rate_limits

    monkeypatch.setenv("WHATSAPP_APP_SECRET", "local-app-secret")
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "local-verify-token")
    notify.set_senders(None)
    yield
    config.reset()
    rate_limits.forget()
    notify.set_senders(None)


def photo_jpeg() -> bytes:
    """A JPEG as a phone takes it: with EXIF, GPS included."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "S", 2: (6.0, 48.0, 44.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def button(n: int, reply_id: str, sender: str = SENDER) -> dict[str, Any]:
    return chat_message("interactive", n, sender, type="button_reply", button_reply={"id": reply_id, "title": reply_id})


def to_photos(client: Any, aws: dict[str, str], sender: str = SENDER) -> None:
    """A chat up to the photos step; the kecamatan comes from a shared location."""
    deliver(client, aws, chat_message("text", 1, sender, body="halo"), button(2, "pengaduan", sender),
            chat_message("text", 3, sender, body=STORY),
            chat_message("location", 4, sender, latitude=-6.8123, longitude=107.6178, name="Pasar Lembang"))


def texts(graph: dict[str, Any], to: str = SENDER) -> list[str]:
    from chalicelib.local import outbox

    return [m["body"] for m in outbox.whatsapp_sent(graph["url"]) if m["to"] == [to]]


def test_a_photo_is_fetched_quarantined_scanned_and_attached(client: Any, aws: dict[str, str],
                                                             graph: dict[str, Any]) -> None:
    from chalicelib.data import reports
    from chalicelib.data.models import Attachment

    to_photos(client, aws)
    assert "Lokasi diterima: Kecamatan Lembang" in texts(graph)[-1]
    media_id = graph["upload"](photo_jpeg(), "image/jpeg")
    deliver(client, aws, chat_message("image", 5, SENDER, id=media_id, mime_type="image/jpeg", sha256="x"))
    assert texts(graph)[-1].startswith("Foto ke-1 diterima")
    deliver(client, aws, button(6, "lanjut"), button(7, "publik"))
    assert "Foto: 1" in texts(graph)[-1]
    deliver(client, aws, chat_message("text", 8, SENDER, body="kirim"))
    tracking_id = texts(graph)[-1].split("Nomor laporan: *")[1].split("*")[0]

    report = reports.get(tracking_id)
    assert report is not None and report.kecamatan == "lembang" and report.location["lat"] == -6.8123
    [attachment_id] = report.attachments
    record = Attachment.get(attachment_id)
    assert record.state == "clean" and record.report_id == tracking_id and record.content_type == "image/jpeg"
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=aws["QUARANTINE_BUCKET"]).get("KeyCount", 0) == 0
    clean = s3.get_object(Bucket=aws["ATTACHMENTS_BUCKET"], Key=f"clean/{attachment_id}")["Body"].read()
    from PIL import Image

    assert not Image.open(io.BytesIO(clean)).getexif()  # EXIF (and the GPS in it) stripped


@pytest.mark.parametrize(("data", "mime", "words"), [
    (b"this is not a picture at all", "image/jpeg", "bukan foto yang dapat kami baca"),
    (b"GIF89a....", "image/gif", "JPEG atau PNG"),
    (b"%PDF-1.4 a document", "application/pdf", "JPEG atau PNG"),
])
def test_a_bad_photo_gets_an_indonesian_reply_and_nothing_is_attached(client: Any, aws: dict[str, str],
                                                                      graph: dict[str, Any], data: bytes,
                                                                      mime: str, words: str) -> None:
    from chalicelib.data import whatsapp_chats
    from chalicelib.data.models import Attachment, LedgerItem

    to_photos(client, aws)
    kind = "image" if mime.startswith("image/") else "document"
    deliver(client, aws, chat_message(kind, 5, SENDER, id=graph["upload"](data, mime), mime_type=mime))
    assert words in texts(graph)[-1] and "tidak dilampirkan" in texts(graph)[-1]
    assert all(a.state != "clean" for a in Attachment.scan())
    [state] = [i.response for i in LedgerItem.scan() if i.key.startswith(whatsapp_chats.PREFIX)]
    assert state["step"] == "photos" and state["photos"] == []


def test_an_oversize_photo_is_refused_before_download(client: Any, aws: dict[str, str], graph: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data.models import Attachment
    from chalicelib.domain import uploads

    to_photos(client, aws)
    media_id = graph["upload"](photo_jpeg(), "image/jpeg")
    monkeypatch.setattr(uploads, "MAX_BYTES", 100)  # the photo is larger than the limit
    deliver(client, aws, chat_message("image", 5, SENDER, id=media_id, mime_type="image/jpeg"))
    assert "maksimal 10 MB" in texts(graph)[-1]
    assert list(Attachment.scan()) == []


def test_a_location_outside_the_regency_asks_for_the_kecamatan(client: Any, aws: dict[str, str],
                                                               graph: dict[str, Any]) -> None:
    deliver(client, aws, chat_message("text", 1, SENDER, body="halo"), button(2, "pengaduan"),
            chat_message("text", 3, SENDER, body=STORY),
            chat_message("location", 4, SENDER, latitude=-6.9175, longitude=107.6191, name="Alun-alun Bandung"))
    replies = texts(graph)
    assert "di luar Kabupaten Bandung Barat" in replies[-2] and "Kecamatan lainnya" in replies[-1]


def test_a_flood_from_one_number_gets_one_reply_and_changes_nothing(client: Any, aws: dict[str, str],
                                                                   graph: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config
    from chalicelib.data.models import LedgerItem, Report
    from chalicelib.services import rate_limits

    monkeypatch.setenv("RATE_LIMIT_WHATSAPP", "3/3600")
    monkeypatch.setenv("STAGE", "test")
    config.reset()
    config.settings()
    rate_limits.forget()
    deliver(client, aws, chat_message("text", 1, SENDER, body="halo"), button(2, "pengaduan"),
            chat_message("text", 3, SENDER, body=STORY))
    assert len(texts(graph)) == 3
    state_before = [i.response for i in LedgerItem.scan() if i.key.startswith("wa-chat#")]
    deliver(client, aws, chat_message("text", 4, SENDER, body="lembang"), chat_message("text", 5, SENDER, body="x"),
            chat_message("text", 6, SENDER, body="y"))
    replies = texts(graph)
    assert len(replies) == 4 and "Terlalu banyak pesan dari nomor ini" in replies[-1]
    assert [i.response for i in LedgerItem.scan() if i.key.startswith("wa-chat#")] == state_before
    assert Report.count() == 0
    # Another number has its own budget.
    deliver(client, aws, chat_message("text", 1, "6289876543210", body="halo"))
    assert len(texts(graph, "6289876543210")) == 1


def _event(tracking_id: str, seq: int, action: str, to_status: str, message: str) -> Any:
    from chalicelib.domain.events import DomainEvent

    return DomainEvent(tracking_id=tracking_id, seq=seq, action=action, at="2026-12-04T02:00:00+00:00",
                       actor="admin", from_status="diajukan", to_status=to_status, public=True, message=message)


def test_follow_up_is_free_text_within_24_hours_and_a_template_after(client: Any, aws: dict[str, str],
                                                                     graph: dict[str, Any]) -> None:
    from chalicelib.data import whatsapp_chats
    from chalicelib.data.models import LedgerItem
    from chalicelib.local import outbox
    from chalicelib.services import notify, templates, whatsapp_outbound

    to_photos(client, aws)
    deliver(client, aws, button(5, "lewati"), button(6, "anonim"), chat_message("text", 7, SENDER, body="kirim"))
    tracking_id = texts(graph)[-1].split("Nomor laporan: *")[1].split("*")[0]
    before = len(graph["sent"]())

    question = "Mohon kirim nama gang dan patokan terdekat."
    notify.handle_event(_event(tracking_id, 2, "request_info", "perlu_kelengkapan", question))
    [free] = graph["sent"]()[before:]
    assert free["to"] == SENDER and free["type"] == "text"
    assert tracking_id in free["text"]["body"] and question in free["text"]["body"]

    # A day later with no word from the reporter: only an approved template may go.
    [item] = [i for i in LedgerItem.scan() if i.key.startswith(whatsapp_chats.PREFIX)]
    item.response = {**item.response, "last_in_at": int(item.response["last_in_at"]) - 24 * 3600 - 1}
    item.save()
    notify.handle_event(_event(tracking_id, 3, "verify", "didisposisikan", ""))
    [template] = graph["sent"]()[before + 1:]
    spec = whatsapp_outbound.config()["pelapor_status"]["template"]
    assert template["type"] == "template" and template["template"]["name"] == spec["name"]
    assert template["template"]["language"] == {"code": spec["language"]}
    params = [p["text"] for p in template["template"]["components"][0]["parameters"]]
    assert len(params) == len(spec["parameters"]) and params[0] == tracking_id
    assert params[1] == templates.labels()["status"]["didisposisikan"]
    # No SMS to the reporter: the chat is where they wrote from. The outbox lists the replies by channel.
    assert not [m for m in outbox.sent() if m["channel"] == "sms" and "+" + SENDER in m["to"]]
    listed = [m for m in outbox.whatsapp_sent(graph["url"]) if m["id"] == template["id"]]
    assert listed and listed[0]["channel"] == "whatsapp"
    assert listed[0]["body"].startswith(f"[template {spec['name']} (id)]\nLapor KBB: status laporan Anda {tracking_id} kini")


def test_without_a_business_number_the_reporter_is_told_by_sms(client: Any, aws: dict[str, str],
                                                              graph: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.local import outbox
    from chalicelib.services import notify

    to_photos(client, aws)
    deliver(client, aws, button(5, "lewati"), button(6, "anonim"), chat_message("text", 7, SENDER, body="kirim"))
    tracking_id = texts(graph)[-1].split("Nomor laporan: *")[1].split("*")[0]
    monkeypatch.delenv("WHATSAPP_PHONE_NUMBER_ID")
    before = len(graph["sent"]())
    notify.handle_event(_event(tracking_id, 2, "request_info", "perlu_kelengkapan", "Mohon lengkapi."))
    assert len(graph["sent"]()) == before
    assert [m for m in outbox.sent() if m["channel"] == "sms" and "+" + SENDER in m["to"]]


@pytest.mark.usefixtures("staff_auth")
def test_a_text_after_a_question_becomes_the_reports_reply(client: Any, aws: dict[str, str],
                                                           graph: dict[str, Any]) -> None:
    from chalicelib.data import reports
    from tests.staff_support import Api

    to_photos(client, aws)
    deliver(client, aws, button(5, "lewati"), button(6, "publik"), chat_message("text", 7, SENDER, body="kirim"))
    tracking_id = texts(graph)[-1].split("Nomor laporan: *")[1].split("*")[0]
    Api(client).ok(tracking_id, "admin", action="request_info", message="Mohon sebutkan nama gang dan patokannya.")

    answer = "Gang Melati RT 02, di depan masjid Al-Ikhlas"
    deliver(client, aws, chat_message("text", 8, SENDER, body=answer))
    assert tracking_id in texts(graph)[-1] and "Kirim balasan" in texts(graph)[-1]
    assert reports.get(tracking_id).status == "perlu_kelengkapan"  # nothing moves before the citizen says so
    deliver(client, aws, button(9, "balas"))
    assert texts(graph)[-1].startswith(f"Balasan Anda untuk laporan {tracking_id} terkirim")
    report = reports.get(tracking_id)
    assert report is not None and report.status == "diajukan"
    [reply] = [e for e in reports.events(tracking_id) if e.action == "reply"]
    assert reply.message == answer and reply.actor == "pelapor"

    # Nothing waits any more: the next text starts a new report, and another number is never offered it.
    deliver(client, aws, chat_message("text", 10, SENDER, body="halo"))
    assert "Apa yang ingin Anda sampaikan?" in texts(graph)[-1]
    deliver(client, aws, chat_message("text", 1, "6289876543210", body=answer))
    assert "Kirim balasan" not in texts(graph, "6289876543210")[-1]
