"""Inbound SMS: reading LAPOR#/CEK# messages, and the gateway's signature checked as Twilio's own
library computes it."""
from __future__ import annotations

import hmac
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.adapters import sms_gateway
from chalicelib.domain import sms_command
from chalicelib.domain.sms_command import Check, File, Unreadable, parse

NAMES = {"lembang": "Lembang", "ngamprah": "Ngamprah", "cisarua": "Cisarua", "cikalongwetan": "Cikalongwetan",
         "padalarang": "Padalarang", "parongpong": "Parongpong"}
TEXT = "Jalan berlubang besar di depan SDN 1 Cikole, sudah sebulan"


@pytest.mark.parametrize("message, kecamatan", [
    (f"LAPOR#Lembang#{TEXT}", "lembang"),
    (f"lapor#lembang#{TEXT}", "lembang"),
    (f"Lapor * Lembeng * {TEXT}", "lembang"),          # another separator, a typo
    (f"LAPOR;kec. Ngampra;{TEXT}", "ngamprah"),
    (f"LAPOR|Kecamatan Cisarwa|{TEXT}", "cisarua"),
    (f"LAPOR lembang {TEXT}", "lembang"),              # spaces only: every kecamatan is one word
    (f"LAPOR#Cikalong Wetan#{TEXT}", "cikalongwetan"),
    (f"  LAPOR # PARONGPONG # {TEXT}  ", "parongpong"),
])
def test_a_report_is_read_whatever_the_separators_case_and_small_typos(message: str, kecamatan: str) -> None:
    command = parse(message, NAMES)
    assert command == File(kecamatan, TEXT)


@pytest.mark.parametrize("message, reason", [
    ("halo pak, jalan rusak", "format"),
    (f"LAPOR#Bandung#{TEXT}", "kecamatan"),    # a city, not a kecamatan of the regency: never guessed
    (f"LAPOR#Jakarta#{TEXT}", "kecamatan"),
    ("LAPOR#Lembang#jalan rusak", "short"),
    ("LAPOR#Lembang#" + "a" * 4001, "long"),
    ("CEK#12345", "tracking_id"),
    ("", "format"),
])
def test_what_cannot_be_filed_says_why(message: str, reason: str) -> None:
    command = parse(message, NAMES)
    assert isinstance(command, Unreadable) and command.reason == reason


@pytest.mark.parametrize("message", ["CEK#KBB-2612-ABCD", "cek kbb-2612-abcd", "Cek KBB 2612 ABCD", "CEK*kbb2612abcd"])
def test_a_status_question_names_its_report(message: str) -> None:
    assert parse(message, NAMES) == Check("KBB-2612-ABCD")


def test_the_title_is_the_first_sentence_cut_at_a_word() -> None:
    assert File("lembang", "Lampu jalan mati. Sudah seminggu gelap.").title == "Lampu jalan mati."
    long = File("lembang", "kata " * 40).title
    assert len(long) <= sms_command.TITLE_MAX + 3 and long.endswith("...") and not long.endswith(" ...")


# -- the gateway's signature ----------------------------------------------------------------

URL = "https://api.lapor.example/api/channels/sms"
SECRET = "12345678901234567890123456789012"
PARAMS = {"MessageSid": "SM0123456789abcdef", "From": "+6281234567890", "To": "1708", "Body": f"LAPOR#Lembang#{TEXT}"}


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, str]:
    monkeypatch.setenv(sms_gateway.SECRET, SECRET)
    body = urllib.parse.urlencode(PARAMS).encode()
    return body, RequestValidator(SECRET).compute_signature(URL, PARAMS)


def test_our_signature_is_twilios(signed: tuple[bytes, str]) -> None:
    body, signature = signed
    assert sms_gateway.twilio_signature(SECRET.encode(), URL, PARAMS) == signature
    message = sms_gateway.Twilio().read(URL, {"X-Twilio-Signature": signature}, body)
    assert message == sms_gateway.InboundSms("SM0123456789abcdef", "+6281234567890", PARAMS["Body"])
    # and Twilio's validator accepts what our CLI signs
    assert RequestValidator(SECRET).validate(URL, PARAMS, sms_gateway.twilio_signature(SECRET.encode(), URL, PARAMS))


@pytest.mark.parametrize("change", ["no header", "other secret", "other url", "body changed"])
def test_anything_not_signed_by_the_gateway_is_refused(signed: tuple[bytes, str], change: str) -> None:
    body, signature = signed
    headers = {"X-Twilio-Signature": signature}
    url = URL
    if change == "no header":
        headers = {}
    elif change == "other secret":
        headers = {"X-Twilio-Signature": RequestValidator("x" * 32).compute_signature(URL, PARAMS)}
    elif change == "other url":
        url = URL.replace("api.", "evil.")
    else:
        body = body.replace(b"Lembang", b"Ngamprah")
    with pytest.raises(sms_gateway.BadSignature):
        sms_gateway.Twilio().read(url, headers, body)


def test_the_signature_is_compared_in_constant_time(signed: tuple[bytes, str], monkeypatch: pytest.MonkeyPatch) -> None:
    body, signature = signed
    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(sms_gateway.hmac, "compare_digest", spy)
    sms_gateway.Twilio().read(URL, {"X-Twilio-Signature": signature}, body)
    assert calls == [(signature.encode(), signature.encode())]


def test_no_secret_outside_the_local_stack_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config

    monkeypatch.delenv(sms_gateway.SECRET, raising=False)
    monkeypatch.delenv(f"{sms_gateway.SECRET}_ID", raising=False)
    monkeypatch.setenv("STAGE", "prod")
    config.reset()
    try:
        with pytest.raises(RuntimeError):
            sms_gateway.Twilio().read(URL, {"X-Twilio-Signature": "x"}, b"From=%2B6281&MessageSid=SM1")
    finally:
        monkeypatch.delenv("STAGE")
        config.reset()
