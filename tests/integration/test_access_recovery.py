"""The grouped access code and "lupa kode akses": over the Chalice test client, moto, and the local
pump that carries events to the notify consumer (whose SMS/email land in moto's outbox)."""
from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest

from chalicelib.domain import access_code

PHONE, EMAIL = "+6281234567890", "siti@example.org"


def post(fan: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return fan.client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json",
                                                                      **(headers or {})})


def submit(fan: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = post(fan, "/reports", body)
    assert r.status_code == 201, r.body
    return dict(r.json_body)


def sent_to(address: str) -> list[dict[str, Any]]:
    from chalicelib.local import outbox

    return [m for m in outbox.sent() if address in m["to"]]


def all_items() -> str:
    """Every item of every table in moto, as one text to search for a code in plain text."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="ap-southeast-3")
    out = []
    for name in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=name):
            out.append(json.dumps(page["Items"], default=str))
    return "\n".join(out)


def otp_in(message: dict[str, Any]) -> str:
    found = re.search(r"\b(\d{6})\b", message["body"])
    assert found, message["body"]
    return found.group(1)


def view(fan: Any, tid: str, code: str) -> int:
    return int(fan.client.http.get(f"/reports/{tid}", headers={"X-Access-Token": code}).status_code)


@pytest.fixture
def reported(fan: Any, valid_report: dict[str, Any]) -> tuple[str, str]:
    created = submit(fan, valid_report)
    fan.pump.drain(timeout=30)
    return created["tracking_id"], created["access_token"]


def test_the_code_is_grouped_sent_to_the_reporter_and_stored_nowhere_in_plain(fan: Any, valid_report: dict[str, Any]) -> None:
    created = submit(fan, valid_report)
    code, tid = created["access_token"], created["tracking_id"]
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){3}", code) and len(code) <= 20
    assert created["access_code_recoverable"] is True and "Lupa kode akses" in created["access_notice"]
    assert code not in all_items()  # the sealed copy waiting for notify is encrypted
    fan.pump.drain(timeout=30)
    [sms] = [m for m in sent_to(PHONE) if m["channel"] == "sms"]
    [mail] = [m for m in sent_to(EMAIL) if m["channel"] == "email"]
    assert code in sms["body"] and code in mail["body"] and tid in sms["body"]
    from chalicelib.domain import gsm7

    assert gsm7.is_gsm7(sms["body"]) and gsm7.segments(sms["body"]) == 1
    assert code not in all_items()
    assert "seal#" not in all_items()  # sent: the sealed copy is gone too
    # Typed as people do: lower case, spaces instead of dashes.
    assert view(fan, tid, code.lower().replace("-", " ")) == 200
    other = "3" if code[0] == "2" else "2"
    assert view(fan, tid, other + code[1:]) == 404


def test_a_report_without_contact_is_told_the_code_is_the_only_key(fan: Any, valid_report: dict[str, Any]) -> None:
    body = copy.deepcopy(valid_report)
    body["privacy"] = "anonim"
    body["reporter"] = {}
    created = submit(fan, body)
    assert created["access_code_recoverable"] is False
    assert "satu-satunya kunci" in created["access_notice"] and "tidak dapat dipulihkan" in created["access_notice"]
    assert "seal#" not in all_items()


def test_codes_issued_before_keep_working_until_replaced(fan: Any, reported: tuple[str, str]) -> None:
    from chalicelib.data.models import Report

    tid, _ = reported
    legacy = "Ab1_lI0O" * 4  # a token of the former form: 32 URL-safe characters with look-alikes
    Report(tid).update(actions=[Report.access_token_hash.set(hashlib.sha256(legacy.encode()).hexdigest())])
    assert view(fan, tid, legacy) == 200
    assert view(fan, tid, legacy.lower()) == 404  # the old form stays exact
    assert post(fan, f"/reports/{tid}/access-recovery", {"contact": "0812 3456 7890"}).status_code == 202
    fan.pump.drain(timeout=30)
    r = post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp_in(sent_to(PHONE)[-1])})
    assert r.status_code == 200, r.body
    assert view(fan, tid, legacy) == 404 and view(fan, tid, r.json_body["access_token"]) == 200


def test_recovery_by_phone_issues_a_new_code_and_the_old_one_stops_working(fan: Any, reported: tuple[str, str]) -> None:
    tid, old = reported
    before_mail = len(sent_to(EMAIL))
    r = post(fan, f"/reports/{tid}/access-recovery", {"contact": "0812-3456-7890"})  # as typed; stored +62
    assert r.status_code == 202
    fan.pump.drain(timeout=30)
    recovery = sent_to(PHONE)[-1]
    assert "pemulihan" in recovery["body"] and len(sent_to(EMAIL)) == before_mail  # only the contact named
    otp = otp_in(recovery)
    assert otp not in all_items()
    wrong = "000000" if otp != "000000" else "111111"
    bad = post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": wrong})
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "validation_error"
    assert "Kode pemulihan salah" in bad.json_body["error"]["message"]
    assert view(fan, tid, old) == 200  # a wrong code changes nothing
    ok = post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": f" {otp[:3]} {otp[3:]} "})
    assert ok.status_code == 200, ok.body
    new = ok.json_body["access_token"]
    assert access_code.canonical(new) is not None and new != old
    assert view(fan, tid, old) == 404 and view(fan, tid, new) == 200
    # Used once: the same code again is refused and changes nothing.
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}).status_code == 400
    assert view(fan, tid, new) == 200
    fan.pump.drain(timeout=30)
    assert new in sent_to(PHONE)[-1]["body"] and new in sent_to(EMAIL)[-1]["body"]
    text = all_items()
    for secret in (new, old, otp):
        assert secret not in text
    from chalicelib.data.models import ReportEvent

    actions = [e.action for e in ReportEvent.query(tid)]
    assert actions[-2:] == ["access_recovery", "access_reissued"]
    reporter = fan.client.http.get(f"/reports/{tid}", headers={"X-Access-Token": new}).json_body
    assert [t["status"] for t in reporter["timeline"]] == ["diajukan"]  # bookkeeping stays internal


def test_recovery_by_email_sends_to_the_email_only(fan: Any, reported: tuple[str, str]) -> None:
    tid, _ = reported
    sms_before = len(sent_to(PHONE))
    assert post(fan, f"/reports/{tid}/access-recovery", {"contact": " Siti@Example.ORG "}).status_code == 202
    fan.pump.drain(timeout=30)
    assert "pemulihan" in sent_to(EMAIL)[-1]["subject"].lower() and len(sent_to(PHONE)) == sms_before


def test_the_answer_is_the_same_whether_or_not_the_pair_matches(fan: Any, reported: tuple[str, str]) -> None:
    from chalicelib.data.models import ReportEvent

    tid, _ = reported
    events_before = ReportEvent.count(tid)
    from chalicelib.local import outbox

    count_before = len(outbox.sent())
    answers = [post(fan, f"/reports/{tid}/access-recovery", {"contact": c}) for c in
               ("0812-9999-0000", "orang@lain.example", "bukan kontak")]
    answers.append(post(fan, "/reports/KBB-2222-3333/access-recovery", {"contact": "0812-3456-7890"}))
    fan.pump.drain(timeout=30)
    assert len(outbox.sent()) == count_before and ReportEvent.count(tid) == events_before  # nothing sent
    match = post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE})
    for r in answers:
        assert (r.status_code, r.json_body, r.headers.get("Content-Length")) == (
            match.status_code, match.json_body, match.headers.get("Content-Length"))
    assert match.status_code == 202


def test_five_wrong_tries_use_the_code_up(fan: Any, reported: tuple[str, str]) -> None:
    tid, old = reported
    post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE})
    fan.pump.drain(timeout=30)
    otp = otp_in(sent_to(PHONE)[-1])
    wrong = [f"{(int(otp) + i) % 1_000_000:06d}" for i in range(1, 6)]
    for guess in wrong:
        assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": guess}).status_code == 400
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}).status_code == 400
    assert view(fan, tid, old) == 200
    # A new request gives a new code that works.
    post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE})
    fan.pump.drain(timeout=30)
    fresh = otp_in(sent_to(PHONE)[-1])
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": fresh}).status_code == 200


def test_four_wrong_tries_leave_the_fifth(fan: Any, reported: tuple[str, str]) -> None:
    tid, _ = reported
    post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE})
    fan.pump.drain(timeout=30)
    otp = otp_in(sent_to(PHONE)[-1])
    for i in range(1, 5):
        post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": f"{(int(otp) + i) % 1_000_000:06d}"})
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}).status_code == 200


def test_the_code_lapses_after_15_minutes(fan: Any, reported: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import access_recovery

    t = {"now": 1_900_000_000.0}
    monkeypatch.setattr(access_recovery, "clock", lambda: t["now"])
    tid, old = reported
    post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE})
    fan.pump.drain(timeout=30)
    otp = otp_in(sent_to(PHONE)[-1])
    t["now"] += 15 * 60
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}).status_code == 400
    assert view(fan, tid, old) == 200
    t["now"] -= 1  # one second before the end it would still have worked
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}).status_code == 200


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib import config
    from chalicelib.services import rate_limits

    monkeypatch.setenv("RATE_LIMIT_RECOVERY", "3/900")
    monkeypatch.setenv("RATE_LIMIT_RECOVERY_SENDS", "2/86400")
    monkeypatch.setenv("CLIENT_IP_HEADER", "X-Forwarded-For")
    config.reset()
    rate_limits.forget()
    yield
    rate_limits.forget()
    config.reset()


def test_each_client_is_limited_and_a_flood_by_others_does_not_lock_the_reporter_out(
        fan: Any, reported: tuple[str, str], strict: Any) -> None:
    tid, _ = reported
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for contact in ("0812-0000-0001", "0812-0000-0002", "x@y.example"):
        assert post(fan, f"/reports/{tid}/access-recovery", {"contact": contact}, attacker).status_code == 202
    refused = post(fan, f"/reports/{tid}/access-recovery", {"contact": "0812-0000-0003"}, attacker)
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "rate_limited"
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": "123456"}, attacker).status_code == 429
    # Many more clients flood the id with wrong contacts: the report's send budget is untouched.
    for i in range(20):
        r = post(fan, f"/reports/{tid}/access-recovery", {"contact": f"0812-0000-{i:04d}"},
                 {"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 202
    reporter = {"X-Forwarded-For": "192.0.2.10"}
    assert post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE}, reporter).status_code == 202
    fan.pump.drain(timeout=30)
    otp = otp_in(sent_to(PHONE)[-1])
    assert post(fan, f"/reports/{tid}/access-recovery/confirm", {"code": otp}, reporter).status_code == 200


def test_codes_sent_per_report_are_capped_without_saying_so(fan: Any, reported: tuple[str, str], strict: Any) -> None:
    tid, _ = reported
    sms_before = len(sent_to(PHONE))
    answers = [post(fan, f"/reports/{tid}/access-recovery", {"contact": PHONE},
                    {"X-Forwarded-For": f"192.0.2.{i}"}) for i in range(3)]
    fan.pump.drain(timeout=30)
    assert [r.status_code for r in answers] == [202, 202, 202]
    assert answers[2].json_body == answers[0].json_body
    assert len(sent_to(PHONE)) == sms_before + 2  # the budget: 2 per day in this test


def test_a_failed_send_keeps_the_sealed_copy_for_the_retry(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.adapters.mail import Outgoing
    from chalicelib.data.models import ReportEvent
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import notify

    created = submit(fan, valid_report)
    tid, code = created["tracking_id"], created["access_token"]
    stored = ReportEvent.get(tid, 1)
    event = DomainEvent(tid, 1, stored.action, stored.at, stored.actor, stored.from_status, stored.to_status,
                        bool(stored.public), stored.message, dict(stored.data or {}))
    got: list[Outgoing] = []

    class Down:
        def send(self, message: Outgoing) -> str:
            raise ConnectionError("SMS gateway down")

    class Up:
        def send(self, message: Outgoing) -> str:
            got.append(message)
            return f"id-{len(got)}"

    notify.set_senders({"email": Up(), "sms": Down()})
    with pytest.raises(ConnectionError):
        notify.handle_event(event)
    assert "seal#" in all_items() and code in got[0].body  # the email went; the SMS will be retried
    notify.set_senders({"email": Up(), "sms": Up()})
    assert notify.handle_event(event) == {"sent": 1, "skipped": 1}
    assert code in got[-1].body and got[-1].channel == "sms"
    assert "seal#" not in all_items()
    # A later redelivery finds both sent; without the copy the receipt would go without the code.
    assert notify.handle_event(event) == {"sent": 0, "skipped": 2}
