"""The WhatsApp webhook over the API (chalice test Client + moto): signed update -> queue ->
`whatsapp` function, once per WhatsApp message id; a bad signature stores nothing."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import boto3
import pytest

from tests import sqs_events

SECRET = "local-app-secret"
TOKEN = "local-verify-token"


@pytest.fixture(autouse=True)
def whatsapp_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_APP_SECRET", SECRET)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", TOKEN)


def update(*ids: str, sender: str = "6281234567890") -> bytes:
    # Spaced as Meta sends it, with non-ASCII text: the signature must be over these bytes.
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1234"},
             "contacts": [{"wa_id": sender, "profile": {"name": "Warga"}}],
             "messages": [{"from": sender, "id": i, "timestamp": "1700000000", "type": "text",
                           "text": {"body": "Jalan rusak \u2014 Lembang"}} for i in ids]}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, indent=1, ensure_ascii=False).encode()


def signed(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


def queued(aws: dict[str, str]) -> int:
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws["WHATSAPP_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages",
                                                            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_verification_echoes_the_challenge_as_text(client: Any) -> None:
    ok = client.http.get(f"/channels/whatsapp?hub.mode=subscribe&hub.verify_token={TOKEN}&hub.challenge=8812")
    assert ok.status_code == 200 and ok.body == b"8812"
    assert ok.headers["Content-Type"].startswith("text/plain")
    bad = client.http.get("/channels/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=8812")
    assert bad.status_code == 403
    assert json.loads(bad.body)["error"]["code"] == "forbidden"
    assert client.http.get("/channels/whatsapp").status_code == 403


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"}, signed(b"other bytes"),
                                     signed(update("wamid.A"), "wrong-secret")])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(client: Any, aws: dict[str, str],
                                                                headers: dict[str, str]) -> None:
    answer = client.http.post("/channels/whatsapp", body=update("wamid.A"), headers=headers)
    assert answer.status_code == 401
    error = json.loads(answer.body)["error"]
    assert error["code"] == "unauthenticated" and error["message"]
    assert queued(aws) == 0


def test_a_signed_body_that_is_not_an_update_is_400(client: Any, aws: dict[str, str]) -> None:
    for raw in (b"not json", b'{"object": "page"}'):
        answer = client.http.post("/channels/whatsapp", body=raw, headers=signed(raw))
        assert answer.status_code == 400
    assert queued(aws) == 0


def test_update_goes_through_the_queue_once_per_message_id(client: Any, aws: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data import claims
    from chalicelib.services import whatsapp_webhook

    seen: list[str] = []
    real = whatsapp_webhook.on_message
    monkeypatch.setattr(whatsapp_webhook, "on_message",
                        lambda message, *rest: seen.append(message["id"]) or real(message, *rest))
    raw = update("wamid.A", "wamid.B")
    # Meta retries a webhook it thinks was slow: the same update arrives twice.
    for _ in range(2):
        answer = client.http.post("/channels/whatsapp", body=raw, headers=signed(raw))
        assert answer.status_code == 200
    assert queued(aws) == 2

    sqs = boto3.client("sqs")
    event, messages = sqs_events.receive_event(sqs, aws["WHATSAPP_QUEUE_URL"])
    assert len(messages) == 2 and len({m["MessageId"] for m in messages}) == 2
    result = client.lambda_.invoke("whatsapp", event).payload
    assert result == {"batchItemFailures": []}
    sqs_events.delete_succeeded(sqs, aws["WHATSAPP_QUEUE_URL"], messages, result)
    assert sorted(seen) == ["wamid.A", "wamid.B"]
    record = claims.get("whatsapp:wamid.A")
    assert record is not None and record.state == claims.DONE

    # An SQS redelivery of the same record (same messageId) changes nothing either.
    again = client.lambda_.invoke("whatsapp", event).payload
    assert again == {"batchItemFailures": []}
    assert sorted(seen) == ["wamid.A", "wamid.B"]
    assert queued(aws) == 0


def test_a_failing_message_fails_only_its_record_and_is_retried(client: Any, aws: dict[str, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import whatsapp_webhook

    calls: list[str] = []

    def flaky(message: dict[str, Any], *rest: Any) -> str:
        calls.append(message["id"])
        if message["id"] == "wamid.bad" and calls.count("wamid.bad") == 1:
            raise RuntimeError("Graph API down")
        return "received"

    monkeypatch.setattr(whatsapp_webhook, "on_message", flaky)
    for ids in (("wamid.ok",), ("wamid.bad",)):
        raw = update(*ids)
        assert client.http.post("/channels/whatsapp", body=raw, headers=signed(raw)).status_code == 200
    sqs = boto3.client("sqs")
    event, messages = sqs_events.receive_event(sqs, aws["WHATSAPP_QUEUE_URL"])
    result = client.lambda_.invoke("whatsapp", event).payload
    bad = next(m["MessageId"] for m in messages if "wamid.bad" in m["Body"])
    assert sqs_events.failed_ids(result) == {bad}
    # The retry takes over the released claim and finishes it.
    retry = sqs_events.lambda_event([m for m in messages if m["MessageId"] == bad],
                                    sqs_events.queue_arn(sqs, aws["WHATSAPP_QUEUE_URL"]))
    assert client.lambda_.invoke("whatsapp", retry).payload == {"batchItemFailures": []}
    assert sorted(calls) == ["wamid.bad", "wamid.bad", "wamid.ok"]


def chat_message(kind: str, n: int, sender: str = "6281234567890", **part: Any) -> dict[str, Any]:
    return {"from": sender, "id": f"wamid.chat{sender}.{n}", "timestamp": "1700000000", "type": kind, kind: part}


def deliver(client: Any, aws: dict[str, str], *messages: dict[str, Any]) -> None:
    """Each message as Meta sends it (signed POST), then the queue's records to the function."""
    sqs = boto3.client("sqs")
    for message in messages:
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "PNID"},
                 "contacts": [{"wa_id": message["from"], "profile": {"name": "Ujang"}}], "messages": [message]}
        raw = json.dumps({"object": "whatsapp_business_account",
                          "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}).encode()
        assert client.http.post("/channels/whatsapp", body=raw, headers=signed(raw)).status_code == 200
        event, received = sqs_events.receive_event(sqs, aws["WHATSAPP_QUEUE_URL"])
        result = client.lambda_.invoke("whatsapp", event).payload
        assert result == {"batchItemFailures": []}
        sqs_events.delete_succeeded(sqs, aws["WHATSAPP_QUEUE_URL"], received, result)


STORY = "Jalan di depan pasar Lembang berlubang besar sejak minggu lalu"


def whole_chat(sender: str = "6281234567890") -> list[dict[str, Any]]:
    return [chat_message("text", 1, sender, body="halo"),
            chat_message("interactive", 2, sender, type="button_reply", button_reply={"id": "pengaduan", "title": "Pengaduan"}),
            chat_message("text", 3, sender, body=STORY),
            chat_message("text", 4, sender, body="lembng"),
            chat_message("location", 5, sender, latitude=-6.8123, longitude=107.6178, name="Pasar Lembang"),
            chat_message("interactive", 6, sender, type="button_reply", button_reply={"id": "lewati", "title": "Lewati"}),
            chat_message("interactive", 7, sender, type="button_reply", button_reply={"id": "publik", "title": "Publik"}),
            chat_message("text", 8, sender, body="kirim")]


@pytest.fixture(autouse=True)
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    from chalicelib.adapters import whatsapp as graph

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(graph, "send", lambda phone_number_id, payload: sent.append(payload) or "wamid.out")
    return sent


def test_a_whole_chat_files_a_whatsapp_report_through_intake(client: Any, aws: dict[str, str],
                                                            outbox: list[dict[str, Any]]) -> None:
    from chalicelib.data import reports

    deliver(client, aws, *whole_chat())
    receipt = outbox[-1]["text"]["body"]
    tracking_id = receipt.split("Nomor laporan: *")[1].split("*")[0]
    report = reports.get(tracking_id)
    assert report is not None and report.source == "whatsapp" and report.kecamatan == "lembang"
    assert report.reporter["phone"] == "+6281234567890" and report.privacy == "publik"
    assert report.location["lat"] == -6.8123 and report.description == STORY
    assert "Kode akses: *" in receipt
    assert all(p["to"] == "6281234567890" for p in outbox)
    lists = [p for p in outbox if p.get("interactive", {}).get("type") == "list"]
    assert lists and all(len(p["interactive"]["action"]["sections"][0]["rows"]) <= 10 for p in lists)

    # "cek" answers this number, and only this number.
    deliver(client, aws, chat_message("text", 9, body=f"cek {tracking_id}"))
    assert outbox[-1]["text"]["body"].startswith(f"Status laporan {tracking_id}: diterima")
    deliver(client, aws, chat_message("text", 1, sender="6289999999999", body=f"cek {tracking_id}"))
    assert "tidak ditemukan untuk nomor ini" in outbox[-1]["text"]["body"]


def test_a_redelivered_kirim_files_one_report(client: Any, aws: dict[str, str], outbox: list[dict[str, Any]],
                                             aws_calls: Any) -> None:
    from chalicelib.data.models import Report

    deliver(client, aws, *whole_chat("6281111111111"))
    before = Report.count()
    last = whole_chat("6281111111111")[-1]
    # Meta sends the same update again: the claim on its WhatsApp id skips it.
    deliver(client, aws, last)
    assert Report.count() == before == 1


def test_a_reply_that_failed_to_go_out_is_resent_not_stepped_again(client: Any, aws: dict[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import whatsapp as graph

    sent: list[dict[str, Any]] = []
    fail = {"on": True}

    def flaky(phone_number_id: str, payload: dict[str, Any]) -> str:
        if fail["on"]:
            fail["on"] = False
            raise graph.GraphError("down")
        sent.append(payload)
        return "wamid.out"

    monkeypatch.setattr(graph, "send", flaky)
    sqs = boto3.client("sqs")
    first = whole_chat("6282222222222")[0]
    value = {"metadata": {"phone_number_id": "PNID"}, "messages": [first]}
    raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
                                                                                      "value": value}]}]}).encode()
    client.http.post("/channels/whatsapp", body=raw, headers=signed(raw))
    event, _ = sqs_events.receive_event(sqs, aws["WHATSAPP_QUEUE_URL"])
    assert sqs_events.failed_ids(client.lambda_.invoke("whatsapp", event).payload)
    assert client.lambda_.invoke("whatsapp", event).payload == {"batchItemFailures": []}
    assert len(sent) == 1 and sent[0]["interactive"]["type"] == "button"
    # The chat stayed at its first step: the next message chooses the type.
    deliver(client, aws, whole_chat("6282222222222")[1])
    assert "Ceritakan" in sent[-1]["text"]["body"]
