"""Village level: GET /kecamatan lists each kecamatan's desa (Kemendagri codes from the seed); a
report names an optional desa that must lie in its kecamatan, stored as its code; the reporter's
and the staff's views, the staff list and CSV and /stats carry it."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest

from chalicelib.data.models import Report
from chalicelib.domain import clock
from tests.staff_support import Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

JAYAGIRI = "32.17.01.2008"  # Lembang
CIKOLE = "32.17.01.2006"  # Lembang
CITATAH = "32.17.07.2003"  # Cipatat


def post(client: Any, body: dict[str, Any]) -> Any:
    return client.http.post("/reports", body=json.dumps(body), headers={"Content-Type": "application/json"})


def with_desa(report: dict[str, Any], kecamatan: str, desa: Any) -> dict[str, Any]:
    return {**report, "location": {**report["location"], "kecamatan": kecamatan, "desa": desa}}


@pytest.fixture(autouse=True)
def fresh_stats() -> None:
    from chalicelib.services import performance

    performance.clear_cache()  # /stats is cached per period per container


def stored_count() -> int:
    return sum(1 for _ in Report.scan())


def test_kecamatan_lists_their_desa(client: Any) -> None:
    r = client.http.get("/kecamatan")
    assert r.status_code == 200
    items = r.json_body["items"]
    assert len(items) == 16 and sum(len(k["desa"]) for k in items) == 165
    lembang = next(k for k in items if k["code"] == "lembang")
    assert lembang["kemendagri_code"] == "32.17.01"
    assert {"code": JAYAGIRI, "name": "Jayagiri"} in lembang["desa"]
    for kec in items:
        assert all(d["code"].startswith(kec["kemendagri_code"] + ".") and set(d) == {"code", "name"}
                   for d in kec["desa"]), kec["name"]


@pytest.mark.parametrize("given", [JAYAGIRI, "Jayagiri", "  jayagiri "])
def test_a_desa_by_code_or_name_is_stored_as_its_code(client: Any, valid_report: dict[str, Any], given: str) -> None:
    created = post(client, with_desa(valid_report, "Lembang", given))
    assert created.status_code == 201, created.body
    report = Report.get(created.json_body["tracking_id"])
    assert report.location.desa == JAYAGIRI and report.location.kecamatan == "lembang"


def test_no_desa_is_fine(client: Any, valid_report: dict[str, Any]) -> None:
    for desa in (None, "", "   "):
        created = post(client, with_desa(valid_report, "lembang", desa))
        assert created.status_code == 201, created.body
        assert Report.get(created.json_body["tracking_id"]).location.desa is None


@pytest.mark.parametrize("kecamatan,desa", [
    ("cipatat", JAYAGIRI),       # a desa of another kecamatan
    ("lembang", "Citatah"),      # by name, of another kecamatan
    ("lembang", "32.17.01.9999"),
    ("lembang", "Atlantis"),
])
def test_a_desa_outside_the_kecamatan_is_refused_and_nothing_stored(
        client: Any, valid_report: dict[str, Any], kecamatan: str, desa: str) -> None:
    before = stored_count()
    r = post(client, with_desa(valid_report, kecamatan, desa))
    assert r.status_code == 400, r.body
    body = r.json_body["error"]
    assert body["code"] == "validation_error"
    [detail] = [d for d in body["details"] if d["field"] == "location.desa"]
    assert "desa/kelurahan" in detail["message"] and detail["type"] == "unknown"
    assert stored_count() == before


def test_views_list_csv_and_stats_carry_the_desa(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(with_desa(valid_report, "lembang", "Jayagiri"))
    other = api.submit(with_desa(valid_report, "cipatat", CITATAH))
    api.submit(with_desa(valid_report, "lembang", CIKOLE))
    api.submit(with_desa(valid_report, "lembang", None))
    tid = created["tracking_id"]

    mine = api.reporter(created)
    assert (mine["desa"], mine["desa_name"]) == (JAYAGIRI, "Jayagiri")

    staff = api.get(tid, "admin")
    assert staff.status_code == 200, staff.body
    view = staff.json_body
    assert view["location"]["desa"] == JAYAGIRI and view["location"]["desa_name"] == "Jayagiri"

    listed = api.list("admin", None, "?kecamatan=cipatat")
    assert listed.status_code == 200, listed.body
    [row] = [i for i in listed.json_body["items"] if i["tracking_id"] == other["tracking_id"]]
    assert (row["desa"], row["desa_name"]) == (CITATAH, "Citatah")

    exported = api.list("admin", None, "?format=csv")
    assert exported.status_code == 200
    rows = {r["tracking_id"]: r for r in csv.DictReader(io.StringIO(exported.body.decode()))}
    assert (rows[tid]["desa"], rows[tid]["desa_name"]) == (JAYAGIRI, "Jayagiri")
    nameless = [r for r in rows.values() if r["desa"] == ""]
    assert len(nameless) == 1 and nameless[0]["desa_name"] == ""

    stats = client.http.get(f"/stats?period={clock.month_wib(clock.now())}")
    assert stats.status_code == 200, stats.body
    assert stats.json_body["reports"]["by_desa"] == {CIKOLE: 1, JAYAGIRI: 1, CITATAH: 1}


def test_a_rahasia_report_is_not_counted_by_desa(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    api.submit({**with_desa(valid_report, "lembang", JAYAGIRI), "privacy": "rahasia"})
    api.submit(with_desa(valid_report, "lembang", CIKOLE))
    stats = client.http.get(f"/stats?period={clock.month_wib(clock.now())}").json_body["reports"]
    assert stats["by_desa"] == {CIKOLE: 1} and stats["not_broken_down"] == 1
    assert Counter(stats["by_kecamatan"]) == Counter({"lembang": 1})
