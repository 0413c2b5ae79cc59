"""Correcting what intake got wrong (type, category, kecamatan, desa): as fields of `verify` and,
later, as the admin's action `correct`; audited with old and new values, the SLA replanned where
the deadline depends on them (the tindak_lanjut stage: type and category), bad input refused."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.data.models import Report
from chalicelib.domain import clock
from tests.staff_support import Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

PAGERWANGI = "32.17.01.2001"   # a desa of Lembang
CIHANJUANG = "32.17.02.2002"   # a desa of Parongpong


def _report(api: Api, valid_report: dict[str, Any], status: str = "diajukan") -> dict[str, Any]:
    created = api.submit(valid_report)
    api.walk(created, status, opd="DPUPR")
    return created


def test_verify_takes_corrections_and_records_old_and_new(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _report(api, valid_report)["tracking_id"]
    view = api.ok(tid, "admin", action="verify", opd_code="DPUPR", type="aspirasi", category="drainase",
                  kecamatan="parongpong", desa="Cihanjuang")
    assert (view["type"], view["category"], view["location"]["kecamatan"], view["location"]["desa"]) == (
        "aspirasi", "drainase", "parongpong", CIHANJUANG)
    event = view["audit_trail"][-1]
    assert event["action"] == "verify" and event["data"]["corrections"] == {
        "type": {"from": "pengaduan", "to": "aspirasi"},
        "category": {"from": "jalan_rusak", "to": "drainase"},
        "kecamatan": {"from": "lembang", "to": "parongpong"},
        "desa": {"from": valid_desa(), "to": CIHANJUANG},
    }
    stored = Report.get(tid)
    assert (stored.kecamatan, stored.location.kecamatan) == ("parongpong", "parongpong")


def valid_desa() -> str:
    from chalicelib.data import reference

    found = reference.find_desa("lembang", "Jayagiri")
    assert found is not None
    return found["code"]


def test_verify_without_corrections_records_none(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _report(api, valid_report)["tracking_id"]
    view = api.ok(tid, "admin", action="verify", opd_code="DPUPR", category="jalan_rusak")
    assert "corrections" not in view["audit_trail"][-1]["data"]


def test_correct_later_replans_the_deadline_that_depends_on_category(client: Any, valid_report: dict[str, Any]) -> None:
    """diproses is the tindak_lanjut stage: jalan_rusak is a field case (60 HK), sampah the
    default (5 HK), counted from the same stage start."""
    api = Api(client)
    created = _report(api, valid_report, "diproses")
    tid = created["tracking_id"]
    before = Report.get(tid)
    timeline = api.reporter(created)["timeline"]
    view = api.ok(tid, "admin", action="correct", category="sampah", note="Salah pilih kategori")
    after = Report.get(tid)
    assert view["status"] == "diproses" and after.category == "sampah"
    assert after.sla_stage_started_at == before.sla_stage_started_at and after.sla_stage == "tindak_lanjut"
    assert clock.parse(after.due_at) < clock.parse(before.due_at)
    assert after.sweep_at is not None and clock.parse(after.sweep_at) <= clock.parse(after.due_at)
    event = view["audit_trail"][-1]
    assert (event["action"], event["role"], event["public"], event["from_status"], event["to_status"]) == (
        "correct", "admin", False, "diproses", "diproses")
    assert event["data"]["corrections"] == {"category": {"from": "jalan_rusak", "to": "sampah"}}
    assert (event["data"]["due_from"], event["data"]["due_to"]) == (before.due_at, after.due_at)
    assert any(n["message"] == "Salah pilih kategori" for n in view["notes"])
    assert api.reporter(created)["timeline"] == timeline  # internal: the reporter reads no change
    # Back: the longer deadline again, from the same start.
    api.ok(tid, "admin", action="correct", type="permintaan_informasi")
    assert Report.get(tid).due_at == after.due_at  # an information request is the short case too
    api.ok(tid, "admin", action="correct", type="pengaduan", category="jalan_rusak")
    assert Report.get(tid).due_at == before.due_at


def test_a_stage_that_does_not_depend_on_category_keeps_its_deadline(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _report(api, valid_report, "didisposisikan")["tracking_id"]  # respon_opd: 3 HK for all
    before = Report.get(tid)
    view = api.ok(tid, "admin", action="correct", category="sampah", kecamatan="parongpong")
    after = Report.get(tid)
    assert (after.due_at, after.sweep_at) == (before.due_at, before.sweep_at)
    assert "due_to" not in view["audit_trail"][-1]["data"]
    # A new kecamatan without a desa leaves no desa of the old one behind.
    assert after.location.desa is None
    assert view["audit_trail"][-1]["data"]["corrections"]["desa"] == {"from": valid_desa(), "to": None}


def test_type_other_than_pengaduan_clears_the_classification(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _report(api, valid_report)["tracking_id"]
    api.ok(tid, "admin", action="verify", opd_code="DPUPR", classification="berkadar_pengawasan")
    view = api.ok(tid, "admin", action="correct", type="aspirasi")
    assert view["classification"] is None and view["type"] == "aspirasi"


@pytest.mark.parametrize(("fields", "field", "kind"), [
    ({"desa": CIHANJUANG}, "desa", "unknown"),                              # not a desa of Lembang
    ({"kecamatan": "parongpong", "desa": PAGERWANGI}, "desa", "unknown"),   # nor of the new kecamatan
    ({"kecamatan": "Gotham"}, "kecamatan", "unknown"),
    ({"category": "naga"}, "category", "unknown"),
    ({"type": "keluhan"}, "type", "literal_error"),
    ({"category": "jalan_rusak"}, "category", "unchanged"),                 # nothing would change
    ({}, "type", "unchanged"),
    ({"opd_code": "DINSOS"}, "opd_code", "extra_forbidden"),
])
def test_bad_corrections_are_400_and_change_nothing(client: Any, valid_report: dict[str, Any],
                                                    fields: dict[str, Any], field: str, kind: str) -> None:
    api = Api(client)
    tid = _report(api, valid_report, "diproses")["tracking_id"]
    before = Report.get(tid)
    r = api.act(tid, "admin", action="correct", **fields)
    assert r.status_code == 400, r.body
    error = r.json_body["error"]
    assert error["code"] == "validation_error"
    assert (error["details"][0]["field"], error["details"][0]["type"]) == (field, kind), error
    after = Report.get(tid)
    assert (after.version, after.category, after.kecamatan, after.location.desa, after.type, after.due_at) == (
        before.version, before.category, before.kecamatan, before.location.desa, before.type, before.due_at)


def test_bad_verify_correction_verifies_nothing(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _report(api, valid_report)["tracking_id"]
    r = api.act(tid, "admin", action="verify", opd_code="DPUPR", desa=CIHANJUANG)
    assert r.status_code == 400 and r.json_body["error"]["details"][0]["field"] == "desa"
    assert "desa" in r.json_body["error"]["details"][0]["message"]
    stored = Report.get(tid)
    assert (stored.status, stored.version, stored.opd_code) == ("diajukan", 1, None)


def test_who_and_when(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    closed = _report(api, valid_report, "selesai")["tracking_id"]
    r = api.act(closed, "admin", action="correct", category="sampah")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition"
    held = _report(api, valid_report, "diproses")["tracking_id"]
    for role in ("opd", "opd_admin"):
        assert api.act(held, role, "DPUPR", action="correct", category="sampah").status_code == 403
    assert api.act(held, "pimpinan", action="correct", category="sampah").status_code == 403
    assert Report.get(held).category == "jalan_rusak"


def test_a_correction_reaches_the_monthly_record_at_once(client: Any, valid_report: dict[str, Any]) -> None:
    """The per-OPD record holds the tindak lanjut deadline the category chose: a `correct` refolds it."""
    from types import SimpleNamespace

    from chalicelib.data import performance as store
    from chalicelib.services import performance

    api = Api(client)
    created = _report(api, valid_report, "diproses")
    tid = created["tracking_id"]
    performance.refresh(tid)
    period = clock.month_wib(clock.now())

    def stage_due() -> set[str | None]:
        return {f.stage_due_at for f in store.month(period).facts if f.tracking_id == tid}

    before = stage_due()
    api.ok(tid, "admin", action="correct", category="sampah")
    event = SimpleNamespace(tracking_id=tid, action="correct", seq=int(Report.get(tid).event_seq))
    assert performance.handle_event(event) != {"skipped": True}
    assert stage_due() == {Report.get(tid).due_at} and stage_due() != before
