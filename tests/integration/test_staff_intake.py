"""Staff-assisted intake: Diskominfotik's desk enters a walk-in, telephone, letter or social-media
complaint for the citizen (POST /staff/reports), through the same intake as the web form."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.data import reports
from tests.staff_support import bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def enter(client: Any, body: dict[str, Any], role: str = "admin", opd: str | None = None,
          headers: dict[str, str] | None = None) -> Any:
    return client.http.post("/staff/reports", body=json.dumps(body),
                            headers={"Content-Type": "application/json", **bearer(role, opd), **(headers or {})})


def test_the_desk_enters_a_walk_in_complaint_recorded_as_theirs(client: Any, valid_report: dict[str, Any]) -> None:
    answer = enter(client, {**valid_report, "channel": "walk_in"})
    assert answer.status_code == 201, answer.body
    created = answer.json_body
    report = reports.get(created["tracking_id"])
    assert report is not None and report.source == "walk_in" and report.status == "diajukan"
    [submit] = reports.events(created["tracking_id"])
    assert (submit.action, submit.actor, submit.actor_id) == ("submit", "admin", "local-admin")
    assert submit.data["entered_by"] == "local-admin" and submit.data["source"] == "walk_in"
    # the citizen's code works as for a web report (the desk hands it over)
    view = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]})
    assert view.status_code == 200
    listed = client.http.get("/staff/reports?channel=walk_in", headers=bearer("admin")).json_body["items"]
    assert [i["tracking_id"] for i in listed] == [created["tracking_id"]]


@pytest.fixture
def two_reports_per_address(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib import config
    from chalicelib.services import rate_limits

    monkeypatch.setenv("RATE_LIMIT_REPORTS", "2/600")
    monkeypatch.setenv("STAGE", "test")  # the test Client's `dev` stage is in the environment meanwhile
    config.reset()
    config.settings()
    rate_limits.forget()
    yield
    config.reset()  # the limit must not reach the next test
    rate_limits.forget()


@pytest.mark.usefixtures("two_reports_per_address")
def test_the_desk_is_not_held_to_the_citizens_per_address_limit(client: Any, valid_report: dict[str, Any]) -> None:
    for _ in range(4):
        assert enter(client, {**valid_report, "channel": "phone"}).status_code == 201
    web = [client.http.post("/reports", body=json.dumps(valid_report), headers={"Content-Type": "application/json"})
           for _ in range(3)]
    assert [r.status_code for r in web] == [201, 201, 429]


@pytest.mark.parametrize("role, opd", [("opd", "DPUPR"), ("pimpinan", None)])
def test_only_the_desk_enters_reports(client: Any, valid_report: dict[str, Any], role: str, opd: str | None) -> None:
    assert enter(client, {**valid_report, "channel": "letter"}, role, opd).status_code == 403


@pytest.mark.parametrize("channel", [None, "web", "open311", "fax"])
def test_a_channel_the_desk_cannot_claim_is_400_and_stores_nothing(
        client: Any, valid_report: dict[str, Any], channel: str | None) -> None:
    body = {**valid_report, **({"channel": channel} if channel else {})}
    answer = enter(client, body)
    assert answer.status_code == 400
    error = answer.json_body["error"]
    assert error["code"] == "validation_error" and [d["field"] for d in error["details"]] == ["channel"]
    assert "channel" in json.dumps(error["details"]) and all(d["message"] for d in error["details"])
    assert client.http.get("/staff/reports", headers=bearer("admin")).json_body["items"] == []


def test_the_web_forms_rules_hold_for_the_desk_too(client: Any, valid_report: dict[str, Any]) -> None:
    body = {**valid_report, "channel": "phone", "privacy": "publik", "reporter": {}}
    answer = enter(client, body)
    assert answer.status_code == 400
    assert {d["field"] for d in answer.json_body["error"]["details"]} >= {"reporter.name"}


def test_a_retried_entry_with_its_key_creates_nothing_new(client: Any, valid_report: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "desk-entry-0001"}
    first = enter(client, {**valid_report, "channel": "walk_in"}, headers=key).json_body
    again = enter(client, {**valid_report, "channel": "walk_in"}, headers=key).json_body
    assert first == again
    assert len(client.http.get("/staff/reports", headers=bearer("admin")).json_body["items"]) == 1
