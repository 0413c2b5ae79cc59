"""Lupa kode akses over the local stack: the code arrives by SMS (read with `cli outbox --json`,
as an operator would), the recovery code too, and the new code replaces the old one."""
from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

from tests.e2e.support import cli, wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())


def sms_to(stack: Any, phone: str, word: str) -> list[dict[str, Any]]:
    listed = json.loads(cli(stack, "outbox", "--json"))
    return [m for m in listed if m["channel"] == "sms" and phone in m["to"] and word in m["body"]]


def test_a_reporter_who_lost_the_code_gets_back_in_through_the_phone(stack: Any, http: Any) -> None:
    digits = f"{random.randrange(10**7):07d}"
    phone, typed = f"+62813{digits}", f"0813-{digits[:3]}-{digits[3:]}"
    body = copy.deepcopy(EXAMPLE)
    body["reporter"] = {"name": "Dewi Lestari", "phone": typed}
    status, created, _ = http.call("POST", "/reports", body)
    assert status == 201, created
    tid, old = created["tracking_id"], created["access_token"]
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", old) and created["access_code_recoverable"]
    [receipt] = wait_for(lambda: sms_to(stack, phone, "Kode akses"), what="the receipt SMS")
    assert old in receipt["body"] and tid in receipt["body"]

    status, answer, _ = http.call("POST", f"/reports/{tid}/access-recovery", {"contact": typed})
    status_other, answer_other, _ = http.call("POST", f"/reports/{tid}/access-recovery", {"contact": "0813-0000-0001"})
    assert (status, answer) == (status_other, answer_other) and status == 202
    [recovery] = wait_for(lambda: sms_to(stack, phone, "pemulihan"), what="the recovery SMS")
    otp = re.search(r"\b(\d{6})\b", recovery["body"]).group(1)  # type: ignore[union-attr]

    status, wrong, _ = http.call("POST", f"/reports/{tid}/access-recovery/confirm",
                                 {"code": "000000" if otp != "000000" else "999999"})
    assert status == 400 and wrong["error"]["code"] == "validation_error"
    status, confirmed, _ = http.call("POST", f"/reports/{tid}/access-recovery/confirm", {"code": otp})
    assert status == 200, confirmed
    new = confirmed["access_token"]
    assert http.call("GET", f"/reports/{tid}", headers={"X-Access-Token": old})[0] == 404
    assert http.call("GET", f"/reports/{tid}", headers={"X-Access-Token": new.lower()})[0] == 200
    [sent] = wait_for(lambda: sms_to(stack, phone, "kode akses baru"), what="the new code by SMS")
    assert new in sent["body"]
