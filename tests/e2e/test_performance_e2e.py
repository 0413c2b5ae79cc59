"""Over the real local stack: a report forwarded and answered over HTTP reaches the
performance record through the stack's own pump (stream -> SNS -> PerformanceQueue), and
`python -m chalicelib.cli performance` (a separate process reading the stack's state dir) shows
the same figures as `GET /staff/performance`, as CSV and as a PNG chart."""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.local import tokens
from tests.e2e.support import cli

pytestmark = pytest.mark.xdist_group("stack")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())
OPD = "DISPORA"  # no other stack test forwards to it: its row is this test's alone




def test_answered_report_reaches_the_record_and_the_cli(stack: Any, http: Any, tmp_path: Path) -> None:
    key, iss, aud = tokens.read_state(Path(stack.state_dir))

    def bearer(role: str, opd: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + tokens.mint(key, role=role, opd_code=opd, issuer=iss, audience=aud)}

    status, created, _ = http.call("POST", "/reports", {**EXAMPLE, "category": "lainnya"})
    assert status == 201, created
    tid = created["tracking_id"]
    path = f"/staff/reports/{tid}/actions"
    assert http.call("POST", path, {"action": "verify", "opd_code": OPD}, bearer("admin"))[0] == 200
    assert http.call("POST", path, {"action": "respond", "message": "Sudah kami tindak lanjuti."},
                     bearer("opd", OPD))[0] == 200
    period = clock.month_wib(clock.now())

    deadline, row = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        status, body, _ = http.call("GET", f"/staff/performance?period={period}", headers=bearer("pimpinan"))
        assert status == 200, body
        row = next((i for i in body["items"] if i["opd_code"] == OPD), None)
        if row and row["responded"] == 1:
            break
        time.sleep(0.5)
    assert row is not None and (row["received"], row["responded"], row["responded_on_time"]) == (1, 1, 1), row
    assert row["on_time_pct"] == 100.0 and row["opd_name"] == "Dinas Pemuda dan Olahraga"

    status, drill, _ = http.call("GET", f"/staff/performance/{OPD}/reports?period={period}&figure=responded",
                                 headers=bearer("admin"))
    assert status == 200 and [i["tracking_id"] for i in drill["items"]] == [tid]
    status, own, _ = http.call("GET", f"/staff/performance?period={period}", headers=bearer("opd", OPD))
    assert status == 200 and [i["opd_code"] for i in own["items"]] == [OPD]  # an OPD sees its own row only

    chart = tmp_path / "kinerja.png"
    rows = list(csv.reader(io.StringIO(cli(stack, "performance", "--period", period, "--format", "csv",
                                           "--chart", str(chart)), newline="")))
    by_code = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert (by_code[OPD]["received"], by_code[OPD]["responded_on_time"], by_code[OPD]["on_time_pct"]) == ("1", "1", "100.0")
    assert chart.read_bytes()[:4] == b"\x89PNG"
    board = json.loads(cli(stack, "performance", "--period", period))
    assert next(i for i in board["items"] if i["opd_code"] == OPD) == row
