"""The WhatsApp webhook's signature: Meta's X-Hub-Signature-256 over the raw bytes."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from chalicelib.domain import errors
from chalicelib.services import whatsapp_webhook as wh

SECRET = b"app-secret-for-tests"
# Meta's bytes: spacing and non-ASCII as sent. A re-serialised dict would sign other bytes.
RAW = '{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "wamid.1", "from": "6281234567890", "type": "text", "text": {"body": "Jalan rusak di Lembang \u00e9"}}]}}]}]}'.encode()


def header_for(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_the_signature_of_the_raw_bytes_is_accepted() -> None:
    assert wh.signature_valid(RAW, header_for(RAW), SECRET)
    assert wh.sign(RAW, SECRET) == header_for(RAW)


def test_the_same_json_in_other_bytes_is_refused() -> None:
    reserialised = json.dumps(json.loads(RAW), separators=(",", ":")).encode()
    assert json.loads(reserialised) == json.loads(RAW)
    assert not wh.signature_valid(reserialised, header_for(RAW), SECRET)


GOOD = header_for(RAW)
ONE_DIGIT_OFF = GOOD[:-1] + ("1" if GOOD.endswith("0") else "0")


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha1=" + "0" * 40, header_for(RAW, b"other-secret"),
                                       ONE_DIGIT_OFF, GOOD.upper().replace("SHA256=", "sha256=x"), "sha256=zz\u00e9"])
def test_a_missing_or_wrong_signature_is_refused(signature: str | None) -> None:
    assert not wh.signature_valid(RAW, signature, SECRET)


def test_an_empty_secret_accepts_nothing() -> None:
    assert not wh.signature_valid(RAW, header_for(RAW, b""), b"")


def test_the_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(wh.hmac, "compare_digest", spy)
    assert wh.signature_valid(RAW, header_for(RAW), SECRET)
    assert not wh.signature_valid(RAW, header_for(RAW, b"x"), SECRET)
    assert len(seen) == 2


def test_a_bad_signature_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_APP_SECRET", SECRET.decode())
    parsed: list[Any] = []
    monkeypatch.setattr(wh.json, "loads", lambda *a, **k: parsed.append(a) or {})
    with pytest.raises(errors.Unauthenticated):
        wh.accept(RAW, header_for(RAW, b"wrong"))
    assert parsed == []


def test_subscription_echoes_the_challenge_only_to_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify-me")
    assert wh.subscribe("subscribe", "verify-me", "1158201444") == "1158201444"
    for mode, token in (("subscribe", "wrong"), ("unsubscribe", "verify-me"), (None, "verify-me"), ("subscribe", None)):
        with pytest.raises(errors.Forbidden):
            wh.subscribe(mode, token, "1158201444")


def test_messages_are_read_from_every_entry_and_change() -> None:
    update = json.loads(RAW)
    update["entry"].append({"changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "PNID"}, "contacts": [{"wa_id": "62811", "profile": {"name": "A"}}],
        "messages": [{"id": "wamid.2", "from": "62811", "type": "text"}], "statuses": []}}]})
    update["entry"].append({"changes": [{"field": "messages", "value": {"statuses": [{"id": "wamid.1"}]}}]})
    found = list(wh.iter_messages(update))
    assert [m["id"] for m, _, _ in found] == ["wamid.1", "wamid.2"]
    assert found[1][1]["profile"]["name"] == "A" and found[1][2] == "PNID"
