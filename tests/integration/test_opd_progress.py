"""The OPD's progress updates and its own requests for information: the workflow, the paused and
resumed SLA clock, the reporter's view, bad input, and who is told."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration import test_sla_sweep as pinned
from tests.integration.test_sla_sweep import actions, events_of, report, sweep, wib
from tests.staff_support import Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")
# The service at pinned instants (chalicelib.domain.clock.now), as the SLA sweep's tests use it.
at, submit, act, reply = pinned.at, pinned.submit, pinned.act, pinned.reply

# Not a field job: the 5-HK tindak_lanjut case (config/sla.json), so the dates stay short.
SIMPLE = {"category": "penerangan_jalan"}


def _utc(instant: datetime) -> str:
    from chalicelib.domain import clock

    return clock.iso_utc(instant)


def test_the_opds_request_pauses_its_clock_and_the_reply_resumes_it_with_the_time_left(
        submit: Callable[..., str], act: Callable[..., Any], reply: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 7, 1, 9), **SIMPLE)
    act(wib(2026, 7, 1, 10), tid, "verify", opd_code="DPUPR")
    r = act(wib(2026, 7, 6, 10), tid, "accept", role="opd", opd="DPUPR")
    assert r.due_at == _utc(wib(2026, 7, 13, 23, 59, 59))  # 5 HK: 7-10, 13 Jul
    assert r.first_response_at is None

    r = act(wib(2026, 7, 8, 10), tid, "request_info", role="opd", opd="DPUPR",
            message="Mohon kirim foto tiang lampu yang mati beserta nomornya.")
    assert (r.status, r.sla_stage, r.opd_code) == ("perlu_kelengkapan", "kelengkapan", "DPUPR")
    assert r.info_request["asked_by"] == "opd" and r.info_request["paused"]["remaining"] == 3  # 9, 10, 13 Jul
    assert r.first_response_at == _utc(wib(2026, 7, 8, 10))  # a public word to the reporter
    (asked,) = events_of(tid, "request_info")
    assert (asked.role, asked.data["asked_by"], asked.public) == ("opd", "opd", True)
    # While the reporter owes the answer the OPD's deadline does not run.
    assert sweep(wib(2026, 7, 14, 0, 15)).done == []

    r = reply(wib(2026, 7, 20, 10), tid)  # Monday
    assert (r.status, r.opd_code, r.sla_stage, r.info_request) == ("diproses", "DPUPR", "tindak_lanjut", None)
    assert r.due_at == _utc(wib(2026, 7, 23, 23, 59, 59))  # the 3 HK it had left: 21, 22, 23 Jul
    assert not r.sla_breached
    assert [d.action for d in sweep(wib(2026, 7, 22, 7, 45)).done] == ["sla_reminder"]
    assert [(d.action, d.opd_code) for d in sweep(wib(2026, 7, 24, 0, 15)).done] == [
        ("sla_breach", "DPUPR"), ("sla_escalation", "DPUPR")]
    assert report(tid).breached_by == ["DPUPR"]


def test_asking_for_information_after_the_deadline_keeps_the_breach(
        submit: Callable[..., str], act: Callable[..., Any], reply: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 7, 1, 9), **SIMPLE)
    act(wib(2026, 7, 1, 10), tid, "verify", opd_code="DPUPR")
    act(wib(2026, 7, 6, 10), tid, "accept", role="opd", opd="DPUPR")
    assert [d.action for d in sweep(wib(2026, 7, 14, 0, 15)).done] == ["sla_breach", "sla_escalation"]

    r = act(wib(2026, 7, 15, 10), tid, "request_info", role="opd", opd="DPUPR", message="Mohon kirim foto lokasi.")
    assert r.info_request["paused"]["breached"]
    r = reply(wib(2026, 7, 20, 10), tid)
    # Resumed, not restarted: the missed deadline and its breach stay, and nothing is sent twice.
    assert (r.status, r.sla_breached, r.breached_by) == ("diproses", True, ["DPUPR"])
    assert r.due_at == _utc(wib(2026, 7, 13, 23, 59, 59))
    assert sweep(wib(2026, 7, 21, 9)).done == []
    assert actions(tid).count("sla_breach") == 1 and actions(tid).count("sla_escalation") == 1


def test_an_admins_request_still_returns_to_verification(
        submit: Callable[..., str], act: Callable[..., Any], reply: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 7, 1, 9), **SIMPLE)
    r = act(wib(2026, 7, 1, 10), tid, "request_info", message="Mohon lengkapi alamat.")
    assert r.info_request["asked_by"] == "admin" and "paused" not in r.info_request
    r = reply(wib(2026, 7, 2, 10), tid)
    assert (r.status, r.sla_stage) == ("diajukan", "verifikasi")


def test_progress_answers_in_public_without_closing_or_moving_the_deadline(
        client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.domain import clock

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "didisposisikan")
    planned = (clock.to_wib(clock.now()).date() + timedelta(days=30)).isoformat()
    v = api.ok(tid, "opd", "DPUPR", action="progress", message="Tim sudah survei lokasi; perbaikan dijadwalkan.",
               planned_completion=planned)
    # From didisposisikan it is the OPD taking the report up: diproses, its resolution clock starts.
    assert (v["status"], v["sla"]["stage"]) == ("diproses", "tindak_lanjut")
    due = v["sla"]["due_at"]
    from chalicelib.data.models import Report

    assert Report.get(tid).first_response_at
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()
    v = api.ok(tid, "opd", "DPUPR", action="progress", message="Material sudah dipesan.", attachments=[photo])
    assert (v["status"], v["sla"]["due_at"]) == ("diproses", due)  # not answered, deadline unchanged
    assert v["audit_trail"][-1]["data"]["attachments"] == [photo]
    # An id nobody uploaded is refused as for an answer.
    bad = api.act(tid, "opd", "DPUPR", action="progress", message="Foto lagi.", attachments=["att_" + "0" * 32])
    assert bad.status_code == 400 and bad.json_body["error"]["details"][0]["field"].startswith("attachments")
    assert "respond" in v["actions"] and "request_info" in v["actions"]

    mine = api.reporter(created)
    assert mine["status"] == "diproses" and mine["planned_completion"] == planned
    updates = [t for t in mine["timeline"] if t["action"] == "progress"]
    assert [u["message"] for u in updates] == ["Tim sudah survei lokasi; perbaikan dijadwalkan.",
                                               "Material sudah dipesan."]
    assert updates[0]["planned_completion"] == planned and updates[1]["planned_completion"] is None

    # Only the answer moves it on; the planned date is no longer shown once answered.
    v = api.ok(tid, "opd", "DPUPR", action="respond", message="Jalan sudah diperbaiki.")
    assert v["status"] == "ditindaklanjuti" and api.reporter(created)["planned_completion"] is None


@pytest.mark.parametrize("role,opd,body,code,field", [
    ("opd", "DPUPR", {"action": "progress"}, 400, "message"),
    ("opd", "DPUPR", {"action": "progress", "message": "x", "planned_completion": "2020-01-01"}, 400,
     "planned_completion"),
    ("opd", "DPUPR", {"action": "progress", "message": "x", "planned_completion": "besok"}, 400, "planned_completion"),
    ("opd", "DPUPR", {"action": "progress", "message": "x", "planned_completion": "2099-01-01"}, 400,
     "planned_completion"),
    ("opd", "DPUPR", {"action": "progress", "message": "x", "reason_code": "duplikat"}, 400, "reason_code"),
    ("opd", "DPUPR", {"action": "request_info"}, 400, "message"),
    ("admin", None, {"action": "progress", "message": "x"}, 403, None),
    ("admin", None, {"action": "request_info", "message": "Mohon foto."}, 409, None),
])
def test_bad_progress_and_request_info_change_nothing(
        client: Any, valid_report: dict[str, Any], role: str, opd: str | None, body: dict[str, Any], code: int,
        field: str | None) -> None:
    from chalicelib.data.models import Report

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "diproses")
    before = Report.get(tid).version
    r = api.act(tid, role, opd, **body)
    assert r.status_code == code, r.body
    if field:
        err = r.json_body["error"]
        assert err["code"] == "validation_error" and field in [d["field"] for d in err["details"]]
        assert all(d["message"] for d in err["details"])
    assert Report.get(tid).version == before and Report.get(tid).status == "diproses"


def test_an_opd_asks_only_while_it_works_on_the_report(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "didisposisikan")
    r = api.act(tid, "opd", "DPUPR", action="request_info", message="Mohon foto.")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition"
    api.ok(tid, "opd", "DPUPR", action="accept")
    v = api.ok(tid, "opd", "DPUPR", action="request_info", message="Mohon kirim foto lokasi yang lebih jelas.")
    assert v["status"] == "perlu_kelengkapan" and v["opd_code"] == "DPUPR"
    assert v["audit_trail"][-1]["data"]["asked_by"] == "opd"
    # The report stays the OPD's while it waits; the reporter's reply returns it there.
    assert api.get(tid, "opd", "DPUPR").status_code == 200
    assert api.reply(created, "Foto sudah saya kirim lewat aplikasi.").status_code == 200
    v = api.get(tid, "opd", "DPUPR").json_body
    assert (v["status"], v["opd_code"]) == ("diproses", "DPUPR")


def test_who_is_told() -> None:
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import notify

    def ev(action: str, frm: str, to: str, actor: str) -> DomainEvent:
        return DomainEvent(tracking_id="KBB-AAAA-AAAA", seq=5, action=action, at="2026-07-08T03:00:00Z",
                           actor=actor, from_status=frm, to_status=to, public=True, message="m",
                           data={"opd_code": "DPUPR"})

    assert notify.plan(ev("progress", "diproses", "diproses", "opd"), None) == [
        notify.Notice("pelapor", "pelapor_perkembangan")]
    assert notify.plan(ev("request_info", "diproses", "perlu_kelengkapan", "opd"), None) == [
        notify.Notice("pelapor", "pelapor_status")]
    assert notify.plan(ev("reply", "perlu_kelengkapan", "diproses", "pelapor"), None) == [
        notify.Notice("opd", "opd_kelengkapan_diterima")]
    sms = json.loads(__import__("pathlib").Path(
        "chalicelib/config/templates/pelapor_perkembangan.json").read_text())["sms_segments"]
    assert sms == 1
