"""On the real local stack: the `sla-sweep` command line talks to the running stack (its
environment from <state dir>/stack.env.json), and what the sweep records reaches the OPD's head
through the events stream, the dispatcher and the notifier, as in AWS.

A stack of its own: `--now` far ahead would breach the shared stack's reports too and add mail
to the outboxes other tests count.
"""
from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import LocalStack
from tests.e2e.support import cli, running_stack, wait_for

pytestmark = pytest.mark.xdist_group("sla_stack")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())
HEAD_EMAIL = "kepala.dpupr@opd.bandungbaratkab.go.id"


@pytest.fixture(scope="module")
def sla_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("sla-stack"), Path("test-artifacts/sla-stack-logs")) as s:
        yield s


def call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())






def test_sla_sweep_command_breaches_and_escalates_through_the_stack(sla_stack: LocalStack) -> None:
    from chalicelib.local import outbox

    api = sla_stack.api_url
    body = copy.deepcopy(EXAMPLE)
    body["title"] = "Jalan ambles di Cisarua, uji SLA"
    status, created = call(api, "POST", "/reports", body)
    assert status == 201, created
    tid = created["tracking_id"]
    admin = {"Authorization": "Bearer " + cli(sla_stack, "token", "--role", "admin").strip()}
    status, view = call(api, "POST", f"/staff/reports/{tid}/actions", {"action": "verify", "opd_code": "DPUPR"}, admin)
    assert status == 200, view
    due = datetime.fromisoformat(view["sla"]["due_at"])
    assert (view["sla"]["stage"], view["sla"]["breached"]) == ("respon_opd", False)

    # An hour after the OPD's deadline, runs skipped until then: the breach (the reminder, overtaken, is dropped).
    late = (due + timedelta(hours=1)).isoformat()
    result = json.loads(cli(sla_stack, "sla-sweep", "--now", late, "--json"))
    mine = [(d["action"], d["opd_code"]) for d in result["done"] if d["tracking_id"] == tid]
    assert mine == [("sla_breach", "DPUPR"), ("sla_escalation", "DPUPR")]
    # One item per due report, plus one per report read again after a concurrent write (here
    # possibly the SP4N-LAPOR! sync recording the verification while the sweep ran).
    assert result["items_read"] == result["due"] + len(result["retried"])
    assert result["conflicts"] == []
    # The same check again does nothing for it.
    again = json.loads(cli(sla_stack, "sla-sweep", "--now", late, "--json"))
    assert [d for d in again["done"] if d["tracking_id"] == tid] == []
    assert "nothing to send or close" in cli(sla_stack, "sla-sweep", "--now", late)

    status, view = call(api, "GET", f"/staff/reports/{tid}", headers=admin)
    assert status == 200 and view["sla"]["breached"] is True and view["sla"]["breached_by"] == ["DPUPR"]

    # The pump carries the escalation to DPUPR's head: exactly one email about this report.
    def escalations() -> list[dict[str, Any]]:
        return [m for m in outbox.sent(sla_stack.moto_url)
                if HEAD_EMAIL in m["to"] and tid in (m["subject"] or "") and "ESKALASI" in (m["subject"] or "")]

    wait_for(escalations, what="the escalation email to the OPD's head")
    time.sleep(2)  # any duplicate would have arrived by now
    assert len(escalations()) == 1


def test_calendar_command_and_api_on_the_stack(sla_stack: LocalStack) -> None:
    assert "2026-08-18 closed (off)" in cli(sla_stack, "calendar", "add", "2026-08-18", "--note", "Cuti bersama susulan")
    assert "2026-08-18  off  Cuti bersama susulan" in cli(sla_stack, "calendar", "list")
    year = json.loads(cli(sla_stack, "calendar", "year", "2026", "--json"))
    assert {"date": "2026-08-18", "kind": "override", "name": "Cuti bersama susulan", "weekend": False} in year["days_off"]
    assert "override removed" in cli(sla_stack, "calendar", "remove", "2026-08-18")

    # Through the API (admins only), the public calendar shows the day at once.
    api = sla_stack.api_url
    admin = {"Authorization": "Bearer " + cli(sla_stack, "token", "--role", "admin").strip()}
    opd = {"Authorization": "Bearer " + cli(sla_stack, "token", "--role", "opd", "--opd", "DPUPR").strip()}
    day = {"kind": "off", "note": "Banjir bandang: kantor tutup"}
    assert call(api, "PUT", "/staff/calendar/overrides/2026-11-30", day, opd)[0] == 403
    status, item = call(api, "PUT", "/staff/calendar/overrides/2026-11-30", day, admin)
    assert status == 200 and item["kind"] == "off"
    status, year = call(api, "GET", "/calendar?year=2026")
    assert status == 200
    assert {"date": "2026-11-30", "kind": "override", "name": "Banjir bandang: kantor tutup", "weekend": False} \
        in year["days_off"]
    assert call(api, "DELETE", "/staff/calendar/overrides/2026-11-30", headers=admin)[0] == 200
