"""chalicelib/data/reports.update: the one read-modify-write of a report. Every move, sync record,
SLA check, reveal, erasure and access recovery writes through it, so its rules are tested here
once: the version check, the retry rule, the attempts, and that nothing is half-stored."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

TID = "KBB-AAAA-BBBB"


def _store(**overrides: Any) -> Any:
    from chalicelib.data import reports
    from chalicelib.data.models import Location, Report, ReportEvent

    fields: dict[str, Any] = {
        "type": "pengaduan", "title": "Jalan rusak", "description": "Lubang besar", "kecamatan": "lembang",
        "privacy": "publik", "status": "diajukan", "location": Location(kecamatan="lembang"),
        "created_at": "2026-01-05T01:00:00+00:00", "created_month": "2026-01",
        "updated_at": "2026-01-05T01:00:00+00:00", "access_token_hash": "ab" * 32,
    }
    fields.update(overrides)
    reports.create(Report(TID, **fields), ReportEvent(TID, 1, at=fields["created_at"], actor="pelapor",
                                                      action="submit", public=True))
    return reports.get(TID)


def _note(report: Any, text: str = "catatan") -> Any:
    from chalicelib.domain.report import Event

    return Event(at=datetime(2026, 1, 6, 1, tzinfo=UTC), actor="admin", role="admin", action="note",
                 from_status=report.status, to_status=report.status, public=False, data={"note": text})


def _other_writer_first(times: int) -> Any:
    """A read that lets someone else write the report right after it, `times` times."""
    from chalicelib.data import reports

    left = [times]

    def read(tracking_id: str) -> Any:
        report = reports.get(tracking_id)
        if left[0] > 0:
            left[0] -= 1
            rival = reports.get(tracking_id)
            reports.update(tracking_id, lambda r: [_note(r, "rival")], attempts=1, current=rival)
        return report

    return read


def test_a_change_is_stored_with_its_numbered_events_under_a_new_version(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    _store()
    saved = reports.update(TID, lambda r: [_note(r), _note(r, "kedua")], attempts=1)
    assert saved is not None and saved.written
    assert [int(e.seq) for e in saved.events] == [2, 3]
    stored = reports.get(TID)
    assert (int(stored.version), int(stored.event_seq)) == (2, 3)
    assert [(int(e.seq), int(e.version or 0)) for e in reports.events(TID)] == [(1, 1), (2, 2), (3, 2)]


def test_nothing_to_do_writes_nothing_and_a_missing_report_is_none(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    _store()
    saved = reports.update(TID, lambda r: None, attempts=3)
    assert saved is not None and not saved.written
    assert int(reports.get(TID).version) == 1
    assert reports.update("KBB-ZZZZ-ZZZZ", lambda r: [_note(r)], attempts=3) is None


def test_a_lost_race_is_read_again_and_applied_to_what_is_stored(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    _store()
    seen: list[int] = []

    def mutate(report: Any) -> list[Any]:
        seen.append(int(report.version))
        return [_note(report, "saya")]

    saved = reports.update(TID, mutate, attempts=3, read=_other_writer_first(2))
    assert saved is not None and saved.written
    assert seen == [1, 2, 3]  # each attempt read what the rival had just written
    assert [(e.data or {}).get("note") for e in reports.events(TID)][1:] == ["rival", "rival", "saya"]
    assert int(reports.get(TID).version) == 4


def test_out_of_attempts_the_conflict_is_raised_and_nothing_of_ours_is_stored(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    _store()
    with pytest.raises(reports.Conflict) as caught:
        reports.update(TID, lambda r: [_note(r, "saya")], attempts=2, read=_other_writer_first(5))
    assert caught.value.failed("report")
    assert "saya" not in [(e.data or {}).get("note") for e in reports.events(TID)]


def test_the_retry_rule_decides_and_sees_the_event_number_it_acted_on(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    _store()
    asked: list[int] = []

    def never(seen_seq: int, conflict: Any) -> bool:
        asked.append(seen_seq)
        return False

    with pytest.raises(reports.Conflict):
        reports.update(TID, lambda r: [_note(r)], attempts=3, retry=never, read=_other_writer_first(1))
    assert asked == [1]


def test_the_first_attempt_uses_the_report_given_and_reads_nothing(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    current = _store()
    reads: list[str] = []

    def read(tracking_id: str) -> Any:
        reads.append(tracking_id)
        return reports.get(tracking_id)

    saved = reports.update(TID, lambda r: [_note(r)], attempts=3, read=read, current=current)
    assert saved is not None and saved.report is current and reads == []


def test_a_second_report_in_the_same_change_is_all_or_nothing(aws: dict[str, str]) -> None:
    from chalicelib.data import reports

    primary = _store()
    stale_primary = reports.get(TID)
    reports.update(TID, lambda r: [_note(r, "rival")], attempts=1)  # the primary moves on
    other = "KBB-CCCC-DDDD"
    from chalicelib.data.models import Location, Report, ReportEvent

    reports.create(Report(other, type="pengaduan", title="t", description="d", kecamatan="lembang",
                          privacy="publik", status="diajukan", location=Location(kecamatan="lembang"),
                          created_at="2026-01-05T01:00:00+00:00", created_month="2026-01",
                          updated_at="2026-01-05T01:00:00+00:00", access_token_hash="cd" * 32),
                   ReportEvent(other, 1, at="2026-01-05T01:00:00+00:00", actor="pelapor", action="submit",
                               public=True))
    with pytest.raises(reports.Conflict):
        reports.update(other, lambda r: reports.Change(
            [_note(r)], extra=reports.also_changed(stale_primary, [_note(stale_primary, "merge")])), attempts=1)
    assert int(reports.get(other).version) == 1  # the duplicate's side was not stored either
    assert int(reports.get(TID).version) == int(primary.version) + 1
