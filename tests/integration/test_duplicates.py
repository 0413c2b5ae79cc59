"""Duplicate suggestions and `merge` over the API (chalice test client, moto): what is suggested,
what a merge refuses, and what a merged duplicate does afterwards (its reporter's view, the SLA
sweep, the OPD's inbox, the scoreboard, SP4N-LAPOR!)."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.data.models import Report, ReportEvent
from tests.integration.test_fanout import followups, report
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

OTHER_TEXT = {"title": "Lampu PJU mati di alun-alun", "description": "Lampu penerangan jalan umum padam tiap malam."}
SAME_TEXT = {"title": "Lubang besar di jalan depan pasar Lembang",
             "description": "Ada lubang besar di depan pasar, sudah dua minggu, motor sering jatuh."}


def similar(api: Api, tid: str, role: str = "admin", opd: str | None = None) -> Any:
    return api.client.http.get(f"/staff/reports/{tid}/similar", headers=bearer(role, opd))


def merge(api: Api, tid: str, primary: Any, role: str = "admin") -> Any:
    body: dict[str, Any] = {"action": "merge"}
    if primary is not None:
        body["primary"] = primary
    return api.act(tid, role, **body)


def _events(tid: str) -> list[ReportEvent]:
    return list(ReportEvent.query(tid, consistent_read=True))


# -- suggestions --------------------------------------------------------------------------

def test_similar_lists_open_reports_of_the_same_place_and_problem_newest_first(
        client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    older = api.submit(valid_report)["tracking_id"]
    secret = api.submit({**valid_report, "privacy": "rahasia"})["tracking_id"]
    same_words = api.submit({**valid_report, **SAME_TEXT, "location": {**valid_report["location"]}})["tracking_id"]
    api.submit({**valid_report, **OTHER_TEXT})  # same place, another problem
    api.submit({**valid_report, "location": {"kecamatan": "Parongpong"}})  # another kecamatan
    api.submit({**valid_report, "category": "drainase"})  # another category
    far = {**valid_report["location"], "lat": valid_report["location"]["lat"] + 0.01}  # ~1.1 km away
    api.submit({**valid_report, "location": far})
    closed = api.submit(valid_report)
    api.walk(closed, "selesai")
    merged = api.submit(valid_report)["tracking_id"]
    assert merge(api, merged, older).status_code == 200
    new = api.submit(valid_report)["tracking_id"]

    r = similar(api, new)
    assert r.status_code == 200, r.body
    items = r.json_body["items"]
    assert [i["tracking_id"] for i in items] == [same_words, secret, older]  # newest first
    assert items[1]["score"] == 100.0 and 60 <= items[0]["score"] < 100
    first = items[2]
    assert set(first) >= {"tracking_id", "score", "title", "status", "kecamatan", "desa", "category", "submitted_at",
                          "distance_m"}
    assert (first["status"], first["kecamatan"], first["category"], first["distance_m"]) == (
        "diajukan", "lembang", "jalan_rusak", 0.0)
    # The report itself is never its own duplicate, and an unknown report is a 404.
    assert new not in {i["tracking_id"] for i in items}
    assert similar(api, "KBB-0000-0000").status_code == 404


def test_suggestions_read_one_query_of_the_index_never_a_scan(client: Any, valid_report: dict[str, Any],
                                                             aws_calls: Any) -> None:
    api = Api(client)
    for _ in range(3):
        api.submit(valid_report)
    new = api.submit(valid_report)["tracking_id"]
    aws_calls.clear()
    assert len(similar(api, new).json_body["items"]) == 3
    assert aws_calls["dynamodb.Scan"] == 0 and aws_calls["dynamodb.Query"] == 1, aws_calls


def test_backfill_indexes_open_reports_stored_before_the_key(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.data import reports

    api = Api(client)
    old = api.submit(valid_report)["tracking_id"]
    closed = api.submit(valid_report)
    api.walk(closed, "selesai")
    Report(old).update(actions=[Report.dupe_place.remove()])  # as stored before the index existed
    new = api.submit(valid_report)["tracking_id"]
    assert similar(api, new).json_body["items"] == []
    assert reports.backfill_dupe_place() == 1
    assert [i["tracking_id"] for i in similar(api, new).json_body["items"]] == [old]
    assert reports.backfill_dupe_place() == 0


# -- merge: what it does and what it refuses ------------------------------------------------

def test_merge_links_both_reports_with_an_audit_event_on_each(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    primary = api.submit(valid_report)["tracking_id"]
    dup = api.submit(valid_report)["tracking_id"]
    r = merge(api, dup, primary.lower().replace("-", ""))  # typed as people type it
    assert r.status_code == 200, r.body
    view = r.json_body
    assert (view["merged_into"], view["status"], view["actions"]) == (primary, "diajukan", ["note"])
    last = _events(dup)[-1]
    assert (last.action, last.public, last.role, last.data["primary"]) == ("merge", True, "admin", primary)
    assert "digabungkan" in last.message
    got = _events(primary)[-1]
    assert (got.action, got.public, got.data["duplicate"]) == ("merge_received", False, dup)
    assert api.get(primary, "admin").json_body["merged_ids"] == [dup]
    # Nothing but notes on a merged report: the primary is the one worked on.
    refused = api.act(dup, "admin", action="verify", opd_code="DPUPR")
    assert refused.status_code == 409 and "digabungkan" in refused.json_body["error"]["message"]
    assert api.act(dup, "admin", action="note", message="catatan").status_code == 200


@pytest.mark.parametrize("case", ["itself", "closed", "merged_primary", "already_merged", "is_primary",
                                  "unknown", "missing", "opd"])
def test_bad_merges_are_refused_and_change_nothing(client: Any, valid_report: dict[str, Any], case: str) -> None:
    api = Api(client)
    primary = api.submit(valid_report)["tracking_id"]
    dup = api.submit(valid_report)["tracking_id"]
    role, target, want = "admin", primary, 409
    if case == "itself":
        target = dup
    elif case == "closed":
        api.walk({"tracking_id": primary}, "selesai")
    elif case == "merged_primary":
        third = api.submit(valid_report)["tracking_id"]
        assert merge(api, primary, third).status_code == 200
    elif case == "already_merged":
        third = api.submit(valid_report)["tracking_id"]
        assert merge(api, dup, third).status_code == 200
    elif case == "is_primary":
        third = api.submit(valid_report)["tracking_id"]
        assert merge(api, third, dup).status_code == 200
    elif case == "unknown":
        target, want = "KBB-0000-0000", 400
    elif case == "missing":
        target, want = None, 400
    elif case == "opd":
        role, want = "opd", 403
    before = {t: (Report.get(t).version, Report.get(t).merged_into, Report.get(t).merged_ids) for t in (primary, dup)}
    r = merge(api, dup, target, role) if role == "admin" else api.act(dup, "opd", "DPUPR", action="merge",
                                                                       primary=target)
    if case == "opd":
        want = 404  # an OPD cannot see a report not forwarded to it: the same 404 as a missing one
    assert r.status_code == want, r.body
    error = r.json_body["error"]
    assert set(error) >= {"code", "message"} and error["code"] in (
        "invalid_transition", "validation_error", "not_found")
    if want == 409:
        assert "laporan" in error["message"]  # Indonesian, says why
    after = {t: (Report.get(t).version, Report.get(t).merged_into, Report.get(t).merged_ids) for t in (primary, dup)}
    assert after == before


# -- what follows a merge ------------------------------------------------------------------

@pytest.mark.parametrize("privacy", ["publik", "rahasia"])
def test_the_duplicates_reporter_follows_the_primary(client: Any, valid_report: dict[str, Any], privacy: str) -> None:
    api = Api(client)
    other_reporter = {"name": "Budi Santoso", "email": "budi@example.org", "phone": "0813-1111-2222"}
    primary = api.submit({**valid_report, "privacy": privacy, "reporter": other_reporter})
    dup = api.submit(valid_report)
    assert merge(api, dup["tracking_id"], primary["tracking_id"]).status_code == 200
    pid = primary["tracking_id"]
    api.ok(pid, "admin", action="verify", opd_code="DPUPR")
    api.ok(pid, "opd", "DPUPR", action="respond", message="Lubang sudah ditambal oleh tim DPUPR pada 5 Januari.")
    view = api.reporter(dup)
    assert view["status"] == "ditindaklanjuti" and view["merged"] is True
    assert view["opd"]["code"] == "DPUPR"
    steps = [t["message"] for t in view["timeline"]]
    assert "digabungkan" in steps[1]
    if privacy == "publik":
        assert steps[-1] == "Lubang sudah ditambal oleh tim DPUPR pada 5 Januari."
    else:
        assert steps[-1] == "Laporan telah ditindaklanjuti oleh instansi."
        assert "ditambal" not in json.dumps(view)
    body = json.dumps(view)
    assert pid not in body and "Budi" not in body and "budi@" not in body  # the other report stays its own
    # The primary's own reporter sees nothing of the merge: not merged, no word of the duplicate.
    primary_view = api.reporter(primary)
    assert primary_view["merged"] is False and dup["tracking_id"] not in json.dumps(primary_view)


def test_a_merged_duplicate_leaves_the_sla_sweep_the_opd_inbox_and_open_work(
        client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.domain import clock
    from chalicelib.services import open_work, sla_sweep

    api = Api(client)
    primary = api.submit(valid_report)["tracking_id"]
    dup = api.submit(valid_report)
    api.walk(dup, "didisposisikan")
    tid = dup["tracking_id"]
    assert Report.get(tid).sweep_at is not None
    assert tid in {i["tracking_id"] for i in api.list("opd", "DPUPR").json_body["items"]}
    open_before = open_work.counts()
    assert merge(api, tid, primary).status_code == 200
    stored = Report.get(tid)
    assert (stored.sweep_at, stored.sweep_shard, stored.due_at, stored.opd_code) == (None, None, None, None)
    seq = stored.event_seq
    result = sla_sweep.sweep(clock.now() + timedelta(days=60))  # long past every deadline
    assert tid not in {d.tracking_id for d in result.done} and Report.get(tid).event_seq == seq
    assert primary in {d.tracking_id for d in result.done}  # the primary's clock is the one that runs
    assert tid not in {i["tracking_id"] for i in api.list("opd", "DPUPR").json_body["items"]}
    assert api.get(tid, "opd", "DPUPR").status_code == 404  # not the OPD's work any more
    assert open_work.counts()["didisposisikan"] == open_before["didisposisikan"] - 1


def test_the_scoreboard_counts_a_merged_case_once_on_the_primary(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.domain import clock
    from chalicelib.services import performance

    api = Api(client)
    primary = api.submit(valid_report)
    dup = api.submit(valid_report)
    for created in (primary, dup):
        api.walk(created, "didisposisikan")
        performance.refresh(created["tracking_id"])
    period = clock.month_wib(clock.now())

    def dpupr(figure: str = "received") -> tuple[int, list[str]]:
        performance.clear_cache()
        row = next(i for i in performance.board_json(period)["items"] if i["opd_code"] == "DPUPR")
        drill = performance.drilldown(period, "DPUPR", figure)
        return row[figure], sorted(i["tracking_id"] for i in drill["items"])

    assert dpupr() == (2, sorted([primary["tracking_id"], dup["tracking_id"]]))
    assert merge(api, dup["tracking_id"], primary["tracking_id"]).status_code == 200
    performance.handle_event(type("E", (), {"tracking_id": dup["tracking_id"], "action": "merge", "seq": 99})())
    assert dpupr() == (1, [primary["tracking_id"]])
    assert dpupr("pending") == (1, [primary["tracking_id"]])


def test_lapor_complaint_of_a_duplicate_receives_the_primarys_answers(fan: Any, valid_report: dict[str, Any]) -> None:
    api = Api(fan.client)
    primary = api.submit({**valid_report, "reporter": {"name": "Budi Santoso", "phone": "0813-1111-2222"}})
    dup = api.submit(valid_report)
    fan.pump.drain(timeout=20)
    pid, did = primary["tracking_id"], dup["tracking_id"]
    dup_complaint = report(did).sp4n.complaint_id
    assert dup_complaint and report(pid).sp4n.complaint_id != dup_complaint
    assert merge(api, did, pid).status_code == 200
    api.ok(pid, "admin", action="verify", opd_code="DPUPR")
    api.ok(pid, "opd", "DPUPR", action="respond", message="Lubang sudah ditambal, terima kasih Budi Santoso.")
    fan.pump.drain(timeout=20)
    api.ok(pid, "admin", action="close", message="Ditutup setelah diperiksa.")
    fan.pump.drain(timeout=20)
    fan.pump.drain(timeout=20)
    on_dup = [(f["body"]["content"], f["body"].get("status_code")) for f in followups(fan.standin)
              if str(f["body"].get("complaint_id")) == str(dup_complaint)]
    assert len(on_dup) == 3, on_dup  # the merge itself, the answer, the close: each once
    assert "digabungkan" in on_dup[0][0]
    assert on_dup[1][1] == "done" and "ditambal" in on_dup[1][0] and "Budi" not in on_dup[1][0]
    assert on_dup[2] == ("Ditutup setelah diperiksa.", "done")
    mirrored = [e for e in _events(did) if e.action == "sp4n_mirrored"]
    assert [e.data["primary"] for e in mirrored] == [pid, pid]
    assert report(did).sp4n_watch is None  # not reconciled on its own: it follows the primary


def test_merge_from_a_page_behind_only_the_systems_bookkeeping_goes_through(
        client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.services import sync

    api = Api(client)
    primary = api.submit(valid_report)["tracking_id"]
    dup = api.submit(valid_report)["tracking_id"]
    # The SP4N-LAPOR! sync records the submission a moment after the page was read (version 1).
    sync.change_report(dup, lambda r: [sync._event(r, "sp4n_synced", {"origin": "sync", "for_seq": 1})])
    assert api.act(dup, "admin", if_match=1, action="merge", primary=primary).status_code == 200
    # A person's change in between is a conflict, and nothing is merged.
    other = api.submit(valid_report)["tracking_id"]
    api.ok(other, "admin", action="note", message="dicek")
    r = api.act(other, "admin", if_match=1, action="merge", primary=primary)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "version_conflict"
    assert Report.get(other).merged_into is None and Report.get(primary).merged_ids == [dup]
