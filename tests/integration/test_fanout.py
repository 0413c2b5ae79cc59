"""Fan-out (events stream -> dispatcher -> SNS -> queues -> notify / SP4N-LAPOR! sync).

moto in-process, provisioned from infra/resources.yaml; the SP4N-LAPOR! stand-in is a real HTTP
server on a free port; the local pump's own code moves the stream and the queues, with real SQS
messages (their own ids, receive counts, redrive to the DLQ). Numbers in test names follow
"What it must show" of the issue.
"""
from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests import sqs_events

CANARY = {
    "name": "Wulandari Kusumaningrum",
    "email": "wulan.canary@example.org",
    "phone": "0813-9876-5432",
    "nik": "3217014508900002",
}
CANARY_STRINGS = ("Wulandari", "Kusumaningrum", "wulan.canary@example.org", "wulan.canary", "81398765432",
                  "0813-9876-5432", "081398765432", "+6281398765432", "3217014508900002")


# -- fixtures and helpers ---------------------------------------------------------------------

def submit(fan: Any, body: dict[str, Any]) -> str:
    r = fan.client.http.post("/reports", body=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.body
    return str(r.json_body["tracking_id"])


def act(tracking_id: str, action: str, to_status: str | None = None, *, public: bool = True,
        message: str | None = None, actor: str = "admin", data: dict[str, Any] | None = None,
        **fields: Any) -> int:
    """What the workflow does: change the report and append its event, in one transaction."""
    from chalicelib.domain import clock
    from chalicelib.domain.report import Event
    from chalicelib.services import sync

    def mutate(report: Any) -> list[Any]:
        event = Event(at=clock.now(), actor=actor, role=actor, action=action, from_status=report.status,
                      to_status=to_status or report.status, public=public, message=message, data=data or {})
        if to_status:
            report.status = to_status
        for key, value in fields.items():
            setattr(report, key, value)
        return [event]

    return int(sync.change_report(tracking_id, mutate)[0].seq)


def sent() -> list[dict[str, Any]]:
    from chalicelib.local import outbox

    return outbox.sent()


def sent_to(address: str) -> list[dict[str, Any]]:
    return [m for m in sent() if address in m["to"]]


def creates(standin: Any, ok_only: bool = True) -> list[dict[str, Any]]:
    return [r for r in standin.state.received("/complaints/complaint")
            if r["method"] == "POST" and r["path"] == "/complaints/complaint" and (not ok_only or r["status"] == 201)]


def followups(standin: Any) -> list[dict[str, Any]]:
    return [r for r in standin.state.received("/complaints/followup/add") if r["status"] == 201]


def report(tracking_id: str) -> Any:
    from chalicelib.data.models import Report

    return Report.get(tracking_id, consistent_read=True)


def queue_url(fan: Any, logical: str) -> str:
    return str(fan.env[f"{logical}_URL"])


def bodies(fan: Any, logical: str) -> list[str]:
    """Take every message off a queue (deleting it) and return the bodies."""
    out = []
    while True:
        _, messages = sqs_events.receive_event(fan.sqs, queue_url(fan, logical), 10, visibility_timeout=30)
        if not messages:
            return out
        for m in messages:
            out.append(m["Body"])
            fan.sqs.delete_message(QueueUrl=queue_url(fan, logical), ReceiptHandle=m["ReceiptHandle"])


def with_contact(valid_report: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(valid_report)
    body["reporter"] = {"name": "Siti Aminah", "email": "siti@example.org", "phone": "0812-3456-7890"}
    return body


OPD_EMAIL = "dpupr@opd.bandungbaratkab.go.id"
OPD_PHONE = "+628120009025"


# -- 1. each event three times, one after another and concurrently ----------------------------

@pytest.mark.parametrize("mode", ["sequential", "concurrent"])
def test_1_event_delivered_three_times_yields_one_email_one_sms_one_sp4n_call(
        fan: Any, valid_report: dict[str, Any], mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tid = submit(fan, with_contact(valid_report))
    act(tid, "verify", "didisposisikan", message="Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
        data={"opd_code": "DPUPR"}, opd_code="DPUPR")
    act(tid, "respond", "ditindaklanjuti", actor="opd", message="Lubang sudah ditambal pada 3 Desember.")
    assert fan.pump.pump_stream() == 3
    copies = {}
    for logical in ("NOTIFY_QUEUE", "SYNC_QUEUE"):
        originals = bodies(fan, logical)
        assert len(originals) == 3  # submit, verify, respond: one message each per queue
        for body in originals:
            for _ in range(3):  # SNS and SQS are at-least-once: the same body, three times
                fan.sqs.send_message(QueueUrl=queue_url(fan, logical), MessageBody=body)
        copies[logical] = originals

    if mode == "sequential":
        # One delivery at a time, each a Lambda event of its own.
        handlers = {"NOTIFY_QUEUE": fan.app.notify_consumer, "SYNC_QUEUE": fan.app.sync_consumer}
        for logical, handler in handlers.items():
            for _ in range(9):
                event, messages = sqs_events.receive_event(fan.sqs, queue_url(fan, logical), 1, visibility_timeout=30)
                result = handler(event, None)
                assert result == {"batchItemFailures": []}
                sqs_events.delete_succeeded(fan.sqs, queue_url(fan, logical), messages, result)
    else:
        _deliver_concurrently(fan, monkeypatch)
        # Whatever lost the race was failed and is redelivered: finish them.
        fan.pump.drain(timeout=30)

    fan.pump.drain(timeout=10)  # the sync's own sp4n_synced events go round too (and are ignored)
    for logical in ("NOTIFY_QUEUE", "SYNC_QUEUE"):
        assert sqs_events.receive_event(fan.sqs, queue_url(fan, logical), 10, visibility_timeout=0)[1] == []
    reporter_mail = sent_to("siti@example.org")
    reporter_sms = sent_to("+6281234567890")
    # submit (received), verify (forwarded), respond (answered): one each, never two.
    assert sorted(m["subject"].split(":")[0] for m in reporter_mail) == sorted(
        ["[Lapor KBB] Laporan Anda diterima", "[Lapor KBB] Laporan " + tid, "[Lapor KBB] Laporan " + tid])
    assert len(reporter_sms) == 3 and len({m["body"] for m in reporter_sms}) == 3
    assert len(sent_to(OPD_EMAIL)) == 1 and len(sent_to(OPD_PHONE)) == 1  # disposition
    assert len(creates(fan.standin)) == 1
    assert len(followups(fan.standin)) == 2  # verify (disposition) and respond: each once
    assert report(tid).sp4n.state == "synced"


def test_a_batch_reads_its_reports_together_and_claims_its_messages_in_one_write(
        fan: Any, valid_report: dict[str, Any], aws_calls: Any) -> None:
    tids = [submit(fan, with_contact(valid_report)) for _ in range(3)]
    for tid in tids:
        act(tid, "verify", "didisposisikan", message="Diteruskan ke DPUPR.", data={"opd_code": "DPUPR"},
            opd_code="DPUPR")
    assert fan.pump.pump_stream() == 6
    for body in bodies(fan, "NOTIFY_QUEUE"):  # three receipts, three forwards: one batch
        fan.sqs.send_message(QueueUrl=queue_url(fan, "NOTIFY_QUEUE"), MessageBody=body)
    event, messages = sqs_events.receive_event(fan.sqs, queue_url(fan, "NOTIFY_QUEUE"), 10, visibility_timeout=0)
    assert len(messages) == 6
    before = len(sent())
    aws_calls.clear()
    assert fan.app.notify_consumer(event, None) == {"batchItemFailures": []}
    sends = len(sent()) - before
    assert sends >= 12, sends  # each report: receipt by email and SMS; the forward to both and the OPD
    assert aws_calls["dynamodb.TransactWriteItems"] == 2, dict(aws_calls)  # every claim in one, done in one
    assert aws_calls["dynamodb.BatchGetItem"] == 1, dict(aws_calls)  # the three reports, read together
    aws_calls.clear()
    assert fan.app.notify_consumer(event, None) == {"batchItemFailures": []}  # the batch again
    assert len(sent()) - before == sends  # nothing twice
    # Refused: the batch's claim, then each event's own; each message is then found done.
    assert aws_calls["dynamodb.TransactWriteItems"] == 1 + len(messages), dict(aws_calls)



def _ledger_writes(monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, str]]]:
    """Every TransactWriteItems on notify claims, as sent to DynamoDB: [(Put|Update, key), ...]."""
    import botocore.client

    calls: list[list[tuple[str, str]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        if operation == "TransactWriteItems":
            ops = []
            for entry in params["TransactItems"]:
                kind, op = next(iter(entry.items()))
                key = (op.get("Item") or op.get("Key") or {}).get("key", {}).get("S", "")
                ops.append((kind, key))
            if any(key.startswith("notify#") for _, key in ops):
                calls.append(ops)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def test_a_batch_over_one_transactions_claims_is_claimed_and_marked_in_several(
        fan: Any, valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data import claims, reference
    from chalicelib.data.models import ReferenceItem

    # An OPD with many contacts: each forward to it is 24 messages more, so the batch's ten
    # events (five receipts, five forwards) need more claims than one transaction may hold.
    opd = ReferenceItem.get("opd", "DPUPR")
    opd.data = {**opd.data, "emails": [f"petugas{i}@opd.bandungbaratkab.go.id" for i in range(12)],
                "phones": [f"+6281200091{i:02d}" for i in range(12)]}
    opd.save()
    reference.clear_cache()
    tids = [submit(fan, with_contact(valid_report)) for _ in range(5)]
    for tid in tids:
        act(tid, "verify", "didisposisikan", message="Diteruskan ke DPUPR.", data={"opd_code": "DPUPR"},
            opd_code="DPUPR")
    assert fan.pump.pump_stream() == 10
    for body in bodies(fan, "NOTIFY_QUEUE"):
        fan.sqs.send_message(QueueUrl=queue_url(fan, "NOTIFY_QUEUE"), MessageBody=body)
    event, messages = sqs_events.receive_event(fan.sqs, queue_url(fan, "NOTIFY_QUEUE"), 10, visibility_timeout=0)
    assert len(messages) == 10
    before = len(sent())
    writes = _ledger_writes(monkeypatch)

    assert fan.app.notify_consumer(event, None) == {"batchItemFailures": []}
    new = sent()[before:]
    assert len(new) > claims.MAX_TOGETHER, len(new)
    # Sent once each: no two messages alike (every one names its report, channel and recipient).
    alike = Counter((m["channel"], tuple(m["to"]), m["subject"], m["body"]) for m in new)
    assert max(alike.values()) == 1
    claimed = [txn for txn in writes if all(kind == "Put" for kind, _ in txn)]
    marked = [txn for txn in writes if all(kind == "Update" for kind, _ in txn)]
    assert len(claimed) + len(marked) == len(writes), writes  # nothing claimed or marked alone
    # Claimed by the batch, not event by event: more than one write, fewer than the events.
    assert 1 < len(claimed) < len(messages), [len(t) for t in claimed]
    assert len(marked) > 1, [len(t) for t in marked]
    for txn in claimed + marked:
        assert len(txn) <= claims.MAX_TOGETHER
    claimed_keys = [key for txn in claimed for _, key in txn]
    marked_keys = [key for txn in marked for _, key in txn]
    assert len(claimed_keys) == len(set(claimed_keys)) == len(new)  # every message claimed once
    assert sorted(marked_keys) == sorted(claimed_keys)  # and marked done once

    writes.clear()
    assert fan.app.notify_consumer(event, None) == {"batchItemFailures": []}  # the batch again
    assert len(sent()) - before == len(new)  # nothing twice
    assert not [txn for txn in writes if all(kind == "Update" for kind, _ in txn)]  # nothing newly done


ADMIN_EMAIL = "pengaduan@diskominfotik.bandungbaratkab.go.id"


def test_a_reopen_by_the_reporter_reaches_the_opd_and_diskominfotik(fan: Any, valid_report: dict[str, Any]) -> None:
    r = fan.client.http.post("/reports", body=json.dumps(with_contact(valid_report)),
                             headers={"Content-Type": "application/json"})
    tid, code = r.json_body["tracking_id"], r.json_body["access_token"]
    act(tid, "verify", "didisposisikan", message="Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
        data={"opd_code": "DPUPR"}, opd_code="DPUPR")
    act(tid, "respond", "ditindaklanjuti", actor="opd", message="Lubang sudah ditambal pada 3 Desember.")
    fan.pump.drain(timeout=30)
    before = {m["id"] for m in sent()}

    r = fan.client.http.post(f"/reports/{tid}/feedback", body=json.dumps({"resolved": False, "comment": "Masih berlubang."}),
                             headers={"Content-Type": "application/json", "X-Access-Token": code})
    assert r.status_code == 200, r.body
    fan.pump.drain(timeout=30)
    new = [m for m in sent() if m["id"] not in before]
    due = report(tid).due_at
    assert report(tid).status == "diproses" and due
    to_opd = [m for m in new if OPD_EMAIL in m["to"] or OPD_PHONE in m["to"]]
    assert sorted(m["channel"] for m in to_opd) == ["email", "sms"]
    mail = next(m for m in to_opd if m["channel"] == "email")
    assert "dibuka kembali" in mail["subject"] and tid in mail["subject"]
    from chalicelib.services import notify
    from chalicelib.services.notify import _when

    assert _when(due) in mail["body"]  # the new deadline, as on disposition
    assert {"opd_dibuka_kembali", "admin_dibuka_kembali"} <= notify.OWN_TEMPLATES
    assert [m["channel"] for m in new if ADMIN_EMAIL in m["to"]] == ["email"]
    assert "Masih berlubang" not in mail["body"]  # the reporter's words stay in the application
    # The reporter is not sent back what they just said.
    assert [m for m in new if "siti@example.org" in m["to"] or "+6281234567890" in m["to"]] == []


def _deliver_concurrently(fan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three deliveries of each event handled at the same moment by three "Lambdas"."""
    import botocore.client

    from chalicelib.adapters.mail import Outgoing, SesSender
    from chalicelib.adapters.sms import SnsSmsSender
    from chalicelib.services import notify

    # DynamoDB evaluates a condition and writes atomically; moto in-process does not lock. One
    # lock per API call restores that per-request atomicity and nothing more: the handlers'
    # claim -> send -> done steps still interleave freely between calls.
    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def atomic(self: Any, operation: str, params: Any) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", atomic)

    class Slow:
        def __init__(self, inner: Any) -> None:
            self.inner, self.channel = inner, inner.channel

        def send(self, message: Outgoing) -> str:
            time.sleep(0.3)  # a provider that takes its time: the duplicates overlap
            return str(self.inner.send(message))

    notify.set_senders({"email": Slow(SesSender()), "sms": Slow(SnsSmsSender())})
    fan.standin.state.set_fault(__import__("chalicelib.local.sp4n_standin", fromlist=["Fault"]).Fault(
        mode="slow", delay=0.3))
    results: list[dict[str, Any]] = []
    for logical, handler in (("NOTIFY_QUEUE", fan.app.notify_consumer), ("SYNC_QUEUE", fan.app.sync_consumer)):
        # Messages are taken in queue order: copies of one event are not adjacent, so gather all
        # nine single-message events first and group them by event.
        singles = [sqs_events.receive_event(fan.sqs, queue_url(fan, logical), 1, visibility_timeout=60) for _ in range(9)]
        groups: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {}
        for event, messages in singles:
            key = json.loads(json.loads(messages[0]["Body"])["Message"])["seq"]
            groups.setdefault(str(key), []).append((event, messages))
        assert sorted(len(g) for g in groups.values()) == [3, 3, 3]
        for group in groups.values():
            barrier = threading.Barrier(3)

            def run(event: dict[str, Any], messages: list[dict[str, Any]], handler: Any = handler,
                    barrier: threading.Barrier = barrier, logical: str = logical) -> None:
                barrier.wait()
                result = handler(event, None)
                results.append(result)
                sqs_events.delete_succeeded(fan.sqs, queue_url(fan, logical), messages, result)

            threads = [threading.Thread(target=run, args=item) for item in group]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
    fan.standin.state.set_fault(__import__("chalicelib.local.sp4n_standin", fromlist=["Fault"]).Fault())
    notify.set_senders(None)
    # The duplicates really ran at the same time: some found the work held and were failed.
    assert any(r["batchItemFailures"] for r in results)


# -- 2. SP4N-LAPOR! down for a stretch of 50 events -------------------------------------------

def test_2_standin_outage_over_50_events_all_synced_after_recovery_none_lost_none_twice(
        fan: Any, valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import queue
    from chalicelib.local.sp4n_standin import Fault

    fan.standin.state.set_fault(Fault(mode="5xx", status=503))  # down until told otherwise
    tids = [submit(fan, {**valid_report, "title": f"Jalan berlubang nomor {i} di Lembang"}) for i in range(50)]
    while fan.pump.pump_stream():
        pass
    sync_url = queue_url(fan, "SYNC_QUEUE")
    # A failed message stays away for its backoff (long here, so a pass sees each message once);
    # "the backoff is over" is then played by making the failed ones visible again.
    monkeypatch.setattr(queue, "backoff_seconds", lambda count, base, cap: 600)
    failed: list[str] = []

    def one_pass() -> tuple[int, int]:
        for handle in failed:
            fan.sqs.change_message_visibility(QueueUrl=sync_url, ReceiptHandle=handle, VisibilityTimeout=0)
        failed.clear()
        received = ok = 0
        while True:
            event, messages = sqs_events.receive_event(fan.sqs, sync_url, 10)
            if not messages:
                return received, ok
            result = fan.app.sync_consumer(event, None)
            received += len(messages)
            ok += sqs_events.delete_succeeded(fan.sqs, sync_url, messages, result)
            failed.extend(m["ReceiptHandle"] for m in messages
                          if m["MessageId"] in sqs_events.failed_ids(result))

    assert one_pass() == (50, 0)
    assert one_pass() == (50, 0)  # still down: every message failed twice, none lost
    assert {report(t).sp4n.state for t in tids} == {"pending"}
    assert creates(fan.standin) == []
    fan.standin.state.set_fault(Fault())  # LAPOR! is back
    assert one_pass() == (50, 50)

    states = [report(t).sp4n for t in tids]
    assert all(s.state == "synced" for s in states)
    ids = [s.complaint_id for s in states]
    assert len(set(ids)) == 50  # one complaint per report
    assert len(creates(fan.standin)) == 50 and len(fan.standin.state.complaints()) == 50  # none twice
    # Attempts count calls that reached LAPOR!: the failed ones are on the reports too (the rest of a
    # batch is failed fast, without a call, once one call found LAPOR! down).
    assert all(int(s.attempts) >= 1 for s in states) and sum(int(s.attempts) for s in states) > 50
    assert sqs_events.receive_event(fan.sqs, fan.env["SYNC_DLQ_URL"], 10)[1] == []


def test_2b_lost_create_answer_is_found_on_lapor_not_filed_twice(
        fan: Any, valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.local.sp4n_standin import Fault
    from chalicelib.services import sync

    monkeypatch.setenv("SP4N_TIMEOUT", "2,0.3")  # read timeout shorter than LAPOR!'s answer
    sync.reset_clients()
    fan.standin.state.set_fault(Fault(mode="slow", delay=1.0, count=1, path="/complaints/complaint"))
    tid = submit(fan, valid_report)
    fan.pump.pump_stream()
    sync_source = fan.pump.queue("SyncQueue")
    assert fan.pump.pump_queue(sync_source) == 0  # timed out: the answer never came
    deadline = time.monotonic() + 5
    while not fan.standin.state.complaints() and time.monotonic() < deadline:
        time.sleep(0.05)  # ...but LAPOR! did file it
    assert len(fan.standin.state.complaints()) == 1
    assert fan.pump.pump_queue(sync_source) == 1  # the retry looks first and adopts it
    assert len(creates(fan.standin, ok_only=False)) == 1
    complaint = fan.standin.state.complaints()[0]
    assert report(tid).sp4n.complaint_id == f"{complaint['complaint_id']:07d}"


def test_2c_long_outage_dead_letters_marks_failed_and_redrive_syncs(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.local.sp4n_standin import Fault
    from chalicelib.services import dlq

    fan.standin.state.set_fault(Fault(mode="5xx"))
    tid = submit(fan, valid_report)
    fan.pump.pump_stream()
    source = fan.pump.queue("SyncQueue")
    for _ in range(7):
        fan.pump.pump_queue(source)
    r = report(tid)
    assert r.sp4n.state == "failed" and "Sp4nUnavailable" in r.sp4n.last_error  # said on the report
    assert [m["tracking_id"] for m in dlq.list_messages("sync")] == [tid]
    fan.standin.state.set_fault(Fault())
    assert dlq.redrive("sync") == 1
    assert fan.pump.pump_queue(source) == 1
    assert report(tid).sp4n.state == "synced" and len(creates(fan.standin)) == 1
    assert dlq.list_messages("sync") == []


def test_2d_rejected_by_lapor_is_failed_and_not_retried(fan: Any, valid_report: dict[str, Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import sp4n

    calls = []

    def reject(self: Any, payload: Any) -> str:
        calls.append(payload)
        raise sp4n.Sp4nRejected("create_complaint: SP4N-LAPOR! answered HTTP 422", status=422)

    monkeypatch.setattr(sp4n.Sp4nClient, "create_complaint", reject)
    tid = submit(fan, valid_report)
    fan.pump.pump_stream()
    source = fan.pump.queue("SyncQueue")
    assert fan.pump.pump_queue(source) == 1  # acknowledged: resending would fail the same way
    for _ in range(3):
        fan.pump.pump_queue(source)
    assert len(calls) == 1
    r = report(tid)
    assert r.sp4n.state == "failed" and "422" in r.sp4n.last_error


# -- 3. a poison message ends in the DLQ, the rest of its batch is processed ------------------

def test_3_poison_message_dead_lettered_while_rest_of_batch_processed(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.services import dlq

    tids = [submit(fan, with_contact({**valid_report, "title": f"Laporan nomor {i} tentang jalan"})) for i in range(3)]
    fan.pump.pump_stream()
    notify_url = queue_url(fan, "NOTIFY_QUEUE")
    good = bodies(fan, "NOTIFY_QUEUE")
    assert len(good) == 3
    fan.sqs.send_message(QueueUrl=notify_url, MessageBody='{"Type": "Notification", "Message": "{not json"}')
    for body in good:
        fan.sqs.send_message(QueueUrl=notify_url, MessageBody=body)

    event, messages = sqs_events.receive_event(fan.sqs, notify_url, 10, visibility_timeout=0)
    assert len(messages) == 4  # one Lambda batch: the poison and three good events
    result = fan.app.notify_consumer(event, None)
    poison_id = messages[0]["MessageId"]
    assert result == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    sqs_events.delete_succeeded(fan.sqs, notify_url, messages, result)
    assert len(sent_to("siti@example.org")) == 3  # the rest of the batch went out

    for _ in range(6):  # real redelivery: receive count 2..5, then SQS moves it to the DLQ
        fan.pump.pump_queue(fan.pump.queue("NotifyQueue"))
    assert sqs_events.receive_event(fan.sqs, notify_url, 10, visibility_timeout=0)[1] == []
    listed = dlq.list_messages("notify")
    assert [m["message_id"] for m in listed] == [poison_id] and listed[0]["receive_count"] >= 5
    assert [m["message_id"] for m in dlq.list_messages("notify")] == [poison_id]  # listing deletes nothing
    assert len(sent_to("siti@example.org")) == 3 and len(tids) == 3

    assert dlq.redrive("notify") == 1  # back to its queue (it will fail again: it is poison)
    assert dlq.list_messages("notify") == []
    assert len(sqs_events.receive_event(fan.sqs, notify_url, 10, visibility_timeout=0)[1]) == 1


# -- 4. a crash between the report write and the send -----------------------------------------

class ProcessDied(BaseException):
    """Stands for the API process being killed right after its transaction."""


def test_4_crash_after_the_write_still_dispatched_exactly_once(
        fan: Any, valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data import reports
    from chalicelib.local.pump import Pump
    from chalicelib.services import dispatch

    real_create = reports.create

    def create_then_die(*args: Any, **kwargs: Any) -> None:
        real_create(*args, **kwargs)
        raise ProcessDied()

    monkeypatch.setattr(reports, "create", create_then_die)
    with pytest.raises(ProcessDied):
        fan.client.http.post("/reports", body=json.dumps(with_contact(valid_report)),
                             headers={"Content-Type": "application/json"})
    monkeypatch.setattr(reports, "create", real_create)
    from chalicelib.data.models import Report

    stored = list(Report.scan())
    assert len(stored) == 1  # the write happened; the caller never heard back
    tid = stored[0].tracking_id

    published: list[tuple[str, int]] = []
    real_publish = dispatch.publish

    def counting(event: Any) -> str:
        published.append((event.tracking_id, event.seq))
        return real_publish(event)

    monkeypatch.setattr(dispatch, "publish", counting)
    # The pump dies too, after publishing but before saving its place in the stream.
    pump = Pump(fan.app, state_path=fan.tmp, visibility_timeout=0, wait_seconds=0)
    monkeypatch.setattr(pump, "_save_checkpoint", lambda *a: (_ for _ in ()).throw(ProcessDied()))
    with pytest.raises(ProcessDied):
        pump.pump_stream()
    assert published == [(tid, 1)]
    restarted = Pump(fan.app, state_path=fan.tmp, visibility_timeout=0, wait_seconds=0)
    restarted.drain(timeout=20)
    # At least once on the wire (published twice), exactly once in effect.
    assert published.count((tid, 1)) == 2
    assert len(sent_to("siti@example.org")) == 1 and len(sent_to("+6281234567890")) == 1
    assert len(creates(fan.standin)) == 1
    # A third start replays nothing: the checkpoint is in the state dir.
    again = Pump(fan.app, state_path=fan.tmp, visibility_timeout=0, wait_seconds=0)
    assert again.pump_stream() == 0
    assert published.count((tid, 1)) == 2


def test_4b_pump_restart_resumes_after_its_checkpoint(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.local.pump import Pump

    first = submit(fan, valid_report)
    assert fan.pump.pump_stream() == 1
    second = submit(fan, valid_report)  # written while "no pump runs"
    restarted = Pump(fan.app, state_path=fan.tmp, visibility_timeout=0, wait_seconds=0)
    assert restarted.pump_stream() == 1  # the new one only: neither lost nor replayed
    restarted.drain(timeout=20)
    assert {c["complaint_id"] for c in fan.standin.state.complaints()} and len(creates(fan.standin)) == 2
    assert report(first).sp4n.state == report(second).sp4n.state == "synced"


# -- 5. an anonymous reporter's identity never reaches an OPD, the logs or LAPOR! -------------

def test_5_anonim_canary_absent_from_opd_mail_sms_logs_and_sp4n_payload(
        fan: Any, valid_report: dict[str, Any], capfd: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")  # what the functions log at (LOG_LEVEL=INFO in .chalice/config.json)
    body = copy.deepcopy(valid_report)
    body.update({
        "privacy": "anonim", "category": "bansos", "opd_code": "DINSOS",
        "title": "Bansos tidak sampai ke Wulandari",
        "description": ("Saya Wulandari Kusumaningrum (NIK 3217014508900002, HP 0813-9876-5432, "
                        "wulan.canary@example.org) tidak menerima bansos sejak Januari."),
        "reporter": dict(CANARY),
    })
    tid = submit(fan, body)
    act(tid, "verify", "didisposisikan", message="Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
        data={"opd_code": "DINSOS"}, opd_code="DINSOS")
    act(tid, "sla_reminder", public=False, actor="sistem",
        data={"stage": "respon_opd", "opd_code": "DINSOS", "due_at": "2026-12-03T23:59:59+07:00", "audience": ["opd"]})
    act(tid, "sla_breach", public=False, actor="sistem",
        data={"stage": "respon_opd", "opd_code": "DINSOS", "due_at": "2026-12-03T23:59:59+07:00", "audience": ["opd"]})
    act(tid, "sla_escalation", public=False, actor="sistem",
        data={"stage": "respon_opd", "opd_code": "DINSOS", "due_at": "2026-12-03T23:59:59+07:00",
              "audience": ["opd_head", "admin"]})
    act(tid, "return", "dikembalikan", actor="opd", data={"opd_code": "DINSOS", "reason": "Bukan wewenang Dinsos; "
        "pelapor Wulandari (0813-9876-5432) sebaiknya ke Disdukcapil"}, returned_by=["DINSOS"],
        message="Laporan sedang ditinjau ulang untuk diteruskan ke instansi yang berwenang.")
    fan.pump.drain(timeout=30)

    everything = sent()
    mine = {"wulan.canary@example.org", "+6281398765432"}
    staff = [m for m in everything if not set(m["to"]) & mine]
    kinds = Counter(m["channel"] for m in staff)
    # disposition, reminder, breach, escalation to DINSOS (email+sms), its head, the admin desk
    # (escalation and return): every staff notice was sent, and none carries the canary.
    assert kinds["email"] >= 6 and kinds["sms"] >= 4
    assert any("kepala.dinsos@" in m["to"][0] for m in staff)
    assert any("pengaduan@diskominfotik" in m["to"][0] for m in staff)
    for m in staff:
        text = f"{m['subject']} {m['body']}"
        for canary in CANARY_STRINGS:
            assert canary.lower() not in text.lower(), (canary, m["to"], text)
    # The anonymous reporter who left a contact still hears of their own report, by its number.
    assert any(tid in m["body"] for m in everything if "wulan.canary@example.org" in m["to"])

    creates_ = creates(fan.standin)
    assert len(creates_) == 1 and creates_[0]["body"]["is_anonymous"] is True
    wire = json.dumps(fan.standin.state.received())
    for canary in CANARY_STRINGS:
        assert canary not in wire

    logs = capfd.readouterr()
    text = logs.out + logs.err + caplog.text
    assert "event dispatched" in text  # the logs were captured
    for canary in CANARY_STRINGS:
        assert canary not in text, (canary, [line for line in text.splitlines() if canary in line][:3])


def test_5b_anonymous_reporter_without_contact_is_told_nothing(fan: Any, valid_report: dict[str, Any]) -> None:
    body = copy.deepcopy(valid_report)
    body.update({"privacy": "anonim", "reporter": {}})
    tid = submit(fan, body)
    act(tid, "verify", "didisposisikan", message="Laporan diteruskan.", data={"opd_code": "DPUPR"}, opd_code="DPUPR")
    fan.pump.drain(timeout=20)
    assert {a for m in sent() for a in m["to"]} == {OPD_EMAIL, OPD_PHONE}


def test_weekly_digest_goes_to_pimpinan_by_email(fan: Any) -> None:
    from chalicelib.data.models import ReportEvent

    ReportEvent("digest#2026-W13", 1, at="2026-03-23T00:30:00+00:00", actor="sistem", role="sistem",
                action="sla_digest", public=False,
                data={"week": "2026-W13", "audience": ["pimpinan"], "overdue_total": 7,
                      "overdue_by_opd": {"DINSOS": 4, "DPUPR": 3}}).save()
    fan.pump.drain(timeout=20)
    digests = [m for m in sent() if m["subject"] and "2026-W13" in m["subject"]]
    assert sorted(a for m in digests for a in m["to"]) == ["bupati@bandungbaratkab.go.id",
                                                          "inspektorat@bandungbaratkab.go.id"]
    assert "- Dinas Sosial (DINSOS): 4" in digests[0]["body"] and "7 laporan" in digests[0]["subject"]


# -- 6. partial batch responses for mixed batches ----------------------------------------------

def test_6_handlers_return_batch_item_failures_for_mixed_batches(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.local.pump import stream_lambda_event

    tid = submit(fan, valid_report)
    # Stream: a good record and one whose image is not an event.
    shard = fan.pump.streams.describe_stream(StreamArn=fan.pump.stream_arn)["StreamDescription"]["Shards"][0]
    it = fan.pump.streams.get_shard_iterator(StreamArn=fan.pump.stream_arn, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = fan.pump.streams.get_records(ShardIterator=it)["Records"]
    bad = copy.deepcopy(records[0])
    bad["dynamodb"]["NewImage"].pop("action")
    bad["dynamodb"]["SequenceNumber"] = str(int(records[0]["dynamodb"]["SequenceNumber"]) + 1)
    result = fan.app.dispatch_events(stream_lambda_event([records[0], bad], fan.pump.stream_arn, "ap-southeast-3"), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}

    # Queues: two good events and one for a report that does not exist, in one real batch.
    for logical, handler in (("NOTIFY_QUEUE", fan.app.notify_consumer), ("SYNC_QUEUE", fan.app.sync_consumer)):
        url = queue_url(fan, logical)
        (good,) = bodies(fan, logical)
        ghost = json.loads(good)
        ghost["Message"] = json.dumps({**json.loads(ghost["Message"]), "tracking_id": "KBB-0000-0000"})
        for b in (good, json.dumps(ghost), good):
            fan.sqs.send_message(QueueUrl=url, MessageBody=b)
        event, messages = sqs_events.receive_event(fan.sqs, url, 10, visibility_timeout=30)
        assert len({r["messageId"] for r in event["Records"]}) == 3
        result = handler(event, None)
        assert result == {"batchItemFailures": [{"itemIdentifier": messages[1]["MessageId"]}]}, logical
    assert report(tid).sp4n.state == "synced"


# -- the scheduled pull -----------------------------------------------------------------------

def test_pull_brings_back_lapor_side_changes_and_imports_direct_complaints(fan: Any, valid_report: dict[str, Any]) -> None:
    import urllib.request

    from chalicelib.data import reports
    from chalicelib.data.models import Report
    from chalicelib.services import sync

    tid = submit(fan, valid_report)
    fan.pump.drain(timeout=20)
    cid = report(tid).sp4n.complaint_id

    def control(path: str, body: dict[str, Any]) -> Any:
        req = urllib.request.Request(fan.standin.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    control(f"/_standin/complaints/{cid}/status", {"status_code": "process", "message": "Diproses di LAPOR!"})
    control(f"/_standin/complaints/{cid}/followups", {"content": "Admin LAPOR!: mohon segera ditindaklanjuti."})
    direct = control("/_standin/complaints", {"title": "Sampah menumpuk di pasar Padalarang",
                                              "content": "Sampah tidak diangkut sejak seminggu.",
                                              "location_id": 321708, "is_anonymous": True,
                                              "classification_id": 1})
    first = sync.pull()
    again = sync.pull()
    assert first["imported"] == 1 and first["events"] >= 2
    assert again["imported"] == 0 and again["events"] == 0  # applied once, however often seen

    lapor_events = [e for e in reports.events(tid) if (e.data or {}).get("origin") == "sp4n"]
    # LAPOR!'s admins moved it to "process" while ours awaits verification: not a move of ours, so
    # a conflict for an admin to settle; their admin's follow-up is an internal note.
    assert sorted(e.action for e in lapor_events) == ["sp4n_conflict", "sp4n_followup"]
    assert all(e.actor == "sistem" and not e.public for e in lapor_events)
    assert report(tid).sp4n.problem and report(tid).sp4n_watch == "problem"
    imported = [r for r in Report.scan() if r.source == "sp4n"]
    assert len(imported) == 1
    new = imported[0]
    assert new.privacy == "anonim" and new.kecamatan == "padalarang" and new.status == "diajukan"
    assert new.sp4n.complaint_id == f"{direct['complaint_id']:07d}" and new.reporter is None
    # Its own submit event goes round the fan-out without filing it on LAPOR! a second time.
    fan.pump.drain(timeout=20)
    assert len(fan.standin.state.complaints()) == 2 and len(creates(fan.standin)) == 1


def test_outbox_and_dlq_commands(fan: Any, valid_report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli

    submit(fan, with_contact(valid_report))
    fan.pump.drain(timeout=20)
    capsys.readouterr()  # the handlers' own log lines
    assert cli.main(["outbox", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {i["channel"] for i in items} == {"email", "sms"}
    assert cli.main(["outbox"]) == 0 and "EMAIL to siti@example.org" in capsys.readouterr().out
    assert cli.main(["dlq", "list", "--queue", "notify"]) == 0
    assert "empty" in capsys.readouterr().out
    assert cli.main(["dlq", "redrive", "--queue", "sync", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queue": "sync", "redriven": 0}
