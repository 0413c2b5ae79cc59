"""The workflow over the API (chalice test client, moto): every path of CONTRACT.md's table, the
reporter's and the system's moves, the fields each move maintains, and optimistic concurrency."""
from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from chalicelib.data.models import Report, ReportEvent
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

OPEN = ["diajukan", "perlu_kelengkapan", "didisposisikan", "diproses", "dikembalikan", "ditindaklanjuti"]
# CONTRACT.md's table, written out independently of chalicelib.domain.workflow:
# (action, who, fields, from, to)
TABLE: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("verify", "admin", {"opd_code": "DPUPR"}, "diajukan", "didisposisikan"),
    ("request_info", "admin", {"message": "Mohon foto."}, "diajukan", "perlu_kelengkapan"),
    ("reject", "admin", {"reason": "spam", "message": "Bukan pengaduan."}, "diajukan", "ditolak"),
    ("reject", "admin", {"reason": "spam", "message": "Bukan pengaduan."}, "perlu_kelengkapan", "ditolak"),
    ("redispose", "admin", {"opd_code": "DISHUB", "note": "salah OPD"}, "didisposisikan", "didisposisikan"),
    ("redispose", "admin", {"opd_code": "DISHUB", "note": "salah OPD"}, "diproses", "didisposisikan"),
    ("redispose", "admin", {"opd_code": "DISHUB", "note": "salah OPD"}, "dikembalikan", "didisposisikan"),
    ("accept", "opd", {}, "didisposisikan", "diproses"),
    ("respond", "opd", {"message": "Sudah ditangani."}, "didisposisikan", "ditindaklanjuti"),
    ("respond", "opd", {"message": "Sudah ditangani."}, "diproses", "ditindaklanjuti"),
    ("return", "opd", {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang."}, "didisposisikan", "dikembalikan"),
    ("return", "opd", {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang."}, "diproses", "dikembalikan"),
    *[("close", "admin", {"message": "Ditutup."}, s, "selesai") for s in OPEN],
    *[("note", "admin", {"message": "catatan"}, s, s) for s in [*OPEN, "ditolak", "selesai"]],
    *[("note", "opd", {"message": "catatan"}, s, s) for s in ["didisposisikan", "diproses", "ditindaklanjuti"]],
]


def _id(row: tuple[str, str, dict[str, Any], str, str]) -> str:
    return f"{row[0]}-{row[1]}-{row[3]}"


@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_every_row_of_the_table(client: Any, valid_report: dict[str, Any], row: tuple[Any, ...]) -> None:
    action, who, fields, source, target = row
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    before = api.walk(created, source) or api.get(tid, "admin").json_body
    holder = "DPUPR" if who == "opd" else None
    view = api.ok(tid, who, holder, action=action, **fields)
    assert view["status"] == target
    assert view["version"] == before["version"] + 1
    last = view["audit_trail"][-1]
    assert (last["action"], last["from_status"], last["to_status"], last["role"]) == (action, source, target, who)
    assert last["actor_id"] == f"local-{who}{'-dpupr' if holder else ''}"
    timeline = api.reporter(created)["timeline"]
    if action == "note":
        assert timeline == before["timeline"]  # internal: the reporter sees nothing
        assert view["notes"][-1]["message"] == "catatan"
    else:
        assert timeline[-1]["status"] == target and len(timeline) == len(before["timeline"]) + 1
        assert timeline[-1]["actor"] == who
    for secret in ("spam", "salah OPD", "Bukan wewenang."):  # internal texts never reach the reporter
        assert secret not in json.dumps(timeline)


def test_verify_accept_respond_feedback_resolved(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    v = api.ok(tid, "admin", action="verify", opd_code="DPUPR", classification="tidak_berkadar_pengawasan",
               category="drainase", note="cek lokasi dulu")
    assert (v["status"], v["opd_code"], v["classification"], v["category"]) == (
        "didisposisikan", "DPUPR", "tidak_berkadar_pengawasan", "drainase")
    assert v["disposed_at"] and v["sla"]["stage"] == "respon_opd" and v["sla"]["due_at"]
    assert v["notes"] == [{**v["notes"][0], "kind": "note", "message": "cek lokasi dulu"}]
    v = api.ok(tid, "opd", "DPUPR", action="accept")
    assert v["status"] == "diproses" and v["sla"]["stage"] == "tindak_lanjut" and v["first_response_at"] is None
    from chalicelib.data.models import Attachment

    Attachment("att_" + "a" * 32, state="clean", content_type="image/jpeg", size=1000,
               created_at="2026-01-05T01:00:00+00:00").save()
    Attachment("att_" + "b" * 32, state="pending", content_type="image/jpeg", size=1000,
               created_at="2026-01-05T01:00:00+00:00").save()
    unchecked = api.act(tid, "opd", "DPUPR", action="respond", message="x", attachments=["att_" + "b" * 32])
    assert unchecked.status_code == 400  # only files checked clean may be attached
    v = api.ok(tid, "opd", "DPUPR", action="respond", message="Lubang sudah ditambal.",
               attachments=["att_" + "a" * 32])
    assert v["status"] == "ditindaklanjuti" and v["first_response_at"] and v["sla"]["stage"] == "konfirmasi"
    assert v["audit_trail"][-1]["data"]["attachments"] == ["att_" + "a" * 32]
    r = api.feedback(created, resolved=True, rating=4, comment="Terima kasih, sudah rapi.")
    assert r.status_code == 200, r.body
    mine = r.json_body
    assert mine["status"] == "selesai"
    assert [(t["status"], t["actor"]) for t in mine["timeline"]] == [
        ("diajukan", "pelapor"), ("didisposisikan", "admin"), ("diproses", "opd"), ("ditindaklanjuti", "opd"),
        ("selesai", "pelapor")]
    assert mine["timeline"][3]["message"] == "Lubang sudah ditambal."
    assert mine["timeline"][4]["message"] == "Terima kasih, sudah rapi."
    assert "cek lokasi" not in json.dumps(mine) and "local-admin" not in json.dumps(mine)
    item = Report.get(tid)
    assert item.rating == 4 and item.sla_stage is None and item.sweep_at is None
    assert item.status_created == f"selesai#{item.created_at}" and item.version == 5 and item.event_seq == 5


def test_request_info_reply_then_verify(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    v = api.ok(tid, "admin", action="request_info", message="Mohon kirim foto lokasi.")
    assert v["status"] == "perlu_kelengkapan" and v["sla"]["stage"] == "kelengkapan"
    r = api.reply(created, "Foto sudah saya kirim lewat lampiran.")
    assert r.status_code == 200 and r.json_body["status"] == "diajukan"
    assert r.json_body["timeline"][-1] == {**r.json_body["timeline"][-1], "actor": "pelapor",
                                           "message": "Foto sudah saya kirim lewat lampiran."}
    assert api.get(tid, "admin").json_body["sla"]["stage"] == "verifikasi"
    v = api.ok(tid, "admin", action="verify", opd_code="DPUPR")
    assert v["status"] == "didisposisikan"


def test_return_then_redispose_keeps_the_record_and_starts_a_new_clock(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "diproses", opd="DINSOS")
    v = api.ok(tid, "opd", "DINSOS", action="return", reason_code="bukan_wewenang", reason="Jalan kabupaten: DPUPR.")
    assert v["status"] == "dikembalikan" and v["opd_code"] is None and v["returned_by"] == ["DINSOS"]
    assert v["audit_trail"][-1]["data"] == {"actor_opd": "DINSOS", "opd_code": "DINSOS", "reason_code": "bukan_wewenang",
                                           "reason": "Jalan kabupaten: DPUPR."}
    # handed back: no longer DINSOS's report
    assert api.get(tid, "opd", "DINSOS").status_code == 404
    assert api.get(tid, "admin").json_body["suggested_opd"] == "DPUPR"  # the category's OPD
    first = Report.get(tid).disposed_at
    v = api.ok(tid, "admin", action="redispose", opd_code="DPUPR", note="ke DPUPR")
    assert v["status"] == "didisposisikan" and v["opd_code"] == "DPUPR" and v["returned_by"] == ["DINSOS"]
    assert v["disposed_at"] and Report.get(tid).disposed_at > first and v["sla"]["stage"] == "respon_opd"
    assert api.get(tid, "opd", "DPUPR").status_code == 200
    assert api.get(tid, "opd", "DINSOS").status_code == 404
    # redispose while held by an OPD moves it and restarts that clock too
    v = api.ok(tid, "admin", action="redispose", opd_code="DISHUB", note="ternyata DISHUB")
    assert v["opd_code"] == "DISHUB" and v["returned_by"] == ["DINSOS"]
    assert api.act(tid, "admin", action="redispose", opd_code="DISHUB", note="lagi").status_code == 400


@pytest.mark.parametrize("how", ["reply", "feedback_not_resolved"])
def test_reopen_goes_back_to_the_same_opd(client: Any, valid_report: dict[str, Any], how: str) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "ditindaklanjuti", opd="DPUPR")
    responded = Report.get(tid).first_response_at
    r = (api.reply(created, "Belum beres, lubangnya muncul lagi.") if how == "reply"
         else api.feedback(created, resolved=False, rating=2, comment="Belum beres."))
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "diproses" and r.json_body["opd"]["code"] == "DPUPR"
    v = api.get(tid, "opd", "DPUPR").json_body
    assert v["status"] == "diproses" and v["sla"]["stage"] == "tindak_lanjut"
    assert Report.get(tid).first_response_at == responded  # the first answer stays the first
    v = api.ok(tid, "opd", "DPUPR", action="respond", message="Sudah ditambal ulang.")
    assert v["status"] == "ditindaklanjuti"


@pytest.mark.parametrize("status,action,who,fields", [
    ("didisposisikan", "verify", "admin", {"opd_code": "DPUPR"}),
    ("ditolak", "request_info", "admin", {"message": "x"}),
    ("didisposisikan", "reject", "admin", {"reason": "r", "message": "m"}),
    ("diajukan", "redispose", "admin", {"opd_code": "DISHUB", "note": "n"}),
    ("ditindaklanjuti", "redispose", "admin", {"opd_code": "DISHUB", "note": "n"}),
    ("diproses", "accept", "opd", {}),
    ("ditindaklanjuti", "respond", "opd", {"message": "m"}),
    ("ditindaklanjuti", "return", "opd", {"reason_code": "lainnya", "reason": "r"}),
    ("selesai", "close", "admin", {"message": "m"}),
    ("ditolak", "close", "admin", {"message": "m"}),
])
def test_actions_outside_their_statuses_are_409(client: Any, valid_report: dict[str, Any], status: str, action: str,
                                                who: str, fields: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    api.walk(created, status)
    r = api.act(created["tracking_id"], who, "DPUPR" if who == "opd" else None, action=action, **fields)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition", r.body


@pytest.mark.parametrize("status,call", [
    ("diajukan", "reply"), ("didisposisikan", "reply"), ("selesai", "reply"),
    ("diproses", "feedback"), ("perlu_kelengkapan", "feedback"), ("selesai", "feedback"),
])
def test_reporter_moves_outside_their_statuses_are_409(client: Any, valid_report: dict[str, Any], status: str,
                                                       call: str) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    api.walk(created, status)
    r = api.reply(created, "halo") if call == "reply" else api.feedback(created, resolved=True)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition"


def test_reporter_moves_need_the_token(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    api.walk(created, "ditindaklanjuti")
    for bad in ({**created, "access_token": "x" * 32}, {**created, "tracking_id": "KBB-0000-0000"}):
        assert api.reply(bad, "halo").status_code == 404
        assert api.feedback(bad, resolved=True).status_code == 404
    for body in ({}, {"resolved": "yes"}, {"resolved": True, "rating": 6}, {"resolved": True, "rating": "5"},
                 {"resolved": True, "status": "selesai"}):
        r = client.http.post(f"/reports/{created['tracking_id']}/feedback", body=json.dumps(body),
                             headers={"Content-Type": "application/json", "X-Access-Token": created["access_token"]})
        assert r.status_code == 400, body
    assert api.get(created["tracking_id"], "admin").json_body["status"] == "ditindaklanjuti"


@pytest.mark.parametrize("body,field", [
    ({"action": "verify"}, "opd_code"),
    ({"action": "verify", "opd_code": "NOPE"}, "opd_code"),
    ({"action": "verify", "opd_code": "DPUPR", "category": "nope"}, "category"),
    ({"action": "verify", "opd_code": "DPUPR", "classification": "rahasia_negara"}, "classification"),
    ({"action": "verify", "opd_code": "DPUPR", "message": "x"}, "message"),
    ({"action": "verify", "opd_code": "DPUPR", "status": "selesai"}, "status"),
    ({"action": "request_info", "message": "   "}, "message"),
    ({"action": "reject", "message": "m"}, "reason"),
    ({"action": "fly"}, "action"),
    ({"opd_code": "DPUPR"}, "action"),
])
def test_bad_action_bodies_are_400_and_change_nothing(client: Any, valid_report: dict[str, Any], body: dict[str, Any],
                                                      field: str) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    r = client.http.post(f"/staff/reports/{tid}/actions", body=json.dumps(body),
                         headers={"Content-Type": "application/json", **bearer("admin")})
    assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error", r.body
    assert field in [d["field"] for d in r.json_body["error"]["details"]]
    assert Report.get(tid).version == 1


def test_classification_only_for_pengaduan(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit({**valid_report, "type": "aspirasi"})["tracking_id"]
    r = api.act(tid, "admin", action="verify", opd_code="DPUPR", classification="berkadar_pengawasan")
    assert r.status_code == 400
    tid = api.submit(valid_report)["tracking_id"]
    v = api.ok(tid, "admin", action="verify", opd_code="INSPEKTORAT", classification="berkadar_pengawasan")
    assert v["classification"] == "berkadar_pengawasan"


def test_if_match(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    stale = api.act(tid, "admin", if_match=7, action="verify", opd_code="DPUPR")
    assert stale.status_code == 409 and stale.json_body["error"]["code"] == "version_conflict"
    bad = api.act(tid, "admin", if_match="abc", action="verify", opd_code="DPUPR")
    assert bad.status_code == 400
    ok = api.act(tid, "admin", if_match='"1"', action="verify", opd_code="DPUPR")
    assert ok.status_code == 200 and ok.json_body["version"] == 2 and ok.headers["ETag"] == '"2"'
    again = api.act(tid, "opd", "DPUPR", if_match=1, action="accept")
    assert again.status_code == 409 and again.json_body["error"]["code"] == "version_conflict"
    assert api.act(tid, "opd", "DPUPR", if_match=2, action="accept").status_code == 200


@pytest.mark.parametrize("if_match", [False, True])
def test_two_concurrent_responds_one_wins(app: Any, client: Any, valid_report: dict[str, Any], if_match: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Officer A reads the report; before A writes, officer B reads the same version and writes.

    The interleaving is forced, not left to threads: Chalice keeps `current_request` on the app
    object, so two threads through one test Client read each other's requests (a Lambda
    invocation is single-threaded; the race that matters is between invocations). B's request is
    sent from inside A's save, after A's read. Both carry the condition `version = <the version
    both read>`: only one can hold.
    """
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    view = api.walk(created, "diproses")
    from chalicelib.data import reports

    real_save = reports.save_change
    expected_versions: list[int] = []
    second: list[Any] = []

    def respond(text: str) -> Any:
        return api.act(tid, "opd", "DPUPR", if_match=view["version"] if if_match else None,
                       action="respond", message=text)

    def save_after_both_read(report: Any, expected: int, events: Any, *claims: Any) -> None:
        expected_versions.append(expected)
        if len(expected_versions) == 1:  # A's save; B's own save must not start a third
            # B reads, writes and answers while A waits. B runs on a thread of its own only for a
            # fresh stack (nested in A's it overflows Python's recursion limit); A is blocked
            # meanwhile, so the two never run at once.
            outer = app.current_request
            b = threading.Thread(target=lambda: second.append(respond("Jawaban petugas B.")))
            b.start()
            b.join(60)
            app.current_request = outer
        real_save(report, expected, events, *claims)

    monkeypatch.setattr(reports, "save_change", save_after_both_read)
    first = respond("Jawaban petugas A.")
    assert [first.status_code, second[0].status_code] == [409, 200], [first.body, second[0].body]
    assert expected_versions[:2] == [view["version"]] * 2  # both read the same version
    assert first.json_body["error"]["code"] == "version_conflict"
    events = list(ReportEvent.query(tid))
    assert [e.action for e in events].count("respond") == 1
    assert [e.message for e in events if e.action == "respond"] == ["Jawaban petugas B."]
    item = Report.get(tid)
    assert item.version == view["version"] + 1 and item.event_seq == len(events)


def test_events_are_appended_never_rewritten(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "ditindaklanjuti")
    before = {e.seq: e.serialize() for e in ReportEvent.query(tid)}
    api.ok(tid, "admin", action="note", message="diperiksa")
    api.feedback(created, resolved=True)
    after = {e.seq: e.serialize() for e in ReportEvent.query(tid)}
    assert {k: after[k] for k in before} == before and sorted(after) == list(range(1, len(before) + 3))
    # a write that reuses a taken seq is refused by the store itself
    from chalicelib.data import reports

    report = Report.get(tid)
    dup = ReportEvent(tid, 2, at="2026-01-01T00:00:00+00:00", actor="admin", action="note", public=False)
    with pytest.raises(reports.Conflict):
        reports.save_change(report, int(report.version), [dup])


def test_system_moves(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.services import workflow

    api = Api(client)
    answered = api.submit(valid_report)
    api.walk(answered, "ditindaklanjuti")
    report = workflow.apply_system(answered["tracking_id"], "auto_close", data={"stage": "konfirmasi"})
    assert report is not None and report.status == "selesai" and report.sla_stage is None
    last = list(ReportEvent.query(answered["tracking_id"]))[-1]
    assert (last.actor, last.action, last.public, last.data["stage"]) == ("sistem", "auto_close", True, "konfirmasi")
    assert api.reporter(answered)["timeline"][-1]["actor"] == "sistem"
    # a move that no longer applies is a no-op, never a fight with a human
    assert workflow.apply_system(answered["tracking_id"], "auto_close") is None
    waiting = api.submit(valid_report)
    api.walk(waiting, "perlu_kelengkapan")
    report = workflow.apply_system(waiting["tracking_id"], "archive")
    assert report is not None and report.status == "ditolak"
    assert workflow.apply_system("KBB-0000-0000", "archive") is None
    with pytest.raises(ValueError):
        workflow.apply_system(waiting["tracking_id"], "close")


def _interleave(monkeypatch: pytest.MonkeyPatch, write: Any) -> None:
    """Run `write()` (another writer) just before the first conditional write of the move."""
    from chalicelib.data import reports

    real = reports.save_change
    pending = [write]

    def save(report: Any, expected: int, events: Any, *claims: Any) -> None:
        if pending:
            pending.pop()()
        real(report, expected, events, *claims)

    monkeypatch.setattr(reports, "save_change", save)


def _bookkeeping(tid: str) -> None:
    """What the SP4N-LAPOR! sync does: an internal `sistem` event with a version bump."""
    from chalicelib.data import reports

    report = Report.get(tid)
    expected = int(report.version)
    report.version, report.event_seq = expected + 1, int(report.event_seq) + 1
    event = ReportEvent(tid, int(report.event_seq), at="2026-01-05T01:00:00.000000+00:00", actor="sistem",
                        role="sistem", action="sp4n_synced", from_status=report.status, to_status=report.status,
                        public=False, data={"complaint_id": "1234567"})
    reports.save_change(report, expected, [event])


def test_system_bookkeeping_in_between_does_not_refuse_a_move(client: Any, valid_report: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    view = api.walk(created, "diproses")
    _interleave(monkeypatch, lambda: _bookkeeping(tid))
    done = api.ok(tid, "opd", "DPUPR", action="respond", message="Sudah.")
    assert done["status"] == "ditindaklanjuti" and done["version"] == view["version"] + 2
    assert [e["action"] for e in done["audit_trail"]][-2:] == ["sp4n_synced", "respond"]
    # with If-Match, bookkeeping in between (during the request, and before it) is forgiven too
    _interleave(monkeypatch, lambda: _bookkeeping(tid))
    noted = api.ok(tid, "admin", if_match=done["version"], action="note", message="cek")
    assert noted["version"] == done["version"] + 2
    _bookkeeping(tid)
    _bookkeeping(tid)
    again = api.ok(tid, "admin", if_match=noted["version"], action="note", message="cek lagi")
    assert again["version"] == noted["version"] + 3
    assert [e["action"] for e in again["audit_trail"]][-3:] == ["sp4n_synced", "sp4n_synced", "note"]


def test_if_match_still_refuses_what_the_client_has_not_seen(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.auth import Principal
    from chalicelib.services import workflow

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    view = api.walk(created, "diproses")
    # another officer's note (a human, even though internal) after the version the client saw
    workflow.act(tid, "note", Principal(sub="other-admin", role="admin"), {"message": "saya cek dulu"})
    _bookkeeping(tid)
    r = api.act(tid, "opd", "DPUPR", if_match=view["version"], action="respond", message="Sudah.")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "version_conflict"
    # a write that left no event (a deadline moved by a late holiday) cannot be shown harmless
    from chalicelib.data import reports

    report = Report.get(tid)
    expected = int(report.version)
    report.version = expected + 1
    reports.save_change(report, expected, [])
    r = api.act(tid, "opd", "DPUPR", if_match=expected, action="respond", message="Sudah.")
    assert r.status_code == 409
    # a version from the future, or none that exists, is stale too
    for bad in (expected + 5, 0):
        r = api.act(tid, "opd", "DPUPR", if_match=bad, action="respond", message="Sudah.")
        assert r.status_code in (400, 409)
    assert Report.get(tid).status == "diproses"


def test_a_human_change_in_between_refuses_a_staff_move(client: Any, valid_report: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.auth import Principal
    from chalicelib.services import workflow

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "diproses")
    admin = Principal(sub="other-admin", role="admin")
    _interleave(monkeypatch, lambda: workflow.act(tid, "note", admin, {"message": "saya cek dulu"}))
    r = api.act(tid, "opd", "DPUPR", action="respond", message="Sudah.")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "version_conflict"
    assert Report.get(tid).status == "diproses"


def test_reporter_move_survives_a_note_but_not_a_status_change(client: Any, valid_report: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.auth import Principal
    from chalicelib.services import workflow

    api = Api(client)
    admin = Principal(sub="a", role="admin")
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "ditindaklanjuti")
    _interleave(monkeypatch, lambda: workflow.act(tid, "note", admin, {"message": "pantau"}))
    r = api.reply(created, "Belum beres.")
    assert r.status_code == 200 and r.json_body["status"] == "diproses"

    other = api.submit(valid_report)
    api.walk(other, "ditindaklanjuti")
    _interleave(monkeypatch, lambda: workflow.act(other["tracking_id"], "close", admin, {"message": "Selesai."}))
    r = api.feedback(other, resolved=False)
    assert r.status_code == 409
    assert Report.get(other["tracking_id"]).status == "selesai"


@pytest.mark.parametrize("fields,field", [
    ({"reason": "Bukan wewenang."}, "reason_code"),
    ({"reason_code": "bukan_kami", "reason": "Bukan wewenang."}, "reason_code"),
    ({"reason_code": "bukan_wewenang"}, "reason"),
])
def test_return_needs_a_known_reason_code_and_changes_nothing_without(
        client: Any, valid_report: dict[str, Any], fields: dict[str, Any], field: str) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "diproses", opd="DINSOS")
    before = Report.get(tid).version
    r = api.act(tid, "opd", "DINSOS", action="return", **fields)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error", r.body
    assert field in [d["field"] for d in r.json_body["error"]["details"]]
    assert all(d["message"] and "must" not in d["message"] for d in r.json_body["error"]["details"])
    assert Report.get(tid).version == before and Report.get(tid).status == "diproses"


def test_return_reason_code_is_kept_for_staff_and_never_shown_to_the_reporter(
        client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "diproses", opd="DINSOS")
    v = api.ok(tid, "opd", "DINSOS", action="return", reason_code="kewenangan_pusat_provinsi",
               reason="Jalan provinsi, bukan jalan kabupaten.")
    assert v["audit_trail"][-1]["data"]["reason_code"] == "kewenangan_pusat_provinsi"
    assert any(n["kind"] == "reason_code" for n in v["notes"])
    mine = client.http.get(f"/reports/{tid}", headers={"X-Access-Token": created["access_token"]}).body.decode()
    assert "kewenangan_pusat_provinsi" not in mine and "Jalan provinsi" not in mine
