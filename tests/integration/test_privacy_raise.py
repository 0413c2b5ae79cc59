"""Sensitive by default: the category flag, the admin's privacy raise at verification (never a
lowering), and the raise listed for an admin where SP4N-LAPOR! has no call to change it."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_fanout import report
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def test_categories_carry_the_sensitive_flag_of_the_reference_data(client: Any) -> None:
    items = {c["code"]: c for c in client.http.get("/categories").json_body["items"]}
    assert {c for c, x in items.items() if x["sensitive"]} == {
        "bansos", "layanan_kesehatan", "rumah_sakit", "perlindungan_anak"}


def test_an_admin_raises_the_privacy_at_verification(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    v = api.ok(tid, "admin", action="verify", opd_code="DINSOS", privacy="rahasia")
    assert v["privacy"] == "rahasia"
    assert v["audit_trail"][-1]["data"]["privacy"] == "rahasia"
    assert v["audit_trail"][-1]["data"]["privacy_from"] == "publik"
    assert api.reporter(created)["privacy"] == "rahasia"
    # A rahasia report is no longer in the open data feed.
    feed = client.http.get("/open311/v2/requests.json").body.decode()
    assert tid not in feed


@pytest.mark.parametrize("start,wanted", [("rahasia", "publik"), ("anonim", "publik"), ("rahasia", "anonim")])
def test_staff_never_lower_the_privacy(client: Any, valid_report: dict[str, Any], start: str, wanted: str) -> None:
    from chalicelib.data.models import Report

    api = Api(client)
    tid = api.submit({**valid_report, "privacy": start})["tracking_id"]
    r = api.act(tid, "admin", action="verify", opd_code="DINSOS", privacy=wanted)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error", r.body
    (detail,) = r.json_body["error"]["details"]
    assert detail["field"] == "privacy" and "dinaikkan" in detail["message"]
    stored = Report.get(tid)
    assert (stored.privacy, stored.status, stored.version) == (start, "diajukan", 1)


def test_an_unknown_privacy_is_a_400(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    r = client.http.post(f"/staff/reports/{tid}/actions", headers={"Content-Type": "application/json", **bearer("admin")},
                         body=json.dumps({"action": "verify", "opd_code": "DINSOS", "privacy": "sangat_rahasia"}))
    assert r.status_code == 400 and r.json_body["error"]["details"][0]["field"] == "privacy"


def test_the_raise_is_listed_for_an_admin_until_lapor_agrees(fan: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.services import sync_reconcile

    api = Api(fan.client)
    tid = api.submit(valid_report)["tracking_id"]
    fan.pump.drain(timeout=20)
    api.ok(tid, "admin", action="verify", opd_code="DINSOS", privacy="rahasia")
    fan.pump.drain(timeout=20)
    r = report(tid)
    assert r.sp4n.privacy_divergence == "rahasia" and r.sp4n.state == "synced"
    listed = fan.client.http.get("/staff/sync/problems", headers=bearer("admin")).json_body["items"]
    (item,) = [i for i in listed if i["tracking_id"] == tid]
    assert item["kind"] == "privacy" and item["sp4n"]["privacy_divergence"] == "rahasia"
    # Set by hand on LAPOR! (its admins' console): the next reconciliation clears it.
    complaint_id = r.sp4n.complaint_id
    with fan.standin.state.lock:
        stored = fan.standin.state.records.complaints[complaint_id]
        stored["is_secret"], stored["is_anonymous"] = True, False
    sync_reconcile.reconcile_one(tid)
    assert report(tid).sp4n.privacy_divergence is None
    listed = fan.client.http.get("/staff/sync/problems", headers=bearer("admin")).json_body["items"]
    assert tid not in [i["tracking_id"] for i in listed]
