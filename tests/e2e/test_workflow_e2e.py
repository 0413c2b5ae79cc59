"""The workflow over HTTP against the real local stack, with staff tokens signed
by the stack's own local key (its state dir), as `python -m chalicelib.cli token` prints them."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local import tokens

pytestmark = pytest.mark.xdist_group("stack")

ROOT = Path(__file__).parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())


class Walk:
    """One report followed by its reporter and by staff, checking status and timeline each step."""

    def __init__(self, http: Any, stack: Any, privacy: str = "publik") -> None:
        self.http = http
        self.key, self.iss, self.aud = tokens.read_state(Path(stack.state_dir))
        body = copy.deepcopy(EXAMPLE)
        body["privacy"] = privacy
        status, created, _ = http.call("POST", "/reports", body)
        assert status == 201, created
        self.tid, self.token = created["tracking_id"], created["access_token"]
        self.statuses = ["diajukan"]
        self.check("diajukan")

    def bearer(self, role: str, opd: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + tokens.mint(self.key, role=role, opd_code=opd, issuer=self.iss,
                                                         audience=self.aud)}

    def staff(self, role: str, opd: str | None, action: str, expect: str, **fields: Any) -> dict[str, Any]:
        """The action with If-Match of the version just read. The stack's own consumers (the
        SP4N-LAPOR! sync records each sync as an internal event) may change the report in
        between, which the service forgives; a 409 is retried after a reload only to tolerate a
        sync record racing the version check itself, and only when the system alone acted."""
        for _ in range(5):
            before = self.staff_view()
            version = before["version"]
            status, view, _ = self.http.call("POST", f"/staff/reports/{self.tid}/actions",
                                             {"action": action, **fields},
                                             headers={**self.bearer(role, opd), "If-Match": str(version)})
            if status != 409 or view["error"]["code"] != "version_conflict":
                break
            seen = len(before["audit_trail"])
            newer = self.staff_view()["audit_trail"][seen:]
            assert newer and all(e["actor"] == "sistem" and not e["public"] for e in newer), newer
        assert status == 200, (action, view)
        assert view["status"] == expect and view["version"] > version
        assert view["audit_trail"][-1]["action"] == action
        self.statuses.append(expect)
        self.check(expect)
        return view

    def reporter(self, path: str, body: dict[str, Any], expect: str) -> dict[str, Any]:
        status, view, _ = self.http.call("POST", f"/reports/{self.tid}/{path}", body,
                                         headers={"X-Access-Token": self.token})
        assert status == 200, view
        assert view["status"] == expect
        self.statuses.append(expect)
        self.check(expect)
        return view

    def staff_view(self, role: str = "admin", opd: str | None = None) -> dict[str, Any]:
        status, view, _ = self.http.call("GET", f"/staff/reports/{self.tid}", headers=self.bearer(role, opd))
        assert status == 200, view
        return view

    def check(self, expect: str) -> None:
        status, mine, _ = self.http.call("GET", f"/reports/{self.tid}", headers={"X-Access-Token": self.token})
        assert status == 200 and mine["status"] == expect
        assert [t["status"] for t in mine["timeline"]] == self.statuses, mine["timeline"]
        assert "actor_id" not in json.dumps(mine) and "local-" not in json.dumps(mine)
        staff = self.staff_view()
        assert staff["status"] == expect and [t["status"] for t in staff["timeline"]] == self.statuses


def test_cli_token_is_accepted_by_the_stack(http: Any, stack: Any) -> None:
    env = {**os.environ, "LAPOR_STATE_DIR": str(stack.state_dir)}
    out = subprocess.run([sys.executable, "-m", "chalicelib.cli", "token", "--role", "opd", "--opd", "DPUPR"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    status, body, _ = http.call("GET", "/staff/reports?limit=1", headers={"Authorization": f"Bearer {out.stdout.strip()}"})
    assert status == 200 and "items" in body
    status, body, _ = http.call("GET", "/staff/reports", headers={"Authorization": "Bearer " + out.stdout.strip()[:-4] + "AAAA"})
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    status, body, _ = http.call("GET", "/staff/reports")
    assert status == 401


def test_verify_accept_respond_feedback_resolved(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR", note="jalan kabupaten")
    w.staff("opd", "DPUPR", "accept", "diproses")
    w.staff("opd", "DPUPR", "respond", "ditindaklanjuti", message="Lubang sudah ditambal hari ini.")
    mine = w.reporter("feedback", {"resolved": True, "rating": 5, "comment": "Terima kasih."}, "selesai")
    assert mine["timeline"][3]["message"] == "Lubang sudah ditambal hari ini."
    assert "jalan kabupaten" not in json.dumps(mine)
    assert w.staff_view()["rating"] == 5


def test_request_info_reply_verify(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    w.staff("admin", None, "request_info", "perlu_kelengkapan", message="Mohon kirim foto lokasi.")
    w.reporter("replies", {"message": "Lokasinya di depan pasar, sebelah masjid."}, "diajukan")
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR")


def test_return_redispose(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DINSOS")
    view = w.staff("opd", "DINSOS", "return", "dikembalikan", reason_code="bukan_wewenang", reason="Bukan wewenang Dinas Sosial.")
    assert view["returned_by"] == ["DINSOS"] and view["opd_code"] is None
    view = w.staff("admin", None, "redispose", "didisposisikan", opd_code="DPUPR", note="ke DPUPR")
    assert view["opd_code"] == "DPUPR" and view["returned_by"] == ["DINSOS"]
    status, _, _ = http.call("GET", f"/staff/reports/{w.tid}", headers=w.bearer("opd", "DINSOS"))
    assert status == 404
    assert w.staff_view("opd", "DPUPR")["status"] == "didisposisikan"


def test_respond_reply_reopens(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR")
    w.staff("opd", "DPUPR", "respond", "ditindaklanjuti", message="Sudah diperbaiki.")
    mine = w.reporter("replies", {"message": "Belum, lubangnya masih ada."}, "diproses")
    assert mine["opd"]["code"] == "DPUPR"
    w.staff("opd", "DPUPR", "respond", "ditindaklanjuti", message="Sudah ditambal ulang.")


def test_reject(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    view = w.staff("admin", None, "reject", "ditolak", reason="bukan_pengaduan", message="Ini bukan pengaduan layanan publik.")
    assert view["timeline"][-1]["message"] == "Ini bukan pengaduan layanan publik."
    status, body, _ = http.call("POST", f"/reports/{w.tid}/replies", {"message": "kenapa?"},
                                headers={"X-Access-Token": w.token})
    assert status == 409 and body["error"]["code"] == "invalid_transition"


def test_close(http: Any, stack: Any) -> None:
    w = Walk(http, stack)
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR")
    w.staff("admin", None, "close", "selesai", message="Sudah ditangani langsung oleh kecamatan.")
    status, body, _ = http.call("POST", f"/staff/reports/{w.tid}/actions", {"action": "respond", "message": "x"},
                                headers=w.bearer("opd", "DPUPR"))
    assert status == 409 and body["error"]["code"] == "invalid_transition"


def test_stale_if_match_and_anonim_privacy_over_http(http: Any, stack: Any) -> None:
    w = Walk(http, stack, privacy="anonim")
    w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR")
    status, body, _ = http.call("POST", f"/staff/reports/{w.tid}/actions", {"action": "accept"},
                                headers={**w.bearer("opd", "DPUPR"), "If-Match": "1"})
    assert status == 409 and body["error"]["code"] == "version_conflict"
    view = w.staff_view("opd", "DPUPR")
    assert view["reporter"] is None and view["privacy"] == "anonim"


def test_progress_opd_request_info_and_a_raised_privacy_over_http(http: Any, stack: Any) -> None:
    from datetime import date, timedelta

    w = Walk(http, stack)
    view = w.staff("admin", None, "verify", "didisposisikan", opd_code="DPUPR", privacy="rahasia")
    assert view["privacy"] == "rahasia"
    planned = (date.today() + timedelta(days=40)).isoformat()
    w.staff("opd", "DPUPR", "progress", "diproses", message="Survei lokasi selesai.", planned_completion=planned)
    due = w.staff_view()["sla"]["due_at"]
    view = w.staff("opd", "DPUPR", "progress", "diproses", message="Material sudah dipesan.")
    assert view["sla"]["due_at"] == due  # a progress update is not an answer: the deadline stays
    status, mine, _ = http.call("GET", f"/reports/{w.tid}", headers={"X-Access-Token": w.token})
    assert mine["planned_completion"] == planned
    assert [t["action"] for t in mine["timeline"]][-2:] == ["progress", "progress"]

    view = w.staff("opd", "DPUPR", "request_info", "perlu_kelengkapan", message="Mohon kirim foto lubangnya.")
    assert view["audit_trail"][-1]["data"]["asked_by"] == "opd"
    mine = w.reporter("replies", {"message": "Foto sudah saya unggah."}, "diproses")
    assert mine["opd"]["code"] == "DPUPR"  # back to the OPD that asked, not to verification

    status, body, _ = http.call("POST", f"/staff/reports/{w.tid}/actions",
                                {"action": "return", "reason_code": "entah", "reason": "x"},
                                headers=w.bearer("opd", "DPUPR"))
    assert status == 400 and body["error"]["details"][0]["field"] == "reason_code"
    view = w.staff("opd", "DPUPR", "return", "dikembalikan", reason_code="kewenangan_pusat_provinsi",
                   reason="Jalan provinsi.")
    assert view["audit_trail"][-1]["data"]["reason_code"] == "kewenangan_pusat_provinsi"
