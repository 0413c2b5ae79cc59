"""End to end over HTTP on the local stack (moto server, chalice local, the pump): what a client sees.

- e2e_submit_to_opd_email_s: a citizen submits, an admin forwards the report to DPUPR at once
  (POST .../actions verify), and we poll the outbox (moto's SES) until DPUPR's email is there.
  The time runs from the submission. It includes the pump's polling (0.5 s: stream -> dispatcher
  -> SNS -> SQS -> notify), the local stand-in for Lambda's event source mappings. Median of 5.
- e2e_reports_per_second: CONCURRENCY clients submit TOTAL reports as fast as they are answered.

Local numbers: one machine runs moto, chalice local, the pump and the clients, and moto copies a
whole table on every transaction. They compare revisions of this code on this machine; they are
not AWS's numbers.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = int(os.environ.get("BENCH_E2E_CONCURRENCY", "8"))
TOTAL = int(os.environ.get("BENCH_E2E_TOTAL", "160"))
EMAIL_RUNS = 5


def call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _token(state_dir: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "chalicelib.cli", "token", "--role", "admin"], cwd=ROOT,
                         env={**os.environ, "LAPOR_STATE_DIR": str(state_dir)}, capture_output=True, text=True,
                         check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def _opd_email_latency(api: str, moto: str, admin: str, report: dict[str, Any]) -> float:
    from chalicelib.local import outbox

    started = time.monotonic()
    created = call(api, "POST", "/reports", report)
    tid = created["tracking_id"]
    call(api, "POST", f"/staff/reports/{tid}/actions", {"action": "verify", "opd_code": "DPUPR"},
         {"Authorization": f"Bearer {admin}"})
    deadline = started + 60
    while time.monotonic() < deadline:
        for item in outbox.sent(moto):
            if item["channel"] == "email" and "dpupr@opd.bandungbaratkab.go.id" in item["to"] \
                    and tid in f"{item['subject']} {item['body']}":
                return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"no email to DPUPR for {tid} within 60 s")


def _throughput(api: str, report: dict[str, Any]) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = TOTAL // CONCURRENCY
    barrier = threading.Barrier(CONCURRENCY)

    def client(n: int) -> None:
        barrier.wait()
        for i in range(per_client):
            t = time.monotonic()
            try:
                call(api, "POST", "/reports", {**report, "title": f"Laporan uji beban {n}-{i}"})
            except Exception as exc:  # noqa: BLE001 (counted, reported)
                with lock:
                    errors.append(type(exc).__name__)
                continue
            with lock:
                latencies.append(time.monotonic() - t)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENCY)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    if errors:
        raise RuntimeError(f"{len(errors)} submissions failed: {sorted(set(errors))}")
    latencies.sort()
    return {"e2e_reports_per_second": len(latencies) / wall,
            "e2e_submit_p50_ms": 1000 * statistics.median(latencies),
            "e2e_submit_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))]}


def run() -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from chalicelib.local.stack import LocalStack, Ports

    report = json.loads((ROOT / "docs" / "example-report.json").read_text())
    # The abuse limits stay on, out of reach: every client here is 127.0.0.1.
    for scope in ("REPORTS", "ATTACHMENTS", "LOOKUPS", "STATS"):
        os.environ[f"RATE_LIMIT_{scope}"] = "1000000/600"
    state = ROOT / "test-artifacts" / "bench-stack"
    stack = LocalStack(ports=Ports.free(), state_dir=state, log_dir=state / "logs", sla_interval=3600,
                       with_web=False)
    try:
        stack.start()
        admin = _token(state)
        call(stack.api_url, "POST", "/reports", report)  # warm every process's first request
        times = [_opd_email_latency(stack.api_url, stack.moto_url, admin, report) for _ in range(EMAIL_RUNS)]
        out = {"e2e_submit_to_opd_email_s": statistics.median(times)}
        out.update(_throughput(stack.api_url, report))
        out["e2e_concurrency"] = float(CONCURRENCY)
        return out
    finally:
        stack.stop()


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v:.3f}")
