"""GET /staff/reports: filters through the GSIs (never a Scan), pages with opaque, signed cursors
(a tampered, forged or replayed cursor is a 400), and the CSV export of the same list."""
from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import pytest

from chalicelib.data.models import Report
from tests.staff_support import Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.body
    return [i["tracking_id"] for i in r.json_body["items"]]


def all_pages(api: Api, role: str, opd: str | None, query: str) -> list[str]:
    out: list[str] = []
    cursor = None
    for _ in range(50):
        sep = "&" if "?" in query else "?"
        r = api.list(role, opd, query + (f"{sep}cursor={cursor}" if cursor else ""))
        out += ids(r)
        cursor = r.json_body["next_cursor"]
        if not cursor:
            return out
    raise AssertionError("pagination does not end")


def test_pages_filters_and_no_scan(client: Any, valid_report: dict[str, Any], aws_calls: Counter[str]) -> None:
    api = Api(client)
    made: dict[str, list[str]] = {"DPUPR": [], "DINSOS": [], "new": [], "cipatat": []}
    for i in range(5):
        c = api.submit(valid_report)
        api.walk(c, "didisposisikan" if i % 2 else "diproses", opd="DPUPR")
        made["DPUPR"].append(c["tracking_id"])
    for _ in range(2):
        c = api.submit(valid_report)
        api.walk(c, "diproses", opd="DINSOS")
        made["DINSOS"].append(c["tracking_id"])
    for _ in range(2):
        made["new"].append(api.submit(valid_report)["tracking_id"])
    c = api.submit({**valid_report, "location": {**valid_report["location"], "kecamatan": "Cipatat", "desa": "Citatah"}})
    made["cipatat"].append(c["tracking_id"])
    everything = [t for group in made.values() for t in group]
    aws_calls.clear()

    # opd: its own, page by page, each exactly once
    pages = all_pages(api, "opd", "DPUPR", "?limit=2")
    assert sorted(pages) == sorted(made["DPUPR"]) and len(pages) == 5
    assert sorted(all_pages(api, "opd", "DPUPR", "?status=diproses&limit=1")) == sorted(made["DPUPR"][0::2])
    # admin: every report newest first across the month index; by status; by OPD; by kecamatan
    newest_first = all_pages(api, "admin", None, "?limit=3")
    assert sorted(newest_first) == sorted(everything) and len(newest_first) == len(everything)
    created = [Report.get(t).created_at for t in newest_first]
    assert created == sorted(created, reverse=True)
    assert sorted(all_pages(api, "admin", None, "?status=diajukan&limit=2")) == sorted(made["new"] + made["cipatat"])
    assert sorted(all_pages(api, "pimpinan", None, "?opd_code=DINSOS")) == sorted(made["DINSOS"])
    assert all_pages(api, "admin", None, "?kecamatan=cipatat&limit=1") == made["cipatat"]
    assert all_pages(api, "admin", None, "?kecamatan=Cipatat&status=diajukan") == made["cipatat"]
    assert sorted(all_pages(api, "opd", "DPUPR", "?kecamatan=lembang&limit=2")) == sorted(made["DPUPR"])

    scans = [k for k in aws_calls if k.endswith(".Scan")]
    assert scans == [] and aws_calls["dynamodb.Query"] > 0


def test_cursor_tampering_and_replay_are_400(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    for _ in range(3):
        c = api.submit(valid_report)
        api.walk(c, "diproses", opd="DPUPR")
    for _ in range(3):
        c = api.submit(valid_report)
        api.walk(c, "diproses", opd="DINSOS")
    first = api.list("opd", "DPUPR", "?limit=1").json_body
    cursor = first["next_cursor"]
    assert cursor and "DPUPR" not in cursor and "KBB-" not in cursor  # opaque
    assert api.list("opd", "DPUPR", f"?limit=1&cursor={cursor}").status_code == 200

    body, mac = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["p"]["k"]["opd_code"] = {"S": "DINSOS"}  # try to walk into another OPD's partition
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + mac
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (forged, flipped, cursor + "x", "x" + cursor, "abc", "a.b", "%7B%7D"):
        r = api.list("opd", "DPUPR", f"?limit=1&cursor={bad}")
        assert r.status_code == 400 and r.json_body["error"]["details"][0]["field"] == "cursor", bad
    # a genuine cursor replayed by another OPD, another role or on another filter
    assert api.list("opd", "DINSOS", f"?limit=1&cursor={cursor}").status_code == 400
    assert api.list("admin", None, f"?limit=1&cursor={cursor}").status_code == 400
    assert api.list("opd", "DPUPR", f"?limit=1&status=diproses&cursor={cursor}").status_code == 400


@pytest.mark.parametrize("query", [
    "?status=tutup", "?opd_code=NOPE", "?kecamatan=Bandung", "?limit=0", "?limit=101", "?limit=abc",
    "?format=xml", "?sort=created_at", "?limit=-1",
])
def test_bad_list_parameters_are_400(client: Any, query: str) -> None:
    r = Api(client).list("admin", None, query)
    assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error"


def test_month_walk_reaches_older_months(client: Any, valid_report: dict[str, Any]) -> None:
    """Reports of earlier months come after this month's, through empty months in between."""
    api = Api(client)
    now_ids = [api.submit(valid_report)["tracking_id"] for _ in range(2)]
    old = api.submit(valid_report)["tracking_id"]
    item = Report.get(old)
    item.update(actions=[Report.created_month.set("2025-03"), Report.created_at.set("2025-03-10T01:00:00.000000+00:00")])
    got = all_pages(api, "admin", None, "?limit=2")
    assert sorted(got[:2]) == sorted(now_ids) and got[-1] == old and len(got) == 3


def test_csv_export(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    c = api.submit({**valid_report, "title": "=HYPERLINK(\"http://x\") jalan rusak"})
    api.walk(c, "diproses", opd="DPUPR")
    r = api.list("opd", "DPUPR", "?format=csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    lines = r.body.decode().splitlines()
    assert lines[0].startswith("tracking_id,type,title") and c["tracking_id"] in lines[1]
    assert "'=HYPERLINK" in lines[1]  # no formula injection into spreadsheets
