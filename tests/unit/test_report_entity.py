"""chalicelib/domain/report.py: the report entity applies a move and returns its event, with no
table, no service and no AWS: the SLA clock is a stand-in that records what it was asked."""
from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain import workflow as wf
from chalicelib.domain.report import Actor, Report

NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
ADMIN = Actor("admin", "admin", actor_id="sub-admin")
OPD = Actor("opd", "opd", actor_id="sub-opd", opd_code="DPUPR")
REPORTER = Actor("pelapor", "pelapor")


class SlaStandIn:
    """The SLA rules a move needs, recording each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.replanned: dict[str, Any] = {}

    def stage_fields(self, tracking_id: str, report_type: str, category: str | None, status: str,
                     start: datetime, now: datetime, *, classification: str | None = None) -> dict[str, Any]:
        self.calls.append(f"stage:{status}")
        return {"sla_stage": f"stage-{status}", "due_at": "2026-04-08T03:00:00+00:00", "sla_state": {}}

    def cleared_fields(self) -> dict[str, Any]:
        self.calls.append("cleared")
        return {"sla_stage": None, "due_at": None, "sweep_at": None, "sweep_shard": None}

    def pause(self, report: Any, now: datetime) -> dict[str, Any]:
        self.calls.append(f"pause:{report.sla_stage}")
        return {"stage": report.sla_stage, "left_seconds": 3600}

    def resumed_fields(self, tracking_id: str, status: str, paused: dict[str, Any], now: datetime) -> dict[str, Any]:
        self.calls.append(f"resume:{paused['stage']}")
        return {"sla_stage": paused["stage"], "due_at": "2026-04-01T04:00:00+00:00"}

    def replanned_fields(self, report: Any, now: datetime) -> dict[str, Any]:
        self.calls.append(f"replan:{report.type}")
        return dict(self.replanned)


def _report(**overrides: Any) -> Report:
    values: dict[str, Any] = {
        "tracking_id": "KBB-AAAA-BBBB", "status": "diajukan", "type": "pengaduan", "kecamatan": "lembang",
        "desa": "3217010001", "privacy": "publik", "created_at": "2026-03-31T01:00:00+00:00",
        "updated_at": "2026-03-31T01:00:00+00:00", "category": "jalan_rusak",
    }
    values.update(overrides)
    return Report(**values)


def test_verify_hands_the_report_to_an_opd_and_starts_its_clock() -> None:
    report, sla = _report(), SlaStandIn()
    event = report.apply("verify", ADMIN, {"opd_code": "DPUPR", "privacy": "anonim", "note": "cek"}, NOW, sla)
    assert (report.status, report.opd_code, report.privacy) == ("didisposisikan", "DPUPR", "anonim")
    assert report.status_created == "didisposisikan#2026-03-31T01:00:00+00:00"
    assert (report.disposed_at, report.updated_at) == ("2026-04-01T03:00:00.000000+00:00",) * 2
    assert (report.sla_stage, sla.calls) == ("stage-didisposisikan", ["stage:didisposisikan"])
    assert (event.action, event.from_status, event.to_status, event.public) == ("verify", "diajukan",
                                                                                 "didisposisikan", True)
    assert event.data == {"opd_code": "DPUPR", "note": "cek", "privacy": "anonim", "privacy_from": "publik"}


def test_a_move_the_table_refuses_changes_nothing() -> None:
    report = _report()
    before = copy.deepcopy(report)
    with pytest.raises(wf.InvalidTransition):
        report.apply("respond", OPD, {"message": "sudah"}, NOW, SlaStandIn())
    with pytest.raises(wf.NotPermitted):
        report.apply("verify", OPD, {"opd_code": "DPUPR"}, NOW, SlaStandIn())
    assert report == before


def test_corrections_are_applied_and_recorded_old_and_new() -> None:
    report, sla = _report(status="diproses", opd_code="DPUPR", sla_stage="tindak_lanjut",
                          due_at="2026-04-20T03:00:00+00:00"), SlaStandIn()
    sla.replanned = {"due_at": "2026-04-10T03:00:00+00:00"}
    event = report.apply("correct", ADMIN, {"type": "aspirasi", "kecamatan": "cisarua"}, NOW, sla)
    assert (report.type, report.kecamatan, report.desa, report.classification) == ("aspirasi", "cisarua", None, None)
    assert event.data["corrections"] == {"type": {"from": "pengaduan", "to": "aspirasi"},
                                         "kecamatan": {"from": "lembang", "to": "cisarua"},
                                         "desa": {"from": "3217010001", "to": None}}
    # The running stage is replanned from its start under the corrected type, and the event says so.
    assert sla.calls == ["replan:aspirasi"] and report.due_at == "2026-04-10T03:00:00+00:00"
    assert (event.data["due_from"], event.data["due_to"]) == ("2026-04-20T03:00:00+00:00", "2026-04-10T03:00:00+00:00")
    assert report.status == "diproses" and not event.public


def test_return_records_the_opd_once_and_leaves_it() -> None:
    report = _report(status="didisposisikan", opd_code="DPUPR", returned_by=["DPUPR"], assigned_to="u-1")
    event = report.apply("return", OPD, {"reason_code": "bukan_wewenang", "reason": "milik dinas lain"}, NOW, SlaStandIn())
    assert (report.opd_code, report.returned_by, report.assigned_to, report.status_created) == (None, ["DPUPR"],
                                                                                                None, None)
    assert event.data == {"actor_opd": "DPUPR", "opd_code": "DPUPR", "reason_code": "bukan_wewenang",
                          "reason": "milik dinas lain"}


def test_the_opds_own_question_pauses_its_clock_and_the_reply_resumes_it() -> None:
    report, sla = _report(status="diproses", opd_code="DPUPR", sla_stage="tindak_lanjut"), SlaStandIn()
    report.apply("request_info", OPD, {"message": "Mohon foto lokasi."}, NOW, sla)
    assert report.first_response_at == "2026-04-01T03:00:00.000000+00:00"  # the OPD's question is a response
    assert report.info_request is not None and report.info_request["paused"]["stage"] == "tindak_lanjut"
    report.apply("reply", REPORTER, {"message": "Ini fotonya."}, NOW, sla)
    assert (report.status, report.info_request, report.sla_stage) == ("diproses", None, "tindak_lanjut")
    # Waiting on the reporter is a stage of its own (the reporter's time to answer).
    assert sla.calls == ["pause:tindak_lanjut", "stage:perlu_kelengkapan", "resume:tindak_lanjut"]


def test_the_admins_question_is_no_response_of_the_opd() -> None:
    report = _report()
    report.apply("request_info", ADMIN, {"message": "Lokasi tepatnya?"}, NOW, SlaStandIn())
    assert report.first_response_at is None and report.info_request == {
        "asked_by": "admin", "opd_code": None, "asked_at": "2026-04-01T03:00:00.000000+00:00"}


def test_merge_takes_the_duplicate_out_of_the_inbox_and_the_sweep() -> None:
    report, sla = _report(status="didisposisikan", opd_code="DPUPR", sla_stage="respon"), SlaStandIn()
    event = report.apply("merge", ADMIN, {"primary": "KBB-CCCC-DDDD"}, NOW, sla)
    assert (report.merged_into, report.opd_code, report.sla_stage, report.status) == (
        "KBB-CCCC-DDDD", None, None, "didisposisikan")
    assert sla.calls == ["cleared"] and event.data["primary"] == "KBB-CCCC-DDDD"
    with pytest.raises(wf.InvalidTransition):
        report.apply("accept", OPD, {}, NOW, sla)  # a duplicate follows its primary


def test_feedback_keeps_the_rating_and_assign_names_the_officer() -> None:
    report = _report(status="ditindaklanjuti", opd_code="DPUPR")
    report.apply("feedback", REPORTER, {"resolved": True, "rating": 4}, NOW, SlaStandIn())
    assert (report.status, report.rating) == ("selesai", 4)
    held = _report(status="diproses", opd_code="DPUPR", assigned_to="u-1")
    event = held.apply("assign", Actor("opd", "opd_admin", "sub-head", "DPUPR"), {"officer": "u-2"}, NOW, SlaStandIn())
    assert (held.assigned_to, event.data["from_officer"], event.data["officer"]) == ("u-2", "u-1", "u-2")
