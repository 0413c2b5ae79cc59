"""SP4N-LAPOR! both ways on the real local stack: LAPOR!'s side played with
`python -m chalicelib.cli sp4n-sim`, pulls with `sp4n-pull`, staff acting over HTTP, the pump
moving the stream and the queues as Lambda's event sources would."""
from __future__ import annotations

import copy
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import cli, wait_for

pytestmark = pytest.mark.xdist_group("stack")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())


def run_id() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=8))  # letters: the redactor leaves them be


def show(stack: Any, complaint_id: str) -> dict[str, Any]:
    return dict(json.loads(cli(stack, "sp4n-sim", "show", complaint_id)))


def ours(stack: Any, complaint_id: str) -> list[dict[str, Any]]:
    return [f for f in show(stack, complaint_id)["followups"] if f["author"] == "institution"]


def tracking_id_of(stack: Any, complaint_id: str) -> str:
    script = (f"from chalicelib import cli\ncli.load_env()\nfrom chalicelib.services import sync\n"
              f"print(sync.mapped_report({complaint_id!r}) or '')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in stack.env}
    env["LAPOR_STATE_DIR"] = str(stack.state_dir)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


class Staff:
    def __init__(self, stack: Any, http: Any) -> None:
        self.http = http
        self.admin = {"Authorization": "Bearer " + cli(stack, "token", "--role", "admin").strip()}
        self.opd = {"Authorization": "Bearer " + cli(stack, "token", "--role", "opd", "--opd", "DPUPR").strip()}

    def act(self, tid: str, action: str, **fields: Any) -> dict[str, Any]:
        who = self.opd if action in ("accept", "respond", "return") else self.admin
        status, body, _ = self.http.call("POST", f"/staff/reports/{tid}/actions", {"action": action, **fields}, who)
        assert status == 200, (action, status, body)
        return dict(body)

    def get(self, tid: str) -> dict[str, Any]:
        status, body, _ = self.http.call("GET", f"/staff/reports/{tid}", headers=self.admin)
        assert status == 200, body
        return dict(body)


def imported(stack: Any, title: str) -> tuple[str, str]:
    complaint_id = cli(stack, "sp4n-sim", "new-complaint", "--title", title, "--text",
                       "Jalan rusak parah sejak bulan lalu.").strip()
    assert len(complaint_id) == 7 and complaint_id.isdigit()
    cli(stack, "sp4n-pull")
    tid = wait_for(lambda: tracking_id_of(stack, complaint_id), what="the import")
    return tid, complaint_id


def test_imported_complaint_runs_its_whole_workflow_with_the_reporter_on_lapor(stack: Any, http: Any) -> None:
    staff = Staff(stack, http)
    tid, cid = imported(stack, f"Jalan desa rusak di Cipatat {run_id()}")
    assert staff.get(tid)["status"] == "diajukan"
    staff.act(tid, "request_info", message="Mohon sebutkan nama desa dan RT.")
    wait_for(lambda: show(stack, cid)["status_code"] == "pending", what="the request on LAPOR!")
    cli(stack, "sp4n-sim", "reply", cid, "--text", "Desa Citatah RT 03.")
    cli(stack, "sp4n-pull")
    cli(stack, "sp4n-pull")  # twice: applied once
    view = staff.get(tid)
    assert view["status"] == "diajukan"
    assert next(e for e in view["timeline"] if e["message"] == "Desa Citatah RT 03.")["actor"] == "pelapor"
    staff.act(tid, "verify", opd_code="DPUPR")
    staff.act(tid, "respond", message="Jalan sudah diperbaiki.")
    wait_for(lambda: show(stack, cid)["status_code"] == "done", what="the answer on LAPOR!")
    cli(stack, "sp4n-sim", "rate", cid, "--rating", "5", "--resolved")
    cli(stack, "sp4n-pull")
    view = staff.get(tid)
    assert view["status"] == "selesai"
    sent = [(f["content"]) for f in ours(stack, cid)]
    assert sent == ["Mohon sebutkan nama desa dan RT.",
                    "Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
                    "Jalan sudah diperbaiki."]  # each step once; the reporter's own never echoed


def test_lapor_admin_conflict_listed_and_settled_over_http_and_cli(stack: Any, http: Any) -> None:
    staff = Staff(stack, http)
    tid, cid = imported(stack, f"Drainase tersumbat di Batujajar {run_id()}")
    staff.act(tid, "verify", opd_code="DPUPR")
    staff.act(tid, "accept")
    wait_for(lambda: show(stack, cid)["status_code"] == "process", what="the accept on LAPOR!")
    cli(stack, "sp4n-sim", "set-status", cid, "archive")
    cli(stack, "sp4n-pull")
    status, listed, _ = http.call("GET", "/staff/sync/problems", headers=staff.admin)
    assert status == 200 and tid in [i["tracking_id"] for i in listed["items"]]
    assert http.call("GET", "/staff/sync/problems", headers=staff.opd)[0] == 403
    assert tid in cli(stack, "sp4n-problems")
    cli(stack, "sp4n-sim", "set-status", cid, "process")  # settled on LAPOR!'s side
    status, outcome, _ = http.call("POST", f"/staff/sync/{tid}/retry", headers=staff.admin)
    assert status == 200 and outcome["problem"] is None
    assert staff.get(tid)["status"] == "diproses"


def test_outage_of_50_events_nothing_lost_nothing_sent_twice(stack: Any, http: Any) -> None:
    """30 reports' steps while LAPOR! answers 503: 20 submits + 10 x (verify, accept, respond).
    What LAPOR! lets us check is its follow-ups per complaint and each complaint by id; the
    creates are counted on the stand-in's own log (a real LAPOR! shows them only by id)."""
    staff = Staff(stack, http)
    run = run_id()
    early = []
    for i in range(10):
        body = copy.deepcopy(EXAMPLE)
        body["title"] = f"Lampu jalan mati tiang {i} blok {run}"
        status, created, _ = http.call("POST", "/reports", body)
        assert status == 201
        early.append(created["tracking_id"])
    complaint_ids = {t: wait_for(lambda t=t: staff.get(t)["sp4n"]["complaint_id"], what="the first syncs")
                     for t in early}
    cli(stack, "sp4n-sim", "show", next(iter(complaint_ids.values())))  # the stand-in is up
    http_standin = stack.sp4n_url + "/_standin/faults"
    import urllib.request

    def fault(mode: str) -> None:
        req = urllib.request.Request(http_standin, data=json.dumps({"mode": mode}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    late_titles = {f"Saluran air tersumbat nomor {i} blok {run}" for i in range(20)}
    fault("5xx")
    try:
        for tid in early:
            staff.act(tid, "verify", opd_code="DPUPR")
            staff.act(tid, "accept")
            staff.act(tid, "respond", message=f"Lampu {tid} sudah diganti.")
        late = []
        for title in sorted(late_titles):
            body = copy.deepcopy(EXAMPLE)
            body["title"] = title
            status, created, _ = http.call("POST", "/reports", body)
            assert status == 201
            late.append(created["tracking_id"])
    finally:
        fault("none")
    wait_for(lambda: all(len(ours(stack, c)) >= 3 for c in complaint_ids.values()), timeout=120,
             interval=1.0, what="the 30 follow-ups after recovery")
    wait_for(lambda: all(staff.get(t)["sp4n"]["state"] == "synced" and staff.get(t)["sp4n"]["complaint_id"]
                         for t in late), timeout=120, interval=1.0, what="the 20 creates after recovery")
    for tid, cid in complaint_ids.items():
        assert [f["content"] for f in ours(stack, cid)] == [
            "Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
            "Laporan diterima oleh instansi dan sedang diproses.", f"Lampu {tid} sudah diganti."]
        assert show(stack, cid)["status_code"] == "done"
    received = json.loads(urllib.request.urlopen(
        stack.sp4n_url + "/_standin/received?path=/complaints/complaint", timeout=10).read())["items"]
    mine = [r for r in received if r["path"] == "/complaints/complaint" and r["status"] == 201
            and r["body"]["title"] in late_titles]
    assert sorted(r["body"]["title"] for r in mine) == sorted(late_titles)  # none lost, none twice
    assert len({staff.get(t)["sp4n"]["complaint_id"] for t in late}) == 20
    assert "empty" in cli(stack, "dlq", "list", "--queue", "sync")
    cli(stack, "sp4n-reconcile")
    problems = cli(stack, "sp4n-problems", "--json")
    assert not [p for p in json.loads(problems) if p["tracking_id"] in {*early, *late}]
