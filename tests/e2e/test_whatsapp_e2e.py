"""WhatsApp over the local stack: `wa-chat --demo` signs its webhook calls, the pump runs the chat,
the Graph API stand-in gets the replies, and the report lands in the staff list."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any

from tests.e2e.support import cli


def test_wa_chat_demo_files_a_report_that_staff_see(stack: Any, http: Any) -> None:
    sender = f"62812{random.randrange(10**7):07d}"
    tracking_id = cli(stack, "wa-chat", "--demo", "--from", sender).strip().splitlines()[-1]
    assert tracking_id.startswith("KBB-")

    token = cli(stack, "token", "--role", "admin").strip()
    status, body, _ = http.call("GET", "/staff/reports?limit=100", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    assert tracking_id in [item["tracking_id"] for item in body["items"]]
    status, view, _ = http.call("GET", f"/staff/reports/{tracking_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and view["kecamatan"] == "lembang"
    # The demo's photo came through the Graph API stand-in, the quarantine and the scan.
    assert len(view["attachments"]) == 1, view
    status, link, _ = http.call("GET", f"/staff/reports/{tracking_id}/attachments/{view['attachments'][0]}",
                                headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and link["url"]

    sent = json.loads(cli(stack, "outbox", "--json"))
    mine = [m for m in sent if m["channel"] == "whatsapp" and m["to"] == [sender]]
    assert any(tracking_id in m["body"] for m in mine)

    # "cek" from that number answers the status.
    reply = cli(stack, "wa-chat", "--from", sender, "--text", f"cek {tracking_id}")
    assert f"Status laporan {tracking_id}" in reply


def test_the_stack_refuses_an_unsigned_update_and_verifies_the_subscription(stack: Any, http: Any) -> None:
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    status, body, _ = http.call("POST", "/channels/whatsapp", raw=raw)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    good = "sha256=" + hmac.new(stack.env["WHATSAPP_APP_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    status, _, _ = http.call("POST", "/channels/whatsapp", raw=raw, headers={"X-Hub-Signature-256": good})
    assert status == 200
    token = stack.env["WHATSAPP_VERIFY_TOKEN"]
    status, body, _ = http.call("GET", f"/channels/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42")
    assert status == 200 and body == 42
