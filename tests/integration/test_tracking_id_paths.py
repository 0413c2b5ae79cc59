"""A path id that cannot be a tracking id is a 404 on every route that takes one, before any
read (a 2,048-byte key used to reach DynamoDB, which refused it: a 500)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.api.routes import ROUTES
from tests.staff_support import bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

BAD_IDS = ["K" * 2048, "KBB-" + "X" * 2044, "KBB-!!!!-****", "KBB-0000-00000", "' OR 1=1 --", "KBB-UUUU-0000"]
WITH_ID = [(path, method) for path, method, _ in ROUTES if "{tracking_id}" in path]


def calls_to_aws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        # Reads and decryptions; the per-client lookup counter (an UpdateItem) counts before, on purpose.
        if self.meta.service_model.service_name in ("kms", "s3") or operation in (
                "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"):
            calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def test_every_route_with_a_tracking_id_is_covered() -> None:
    assert len(WITH_ID) >= 6


@pytest.mark.parametrize(("path", "method"), WITH_ID)
def test_a_malformed_tracking_id_is_a_404_before_any_read(client: Any, monkeypatch: pytest.MonkeyPatch,
                                                          path: str, method: str) -> None:
    calls = calls_to_aws(monkeypatch)
    headers = {"Content-Type": "application/json", "X-Access-Token": "x" * 32,
               **(bearer("admin") if path.startswith("/staff") else {})}
    for bad in BAD_IDS:
        url = path.replace("{tracking_id}", bad).replace("{attachment_id}", "a" * 26)
        r = getattr(client.http, method.lower())(url, headers=headers, body=json.dumps({}))
        assert r.status_code == 404, (method, url[:40], r.status_code, r.body[:200])
        assert r.json_body["error"]["code"] == "not_found"
    assert calls == [], calls


def test_tracking_ids_as_people_type_them_still_work(client: Any, valid_report: dict[str, Any]) -> None:
    created = client.http.post("/reports", body=json.dumps(valid_report),
                               headers={"Content-Type": "application/json"}).json_body
    tid, token = created["tracking_id"], created["access_token"]
    for typed in (tid, tid.lower(), tid.replace("-", ""), f" {tid.lower()} "):
        r = client.http.get(f"/reports/{typed}", headers={"X-Access-Token": token})
        assert r.status_code == 200, typed
    assert client.http.get(f"/staff/reports/{tid}", headers=bearer("admin")).status_code == 200
