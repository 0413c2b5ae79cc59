"""`make run` keeps its data across a restart: the reporter's code still opens the report, the NIK
still decrypts, the SP4N-LAPOR! stand-in still holds the complaint filed before, and nothing that
was sent before the stop is sent again after it."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import LocalStack, Ports
from tests.e2e.conftest import Http
from tests.e2e.support import cli, wait_for

pytestmark = pytest.mark.xdist_group("stack")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())
NIK = "3217014501900002"


def _stack(tmp: Path, data_dir: Path | None) -> LocalStack:
    return LocalStack(ports=Ports.free(), state_dir=tmp / "state", log_dir=Path("test-artifacts/stack-logs"),
                      sla_interval=3600, with_web=False, data_dir=data_dir)


def _outbox(stack: LocalStack) -> list[dict[str, Any]]:
    from chalicelib.local import outbox

    return outbox.sent(stack.moto_url)


def _stored_nik(stack: LocalStack, tracking_id: str) -> str:
    script = f"""
from chalicelib import cli
cli.load_env()
from chalicelib.adapters import kms
from chalicelib.data import reports
report = reports.get({tracking_id!r})
print(kms.decrypt_nik(bytes(report.nik_ciphertext), report.tracking_id))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["LAPOR_STATE_DIR"] = str(stack.state_dir)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _lapor(stack: LocalStack) -> list[dict[str, Any]]:
    """The complaints the SP4N-LAPOR! stand-in holds."""
    with urllib.request.urlopen(stack.sp4n_url + "/_standin/complaints", timeout=10) as resp:
        return list(json.loads(resp.read())["items"])


def test_a_restart_keeps_reports_codes_niks_and_sends_nothing_twice(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    body = copy.deepcopy(EXAMPLE)
    body["reporter"]["nik"] = NIK

    first = _stack(tmp_path, data_dir)
    try:
        first.start()
        assert first.restored == {}  # nothing kept yet: an empty start
        http = Http(first.api_url)
        status, created, _ = http.call("POST", "/reports", body)
        assert status == 201, created
        tid, code = created["tracking_id"], created["access_token"]
        admin = {"Authorization": "Bearer " + cli(first, "token", "--role", "admin").strip()}
        status, view, _ = http.call("POST", f"/staff/reports/{tid}/actions", {"action": "verify", "opd_code": "DPUPR"},
                                    headers=admin)
        assert status == 200, view
        wait_for(lambda: [m for m in _outbox(first) if tid in (m["subject"] or "") and any("dpupr" in t for t in m["to"])],
                 timeout=60, what="the OPD's disposition email")
        assert _stored_nik(first, tid) == NIK
        filed = wait_for(lambda: [c for c in _lapor(first) if c["title"] == body["title"]], timeout=60,
                         what="the SP4N-LAPOR! complaint")
    finally:
        first.stop()
    saved = json.loads((data_dir / "dynamodb" / "REPORTS_TABLE.json").read_text())
    assert [i["tracking_id"]["S"] for i in saved] == [tid]
    assert NIK not in (data_dir / "dynamodb" / "REPORTS_TABLE.json").read_text()  # kept encrypted

    second = _stack(tmp_path, data_dir)
    try:
        second.start()
        assert second.restored["REPORTS_TABLE"] == 1 and second.restored["EVENTS_TABLE"] >= 2
        http = Http(second.api_url)
        status, view, _ = http.call("GET", f"/reports/{tid}", headers={"X-Access-Token": code})
        assert status == 200 and view["status"] == "didisposisikan", view
        assert _stored_nik(second, tid) == NIK
        # The restored events were dispatched before the stop: the pump passes over them.
        time.sleep(5)
        assert _outbox(second) == []
        # LAPOR!'s side is kept too: the complaint filed before the stop, under the same number.
        assert [c["complaint_id"] for c in _lapor(second)] == [filed[0]["complaint_id"]]
        # The new run works on: a new report is still told to its reporter.
        status, again, _ = http.call("POST", "/reports", EXAMPLE)
        assert status == 201 and again["tracking_id"] != tid
        wait_for(lambda: [m for m in _outbox(second) if again["tracking_id"] in (m["subject"] or "") + (m["body"] or "")],
                 timeout=60, what="the new report's receipt")
        # Numbers go on from the kept ones: the restored complaint map never meets a reused number.
        refiled = wait_for(lambda: [c["complaint_id"] for c in _lapor(second)][1:], timeout=60,
                           what="the new report's SP4N-LAPOR! complaint")
        assert refiled == [filed[0]["complaint_id"] + 1]
    finally:
        second.stop()

    fresh = _stack(tmp_path, None)  # what `make run FRESH=1` gives: nothing restored
    try:
        fresh.start()
        status, _, _ = Http(fresh.api_url).call("GET", f"/reports/{tid}", headers={"X-Access-Token": code})
        assert status == 404 and fresh.restored == {} and _lapor(fresh) == []
    finally:
        fresh.stop()
