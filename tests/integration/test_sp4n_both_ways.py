"""SP4N-LAPOR! both ways: every step pushed per the mapping table, LAPOR!'s reporter and admins
pulled into our workflow, per-complaint polling, reconciliation, the problems route and CLI.

moto in-process, the stand-in as a real HTTP server, the local pump's own code moving the stream
and the queues (see tests/integration/test_fanout.py, whose fixtures these reuse)."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_fanout import creates, followups, report
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def lapor(fan: Any, complaint_id: str) -> dict[str, Any]:
    return {**fan.standin.state.complaint(complaint_id), "followups": fan.standin.state.followups(complaint_id)}


def ours(fan: Any) -> list[dict[str, Any]]:
    """What we posted on LAPOR! (accepted follow-ups), in order."""
    return [r["body"] for r in followups(fan.standin)]


def sim(*args: str) -> None:
    from chalicelib import cli

    assert cli.main(["sp4n-sim", *args]) == 0


def pull(monkeypatch: pytest.MonkeyPatch, *, list_endpoint: bool = False) -> dict[str, Any]:
    from chalicelib.services import sync

    if not list_endpoint:
        monkeypatch.delenv("SP4N_LIST_ENDPOINT", raising=False)
    try:
        return sync.pull()
    finally:
        monkeypatch.setenv("SP4N_LIST_ENDPOINT", "on")


def imported_report(fan: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                    title: str = "Jalan desa rusak di Cipatat") -> tuple[str, str]:
    """A complaint filed on LAPOR! (sp4n-sim), imported by a pull with the list endpoint."""
    from chalicelib.services import sync

    capsys.readouterr()
    sim("new-complaint", "--title", title, "--text", "Jalan rusak parah sejak bulan lalu.", "--location-id", "321707")
    complaint_id = capsys.readouterr().out.strip()
    assert len(complaint_id) == 7 and complaint_id.isdigit()
    assert pull(monkeypatch, list_endpoint=True)["imported"] == 1
    tid = sync.mapped_report(complaint_id)
    assert tid is not None
    fan.pump.drain(timeout=20)
    return tid, complaint_id


def events_of(tid: str) -> list[Any]:
    from chalicelib.data import reports

    return reports.events(tid)


# -- 1. push: every step LAPOR!'s reporter sees, per the one table --------------------------

def test_every_step_goes_to_lapor_with_the_status_of_the_mapping(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.services import sync

    api = Api(fan.client)
    rule = sync.mapping()["push"]
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    fan.pump.drain(timeout=20)
    cid = report(tid).sp4n.complaint_id
    assert lapor(fan, cid)["status_code"] == "verification"
    steps = [("verify", "admin", None, {"opd_code": "DPUPR"}), ("accept", "opd", "DPUPR", {}),
             ("return", "opd", "DPUPR", {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang kami."}),
             ("redispose", "admin", None, {"opd_code": "DISHUB", "note": "ke Dishub"}),
             ("respond", "opd", "DISHUB", {"message": "Rambu sudah dipasang kembali."})]
    for action, role, opd, fields in steps:
        view = api.ok(tid, role, opd, action=action, **fields)
        fan.pump.drain(timeout=20)
        last = ours(fan)[-1]
        timeline = [t for t in api.reporter(created)["timeline"] if t["message"]][-1]["message"]
        assert last["status_code"] == rule[action]["status"], action
        assert last["content"] == timeline  # exactly what our own reporter reads, nothing internal
        assert lapor(fan, cid)["status_code"] == rule[action]["status"]
        assert view["status"] != "diajukan"
    assert "Bukan wewenang kami" not in json.dumps(ours(fan)) and "ke Dishub" not in json.dumps(ours(fan))
    api.ok(tid, "admin", action="close", message="Ditutup: rambu sudah terpasang.")
    fan.pump.drain(timeout=20)
    assert [b["status_code"] for b in ours(fan)] == ["disposed", "process", "verification", "disposed", "done", "done"]
    assert len(creates(fan.standin)) == 1 and report(tid).sp4n.synced_seq >= 7


def test_a_step_delivered_before_an_earlier_one_waits_for_it(fan: Any, valid_report: dict[str, Any]) -> None:
    """SQS gives no order after retries; LAPOR! keeps the status of the last follow-up it got."""
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import sync
    from tests.integration.test_fanout import bodies

    api = Api(fan.client)
    tid = api.submit(valid_report)["tracking_id"]
    fan.pump.drain(timeout=20)
    api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    api.ok(tid, "opd", "DPUPR", action="accept")
    fan.pump.pump_stream()
    events = {e.action: e for e in (DomainEvent.from_mapping(json.loads(json.loads(b)["Message"]))
                                    for b in bodies(fan, "SYNC_QUEUE"))}
    with pytest.raises(sync.NotYetSynced):
        sync.handle_event(events["accept"])  # the verify is not on LAPOR! yet: this one comes back
    assert ours(fan) == []
    assert sync.handle_event(events["verify"]) == "followup"
    assert sync.handle_event(events["accept"]) == "followup"
    assert [b["status_code"] for b in ours(fan)] == ["disposed", "process"]
    assert lapor(fan, report(tid).sp4n.complaint_id)["status_code"] == "process"


def test_request_info_and_reject_reach_lapor(fan: Any, valid_report: dict[str, Any]) -> None:
    api = Api(fan.client)
    first = api.submit(valid_report)
    second = api.submit({**valid_report, "title": "Lampu jalan mati di Ngamprah"})
    fan.pump.drain(timeout=20)
    api.ok(first["tracking_id"], "admin", action="request_info", message="Mohon kirim foto lokasi.")
    api.ok(second["tracking_id"], "admin", action="reject", reason="duplikat", message="Laporan ganda.")
    api.ok(first["tracking_id"], "admin", action="reject", reason_code="bukan_wewenang", reason="Jalan nasional.",
           message="Jalan nasional: kewenangan Kementerian PU.")
    fan.pump.drain(timeout=20)
    sent = {(b["content"], b.get("status_code")) for b in ours(fan)}
    assert ("Mohon kirim foto lokasi.", "pending") in sent and ("Laporan ganda.", "archive") in sent
    rejected = [r for r in fan.standin.state.received("/reject") if r["status"] == 200]
    assert len(rejected) == 1  # not our authority: LAPOR!'s own reject, once
    assert lapor(fan, report(first["tracking_id"]).sp4n.complaint_id)["status_code"] == "rejected"


def test_attachments_go_clean_with_the_complaint_and_the_answer_never_for_rahasia(
        fan: Any, valid_report: dict[str, Any]) -> None:
    from tests.attachment_support import clean_attachment

    api = Api(fan.client)
    photo, answer = clean_attachment(), clean_attachment(pdf=True)
    created = api.submit({**valid_report, "attachments": [photo]})
    secret = api.submit({**valid_report, "privacy": "rahasia", "title": "Bantuan sosial tidak sampai",
                         "attachments": [clean_attachment()]})
    fan.pump.drain(timeout=30)
    uploads = [r for r in fan.standin.state.received("/complaints/complaint/file") if r["status"] == 201]
    assert len(uploads) == 1  # the rahasia report's file never leaves
    docs = {c["complaint_id"]: c["attachments"] for c in fan.standin.state.complaints()}
    cid, secret_cid = report(created["tracking_id"]).sp4n.complaint_id, report(secret["tracking_id"]).sp4n.complaint_id
    assert len(docs[int(cid)]) == 1 and docs[int(secret_cid)] == []
    assert uploads[0]["body"]["files"][0]["filename"] == "lampiran.png"  # no citizen's file name
    api.ok(created["tracking_id"], "admin", action="verify", opd_code="DPUPR")
    api.ok(created["tracking_id"], "opd", "DPUPR", action="respond", message="Sudah ditambal.", attachments=[answer])
    fan.pump.drain(timeout=30)
    answered = [b for b in ours(fan) if b["content"] == "Sudah ditambal."]
    assert len(answered) == 1 and len(answered[0]["attachments"]) == 1
    shown = lapor(fan, cid)["followups"][-1]
    assert shown["attachments"] == answered[0]["attachments"]


# -- 2. pull: LAPOR!'s reporter and admins move our workflow ---------------------------------

def test_reporter_on_lapor_replies_and_rates_through_our_workflow_once(
        fan: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.data.models import PerformanceFact

    api = Api(fan.client)
    tid, cid = imported_report(fan, capsys, monkeypatch)
    assert report(tid).status == "diajukan" and report(tid).sp4n_watch == "open"
    api.ok(tid, "admin", action="request_info", message="Mohon sebutkan nama desa dan RT.")
    fan.pump.drain(timeout=20)
    assert lapor(fan, cid)["status_code"] == "pending"
    sim("reply", cid, "--text", "Desa Citatah RT 03.")
    before = len(ours(fan))
    assert pull(monkeypatch)["events"] == 1
    assert pull(monkeypatch)["events"] == 0  # applied once
    r = report(tid)
    assert r.status == "diajukan"  # back to verification, as a web reply does
    reply = [e for e in events_of(tid) if e.action == "reply"]
    assert len(reply) == 1 and reply[0].actor == "pelapor" and reply[0].public
    assert reply[0].message == "Desa Citatah RT 03." and reply[0].data["origin"] == "sp4n"
    # Nothing of theirs is echoed back to LAPOR!.
    fan.pump.drain(timeout=20)
    assert len(ours(fan)) == before

    api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    api.ok(tid, "opd", "DPUPR", action="respond", message="Jalan sudah diperbaiki.")
    fan.pump.drain(timeout=20)
    sim("rate", cid, "--rating", "4", "--resolved")
    pull(monkeypatch)
    pull(monkeypatch)
    r = report(tid)
    feedback = [e for e in events_of(tid) if e.action == "feedback"]
    assert r.status == "selesai" and int(r.rating) == 4
    assert len(feedback) == 1 and feedback[0].data["resolved"] is True and feedback[0].actor == "pelapor"
    assert not [e for e in events_of(tid) if e.action == "sp4n_conflict"]
    fan.pump.drain(timeout=20)  # the performance consumer folds the feedback into the scoreboard
    facts = [f for f in PerformanceFact.scan() if f.tracking_id == tid]
    assert len(facts) == 1 and facts[0].fact["rating"] == 4
    assert report(tid).sp4n_watch is None  # closed: no longer polled


def test_reporter_not_satisfied_on_lapor_reopens_ours(
        fan: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    api = Api(fan.client)
    tid, cid = imported_report(fan, capsys, monkeypatch)
    api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    api.ok(tid, "opd", "DPUPR", action="respond", message="Sudah ditinjau.")
    fan.pump.drain(timeout=20)
    sim("rate", cid, "--rating", "2")
    pull(monkeypatch)
    assert report(tid).status == "diproses"  # feedback "not resolved": back to the same OPD
    # A reply while the OPD works is not a move of ours: kept for staff, not lost, not applied.
    sim("reply", cid, "--text", "Masih rusak di depan sekolah.")
    pull(monkeypatch)
    kept = [e for e in events_of(tid) if e.action == "sp4n_followup"]
    assert report(tid).status == "diproses" and len(kept) == 1 and not kept[0].public
    assert "Masih rusak" in kept[0].message and kept[0].data["not_applied"] == "reply"


def test_lapor_admin_status_applied_where_allowed_else_a_conflict_to_settle(
        fan: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    api = Api(fan.client)
    archived, archived_cid = imported_report(fan, capsys, monkeypatch, "Laporan ganda soal jalan")
    sim("set-status", archived_cid, "archive")
    pull(monkeypatch)
    r = report(archived)
    moves = [e for e in events_of(archived) if e.action == "sp4n_archive"]
    assert r.status == "ditolak" and len(moves) == 1 and moves[0].role == "sp4n" and moves[0].public
    assert moves[0].actor == "sistem"  # the contract's timeline actors; the role says who

    tid, cid = imported_report(fan, capsys, monkeypatch, "Drainase tersumbat di Batujajar")
    api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    api.ok(tid, "opd", "DPUPR", action="accept")
    fan.pump.drain(timeout=20)
    sim("set-status", cid, "archive")  # LAPOR!'s admin archives it while our OPD is at work
    pull(monkeypatch)
    pull(monkeypatch)
    r = report(tid)
    assert r.status == "diproses" and r.sp4n.problem and r.sp4n_watch == "problem"
    assert len([e for e in events_of(tid) if e.action == "sp4n_conflict"]) == 1
    listed = fan.client.http.get("/staff/sync/problems", headers=bearer("admin"))
    assert listed.status_code == 200
    assert [(i["tracking_id"], i["kind"]) for i in listed.json_body["items"]] == [(tid, "diverged")]
    assert fan.client.http.get("/staff/sync/problems", headers=bearer("opd", "DPUPR")).status_code == 403
    # Our admin has it reopened on LAPOR! (settled on their side); the retry finds both agreeing.
    sim("set-status", cid, "process")
    retried = fan.client.http.post(f"/staff/sync/{tid}/retry", headers=bearer("admin"))
    assert retried.status_code == 200 and retried.json_body["problem"] is None
    assert report(tid).sp4n.problem is None and report(tid).sp4n_watch == "open"
    assert fan.client.http.get("/staff/sync/problems", headers=bearer("admin")).json_body["items"] == []


# -- 3. per-complaint polling, bounded -------------------------------------------------------

def test_poll_reads_only_open_synced_oldest_checked_first_within_its_budget(
        fan: Any, valid_report: dict[str, Any], aws_calls: Any) -> None:
    from chalicelib.domain import clock
    from chalicelib.services import sync

    api = Api(fan.client)
    tids = [api.submit({**valid_report, "title": f"Jembatan retak nomor {i} di Rongga"})["tracking_id"]
            for i in range(5)]
    fan.pump.drain(timeout=30)
    api.ok(tids[4], "admin", action="close", message="Ditutup.")
    fan.pump.drain(timeout=20)

    def polled() -> list[str]:
        return [r["path"].split("/")[2] for r in fan.standin.state.received("/complaint")
                if r["method"] == "GET" and r["path"].endswith("/complaint")]

    aws_calls.clear()
    now = clock.now()
    first = sync.poll(now, budget=2)
    second = sync.poll(now + timedelta(minutes=1), budget=2)
    third = sync.poll(now + timedelta(minutes=2), budget=2)
    assert (first["polled"], second["polled"], third["polled"]) == (2, 2, 2)
    ids = [report(t).sp4n.complaint_id for t in tids]
    seen = polled()
    assert set(seen[:4]) == set(ids[:4]) and ids[4] not in seen  # every open one, never the closed one
    assert seen[4] in seen[:2]  # then round again, least recently checked first
    assert aws_calls["Scan"] == 0


def test_lapor_down_during_a_poll_keeps_the_order_for_the_next_run(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.domain import clock
    from chalicelib.local.sp4n_standin import Fault
    from chalicelib.services import sync

    api = Api(fan.client)
    for i in range(3):
        api.submit({**valid_report, "title": f"Pipa bocor nomor {i} di Cililin"})
    fan.pump.drain(timeout=30)
    fan.standin.state.set_fault(Fault(mode="5xx"))
    down = sync.poll(clock.now(), budget=10)
    fan.standin.state.set_fault(Fault())
    assert down["polled"] == 0 and len(down["failed"]) == 1  # stopped at the first: not hammered
    assert sync.poll(clock.now(), budget=10)["polled"] == 3


# -- 5. reconciliation, the problems list, the CLI ---------------------------------------------

def test_reconciliation_repushes_a_step_that_never_reached_lapor_once(
        fan: Any, valid_report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli
    from chalicelib.domain import clock
    from chalicelib.services import sync_reconcile

    api = Api(fan.client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    fan.pump.drain(timeout=20)
    api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    fan.pump.pump_stream()
    fan.pump.drain(timeout=5)
    # The verify's sync message is lost (say, aged out of the DLQ): purge what the sync queue holds.
    before = len(ours(fan))
    api.ok(tid, "opd", "DPUPR", action="accept")
    fan.pump.pump_stream()
    fan.sqs.purge_queue(QueueUrl=fan.env["SYNC_QUEUE_URL"])
    fan.pump.drain(timeout=10)
    assert len(ours(fan)) == before  # the accept never reached LAPOR!
    too_soon = sync_reconcile.reconcile_one(tid)
    assert too_soon["repushed"] == 0  # still within the grace of the queue's own retries
    later = clock.now() + timedelta(hours=1)
    result = sync_reconcile.run(later)
    assert result["repushed"] == 1 and result["problems"] == 0
    assert sync_reconcile.run(later)["repushed"] == 0
    assert [b["status_code"] for b in ours(fan)][-1] == "process" and len(ours(fan)) == before + 1
    capsys.readouterr()
    assert cli.main(["sp4n-problems"]) == 0
    assert "No failed or diverged" in capsys.readouterr().out


def test_failed_sync_listed_and_retried_from_the_cli(fan: Any, valid_report: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli
    from chalicelib.adapters import sp4n

    api = Api(fan.client)
    tid = api.submit(valid_report)["tracking_id"]

    def refuse(self: Any, payload: Any) -> str:
        raise sp4n.Sp4nRejected("create_complaint: SP4N-LAPOR! answered HTTP 422", status=422)

    with monkeypatch.context() as m:
        m.setattr(sp4n.Sp4nClient, "create_complaint", refuse)
        fan.pump.drain(timeout=20)
    assert report(tid).sp4n.state == "failed" and report(tid).sp4n_watch == "problem"
    capsys.readouterr()
    assert cli.main(["sp4n-problems", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(i["tracking_id"], i["kind"]) for i in listed] == [(tid, "failed")]
    assert "422" in listed[0]["sp4n"]["last_error"]
    assert cli.main(["sp4n-problems", "--retry", tid]) == 0  # the cause is gone: sent now
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["repushed"] == 1 and outcome["problem"] is None
    assert report(tid).sp4n.state == "synced" and len(creates(fan.standin)) == 1
    assert cli.main(["sp4n-problems", "--retry", tid]) == 0
    assert json.loads(capsys.readouterr().out)["repushed"] == 0 and len(creates(fan.standin)) == 1


def test_sim_show_prints_the_standins_record(fan: Any, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    sim("new-complaint", "--title", "Pohon tumbang di Lembang", "--text", "Menutup jalan.")
    cid = capsys.readouterr().out.strip()
    sim("reply", cid, "--text", "Masih menutup jalan.")
    sim("rate", cid, "--rating", "5", "--resolved")
    capsys.readouterr()
    sim("show", cid)
    shown = json.loads(capsys.readouterr().out)
    assert shown["status_code"] == "done" and shown["followups"][0]["author"] == "reporter"
    assert shown["ratings"][0]["rating"] == 5 and shown["attachments"] == []
