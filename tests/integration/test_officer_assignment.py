"""Officer assignment inside an OPD over the API (moto): the `opd_admin` role, GET /staff/officers,
action `assign`, the inbox's "mine" filter, the audit of a reassignment, and the officer's notice."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.data.models import Report
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

OFFICER = "local-opd-dpupr-2"        # seeded by the test stack (chalicelib/local/provision.py)
SECOND = "local-opd-dpupr-3"
ME = "local-opd-dpupr"               # the default subject of an `opd` DPUPR token
FOREIGN = "local-opd-dinsos-2"       # an officer of another OPD


def _disposed(api: Api, valid_report: dict[str, Any], status: str = "didisposisikan") -> str:
    created = api.submit(valid_report)
    api.walk(created, status, opd="DPUPR")
    return str(created["tracking_id"])


def _assign(api: Api, tid: str, officer: str, role: str = "opd_admin", opd: str | None = "DPUPR", **extra: Any) -> Any:
    return api.act(tid, role, opd, action="assign", officer=officer, **extra)


def test_opd_admin_does_what_an_opd_does_on_its_own_reports_only(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _disposed(api, valid_report)
    view = api.get(tid, "opd_admin", "DPUPR").json_body
    assert view["actions"] == ["accept", "respond", "progress", "return", "note", "assign"]
    assert api.get(tid, "opd", "DPUPR").json_body["actions"] == ["accept", "respond", "progress", "return", "note"]
    accepted = api.ok(tid, "opd_admin", "DPUPR", action="accept")
    assert accepted["status"] == "diproses" and accepted["audit_trail"][-1]["role"] == "opd"
    other = _disposed(api, valid_report)
    api.ok(other, "admin", action="redispose", opd_code="DINSOS", note="salah OPD")
    assert api.get(other, "opd_admin", "DPUPR").status_code == 404
    assert _assign(api, other, OFFICER).status_code == 404
    assert tid in {i["tracking_id"] for i in api.list("opd_admin", "DPUPR").json_body["items"]}
    assert other not in {i["tracking_id"] for i in api.list("opd_admin", "DPUPR").json_body["items"]}


def test_officers_list_is_the_callers_own_opd(client: Any) -> None:
    r = client.http.get("/staff/officers", headers=bearer("opd_admin", "DPUPR"))
    assert r.status_code == 200, r.body
    items = r.json_body["items"]
    assert r.json_body["opd_code"] == "DPUPR"
    assert {i["id"] for i in items} == {ME, OFFICER, SECOND}
    assert all(i["opd_code"] == "DPUPR" for i in items)
    phone = items[0]["phone"]
    assert "*" in phone and phone.startswith("+62811") and len(phone) == 14  # masked, not dialable
    assert client.http.get("/staff/officers?opd=DINSOS", headers=bearer("opd_admin", "DPUPR")).status_code == 403
    assert client.http.get("/staff/officers?opd=dpupr", headers=bearer("opd_admin", "DPUPR")).status_code == 200
    for role, opd in (("opd", "DPUPR"), ("pimpinan", None)):
        assert client.http.get("/staff/officers", headers=bearer(role, opd)).status_code == 403, role
    admin = client.http.get("/staff/officers?opd=DINSOS", headers=bearer("admin"))
    assert admin.status_code == 200 and {i["opd_code"] for i in admin.json_body["items"]} == {"DINSOS"}
    missing = client.http.get("/staff/officers", headers=bearer("admin"))
    assert missing.status_code == 400 and missing.json_body["error"]["code"] == "validation_error"
    assert client.http.get("/staff/officers?opd=NOPE", headers=bearer("admin")).status_code == 400
    assert client.http.get("/staff/officers?x=1", headers=bearer("opd_admin", "DPUPR")).status_code == 400


def test_assign_and_reassign_are_audited_and_internal(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    api.walk(created, "diproses", opd="DPUPR")
    tid = created["tracking_id"]
    timeline = api.reporter(created)["timeline"]
    view = api.ok(tid, "opd_admin", "DPUPR", action="assign", officer=OFFICER, note="Cek lokasi besok")
    assert view["status"] == "diproses"
    assert view["assigned_to"] == {"id": OFFICER, "name": "Petugas Dua DPUPR"}
    first = view["audit_trail"][-1]
    assert (first["action"], first["role"], first["actor_id"], first["public"]) == (
        "assign", "opd_admin", "local-opd_admin-dpupr", False)
    assert first["data"]["officer"] == OFFICER and "from_officer" not in first["data"]
    again = api.ok(tid, "opd_admin", "DPUPR", action="assign", officer=SECOND)
    last = again["audit_trail"][-1]
    assert (last["data"]["from_officer"], last["data"]["officer"]) == (OFFICER, SECOND)
    assert api.reporter(created)["timeline"] == timeline  # the reporter is not told who
    assert "Petugas" not in json.dumps(api.reporter(created))
    assert Report.get(tid).assigned_to == SECOND
    row = next(i for i in api.list("opd", "DPUPR").json_body["items"] if i["tracking_id"] == tid)
    assert row["assigned_to"] == {"id": SECOND, "name": "Petugas Tiga DPUPR"}
    assert next(i for i in api.list("admin").json_body["items"] if i["tracking_id"] == tid)["assigned_to"]["id"] == SECOND


@pytest.mark.parametrize(("officer", "kind"), [(FOREIGN, "unknown"), ("nobody-at-all", "unknown"), (OFFICER, "unchanged")])
def test_a_bad_officer_is_a_400_and_changes_nothing(client: Any, valid_report: dict[str, Any], officer: str,
                                                    kind: str) -> None:
    api = Api(client)
    tid = _disposed(api, valid_report)
    api.ok(tid, "opd_admin", "DPUPR", action="assign", officer=OFFICER)
    before = Report.get(tid)
    r = _assign(api, tid, officer)
    assert r.status_code == 400, r.body
    error = r.json_body["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "officer" and error["details"][0]["type"] == kind
    assert "petugas" in error["details"][0]["message"]
    after = Report.get(tid)
    assert (after.version, after.assigned_to) == (before.version, OFFICER)


def test_only_the_opd_admin_assigns(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _disposed(api, valid_report)
    assert _assign(api, tid, OFFICER, role="opd").status_code == 403
    assert _assign(api, tid, OFFICER, role="admin", opd=None).status_code == 403
    assert _assign(api, tid, OFFICER, role="pimpinan", opd=None).status_code == 403
    assert _assign(api, tid, OFFICER, opd="DINSOS").status_code == 404
    missing = api.act(tid, "opd_admin", "DPUPR", action="assign")
    assert missing.status_code == 400 and missing.json_body["error"]["details"][0]["field"] == "officer"
    assert Report.get(tid).version == 2 and Report.get(tid).assigned_to is None


def test_assign_only_while_the_opd_holds_the_report(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _disposed(api, valid_report, "ditindaklanjuti")
    assert _assign(api, tid, OFFICER).status_code == 200
    api.ok(tid, "admin", action="close", message="Selesai.")
    r = _assign(api, tid, SECOND)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "invalid_transition"


def test_the_officer_leaves_with_the_report(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = _disposed(api, valid_report)
    api.ok(tid, "opd_admin", "DPUPR", action="assign", officer=OFFICER)
    api.ok(tid, "opd", "DPUPR", action="return", reason_code="bukan_wewenang", reason="Bukan wewenang kami.")
    assert Report.get(tid).assigned_to is None
    api.ok(tid, "admin", action="redispose", opd_code="DPUPR", note="tetap DPUPR")
    assert api.get(tid, "admin").json_body["assigned_to"] is None


def test_mine_filter_lists_only_the_callers_assignments(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    mine, theirs, nobody = (_disposed(api, valid_report) for _ in range(3))
    api.ok(mine, "opd_admin", "DPUPR", action="assign", officer=ME)
    api.ok(theirs, "opd_admin", "DPUPR", action="assign", officer=OFFICER)
    listed = api.list("opd", "DPUPR", "?assigned=me")
    assert listed.status_code == 200, listed.body
    assert [i["tracking_id"] for i in listed.json_body["items"]] == [mine]
    everyone = {i["tracking_id"] for i in api.list("opd", "DPUPR").json_body["items"]}
    assert {mine, theirs, nobody} <= everyone  # an OPD without assignment works as before
    officer = client.http.get("/staff/reports?assigned=me&status=didisposisikan", headers=bearer("opd", "DPUPR", sub=OFFICER))
    assert [i["tracking_id"] for i in officer.json_body["items"]] == [theirs]
    bad = api.list("opd", "DPUPR", "?assigned=someone")
    assert bad.status_code == 400 and bad.json_body["error"]["details"][0]["field"] == "assigned"


def test_the_officer_is_told_by_email_and_sms(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.local import outbox

    api = Api(fan.client)
    tid = _disposed(api, valid_report)
    fan.pump.drain(timeout=30)
    before = {m["id"] for m in outbox.sent()}
    api.ok(tid, "opd_admin", "DPUPR", action="assign", officer=OFFICER)
    fan.pump.drain(timeout=30)
    new = [m for m in outbox.sent() if m["id"] not in before]
    to_officer = [m for m in new if "petugas2.dpupr@example.org" in m["to"] or "+62811" in str(m["to"])]
    assert sorted(m["channel"] for m in to_officer) == ["email", "sms"], new
    mail = next(m for m in to_officer if m["channel"] == "email")
    assert tid in mail["subject"] and "ditugaskan" in mail["subject"]
    assert [m for m in new if m not in to_officer] == []  # nobody else hears of an internal assignment
