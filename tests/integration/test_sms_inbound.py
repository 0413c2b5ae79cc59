"""Inbound SMS end to end under moto: the gateway's signed callback -> SmsInboundQueue (real
receive_message output) -> the sms_inbound consumer -> a report through the web's intake, and the
reply by SNS SMS."""
from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from tests.sqs_events import receive_event
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

URL = "https://api.lapor.example/api/channels/sms"
SECRET = "local-sms-gateway-secret-0123456789"
CITIZEN = "+6281234500077"
TEXT = "Jalan berlubang besar di depan SDN 1 Cikole, sudah sebulan belum diperbaiki"


@pytest.fixture
def sms(aws: dict[str, str], client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("SMS_GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("SMS_WEBHOOK_URL", URL)
    monkeypatch.setenv("RATE_LIMIT_SMS", "100000/600")
    from chalicelib import config
    from chalicelib.services import notify

    reread_settings(monkeypatch)
    notify.set_senders(None)
    yield client
    # Settings read here must not outlive the test (its rate limits would reach the next one).
    from chalicelib.services import rate_limits

    config.reset()
    rate_limits.forget()


def reread_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings again, as the harness's stage: chalice's test Client sets its `dev` stage in the
    environment during each request, and settings read then would refuse the local staff key."""
    from chalicelib import config

    monkeypatch.setenv("STAGE", "test")
    config.reset()
    config.settings()


def callback(client: Any, text: str, sender: str = CITIZEN, sid: str | None = None,
             signature: str | None = None) -> Any:
    params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": sender,
              "To": "1708", "Body": text}
    sig = signature if signature is not None else RequestValidator(SECRET).compute_signature(URL, params)
    return client.http.post("/channels/sms", body=urllib.parse.urlencode(params),
                             headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})


def run_consumer(aws: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Deliver what the queue holds to the consumer as Lambda would; returns its answer and the
    bodies delivered (left on the queue, as Lambda leaves a batch it did not delete)."""
    import boto3

    from chalicelib.services import sms_inbound

    event, messages = receive_event(boto3.client("sqs"), aws["SMS_INBOUND_QUEUE_URL"], visibility_timeout=0)
    if not messages:  # Lambda never invokes a consumer with an empty batch
        return {"batchItemFailures": []}, []
    return sms_inbound.handle(event), [m["Body"] for m in messages]


def sent_sms(to: str = CITIZEN) -> list[str]:
    from chalicelib.local import outbox

    return [m["body"] for m in outbox.sent() if m["channel"] == "sms" and to in m["to"]]


def stored_reports() -> list[Any]:
    from chalicelib.data.models import Report

    return list(Report.scan())


def test_a_signed_lapor_sms_files_a_report_and_answers_with_number_and_code(sms: Any, aws: dict[str, str]) -> None:
    answer = callback(sms, f"lapor#lembeng#{TEXT}")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    assert answer.body.decode().endswith("<Response></Response>")
    result, bodies = run_consumer(aws)
    assert result == {"batchItemFailures": []} and len(bodies) == 1
    [report] = stored_reports()
    assert (report.source, report.kecamatan, report.privacy, report.status) == ("sms", "lembang", "anonim", "diajukan")
    assert report.reporter.phone == CITIZEN and report.description == TEXT
    [reply] = sent_sms()
    assert report.tracking_id in reply and "Kode akses:" in reply and len(reply) <= 160
    code = reply.split("Kode akses: ")[1].split(" ")[0]
    view = sms.http.get(f"/reports/{report.tracking_id}", headers={"X-Access-Token": code})
    assert view.status_code == 200 and view.json_body["status"] == "diajukan"


def test_a_redelivered_callback_or_message_files_nothing_twice(sms: Any, aws: dict[str, str]) -> None:
    callback(sms, f"LAPOR#Lembang#{TEXT}", sid="SMdup0001")
    callback(sms, f"LAPOR#Lembang#{TEXT}", sid="SMdup0001")  # the gateway retried its callback
    result, bodies = run_consumer(aws)
    assert len(bodies) == 2 and result == {"batchItemFailures": []}
    result, again = run_consumer(aws)  # SQS redelivered the messages (never deleted here)
    assert again and result == {"batchItemFailures": []}
    assert len(stored_reports()) == 1 and len(sent_sms()) == 1


def test_without_the_gateways_signature_nothing_is_queued(sms: Any, aws: dict[str, str]) -> None:
    for signature in ("", "bm90IHRoZSBzaWduYXR1cmU="):
        answer = callback(sms, f"LAPOR#Lembang#{TEXT}", signature=signature)
        assert answer.status_code == 401
        assert answer.json_body["error"]["code"] == "unauthenticated"
        assert "gateway SMS" in answer.json_body["error"]["message"]
    _, bodies = run_consumer(aws)
    assert bodies == [] and stored_reports() == []


def test_cek_answers_the_status_only_to_the_number_that_filed(sms: Any, aws: dict[str, str]) -> None:
    callback(sms, f"LAPOR#Ngamprah#{TEXT}")
    run_consumer(aws)
    [report] = stored_reports()
    other = "+6281299988877"
    callback(sms, f"cek {report.tracking_id.lower()}")
    callback(sms, f"CEK#{report.tracking_id}", sender=other)
    callback(sms, "CEK#KBB-0000-0000", sender=other)
    run_consumer(aws)
    mine = sent_sms()[-1]
    assert report.tracking_id in mine and "menunggu verifikasi" in mine
    theirs = sent_sms(other)
    assert len(theirs) == 2 and all("tidak ditemukan untuk nomor ini" in t for t in theirs)
    assert "menunggu" not in theirs[0]


def test_an_unreadable_sms_gets_one_help_sms_and_files_nothing(sms: Any, aws: dict[str, str]) -> None:
    callback(sms, "halo, jalan di depan rumah saya rusak")
    callback(sms, f"LAPOR#Bandung#{TEXT}")
    callback(sms, "LAPOR#Lembang#rusak")
    run_consumer(aws)
    replies = sent_sms()
    assert stored_reports() == [] and len(replies) == 3
    assert all("LAPOR#kecamatan#isi laporan" in r and len(r) <= 160 for r in replies)
    assert "Kecamatan tidak dikenal." in replies[1] and "minimal 20 huruf" in replies[2]


def test_a_flood_from_one_number_is_not_answered(sms: Any, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import rate_limits

    monkeypatch.setenv("RATE_LIMIT_SMS", "2/3600")
    reread_settings(monkeypatch)
    rate_limits.forget()
    for _ in range(4):
        callback(sms, "halo")
    callback(sms, "halo", sender="+6281299988877")  # another number has its own budget
    run_consumer(aws)
    assert len(sent_sms()) == 2 and len(sent_sms("+6281299988877")) == 1


def test_no_receipt_from_the_notifier_for_a_report_filed_by_sms() -> None:
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import notify

    def submit(source: str) -> DomainEvent:
        return DomainEvent(tracking_id="KBB-0000-0001", seq=1, action="submit", at="2026-12-04T02:00:00+00:00",
                           actor="pelapor", to_status="diajukan", public=True, data={"source": source})

    assert notify.Notice("pelapor", "pelapor_diterima") in notify.plan(submit("web"), None)
    assert notify.Notice("pelapor", "pelapor_diterima") not in notify.plan(submit("sms"), None)


def test_the_queued_message_holds_only_what_the_consumer_needs(sms: Any, aws: dict[str, str]) -> None:
    callback(sms, f"LAPOR#Lembang#{TEXT}")
    _, [body] = run_consumer(aws)
    assert set(json.loads(body)) == {"message_id", "sender", "text", "received_at"}


def test_the_channel_is_shown_filtered_exported_and_counted(sms: Any, aws: dict[str, str],
                                                            valid_report: dict[str, Any]) -> None:
    from chalicelib.services import performance

    web = Api(sms).submit(valid_report)["tracking_id"]
    callback(sms, f"LAPOR#Lembang#{TEXT}")
    run_consumer(aws)
    by_sms = next(r.tracking_id for r in stored_reports() if r.source == "sms")
    admin = bearer("admin")
    answer = sms.http.get("/staff/reports?channel=sms", headers=admin)
    assert answer.status_code == 200, answer.body
    listed = answer.json_body["items"]
    assert [(i["tracking_id"], i["channel"]) for i in listed] == [(by_sms, "sms")]
    everything = {i["tracking_id"]: i["channel"] for i in sms.http.get("/staff/reports", headers=admin).json_body["items"]}
    assert everything == {web: "web", by_sms: "sms"}
    assert sms.http.get("/staff/reports?channel=fax", headers=admin).status_code == 400
    csv_lines = sms.http.get("/staff/reports?format=csv&channel=sms", headers=admin).body.decode().splitlines()
    assert "channel" in csv_lines[0].split(",") and len(csv_lines) == 2 and ",sms," in csv_lines[1]
    assert sms.http.get(f"/staff/reports/{by_sms}", headers=admin).json_body["channel"] == "sms"
    performance.clear_cache()
    stats = sms.http.get("/stats").json_body["reports"]
    assert stats["by_channel"] == {"sms": 1, "web": 1}
