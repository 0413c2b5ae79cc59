"""Canned answers: listed per category and action for admins and OPD officers, managed by admins
without a deploy, every change audited."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.data.models import ReportEvent
from tests.staff_support import bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def listing(client: Any, query: str, role: str = "admin", opd: str | None = None) -> Any:
    return client.http.get(f"/staff/templates{query}", headers=bearer(role, opd))


def put(client: Any, template_id: str, body: dict[str, Any], role: str = "admin") -> Any:
    return client.http.put(f"/staff/templates/{template_id}", body=json.dumps(body),
                           headers={"Content-Type": "application/json", **bearer(role)})


def test_a_category_gets_its_own_templates_and_the_general_ones(client: Any) -> None:
    answer = listing(client, "?category=jalan_rusak&action=request_info", "opd", "DPUPR")
    assert answer.status_code == 200
    items = answer.json_body["items"]
    assert items[0]["id"] == "jalan-minta-ruas"  # the category's own first
    assert {i["category"] for i in items} == {"jalan_rusak", None} and {i["action"] for i in items} == {"request_info"}
    other = listing(client, "?category=drainase&action=request_info").json_body["items"]
    assert "jalan-minta-ruas" not in [i["id"] for i in other] and other  # another category: the general ones only
    assert all(i["action"] == "respond" for i in listing(client, "?category=jalan_rusak&action=respond").json_body["items"])


@pytest.mark.parametrize("query, field", [("?category=tidak_ada", "category"), ("?action=close", "action")])
def test_an_unknown_category_or_action_is_400(client: Any, query: str, field: str) -> None:
    answer = listing(client, query)
    assert answer.status_code == 400 and answer.json_body["error"]["details"][0]["field"] == field


def test_pimpinan_see_no_templates(client: Any) -> None:
    assert listing(client, "", "pimpinan").status_code == 403


def test_an_admin_changes_a_template_without_a_deploy_and_the_change_is_audited(client: Any) -> None:
    body = {"category": "drainase", "action": "respond", "title": "Saluran dibersihkan",
            "text": "Saluran di lokasi yang Anda laporkan telah dibersihkan oleh petugas hari ini."}
    assert put(client, "drainase-dibersihkan", body).status_code == 200
    items = listing(client, "?category=drainase&action=respond").json_body["items"]
    assert [i["title"] for i in items if i["id"] == "drainase-dibersihkan"] == ["Saluran dibersihkan"]
    changed = put(client, "drainase-dibersihkan", {**body, "title": "Saluran sudah bersih"})
    assert changed.status_code == 200 and changed.json_body["title"] == "Saluran sudah bersih"
    gone = client.http.delete("/staff/templates/drainase-dibersihkan", headers=bearer("admin"))
    assert gone.status_code == 200
    assert client.http.delete("/staff/templates/drainase-dibersihkan", headers=bearer("admin")).status_code == 404
    trail = list(ReportEvent.query("audit#reply_templates"))
    assert [e.action for e in trail] == ["reply_template_set", "reply_template_set", "reply_template_removed"]
    assert trail[1].data["old"]["title"] == "Saluran dibersihkan" and trail[1].data["new"]["title"] == "Saluran sudah bersih"
    assert trail[2].data["new"] is None and all(e.actor_id == "local-admin" for e in trail)


@pytest.mark.parametrize("body, field", [
    ({"category": "bukan_kategori", "action": "respond", "title": "Judul", "text": "Teks yang cukup panjang."}, "category"),
    ({"action": "close", "title": "Judul", "text": "Teks yang cukup panjang."}, "action"),
    ({"action": "respond", "title": "Judul", "text": "pendek"}, "text"),
])
def test_bad_templates_are_400_and_change_nothing(client: Any, body: dict[str, Any], field: str) -> None:
    answer = put(client, "templat-baru", body)
    assert answer.status_code == 400
    assert [d["field"] for d in answer.json_body["error"]["details"]] == [field]
    assert "templat-baru" not in [i["id"] for i in listing(client, "").json_body["items"]]


def test_only_admins_manage_templates(client: Any) -> None:
    body = {"action": "respond", "title": "Judul", "text": "Teks yang cukup panjang."}
    assert client.http.put("/staff/templates/x-baru", body=json.dumps(body),
                           headers={"Content-Type": "application/json", **bearer("opd", "DPUPR")}).status_code == 403
