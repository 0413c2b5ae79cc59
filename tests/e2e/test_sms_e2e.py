"""Inbound SMS over the real local stack: `python -m chalicelib.cli sms-in` signs a callback as
the gateway does, the pump runs the sms_inbound consumer, the reply SMS lands in the outbox and
the report in the staff list with its channel."""
from __future__ import annotations

import json
import random
import time
from typing import Any

from tests.e2e.support import cli


def test_an_sms_report_arrives_in_the_staff_inbox_and_cek_answers_it(stack: Any, http: Any) -> None:
    number = f"08129{random.randint(100000, 999999)}"
    e164 = "+62" + number[1:]
    out = cli(stack, "sms-in", "--from", number, "--text",
              "LAPOR#Lembeng#Lampu penerangan jalan di gang Melati mati sejak seminggu")
    assert "delivered: HTTP 200" in out
    reply = json.loads(out[out.index("{"):])
    assert reply["channel"] == "sms" and reply["to"] == [e164]
    tracking_id = reply["body"].split("nomor ")[1].split(".")[0]
    code = reply["body"].split("Kode akses: ")[1].split(" ")[0]
    status, view, _ = http.call("GET", f"/reports/{tracking_id}", headers={"X-Access-Token": code})
    assert status == 200 and view["status"] == "diajukan"

    token = cli(stack, "token", "--role", "admin").strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    status, staff, _ = http.call("GET", f"/staff/reports/{tracking_id}", headers=auth)
    assert status == 200 and staff["kecamatan"] == "lembang" and staff["channel"] == "sms"
    status, listed, _ = http.call("GET", "/staff/reports?channel=sms&limit=100", headers=auth)
    assert any(i["tracking_id"] == tracking_id for i in listed["items"])

    answer = cli(stack, "sms-in", "--from", number, "--text", f"cek {tracking_id}")
    assert tracking_id in answer and "menunggu verifikasi" in answer
    # Time for the notifier to act on the submission: it must send that number no receipt of its
    # own, so exactly two SMS name the report, the two replies.
    time.sleep(2)
    sent = json.loads(cli(stack, "outbox", "--json"))
    assert len([m for m in sent if m["to"] == [e164] and tracking_id in (m["body"] or "")]) == 2
