"""Changes of the working-day calendar are audited: an event per change under `audit#calendar#<year>`
(who, when, the date, old and new value), in the same transaction as the change, and never
dispatched as if it were a report's event."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.staff_support import bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

PATH = "/staff/calendar/overrides"


def _put(client: Any, day: str, sub: str, **body: Any) -> Any:
    return client.http.put(f"{PATH}/{day}", body=json.dumps(body),
                           headers={"Content-Type": "application/json", **bearer("admin", sub=sub)})


def test_every_override_change_is_an_audit_event(client: Any) -> None:
    from chalicelib.data.models import ReportEvent
    from chalicelib.services import calendar_admin

    assert _put(client, "2027-03-01", "admin-siti", kind="off", note="Banjir").status_code == 200
    assert _put(client, "2027-03-01", "admin-budi", kind="on", note="Dibatalkan").status_code == 200
    assert _put(client, "2027-03-02", "admin-siti", kind="maybe").status_code == 400  # refused: not audited
    r = client.http.delete(f"{PATH}/2027-03-01", headers=bearer("admin", sub="admin-budi"))
    assert r.status_code == 200, r.body
    assert client.http.delete(f"{PATH}/2027-03-01", headers=bearer("admin", sub="admin-budi")).status_code == 404

    trail = calendar_admin.audit_trail(2027)
    assert [(t["seq"], t["action"], t["actor_id"], t["date"], t["old"], t["new"]) for t in trail] == [
        (1, "calendar_override_set", "admin-siti", "2027-03-01", None, {"kind": "off", "note": "Banjir"}),
        (2, "calendar_override_set", "admin-budi", "2027-03-01", {"kind": "off", "note": "Banjir"},
         {"kind": "on", "note": "Dibatalkan"}),
        (3, "calendar_override_removed", "admin-budi", "2027-03-01", {"kind": "on", "note": "Dibatalkan"}, None),
    ]
    assert all(t["at"] for t in trail)
    stored = list(ReportEvent.query("audit#calendar#2027"))
    assert [e.actor for e in stored] == ["admin"] * 3 and not any(e.public for e in stored)
    assert calendar_admin.audit_trail(2026) == []


def test_a_change_based_on_a_stale_read_is_refused_and_not_recorded(aws: dict[str, str]) -> None:
    from chalicelib.data import audit
    from chalicelib.services import calendar_admin

    calendar_admin.put_override("2027-04-01", "off", "Rapat", actor="a", reschedule=False)
    event = {"at": "2027-01-01T00:00:00+00:00", "actor": "admin", "actor_id": "b", "role": "admin",
             "action": "calendar_override_set", "public": False, "data": {"date": "2027-04-01"}}
    new = {"date": "2027-04-01", "kind": "on", "note": ""}
    with pytest.raises(audit.Changed):  # it believes there was no override: the trail would lie
        audit.change_reference("holiday", "2027-04-01", None, new, "calendar#2027", event)
    assert len(calendar_admin.audit_trail(2027)) == 1
    assert [o["kind"] for o in calendar_admin.list_overrides()] == ["off"]


def test_the_dispatcher_publishes_report_events_but_not_audit_records(client: Any,
                                                                      valid_report: dict[str, Any],
                                                                      aws_calls: Any) -> None:
    from chalicelib.config import settings
    from chalicelib.local.pump import stream_lambda_event
    from chalicelib.services import dispatch

    assert _put(client, "2027-05-03", "admin-siti", kind="off", note="Banjir").status_code == 200
    r = client.http.post("/reports", body=json.dumps(valid_report), headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    # The stream records of both inserts, as the events table's NEW_IMAGE stream gives them.
    from chalicelib.data.models import ReportEvent

    stored = [*ReportEvent.query("audit#calendar#2027"), *ReportEvent.query(r.json_body["tracking_id"])]
    records = [{"eventID": str(i), "eventName": "INSERT", "eventSource": "aws:dynamodb",
                "dynamodb": {"Keys": {"tracking_id": {"S": e.tracking_id}, "seq": {"N": str(e.seq)}},
                             "NewImage": e.serialize(), "SequenceNumber": str(100 + i),
                             "StreamViewType": "NEW_IMAGE"}} for i, e in enumerate(stored)]
    arn = "arn:aws:dynamodb:ap-southeast-3:123456789012:table/events/stream/2026-01-01T00:00:00.000"
    keys = [e.tracking_id for e in stored]
    assert "audit#calendar#2027" in keys and any(not k.startswith("audit#") for k in keys)
    aws_calls.clear()
    result = dispatch.handle(stream_lambda_event(records, arn, settings().region))
    assert result["batchItemFailures"] == []
    assert aws_calls["sns.Publish"] == len([k for k in keys if not k.startswith("audit#")]) == 1


def test_the_cli_changes_are_audited_and_the_trail_is_printed(aws: dict[str, str], tmp_path: Any,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli

    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))
    assert cli.main(["calendar", "add", "2027-06-07", "--kind", "off", "--note", "Longsor"]) == 0
    assert cli.main(["calendar", "remove", "2027-06-07"]) == 0
    capsys.readouterr()
    assert cli.main(["calendar", "audit", "2027", "--json"]) == 0
    trail = json.loads(capsys.readouterr().out)
    assert [(t["action"], t["actor_id"], t["old"], t["new"]) for t in trail] == [
        ("calendar_override_set", "cli", None, {"kind": "off", "note": "Longsor"}),
        ("calendar_override_removed", "cli", {"kind": "off", "note": "Longsor"}, None)]
    assert cli.main(["calendar", "audit", "2027"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "cli  2027-06-07  - -> off  Longsor" in lines[0]
    assert cli.main(["calendar", "audit"]) == 2
