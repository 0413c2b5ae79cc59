"""The ledger table (chalicelib/data/ledger.py): each item kind owns its keys, no two kinds can
own one key, the keys are those written before the table had its new name in code, and an item
written then (raw PutItem, today's key and attributes) is read through the new accessors."""
from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

SHA = hashlib.sha256(b"wamid.x").hexdigest()[:32]
# Keys as the code wrote them before the ledger got its name, one or more per kind.
OLD_KEYS = {
    "idempotency record": ["req#" + hashlib.sha256(b"client-key-0001").hexdigest()],
    "rate-limit counter": [f"rl#reports#1774000800#{SHA}"],
    "consumer lease: notify": [f"notify#KBB-AAAA-BBBB#3#email#{SHA}", f"notify#digest#2026-W13#1#sms#{SHA}"],
    "consumer lease: SP4N sync": ["sync#KBB-AAAA-BBBB#2", "sync#KBB-AAAA-BBBB#from#KBB-CCCC-DDDD#4"],
    "consumer lease: inbound SMS": ["sms_inbound#gw-8812"],
    "consumer lease: WhatsApp message": ["whatsapp:wamid.HBgLNjI4MTIzNDU2Nzg5FQIAEhgg"],
    "SP4N cursor": ["sync#pull#cursor"],
    "complaint link": ["sp4n#complaint#1234567"],
    "digest marker": ["digest#2026-W13", "digest#monthly#2026-03"],
    "sealed access code": ["seal#KBB-AAAA-BBBB#1"],
    "access recovery": ["recovery#KBB-AAAA-BBBB"],
    "WhatsApp chat": [f"wa-chat#{SHA}"],
}


@pytest.fixture
def ledger(aws: dict[str, str]) -> Any:
    from chalicelib.data import ledger

    return ledger


def test_every_kind_is_listed_once_and_owns_its_old_keys(ledger: Any) -> None:
    assert sorted(k.name for k in ledger.KINDS) == sorted(OLD_KEYS)
    for name, keys in OLD_KEYS.items():
        for key in keys:
            assert ledger.kind_of(key) is not None and ledger.kind_of(key).name == name, key


def test_no_two_kinds_can_own_one_key(ledger: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A prefix may only extend another where the longer kind's keys are outside the shorter's
    # pattern: the SP4N cursor under "sync#", whose leases always name a report (KBB-...).
    nested = {(a.name, b.name) for a, b in itertools.permutations(ledger.KINDS, 2) if b.prefix.startswith(a.prefix)}
    assert nested == {("consumer lease: SP4N sync", "SP4N cursor")}
    for kind in ledger.KINDS:
        for key in OLD_KEYS[kind.name]:
            assert [k.name for k in ledger.KINDS if k.owns(key)] == [kind.name], key
    # A lease pattern as loose as the others' would swallow the cursor: kind_of says so.
    monkeypatch.setattr(ledger, "KINDS", (*ledger.KINDS, ledger.Kind("loose lease", "sync#", r".+")))
    with pytest.raises(ValueError, match="SP4N cursor"):
        ledger.kind_of("sync#pull#cursor")


def test_the_code_builds_the_same_keys_as_before(ledger: Any) -> None:
    from chalicelib.adapters.mail import Outgoing
    from chalicelib.data import access, digests, whatsapp_chats
    from chalicelib.domain import ratelimit
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import notify, sync

    assert ledger.idempotency_key("client-key-0001") == OLD_KEYS["idempotency record"][0]
    window = ratelimit.window(ratelimit.Policy("reports", 10, 600), "203.0.113.9", 1774000801.5)
    assert window.key.startswith("rl#reports#1774000800#") and ledger.kind_of(window.key) is ledger.RATE_LIMIT
    event = DomainEvent("KBB-AAAA-BBBB", 3, "verify", "2026-03-01T00:00:00Z", "admin")
    key = notify.claim_key(event, Outgoing("email", "a@example.org", "isi"))
    assert key.startswith("notify#KBB-AAAA-BBBB#3#email#") and ledger.kind_of(key) is ledger.NOTIFY_LEASE
    assert sync.claim_key("KBB-AAAA-BBBB", 2) == "sync#KBB-AAAA-BBBB#2"
    assert sync.claim_key("KBB-AAAA-BBBB", 4, primary="KBB-CCCC-DDDD") == "sync#KBB-AAAA-BBBB#from#KBB-CCCC-DDDD#4"
    assert ledger.SMS_LEASE.key("gw-8812") == "sms_inbound#gw-8812"
    assert ledger.WHATSAPP_LEASE.key("wamid.HBgLNjI4MTIzNDU2Nzg5FQIAEhgg") == OLD_KEYS["consumer lease: WhatsApp message"][0]
    assert ledger.SP4N_CURSOR.key() == "sync#pull#cursor"
    assert ledger.complaint_link("1234567", "KBB-AAAA-BBBB").key == "sp4n#complaint#1234567"
    assert [digests.key("2026-W13"), digests.key("monthly#2026-03")] == OLD_KEYS["digest marker"]
    assert access.seal_key("KBB-AAAA-BBBB", 1) == "seal#KBB-AAAA-BBBB#1"
    assert access.recovery_key("KBB-AAAA-BBBB") == "recovery#KBB-AAAA-BBBB"
    assert whatsapp_chats.PREFIX == "wa-chat#"


def _put_raw(key: str, **attributes: dict[str, str]) -> None:
    """An item as the code wrote it before: low-level PutItem, today's key and attribute names."""
    import boto3

    from chalicelib.config import settings

    boto3.client("dynamodb").put_item(TableName=settings().idempotency_table,
                                      Item={"key": {"S": key}, **attributes})


def test_items_written_with_the_old_keys_are_read_through_the_new_accessors(ledger: Any) -> None:
    from chalicelib.data import claims, whatsapp_chats
    from chalicelib.services import sync

    answer = {"tracking_id": "KBB-AAAA-BBBB", "sealed_token": "x"}
    _put_raw(OLD_KEYS["idempotency record"][0], fingerprint={"S": "f1"}, state={"S": "done"},
             response={"S": json.dumps(answer)}, expires_at={"N": "4102444800"})
    _put_raw("sync#pull#cursor", state={"S": "cursor"}, response={"S": json.dumps({"since": "2026-03-01T07:00:00+07:00"})})
    _put_raw("sp4n#complaint#1234567", state={"S": "map"}, response={"S": json.dumps({"tracking_id": "KBB-AAAA-BBBB"})})
    _put_raw("sync#KBB-AAAA-BBBB#2", fingerprint={"S": "t"}, state={"S": "done"},
             response={"S": json.dumps({"outcome": "synced"})}, expires_at={"N": "4102444800"})
    _put_raw(f"wa-chat#{SHA}", state={"S": "chat"}, response={"S": json.dumps({"step": "kategori", "last_in_at": 1})},
             expires_at={"N": "4102444800"})

    stored = ledger.stored_answer("client-key-0001")
    assert stored is not None and stored.fingerprint == "f1" and stored.answer == answer
    assert ledger.sp4n_cursor() == "2026-03-01T07:00:00+07:00"
    assert sync._cursor() == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert ledger.linked_report("1234567") == sync.mapped_report("1234567") == "KBB-AAAA-BBBB"
    assert not ledger.link_complaint("1234567", "KBB-CCCC-DDDD")  # the old link still holds the id
    lease = claims.get(sync.claim_key("KBB-AAAA-BBBB", 2))
    assert lease is not None and lease.state == claims.DONE and lease.response == {"outcome": "synced"}
    assert claims.acquire(sync.claim_key("KBB-AAAA-BBBB", 2), 60) is None  # done before: still done
    assert whatsapp_chats.load(SHA) == {"step": "kategori", "last_in_at": 1}


def test_the_new_accessors_write_what_the_old_code_read(ledger: Any) -> None:
    import boto3

    from chalicelib.config import settings

    ledger.save_sp4n_cursor(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    assert ledger.link_complaint("777", "KBB-EEEE-FFFF")
    table = settings().idempotency_table
    raw = boto3.client("dynamodb")
    cursor = raw.get_item(TableName=table, Key={"key": {"S": "sync#pull#cursor"}}, ConsistentRead=True)["Item"]
    assert cursor["state"] == {"S": "cursor"} and json.loads(cursor["response"]["S"]) == {"since": "2026-03-02T01:00:00+00:00"}
    link = raw.get_item(TableName=table, Key={"key": {"S": "sp4n#complaint#777"}}, ConsistentRead=True)["Item"]
    assert link["state"] == {"S": "map"} and json.loads(link["response"]["S"]) == {"tracking_id": "KBB-EEEE-FFFF"}
    assert "expires_at" not in link  # a link lives as long as its report
