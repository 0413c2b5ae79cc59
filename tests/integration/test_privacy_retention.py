"""Personal data under UU PDP: the retention run, data-subject export and erasure, over moto.

Every report here carries the canary identity of tests/staff_support.py, so "no personal data
left" is a search for its strings in everything the tables and the command output hold.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.staff_support import CANARY, Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

CANARY_STRINGS = [CANARY["name"], "Kanari", "Sutisna", CANARY["email"], CANARY["phone_e164"], "9876-5432",
                  "98765432", CANARY["nik"]]


@pytest.fixture
def api(client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # the CLI must not load a running stack's env
    return Api(client)


def _canary_report(valid_report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {**valid_report, "reporter": {k: CANARY[k] for k in ("name", "email", "phone", "nik")}}
    body["description"] = (f"Lubang besar di depan rumah saya. Saya {CANARY['name']}, hubungi {CANARY['phone']} "
                           "bila perlu survei.")
    body.update(changes)
    return body


def _closed_report(api: Api, valid_report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A canary report with an attachment, an admin's question naming the reporter, the reporter's
    reply with their phone, then verified and closed."""
    from tests.attachment_support import clean_attachment

    created = api.submit(_canary_report(valid_report, attachments=[clean_attachment()], **changes))
    tid = created["tracking_id"]
    api.ok(tid, "admin", action="request_info", message=f"Ibu {CANARY['name']}, mohon foto lokasi.")
    r = api.reply(created, f"Sudah saya kirim. Telepon saya {CANARY['phone']} atau {CANARY['email']}.")
    assert r.status_code == 200, r.body
    api.walk(created, "selesai")
    return created


def _everything(tid: str) -> str:
    """The report item and all its events, as stored."""
    from chalicelib.data.models import Report, ReportEvent

    return json.dumps([Report.get(tid).serialize(), *[e.serialize() for e in ReportEvent.query(tid)]], default=str)


def _closed_at(tid: str) -> Any:
    from chalicelib.data.models import Report
    from chalicelib.domain import clock

    report = Report.get(tid)
    assert report.retention_due == "yes" and report.closed_at, "closing starts the retention clock"
    return clock.parse(report.closed_at)


def test_retention_erases_after_the_policy_period_and_keeps_the_statistics(
        api: Api, valid_report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.data.models import Attachment, Report, ReportEvent
    from chalicelib.domain import clock, retention
    from chalicelib.services import erasure

    created = _closed_report(api, valid_report)
    tid = created["tracking_id"]
    open_one = api.submit(_canary_report(valid_report))  # never closed: never erased by the policy
    before = Report.get(tid)
    attachment_id = before.attachments[0]
    closed = _closed_at(tid)
    policy = retention.load_policy()
    assert policy.erase_after_months == 24
    stored = _everything(tid)
    assert all(s in stored for s in (CANARY["name"], CANARY["email"])), "the canary is really stored"

    # 23 months on: nothing is due.
    assert erasure.run_retention(now=closed + timedelta(days=23 * 30))["reports"] == []

    # 25 months on, dry run: the report is listed (id and field names), nothing changes.
    later = closed + timedelta(days=25 * 31)
    capsys.readouterr()
    assert cli.main(["retention", "--dry-run", "--now", clock.iso_utc(later)]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out)
    assert [r["tracking_id"] for r in listed["reports"]] == [tid]
    assert listed["reports"][0]["outcome"] == "would_erase" and listed["counts"] == {"would_erase": 1}
    assert {"reporter", "nik_ciphertext", "attachments", "description"} <= set(listed["reports"][0]["fields"])
    assert not any(s in out for s in CANARY_STRINGS), "a dry run prints no personal data"
    assert _everything(tid) == stored

    # The run itself (the CLI without --dry-run erases).
    assert cli.main(["retention", "--now", clock.iso_utc(later)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["counts"] == {"erased": 1} and not any(s in out for s in CANARY_STRINGS)

    after = Report.get(tid)
    assert after.reporter is None and after.nik_ciphertext is None and after.attachments == []
    assert after.phone_hash is None and after.email_hash is None and after.retention_due is None
    assert after.description == retention.ERASED_TEXT and after.location.address is None
    assert after.erased_at is not None
    # What statistics need stays.
    for name in ("status", "category", "kecamatan", "created_at", "created_month", "opd_code", "disposed_at",
                 "closed_at", "type", "privacy", "tracking_id", "breached_by"):
        assert getattr(after, name) == getattr(before, name), name
    assert after.location.kecamatan == before.location.kecamatan and after.location.desa == before.location.desa
    assert round(after.location.lat, 2) == after.location.lat
    assert after.title == before.title  # it held nothing personal; a title with a name is redacted (below)
    # No trace of the person anywhere in the report or its events.
    stored_after = _everything(tid)
    assert not any(s in stored_after for s in CANARY_STRINGS), [s for s in CANARY_STRINGS if s in stored_after]
    # Files gone, record and object.
    with pytest.raises(Attachment.DoesNotExist):
        Attachment.get(attachment_id)
    listing = aws.client("s3").list_objects_v2(Bucket=settings().attachments_bucket)
    assert not [o for o in listing.get("Contents", []) if attachment_id in o["Key"]]
    # The reporter's reply is blanked, the admin's question kept with the name redacted.
    events = list(ReportEvent.query(tid))
    reply = next(e for e in events if e.action == "reply")
    assert reply.message == retention.ERASED_TEXT
    question = next(e for e in events if e.action == "request_info")
    assert question.message == "Ibu [nama dihapus], mohon foto lokasi."
    # The erasure is an event of its own: what, under which policy; no values.
    erase = events[-1]
    assert (erase.action, erase.actor, erase.public) == ("erase", "sistem", False)
    assert erase.data["policy"] == policy.policy and erase.data["events"] == [question.seq, reply.seq]
    assert "reporter" in erase.data["fields"] and erase.data["attachments_erased"] == 1
    # The open report was not touched; the erased one left the index; a re-run does nothing.
    assert Report.get(open_one["tracking_id"]).reporter is not None
    assert erasure.run_retention(now=later)["reports"] == []
    again = erasure.erase_report(tid, policy=policy, now=later)
    assert again is not None and again["outcome"] == "already_erased"
    assert len(list(ReportEvent.query(tid))) == len(events)


def test_the_title_is_redacted_and_the_staff_view_still_opens(api: Api, valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Report
    from chalicelib.domain import retention
    from chalicelib.services import erasure

    created = _closed_report(api, valid_report, title=f"Jalan rusak depan rumah {CANARY['name']}")
    tid = created["tracking_id"]
    later = _closed_at(tid) + timedelta(days=800)
    assert erasure.run_retention(now=later)["counts"] == {"erased": 1}
    title = Report.get(tid).title
    assert "Jalan rusak depan rumah" in title and "Kanari" not in title
    r = api.get(tid, "admin")
    assert r.status_code == 200, r.body
    assert r.json_body["description"] == retention.ERASED_TEXT
    assert not any(s in json.dumps(r.json_body) for s in CANARY_STRINGS)


def test_a_report_reopened_or_never_closed_is_not_due(api: Api, valid_report: dict[str, Any]) -> None:
    from chalicelib.data import reports
    from chalicelib.data.models import Report
    from chalicelib.domain import clock

    created = api.submit(_canary_report(valid_report))
    tid = created["tracking_id"]
    api.walk(created, "ditolak")
    assert Report.get(tid).retention_due == "yes"
    far = clock.iso_utc(clock.now() + timedelta(days=3650))
    assert reports.due_for_erasure(far, 100) == [tid]
    # Whatever writes the report back to an open status stops its clock (one write path).
    report = Report.get(tid)
    expected = int(report.version)
    report.status, report.version = "diajukan", expected + 1
    reports.save_change(report, expected, [])
    fresh = Report.get(tid)
    assert fresh.retention_due is None and fresh.closed_at is None
    assert reports.due_for_erasure(far, 100) == []


def test_retention_reads_only_the_due_reports(api: Api, valid_report: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Items read by the index Query follow the reports due, not the closed reports in the table."""
    import botocore.client

    from chalicelib.data.models import Report
    from chalicelib.domain import clock
    from chalicelib.services import erasure

    ids = []
    for _ in range(5):
        created = api.submit(_canary_report(valid_report))
        api.walk(created, "ditolak")
        ids.append(created["tracking_id"])
    long_ago = clock.iso_utc(clock.now() - timedelta(days=3 * 365))
    for tid in ids[:2]:
        Report(tid).update(actions=[Report.closed_at.set(long_ago)])
    scanned: list[tuple[str, int]] = []
    original = botocore.client.BaseClient._make_api_call

    def meter(self: Any, operation_name: str, api_params: Any) -> Any:
        out = original(self, operation_name, api_params)
        if operation_name in ("Query", "Scan") and "Reports" in str(api_params.get("TableName", "")).title():
            scanned.append((f"{operation_name}:{api_params.get('IndexName')}", int(out.get("ScannedCount", 0))))
        return out

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", meter)
    assert erasure.run_retention()["counts"] == {"erased": 2}
    assert scanned == [("Query:by_retention", 2)], scanned
    scanned.clear()
    assert erasure.run_retention()["reports"] == []  # the erased left the index; 3 closed, none due
    assert scanned == [("Query:by_retention", 0)], scanned


def _subject_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from chalicelib import cli

    capsys.readouterr()
    code = cli.main(["subject", *argv])
    return code, capsys.readouterr().out


def test_subject_export_and_erase(api: Api, valid_report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.data.models import Report, ReportEvent

    mine = _closed_report(api, valid_report)
    # The same person, the phone written another way and no email; still open.
    second = api.submit({**_canary_report(valid_report), "reporter": {"name": CANARY["name"],
                                                                       "phone": "+62 813 9876 5432"}})
    someone_else = api.submit(valid_report)

    code, out = _subject_cli("export", "--phone", "0813-9876-5432", capsys=capsys)
    assert code == 0
    exported = json.loads(out)
    ids = [r["tracking_id"] for r in exported["reports"]]
    assert sorted(ids) == sorted([mine["tracking_id"], second["tracking_id"]])
    first = next(r for r in exported["reports"] if r["tracking_id"] == mine["tracking_id"])
    assert first["reporter"]["email"] == CANARY["email"] and first["has_nik"] is True and "nik" not in first
    assert any(CANARY["phone"] in (m["message"] or "") for m in first["your_messages"])
    assert first["timeline"] and all("actor_id" not in t for t in first["timeline"])
    assert CANARY["nik"] not in out
    code, out = _subject_cli("export", "--email", CANARY["email"].upper(), "--include-nik", capsys=capsys)
    assert code == 0
    exported = json.loads(out)
    assert [r["tracking_id"] for r in exported["reports"]] == [mine["tracking_id"]]
    assert exported["reports"][0]["nik"] == CANARY["nik"]
    # Bad input: a clear refusal, no lookup.
    assert _subject_cli("export", capsys=capsys)[0] == 2
    assert _subject_cli("export", "--phone", "12", capsys=capsys)[0] == 2
    assert _subject_cli("erase", "--phone", CANARY["phone"], capsys=capsys)[0] == 2  # no --request

    code, out = _subject_cli("erase", "--phone", CANARY["phone"], "--dry-run", capsys=capsys)
    assert code == 0 and not any(s in out for s in CANARY_STRINGS)
    outcomes = {r["tracking_id"]: r["outcome"] for r in json.loads(out)["reports"]}
    assert outcomes == {mine["tracking_id"]: "would_erase", second["tracking_id"]: "open_skipped"}
    assert Report.get(mine["tracking_id"]).reporter is not None

    code, out = _subject_cli("erase", "--phone", CANARY["phone"], "--request", "DSR-2026-014", capsys=capsys)
    assert code == 0
    assert not any(s in _everything(mine["tracking_id"]) for s in CANARY_STRINGS)
    erase = list(ReportEvent.query(mine["tracking_id"]))[-1]
    assert erase.action == "erase" and erase.data["request"] == "DSR-2026-014" and "policy" not in erase.data
    assert Report.get(second["tracking_id"]).reporter is not None  # open: kept unless --include-open
    assert Report.get(someone_else["tracking_id"]).reporter is not None
    # Erased reports are out of the contact index: the export finds only the open one now.
    code, out = _subject_cli("export", "--phone", CANARY["phone"], capsys=capsys)
    assert [r["tracking_id"] for r in json.loads(out)["reports"]] == [second["tracking_id"]]
    code, out = _subject_cli("erase", "--phone", CANARY["phone"], "--request", "DSR-2026-014", "--include-open",
                             capsys=capsys)
    assert code == 0 and Report.get(second["tracking_id"]).reporter is None
    assert json.loads(_subject_cli("export", "--phone", CANARY["phone"], capsys=capsys)[1])["reports"] == []


def test_the_contact_index_holds_keyed_hashes_and_the_migration_backfills_it(
        api: Api, valid_report: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from chalicelib import cli
    from chalicelib.data.models import Report

    created = api.submit(_canary_report(valid_report))
    closed = api.submit(_canary_report(valid_report))
    api.walk(closed, "ditolak")
    report = Report.get(created["tracking_id"])
    assert report.phone_hash and report.email_hash
    plain = hashlib.sha256(CANARY["phone_e164"].encode()).hexdigest()
    assert report.phone_hash != plain and CANARY["phone_e164"] not in report.phone_hash  # keyed, not plain
    # Reports stored before the index and the retention clock existed.
    for tid in (created["tracking_id"], closed["tracking_id"]):
        old = Report.get(tid)
        old.update(actions=[Report.phone_hash.remove(), Report.email_hash.remove(), Report.closed_at.remove(),
                            Report.retention_due.remove()])
    assert json.loads(_subject_cli("export", "--phone", CANARY["phone"], capsys=capsys)[1])["reports"] == []
    capsys.readouterr()
    assert cli.main(["migrate", "contact-index"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["hashed"] == 2 and counts["clock_started"] == 1
    exported = json.loads(_subject_cli("export", "--phone", CANARY["phone"], capsys=capsys)[1])
    assert len(exported["reports"]) == 2
    assert Report.get(closed["tracking_id"]).retention_due == "yes"
    # Re-runnable: nothing left to do.
    assert cli.main(["migrate", "contact-index"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["hashed"] == 0 and again["clock_started"] == 0


def test_the_daily_schedule_runs_the_retention(app: Any, api: Api, valid_report: dict[str, Any]) -> None:
    """app.py's `retention` handler, as Lambda calls it, erases what is due today."""
    from chalice.test import Client

    from chalicelib.data.models import Report
    from chalicelib.domain import clock

    [source] = [s for s in app.event_sources if getattr(s, "name", None) == "retention"]
    assert source.schedule_expression.to_string() == "cron(30 20 * * ? *)"
    due = api.submit(_canary_report(valid_report))
    recent = api.submit(_canary_report(valid_report))
    for created in (due, recent):
        api.walk(created, "ditolak")
    # Closed three years ago (the clock is the one stored field the run reads to decide).
    long_ago = clock.iso_utc(clock.now() - timedelta(days=3 * 365))
    Report(due["tracking_id"]).update(actions=[Report.closed_at.set(long_ago)])
    with Client(app) as lambda_client:
        lambda_client.lambda_.invoke("retention", lambda_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert Report.get(due["tracking_id"]).reporter is None
    assert Report.get(recent["tracking_id"]).reporter is not None


def test_a_duplicate_is_erased_with_the_primary_it_was_merged_into(api: Api, valid_report: dict[str, Any]) -> None:
    """A merged duplicate never closes on its own; its reporter's data goes when the primary's does."""
    from chalicelib.data.models import Report
    from chalicelib.domain import retention
    from chalicelib.services import erasure

    primary = api.submit(valid_report)
    duplicate = api.submit(_canary_report(valid_report))
    bystander = api.submit(_canary_report(valid_report))  # open, merged nowhere: never due
    r = api.act(duplicate["tracking_id"], "admin", action="merge", primary=primary["tracking_id"])
    assert r.status_code == 200, r.body
    api.walk(primary, "selesai")
    closed = _closed_at(primary["tracking_id"])
    assert CANARY["name"] in _everything(duplicate["tracking_id"])

    assert erasure.run_retention(now=closed + timedelta(days=23 * 30))["reports"] == []
    later = closed + timedelta(days=25 * 31)
    dry = erasure.run_retention(now=later, dry_run=True)
    assert [(x["tracking_id"], x["outcome"]) for x in dry["reports"]] == [
        (duplicate["tracking_id"], "would_erase"), (primary["tracking_id"], "would_erase")]
    ran = erasure.run_retention(now=later)
    assert ran["counts"] == {"erased": 2}
    gone = Report.get(duplicate["tracking_id"])
    assert gone.reporter is None and gone.description == retention.ERASED_TEXT
    assert not any(s in _everything(duplicate["tracking_id"]) for s in CANARY_STRINGS)
    assert CANARY["name"] in _everything(bystander["tracking_id"])
