"""Helpers for the staff tests: a local RS256 key, tokens, and reports walked to a status.

The key pair is generated once per test process; `staff_auth` points chalicelib.auth at it the
way the local stack's hook does (LOCAL_JWT_PUBLIC_KEY, JWT_ISSUER, JWT_AUDIENCE, CURSOR_SECRET).
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import pytest

from chalicelib.local import tokens

CANARY = {
    "name": "Kanari Waluyo Sutisna",
    "email": "kanari.canary@example.net",
    "phone": "0813-9876-5432",
    "phone_e164": "+6281398765432",
    "nik": "3217061203850007",
}


@lru_cache(maxsize=1)
def key_pair() -> tuple[str, str]:
    return tokens.generate_pair()


def token(role: str, opd: str | None = None, **kwargs: Any) -> str:
    return tokens.mint(key_pair()[0], role=role, opd_code=opd, **kwargs)


def bearer(role: str, opd: str | None = None, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, opd, **kwargs)}"}


@pytest.fixture
def staff_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_JWT_PUBLIC_KEY", key_pair()[1])
    monkeypatch.setenv("JWT_ISSUER", tokens.ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", tokens.AUDIENCE)
    monkeypatch.setenv("CURSOR_SECRET", "test-cursor-secret-0123456789abcdef")
    monkeypatch.delenv("COGNITO_USER_POOL_ID", raising=False)


class Api:
    """Calls through chalice's test client with JSON bodies."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.http.post("/reports", body=json.dumps(body), headers={"Content-Type": "application/json"})
        assert r.status_code == 201, r.body
        return r.json_body

    def act(self, tid: str, role: str, opd: str | None = None, if_match: Any = None, **body: Any) -> Any:
        headers = {"Content-Type": "application/json", **bearer(role, opd)}
        if if_match is not None:
            headers["If-Match"] = str(if_match)
        return self.client.http.post(f"/staff/reports/{tid}/actions", body=json.dumps(body), headers=headers)

    def ok(self, tid: str, role: str, opd: str | None = None, **body: Any) -> dict[str, Any]:
        r = self.act(tid, role, opd, **body)
        assert r.status_code == 200, (body, r.status_code, r.body)
        return r.json_body

    def get(self, tid: str, role: str, opd: str | None = None, query: str = "") -> Any:
        return self.client.http.get(f"/staff/reports/{tid}{query}", headers=bearer(role, opd))

    def reveal(self, tid: str, role: str = "admin", opd: str | None = None, fields: Any = ("identity",),
               reason: Any = "Permintaan resmi kepolisian, surat nomor 12/2026.") -> Any:
        body = {"fields": list(fields), "reason": reason}
        return self.client.http.post(f"/staff/reports/{tid}/reveal", body=json.dumps(body),
                                     headers={"Content-Type": "application/json", **bearer(role, opd)})

    def list(self, role: str, opd: str | None = None, query: str = "") -> Any:
        return self.client.http.get(f"/staff/reports{query}", headers=bearer(role, opd))

    def reporter(self, created: dict[str, Any]) -> dict[str, Any]:
        r = self.client.http.get(f"/reports/{created['tracking_id']}",
                                 headers={"X-Access-Token": created["access_token"]})
        assert r.status_code == 200, r.body
        return r.json_body

    def reply(self, created: dict[str, Any], message: str) -> Any:
        return self.client.http.post(f"/reports/{created['tracking_id']}/replies", body=json.dumps({"message": message}),
                                     headers={"Content-Type": "application/json", "X-Access-Token": created["access_token"]})

    def feedback(self, created: dict[str, Any], **body: Any) -> Any:
        return self.client.http.post(f"/reports/{created['tracking_id']}/feedback", body=json.dumps(body),
                                     headers={"Content-Type": "application/json", "X-Access-Token": created["access_token"]})

    def walk(self, created: dict[str, Any], status: str, opd: str = "DPUPR") -> dict[str, Any]:
        """Take a fresh report (diajukan) to `status` through the API; `opd` holds it if any does."""
        tid = created["tracking_id"]
        paths: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {
            "diajukan": [],
            "perlu_kelengkapan": [("request_info", None, {"message": "Mohon lampirkan foto lokasi."})],
            "ditolak": [("reject", None, {"reason": "duplikat", "message": "Laporan ganda."})],
            "didisposisikan": [("verify", None, {"opd_code": opd})],
            "diproses": [("verify", None, {"opd_code": opd}), ("accept", opd, {})],
            "ditindaklanjuti": [("verify", None, {"opd_code": opd}), ("respond", opd, {"message": "Sudah diperbaiki."})],
            "dikembalikan": [("verify", None, {"opd_code": opd}), ("return", opd, {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang kami."})],
            "selesai": [("verify", None, {"opd_code": opd}), ("close", None, {"message": "Ditutup admin."})],
        }
        view: dict[str, Any] = {}
        for action, holder, fields in paths[status]:
            view = self.ok(tid, "opd" if holder else "admin", holder, action=action, **fields)
        return view


class Clock:
    """The service's clock, set by the test (chalicelib.domain.clock.now is patched to it)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def set_clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> Clock:
    """Patch the services' clock to `at`; move it by setting `.at` on the answer."""
    c = Clock(at)
    monkeypatch.setattr("chalicelib.domain.clock.now", c)
    return c
