"""Closing a Tukin month over the API (moto in-process): objections in and after the window, an
OPD's own reports only, decisions, finalisation, no refold of a final month, a late event
recorded as a correction of the next month, the audit trail, and an OPD's own row."""
from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import datetime
from typing import Any

import pytest

from chalicelib.domain.clock import WIB
from tests.staff_support import Api, Clock, bearer, set_clock, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")
NOV = "2026-11"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_clock(monkeypatch, datetime(2026, 11, 2, 8, tzinfo=WIB))


def call(api: Api, method: str, path: str, role: str, opd: str | None = None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json", **bearer(role, opd)}
    return api.client.http.request(method, path, body=json.dumps(body) if body is not None else b"", headers=headers)


def objection(api: Api, opd: str, tid: str, figure: str = "late", reason: str = "Pelapor tidak dapat dihubungi.",
              period: str = NOV, role: str = "opd") -> Any:
    return call(api, "POST", f"/staff/months/{period}/objections", role, opd,
                {"tracking_id": tid, "figure": figure, "reason": reason})


def board(api: Api, role: str = "admin", opd: str | None = None, period: str = NOV, fmt: str = "json") -> Any:
    r = call(api, "GET", f"/staff/performance?period={period}&format={fmt}", role, opd)
    assert r.status_code == 200, r.body
    return r.json_body if fmt == "json" else r.body.decode("utf-8-sig")


def row(body: dict[str, Any], opd: str) -> dict[str, Any]:
    return next(i for i in body["items"] if i["opd_code"] == opd)


def drill(api: Api, opd: str, figure: str, role: str = "admin", who: str | None = None) -> Any:
    return call(api, "GET", f"/staff/performance/{opd}/reports?period={NOV}&figure={figure}", role, who)


def test_a_month_is_objected_to_decided_finalised_and_then_corrected(
        client: Any, valid_report: dict[str, Any], clock: Clock) -> None:
    from chalicelib.data import month_close as closing
    from chalicelib.services import performance

    api = Api(client)
    # A: DPUPR answers a week late. C: DINSOS never answers in November.
    a = api.submit({**valid_report, "title": "Jalan berlubang A"})
    c = api.submit({**valid_report, "title": "Bantuan sosial C"})
    clock.at = datetime(2026, 11, 2, 9, tzinfo=WIB)
    api.ok(a["tracking_id"], "admin", action="verify", opd_code="DPUPR")
    api.ok(c["tracking_id"], "admin", action="verify", opd_code="DINSOS")
    clock.at = datetime(2026, 11, 10, 9, tzinfo=WIB)
    api.ok(a["tracking_id"], "opd", "DPUPR", action="respond", message="Sudah diperbaiki.")
    for created in (a, c):
        performance.refresh(created["tracking_id"])  # what the PerformanceQueue consumer does
    tid_a, tid_c = a["tracking_id"], c["tracking_id"]

    clock.at = datetime(2026, 11, 20, 10, tzinfo=WIB)
    body = board(api)
    assert body["status"] == "provisional" and body["objection_window"]["state"] == "open"
    assert body["objection_window"]["closes"] == "2026-12-07T23:59:59+07:00"
    assert row(body, "DPUPR")["late"] == 1 and row(body, "DPUPR")["status"] == "provisional"
    assert "DISKOMINFOTIK" not in [i["opd_code"] for i in body["items"]]
    assert body["verification"]["unit"] == "DISKOMINFOTIK" and body["verification"]["forwarded"] == 2

    # An OPD sees its own row, and its own drill-down only.
    mine = board(api, "opd", "DPUPR")
    assert [i["opd_code"] for i in mine["items"]] == ["DPUPR"]
    assert [i["tracking_id"] for i in drill(api, "DPUPR", "late", "opd", "DPUPR").json_body["items"]] == [tid_a]
    assert drill(api, "DINSOS", "late", "opd", "DPUPR").status_code == 403

    # Objections: its own report, a figure that counts it, once.
    r = objection(api, "DPUPR", tid_a)
    assert r.status_code == 201, r.body
    filed = r.json_body
    assert filed["status"] == "undecided" and filed["figure"] == "late" and filed["opd_code"] == "DPUPR"
    again = objection(api, "DPUPR", tid_a)
    assert again.status_code == 409 and again.json_body["error"]["code"] == "objection_exists"
    for opd, tid in (("DPUPR", tid_c), ("DINSOS", tid_a)):  # not its report
        r = objection(api, opd, tid)
        assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found", (opd, tid)
    r = objection(api, "DPUPR", tid_a, figure="received")
    assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error"
    r = objection(api, "DPUPR", tid_a, figure="breaches")  # A had no breach
    assert r.status_code == 400 and "tidak terhitung" in r.json_body["error"]["message"]
    r = objection(api, "DPUPR", tid_a, reason="")
    assert r.status_code == 400
    assert objection(api, "DPUPR", tid_a, role="admin").status_code == 403
    assert objection(api, "DPUPR", tid_a, period="2026-12").json_body["error"]["code"] == "objection_window_not_open"
    lists = {who: call(api, "GET", f"/staff/months/{NOV}/objections", *who).json_body["items"]
             for who in (("admin", None), ("opd", "DPUPR"), ("opd", "DINSOS"))}
    assert [o["id"] for o in lists[("admin", None)]] == [filed["id"]] == [o["id"] for o in lists[("opd", "DPUPR")]]
    assert lists[("opd", "DINSOS")] == []
    assert call(api, "GET", f"/staff/months/{NOV}/objections", "pimpinan").status_code == 403

    # Not final before the window closes.
    r = call(api, "POST", f"/staff/months/{NOV}/finalise", "admin")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "objection_window_open"

    # After the window: no new objection, and nothing is stored.
    clock.at = datetime(2026, 12, 8, 8, tzinfo=WIB)
    r = objection(api, "DINSOS", tid_c, figure="overdue_open")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "objection_window_closed"
    assert "Masa keberatan" in r.json_body["error"]["message"]
    assert len(closing.objections(NOV)) == 1 and closing.state(NOV).open_objections == 1
    r = call(api, "POST", f"/staff/months/{NOV}/finalise", "admin")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "objections_undecided"

    # The decision: admin only, once; accepted, A's late answer counts as on time for DPUPR.
    path = f"/staff/months/{NOV}/objections/{filed['id']}"
    assert call(api, "PUT", path, "opd", "DPUPR", {"decision": "accepted"}).status_code == 403
    assert call(api, "PUT", path, "admin", None, {"decision": "maybe"}).status_code == 400
    assert call(api, "PUT", f"/staff/months/{NOV}/objections/keb_{'0' * 20}", "admin", None,
                {"decision": "accepted"}).status_code == 404
    r = call(api, "PUT", path, "admin", None, {"decision": "accepted", "note": "Bukti foto diterima."})
    assert r.status_code == 200 and r.json_body["status"] == "accepted", r.body
    r = call(api, "PUT", path, "admin", None, {"decision": "rejected"})
    assert r.status_code == 409 and r.json_body["error"]["code"] == "objection_decided"
    dpupr = row(board(api), "DPUPR")
    assert (dpupr["late"], dpupr["responded_on_time"], dpupr["on_time_pct"]) == (0, 1, 100.0)
    on_time = drill(api, "DPUPR", "responded_on_time").json_body["items"]
    assert [(i["tracking_id"], i["waived"]) for i in on_time] == [(tid_a, ["late"])]
    assert drill(api, "DPUPR", "late").json_body["count"] == 0

    # Finalise: the month is frozen.
    r = call(api, "POST", f"/staff/months/{NOV}/finalise", "opd", "DPUPR")
    assert r.status_code == 403
    r = call(api, "POST", f"/staff/months/{NOV}/finalise", "admin")
    assert r.status_code == 200, r.body
    final = r.json_body
    assert final["status"] == "final" and final["as_of"] == "2026-12-08T08:00:00+07:00"
    assert {i["status"] for i in final["items"]} == {"final"}
    rows = list(csv.DictReader(io.StringIO(board(api, fmt="csv"))))
    assert {r["status"] for r in rows} == {"final"} and {r["opd_code"] for r in rows} == {"DPUPR", "DINSOS"}
    r = call(api, "POST", f"/staff/months/{NOV}/finalise", "admin")
    assert r.status_code == 409 and r.json_body["error"]["code"] == "month_final"
    r = objection(api, "DINSOS", tid_c)
    assert r.status_code == 409 and r.json_body["error"]["code"] == "month_final"

    # Never refolded: the service and the CLI refuse.
    from chalicelib import cli_performance
    from chalicelib.domain.errors import Conflict

    with pytest.raises(Conflict) as refused:
        performance.refold(NOV)
    assert refused.value.code == "month_final" and "sudah final" in refused.value.message
    args = argparse.Namespace(period=NOV, now=None, refold=True, digest=False, opd=None, figure=None,
                              chart=None, format=None)
    assert cli_performance.run(args) == 1

    # A late event about November: DINSOS answers C on 9 December. November does not move; the
    # change is recorded in December's record.
    clock.at = datetime(2026, 12, 9, 10, tzinfo=WIB)
    api.ok(tid_c, "opd", "DINSOS", action="respond", message="Bantuan sudah disalurkan.")
    performance.refresh(tid_c)
    assert board(api) == final | {"objection_window": board(api)["objection_window"]}
    assert drill(api, "DINSOS", "responded").json_body["count"] == 0
    december = board(api, period="2026-12")
    assert december["status"] == "provisional" and december["items"] == []
    (correction,) = december["corrections"]
    assert correction["final_month"] == NOV and correction["tracking_id"] == tid_c
    assert correction["opd_code"] == "DINSOS" and correction["changes"] == {"responded": 1, "overdue_open": -1}
    assert board(api, "opd", "DPUPR", period="2026-12")["corrections"] == []  # DINSOS's, not DPUPR's
    assert board(api, "opd", "DINSOS", period="2026-12")["corrections"] == [correction]

    # A fold racing the finalisation cannot land in the final month: its write checks the month.
    from dataclasses import replace

    from chalicelib.data import performance as store

    (frozen,) = [f for f in store.opd_month(NOV, "DINSOS").facts if f.tracking_id == tid_c]
    assert store.save_unless_final([replace(frozen, basis_seq=10**6, rating=5)]) == (0, [replace(
        frozen, basis_seq=10**6, rating=5)])
    assert store.stored(frozen) == frozen

    # The audit trail: filed, decided, finalised; actors and roles, no personal data.
    trail = closing.trail(NOV)
    assert [e.action for e in trail] == ["objection_filed", "objection_decided", "month_finalised"]
    assert [e.role for e in trail] == ["opd", "admin", "admin"]
    assert trail[0].data["figure"] == "late" and trail[1].data["decision"] == "accepted"
    assert trail[2].data["totals"]["received"] == 2
