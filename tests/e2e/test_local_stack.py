"""The real local stack in subprocesses, over HTTP."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("stack")

EXAMPLE = json.loads((Path(__file__).parents[2] / "docs" / "example-report.json").read_text())


def test_submit_and_read_back_over_http(http) -> None:
    status, created, _ = http.call("POST", "/reports", EXAMPLE)
    assert status == 201, created
    status, view, _ = http.call("GET", f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]})
    assert status == 200
    assert view["title"] == EXAMPLE["title"] and view["description"] == EXAMPLE["description"]
    assert view["status"] == "diajukan" and view["due_at"] == created["due_at"]


def test_contract_errors_over_http(http) -> None:
    status, body, _ = http.call("POST", "/reports", raw=b"{not json")
    assert status == 400 and body["error"]["code"] == "validation_error"
    status, body, _ = http.call("POST", "/reports", raw=b"x" * (65 * 1024))
    assert status == 413 and body["error"]["code"] == "too_large"
    status, body, _ = http.call("POST", "/reports", raw=b"a=b", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"


def test_openapi_served(http) -> None:
    status, doc, _ = http.call("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.") and "/reports" in doc["paths"]
