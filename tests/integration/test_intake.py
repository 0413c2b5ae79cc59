"""Intake over the Chalice test client against moto provisioned from infra/resources.yaml."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import access_key
from chalicelib.domain import access_code


def post(client: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.http.post("/reports", body=data, headers={"Content-Type": "application/json", **(headers or {})})


def test_submit_then_read_back(client: Any, valid_report: dict[str, Any]) -> None:
    r = post(client, valid_report)
    assert r.status_code == 201, r.body
    created = r.json_body
    assert created["status"] == "diajukan"
    assert created["tracking_id"].startswith("KBB-") and len(created["tracking_id"]) == 13
    # The grouped access code: 4 x 4 symbols without look-alikes, at most 20 characters.
    assert access_code.canonical(created["access_token"]) is not None and len(created["access_token"]) == 19
    assert created["created_at"].endswith("+07:00") and created["due_at"].endswith("+07:00")

    got = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]})
    assert got.status_code == 200
    view = got.json_body
    assert view["title"] == valid_report["title"]
    assert view["description"] == valid_report["description"]
    assert view["status"] == "diajukan"
    assert view["due_at"] == created["due_at"]
    assert view["kecamatan"] == "lembang"
    assert [t["status"] for t in view["timeline"]] == ["diajukan"]
    assert view["timeline"][0]["actor"] == "pelapor"
    body = json.dumps(view)
    for secret in ("3217014508900001", "siti@example.org", "+6281234567890", "Siti Aminah"):
        assert secret not in body


def test_token_stored_only_as_hash_and_nik_encrypted(client: Any, valid_report: dict[str, Any]) -> None:
    created = post(client, valid_report).json_body
    from chalicelib.data.models import Report

    item = Report.get(created["tracking_id"])
    assert item.access_token_hash == access_code.digest(access_key.key(), created["access_token"])
    raw = str(item.serialize())
    assert created["access_token"] not in raw
    assert "3217014508900001" not in raw
    assert item.nik_ciphertext and b"3217014508900001" not in item.nik_ciphertext
    from chalicelib.adapters.kms import decrypt_nik

    assert decrypt_nik(item.nik_ciphertext, item.tracking_id) == "3217014508900001"
    assert item.reporter.phone == "+6281234567890"


def test_wrong_token_and_unknown_id_are_identical_404(client: Any, valid_report: dict[str, Any]) -> None:
    created = post(client, valid_report).json_body
    wrong = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": "nope" * 10})
    missing_token = client.http.get(f"/reports/{created['tracking_id']}")
    unknown = client.http.get("/reports/KBB-0000-0000", headers={"X-Access-Token": created["access_token"]})
    assert wrong.status_code == missing_token.status_code == unknown.status_code == 404
    assert wrong.body == missing_token.body == unknown.body
    assert json.loads(wrong.body)["error"]["code"] == "not_found"


def test_tracking_id_is_forgiving_when_typed(client: Any, valid_report: dict[str, Any]) -> None:
    created = post(client, valid_report).json_body
    typed = created["tracking_id"].lower().replace("-", "")
    got = client.http.get(f"/reports/{typed}", headers={"X-Access-Token": created["access_token"]})
    assert got.status_code == 200


def test_idempotent_retry_returns_first_answer_and_stores_one(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Report, ReportEvent

    key = {"Idempotency-Key": "c0ffee00-1111-2222-3333-444455556666"}
    first = post(client, valid_report, key)
    second = post(client, valid_report, key)
    assert first.status_code == second.status_code == 201
    assert first.json_body == second.json_body
    assert Report.count() == 1 and ReportEvent.count() == 1
    other = dict(valid_report, title="Judul yang lain sama sekali")
    conflict = post(client, other, key)
    assert conflict.status_code == 409
    assert conflict.json_body["error"]["code"] == "idempotency_conflict"
    assert Report.count() == 1


def test_anonymous_needs_no_identity_and_sensitive_defaults_to_rahasia(client: Any, valid_report: dict[str, Any]) -> None:
    anon = dict(valid_report, privacy="anonim", reporter={})
    assert post(client, anon).status_code == 201
    sensitive = dict(valid_report, category="bansos")
    del sensitive["privacy"]
    created = post(client, sensitive).json_body
    view = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]}).json_body
    assert view["privacy"] == "rahasia"


def test_submission_costs_at_most_three_aws_calls(client: Any, valid_report: dict[str, Any], aws_calls: Any) -> None:
    post(client, valid_report)  # warm the reference cache, as a warm container would have it
    aws_calls.clear()
    r = post(client, valid_report, {"Idempotency-Key": "k-0123456789abcdef"})
    assert r.status_code == 201
    assert sum(aws_calls.values()) <= 3, aws_calls
    assert aws_calls["dynamodb.TransactWriteItems"] == 1
    assert not [c for c in aws_calls if c.startswith("kms.")], "the container's data key encrypts the NIK"


def test_reference_routes(client: Any) -> None:
    kec = client.http.get("/kecamatan").json_body["items"]
    assert len(kec) == 16
    ngamprah = next(k for k in kec if k["code"] == "ngamprah")
    assert ngamprah["name"] == "Ngamprah" and {"code": "32.17.06.2008", "name": "Mekarsari"} in ngamprah["desa"]
    opds = client.http.get("/opds").json_body["items"]
    assert {"code": "DINSOS", "name": "Dinas Sosial"} in opds
    assert all(set(o) == {"code", "name"} for o in opds)
    cats = client.http.get("/categories").json_body["items"]
    assert {"code": "jalan_rusak", "name": "Jalan rusak", "opd_code": "DPUPR", "sensitive": False} in cats
    assert client.http.get("/health").json_body == {"status": "ok"}
