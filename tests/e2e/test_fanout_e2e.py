"""On the real local stack: moto server, chalice local, the SP4N-LAPOR! stand-in and the
pump, each a process of its own, talking HTTP. What the pump does here is what Lambda's event
sources do in AWS: nothing in these tests calls a handler directly."""
from __future__ import annotations

import copy
import json
import os
import random
import signal
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import cli, wait_for

pytestmark = pytest.mark.xdist_group("stack")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())
OPD_EMAIL = "dpupr@opd.bandungbaratkab.go.id"






def outbox(stack: Any) -> list[dict[str, Any]]:
    from chalicelib.local import outbox as moto_outbox

    return moto_outbox.sent(stack.moto_url)


def standin(stack: Any, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.sp4n_url + path, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def creates(stack: Any) -> list[dict[str, Any]]:
    return [r for r in standin(stack, "/_standin/received?path=/complaints/complaint")["items"]
            if r["method"] == "POST" and r["path"] == "/complaints/complaint" and r["status"] == 201]


def act_in_stack(stack: Any, tracking_id: str, action: str, to_status: str, opd_code: str) -> None:
    """What the workflow's verify does (one transaction: report + event), from another process."""
    script = f"""
from chalicelib import cli
cli.load_env()
from chalicelib.domain import clock
from chalicelib.domain.report import Event
from chalicelib.services import sync

def mutate(report):
    event = Event(at=clock.now(), actor="admin", role="admin", action={action!r}, from_status=report.status,
                  to_status={to_status!r}, public=True,
                  message="Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
                  data={{"opd_code": {opd_code!r}}})
    report.status = {to_status!r}
    report.opd_code = {opd_code!r}
    return [event]

sync.change_report({tracking_id!r}, mutate)
"""
    env = {**os.environ, **stack.env, "LAPOR_STATE_DIR": str(stack.state_dir)}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr


def report_with_contact(title: str) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    body["title"] = title
    body["reporter"] = {"name": "Siti Aminah", "email": "siti.e2e@example.org", "phone": "0812-3456-7890"}
    return body


def test_submission_reaches_reporter_lapor_and_the_opd_in_seconds(stack: Any, http: Any) -> None:
    before = len(creates(stack))
    body = copy.deepcopy(EXAMPLE)
    title = f"Lampu jalan mati di Jl. Kolonel Masturi {os.getpid()}-{time.time_ns() % 99991}"
    body.update({"title": title, "privacy": "anonim",
                 "reporter": {"email": "anon.e2e@example.org"}})
    status, created, _ = http.call("POST", "/reports", body)
    assert status == 201, created
    tid = created["tracking_id"]
    wait_for(lambda: any(tid in (m["subject"] or "") for m in outbox(stack)), what="the receipt email")
    # Other tests share this stack: count only the creates that carry this report's title.
    wait_for(lambda: [c for c in creates(stack)[before:] if c["body"].get("title") == body["title"]],
             what="the SP4N-LAPOR! create")
    time.sleep(1.0)  # a duplicate create would arrive right behind the first
    new = [c for c in creates(stack)[before:] if c["body"].get("title") == body["title"]]
    assert len(new) == 1 and new[0]["body"]["is_anonymous"] is True
    assert "anon.e2e" not in json.dumps(new[0]["body"])

    written = time.monotonic()
    act_in_stack(stack, tid, "verify", "didisposisikan", "DPUPR")
    wait_for(lambda: [m for m in outbox(stack) if OPD_EMAIL in m["to"] and tid in m["subject"]],
             timeout=15, what="the OPD's email")
    elapsed = time.monotonic() - written
    print(f"write -> OPD email: {elapsed:.2f}s")
    assert elapsed < 10, f"{elapsed:.1f}s from the write to the OPD's email"
    # The anonymous reporter's address appears in nothing an OPD receives.
    for m in outbox(stack):
        if OPD_EMAIL in m["to"]:
            assert "anon.e2e" not in f"{m['subject']} {m['body']}"

    listed = json.loads(cli(stack, "outbox", "--json"))
    assert any(OPD_EMAIL in m["to"] and tid in m["subject"] for m in listed)
    assert "SMS to +628120009025" in cli(stack, "outbox")


def test_pump_killed_and_restarted_loses_nothing_and_sends_nothing_twice(stack: Any, http: Any) -> None:
    # Only this test's creates count: an earlier test's report may still be on its way to LAPOR!
    # (its create landed behind this test's kill once, and was counted as a duplicate).
    run = "".join(random.choices(string.ascii_lowercase, k=8))  # letters: the redactor leaves them be
    titles = [f"Saluran air tersumbat nomor {i} blok {run}" for i in range(3)]

    def mine() -> list[str]:
        return [c["body"]["title"] for c in creates(stack) if c["body"].get("title") in titles]

    pump = stack.procs["pump"]
    os.killpg(pump.pid, signal.SIGKILL)  # no goodbye: whatever it was doing is cut off
    pump.wait(timeout=10)
    tids = []
    for title in titles:
        status, created, _ = http.call("POST", "/reports", report_with_contact(title))
        assert status == 201
        tids.append(created["tracking_id"])
    time.sleep(1.5)
    assert mine() == []  # nobody is moving the stream now
    stack._spawn("pump", [sys.executable, "-m", "chalicelib.local.pump", "--interval", str(stack.pump_interval),
                          "--sla-interval", str(stack.sla_interval)])
    wait_for(lambda: len(mine()) >= 3, timeout=30, what="the three creates")
    time.sleep(2)  # anything replayed would show up by now
    assert sorted(mine()) == sorted(titles)
    sent = outbox(stack)
    for tid in tids:
        assert len([m for m in sent if m["channel"] == "email" and tid in (m["subject"] or "")]) == 1


def test_standin_outage_then_recovery_over_the_stack(stack: Any, http: Any) -> None:
    # Only this test's reports are counted: an earlier test's sync still in its backoff may
    # land on LAPOR! meanwhile (it did once, and was counted as a duplicate).
    run = "".join(random.choices(string.ascii_lowercase, k=8))  # letters: the redactor leaves them be
    titles = {f"Sampah menumpuk di pasar {i} blok {run}" for i in range(5)}

    def mine() -> list[dict[str, Any]]:
        return [r for r in creates(stack) if r["body"]["title"] in titles]

    standin(stack, "/_standin/faults", {"mode": "5xx", "status": 503})
    try:
        tids = []
        for title in sorted(titles):
            status, created, _ = http.call("POST", "/reports", report_with_contact(title))
            assert status == 201
            tids.append(created["tracking_id"])
        # The syncs fail and are retried with backoff meanwhile.
        wait_for(lambda: len([r for r in standin(stack, "/_standin/received?path=/complaints")["items"]
                              if r["status"] == 503]) >= 2, what="failed attempts")
    finally:
        standin(stack, "/_standin/faults", {"mode": "none"})
    wait_for(lambda: len(mine()) >= 5, timeout=40, what="all five synced after recovery")
    time.sleep(2)
    assert sorted(r["body"]["title"] for r in mine()) == sorted(titles)  # none lost, none twice
    assert "empty" in cli(stack, "dlq", "list", "--queue", "sync")
