"""The access log: one line for every staff read that shows a reporter's identity (report view,
reveal) and every CSV export, with who, what and how many, and never the personal data."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_observability import Lines, log_lines  # noqa: F401  (fixture)
from tests.staff_support import CANARY, Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def canary(valid_report: dict[str, Any], privacy: str) -> dict[str, Any]:
    return {**valid_report, "privacy": privacy,
            "reporter": {"name": CANARY["name"], "email": CANARY["email"], "phone": CANARY["phone"],
                         "nik": CANARY["nik"]}}


def access_lines(lines: Lines) -> Iterator[dict[str, Any]]:
    for line in lines:
        record = json.loads(line)
        if record.get("message") == "staff access":
            yield record


def assert_no_personal_data(lines: Lines) -> None:
    text = lines.getvalue()
    for value in (CANARY["name"], CANARY["email"], CANARY["nik"], "81398765432"):
        assert value not in text


def test_an_identity_view_and_a_reveal_leave_one_line_each(client: Any, valid_report: dict[str, Any],
                                                           log_lines: Lines) -> None:  # noqa: F811
    api = Api(client)
    named = api.submit(canary(valid_report, "publik"))["tracking_id"]
    anon = api.submit(canary(valid_report, "anonim"))["tracking_id"]
    log_lines.truncate(0)
    log_lines.seek(0)

    assert api.get(named, "admin").status_code == 200      # shows the contact: logged
    assert api.get(anon, "admin").status_code == 200       # shows no identity: not logged
    assert api.get(anon, "pimpinan").status_code == 200    # pimpinan never see one: not logged
    assert api.reveal(anon, fields=["nik"]).status_code == 200
    records = [r["access"] for r in access_lines(log_lines)]
    assert records == [
        {"what": "report_view", "sub": "local-admin", "role": "admin", "rows": 1, "fields": ["contact"],
         "tracking_id": named},
        {"what": "reveal", "sub": "local-admin", "role": "admin", "rows": 1, "fields": ["contact", "nik"],
         "tracking_id": anon},
    ]
    assert_no_personal_data(log_lines)


def test_every_csv_export_leaves_one_line_with_filters_and_rows(client: Any, valid_report: dict[str, Any],
                                                                log_lines: Lines) -> None:  # noqa: F811
    api = Api(client)
    for privacy in ("publik", "anonim", "rahasia"):
        api.submit(canary(valid_report, privacy))
    log_lines.truncate(0)
    log_lines.seek(0)
    assert api.list("admin", None, "?format=csv&status=diajukan").status_code == 200
    assert api.list("pimpinan", None, "?format=csv").status_code == 200
    assert api.list("admin", None, "?limit=5").status_code == 200  # a page on screen is no export
    records = [r["access"] for r in access_lines(log_lines)]
    assert records == [
        {"what": "export_csv", "sub": "local-admin", "role": "admin", "rows": 3, "fields": [],
         "filters": {"status": "diajukan"}},
        {"what": "export_csv", "sub": "local-pimpinan", "role": "pimpinan", "rows": 2, "fields": [],
         "filters": {}},
    ]
    assert_no_personal_data(log_lines)
