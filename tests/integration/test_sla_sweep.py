"""The SLA engine end to end against moto: time travel through each stage with the real services.

Reports are created through the intake (and moved through the workflow) with the service clock
pinned to the instant under test; the sweep runs "as if the time were" that instant, exactly as
`python -m chalicelib.cli sla-sweep --now ...` does.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import WIB


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=WIB)


@pytest.fixture
def at(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Pin the service clock (chalicelib.domain.clock.now) to an instant."""
    from chalicelib.domain import clock

    def pin(instant: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: instant)

    return pin


TOKENS: dict[str, str] = {}  # tracking id -> the reporter's access token


@pytest.fixture
def submit(aws: dict[str, str], at: Callable[[datetime], None], valid_report: dict[str, Any]) -> Callable[..., str]:
    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    def create(instant: datetime, **changes: Any) -> str:
        at(instant)
        body = {**valid_report, **changes}
        body["reporter"] = {k: v for k, v in body["reporter"].items() if k != "nik"}  # no KMS call needed
        created = intake.submit(ReportIn.from_data(body))
        TOKENS[created["tracking_id"]] = created["access_token"]
        return str(created["tracking_id"])

    return create


@pytest.fixture
def act(aws: dict[str, str], at: Callable[[datetime], None]) -> Callable[..., Any]:
    """A staff action through the workflow service, at a pinned instant."""
    from chalicelib.auth import Principal
    from chalicelib.services import workflow

    def do(instant: datetime, tracking_id: str, action: str, role: str = "admin", opd: str | None = None,
           **fields: Any) -> Any:
        at(instant)
        who = Principal(sub=f"test-{role}", role=role, opd_code=opd)
        return workflow.act(tracking_id, action, who, fields, now=instant)

    return do


@pytest.fixture
def reply(aws: dict[str, str], at: Callable[[datetime], None]) -> Callable[..., Any]:
    from chalicelib.services import workflow

    def do(instant: datetime, tracking_id: str, message: str = "Ini foto dan alamat lengkapnya.") -> Any:
        at(instant)
        return workflow.reporter_act(tracking_id, TOKENS[tracking_id], "reply", {"message": message}, now=instant)

    return do


def report(tracking_id: str) -> Any:
    from chalicelib.data import reports

    r = reports.get(tracking_id)
    assert r is not None
    return r


def actions(tracking_id: str) -> list[str]:
    from chalicelib.data import reports

    return [e.action for e in reports.events(tracking_id)]


def write_first(monkeypatch: pytest.MonkeyPatch, other: Callable[[], Any]) -> list[bool]:
    """Run `other` (a concurrent writer) just before the next `reports.save_change`, i.e. between
    the caller's read and its write; later writes pass straight through. The list returned
    holds True once `other` ran."""
    from chalicelib.data import reports

    original = reports.save_change
    fired: list[bool] = []

    def save_change(*args: Any, **kwargs: Any) -> None:
        if not fired:
            fired.append(True)
            other()
        original(*args, **kwargs)

    monkeypatch.setattr(reports, "save_change", save_change)
    return fired


def events_of(tracking_id: str, action: str) -> list[Any]:
    from chalicelib.data import reports

    return [e for e in reports.events(tracking_id) if e.action == action]


def sweep(now: datetime) -> Any:
    from chalicelib.services import sla_sweep

    return sla_sweep.sweep(now)


def in_index(tracking_id: str) -> bool:
    from chalicelib.data.models import Report
    from chalicelib.services import sla_fields

    shard = sla_fields.shard_of(tracking_id)
    return any(r.tracking_id == tracking_id for r in Report.by_sweep.query(shard))


# -- calendar -------------------------------------------------------------------------------

def test_submitted_tue_17_mar_2026_is_due_fri_27_mar_through_the_real_service(submit: Callable[..., str]) -> None:
    tid = submit(wib(2026, 3, 17, 10))
    r = report(tid)
    # 3 HK: 18-20 Mar are Nyepi, its cuti bersama and Idul Fitri's; 23-24 Mar cuti bersama.
    assert r.due_at == "2026-03-27T16:59:59.000000+00:00"  # Fri 27 Mar 23:59:59 WIB
    assert r.sla_stage == "verifikasi"
    assert r.sweep_at == "2026-03-26T00:30:00.000000+00:00"  # reminder Thu 26 Mar 07:30 WIB
    assert r.sweep_shard is not None


def test_an_override_day_moves_a_deadline(submit: Callable[..., str]) -> None:
    from chalicelib.services import calendar_admin

    before = submit(wib(2026, 3, 17, 10))
    calendar_admin.put_override("2026-03-26", "off", "Penutupan kantor (banjir)")
    after = submit(wib(2026, 3, 17, 11))
    # New report: Thu 26 Mar off, so the third working day is Mon 30 Mar.
    assert report(after).due_at == "2026-03-30T16:59:59.000000+00:00"
    # The report already open moved too (re-planned when the override was saved), and its
    # reminder moved with it: 07:30 WIB of Fri 27 Mar.
    assert report(before).due_at == "2026-03-30T16:59:59.000000+00:00"
    assert report(before).sweep_at == "2026-03-27T00:30:00.000000+00:00"
    # The public calendar shows it.
    off = {d["date"]: d for d in calendar_admin.year_view(2026)["days_off"]}
    assert off["2026-03-26"] == {"date": "2026-03-26", "kind": "override", "name": "Penutupan kantor (banjir)",
                                 "weekend": False}
    # Removing it gives the day back.
    calendar_admin.remove_override("2026-03-26")
    assert report(before).due_at == "2026-03-27T16:59:59.000000+00:00"
    # A day given back ("on"): Sat 21 Mar opened, the deadline moves a working day earlier.
    calendar_admin.put_override("2026-03-21", "on", "Sabtu masuk")
    assert report(submit(wib(2026, 3, 17, 12))).due_at == "2026-03-26T16:59:59.000000+00:00"


def test_an_override_moves_a_deadline_even_past_a_concurrent_sync_record(
        submit: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The SP4N-LAPOR! sync records its result (keeping the due_at it read) between the re-plan's
    read and write: the re-plan reads the report again and still moves the deadline."""
    from chalicelib.services import calendar_admin, sync

    tid = submit(wib(2026, 3, 17, 10))
    fired = write_first(monkeypatch, lambda: sync.record_synced(tid, 1, "LPR-0002", "create"))
    calendar_admin.put_override("2026-03-26", "off", "Penutupan kantor (banjir)")
    assert fired and actions(tid) == ["submit", "sp4n_synced"]
    assert report(tid).due_at == "2026-03-30T16:59:59.000000+00:00"
    assert report(tid).sweep_at == "2026-03-27T00:30:00.000000+00:00"


def test_forwarded_tue_17_mar_2026_is_due_fri_27_mar_for_the_opd(
        submit: Callable[..., str], act: Callable[..., Any]) -> None:
    from chalicelib.services import sla_fields

    tid = submit(wib(2026, 3, 16, 14))
    r = act(wib(2026, 3, 17, 10), tid, "verify", opd_code="DINSOS")
    assert (r.status, r.sla_stage) == ("didisposisikan", "respon_opd")
    assert r.due_at == "2026-03-27T16:59:59.000000+00:00"  # Fri 27 Mar 23:59:59 WIB
    assert sla_fields.staff_view(r) == {"stage": "respon_opd", "due_at": "2026-03-27T23:59:59+07:00",
                                       "breached": False, "breached_by": []}


# -- verification stage: reminder, breach, escalation ---------------------------------------

def test_reminder_then_breach_and_escalation_of_the_verification_stage(submit: Callable[..., str]) -> None:
    tid = submit(wib(2026, 3, 17, 10))

    assert sweep(wib(2026, 3, 26, 7, 29)).done == []  # a minute before the reminder: nothing
    result = sweep(wib(2026, 3, 26, 7, 45))
    assert [(d.tracking_id, d.action) for d in result.done] == [(tid, "sla_reminder")]
    (reminder,) = events_of(tid, "sla_reminder")
    assert reminder.actor == "sistem" and reminder.public is False
    assert reminder.data == {"stage": "verifikasi", "due_at": "2026-03-27T23:59:59+07:00",
                             "opd_code": "DISKOMINFOTIK", "audience": ["admin"]}
    assert sweep(wib(2026, 3, 26, 8, 0)).done == []  # the next run sends nothing again

    assert sweep(wib(2026, 3, 27, 23, 59, 59)).done == []  # the deadline's last second is in time
    result = sweep(wib(2026, 3, 28, 0, 0, 30))
    assert sorted(d.action for d in result.done) == ["sla_breach", "sla_escalation"]
    (breach,) = events_of(tid, "sla_breach")
    (escalation,) = events_of(tid, "sla_escalation")
    assert breach.data["audience"] == ["admin"]
    assert escalation.data == {"stage": "verifikasi", "due_at": "2026-03-27T23:59:59+07:00",
                               "opd_code": "DISKOMINFOTIK", "audience": ["opd_head", "admin"]}
    r = report(tid)
    assert r.sla_breached is True and r.breached_by == ["DISKOMINFOTIK"]
    assert set(r.sla_state) == {"sla_reminder", "sla_breach", "sla_escalation"}
    # Nothing left to check in this stage: both index attributes removed (sparse index).
    assert r.sweep_at is None and r.sweep_shard is None and not in_index(tid)
    assert sweep(wib(2026, 4, 10)).done == []
    assert actions(tid) == ["submit", "sla_reminder", "sla_breach", "sla_escalation"]


# -- the OPD's stages; redisposition -----------------------------------------------------------

def test_opd_reminder_breach_escalation_and_redispose_keeps_the_old_breach(
        submit: Callable[..., str], act: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 3, 16, 14))
    act(wib(2026, 3, 17, 10), tid, "verify", opd_code="DINSOS")

    result = sweep(wib(2026, 3, 26, 7, 45))
    assert [(d.action, d.opd_code, d.audience) for d in result.done] == [("sla_reminder", "DINSOS", ("opd",))]
    result = sweep(wib(2026, 3, 28, 0, 15))
    assert [(d.action, d.opd_code, d.audience) for d in result.done] == [
        ("sla_breach", "DINSOS", ("opd",)), ("sla_escalation", "DINSOS", ("opd_head", "admin"))]
    r = report(tid)
    assert r.sla_breached and r.breached_by == ["DINSOS"]

    # Wrong OPD: Diskominfotik redisposes to DPUPR. A new clock for the new OPD...
    r = act(wib(2026, 3, 30, 9), tid, "redispose", opd_code="DPUPR", note="bukan bansos, jalan desa")
    assert (r.opd_code, r.sla_stage, r.sla_breached, r.sla_state) == ("DPUPR", "respon_opd", False, {})
    # 3 HK from Mon 30 Mar: Tue 31, Wed 1, Thu 2 Apr (Fri 3 Apr is Good Friday).
    assert r.due_at == "2026-04-02T16:59:59.000000+00:00"
    assert r.sweep_at is not None and in_index(tid)
    # ...while the breach stays on the record of the OPD that breached.
    assert r.breached_by == ["DINSOS"]

    assert [d.action for d in sweep(wib(2026, 4, 1, 7, 45)).done] == ["sla_reminder"]
    result = sweep(wib(2026, 4, 3, 0, 15))
    assert [(d.action, d.opd_code) for d in result.done] == [("sla_breach", "DPUPR"), ("sla_escalation", "DPUPR")]
    assert report(tid).breached_by == ["DINSOS", "DPUPR"]
    assert [e.data["opd_code"] for e in events_of(tid, "sla_escalation")] == ["DINSOS", "DPUPR"]

    # DPUPR accepts late: the follow-up stage has its own clock (jalan_rusak: a field check, 60 HK).
    r = act(wib(2026, 4, 6, 9), tid, "accept", role="opd", opd="DPUPR")
    assert (r.sla_stage, r.sla_breached, r.breached_by) == ("tindak_lanjut", False, ["DINSOS", "DPUPR"])


# -- the reporter's stages: auto-close, archive, and the paused staff clock ------------------

def test_auto_close_ten_working_days_after_the_answer(
        submit: Callable[..., str], act: Callable[..., Any], client: Any) -> None:
    tid = submit(wib(2026, 4, 1, 9))
    act(wib(2026, 4, 1, 10), tid, "verify", opd_code="DPUPR")
    r = act(wib(2026, 4, 2, 10), tid, "respond", role="opd", opd="DPUPR", message="Lubang sudah ditambal.")
    assert (r.status, r.sla_stage) == ("ditindaklanjuti", "konfirmasi")
    # 10 HK from Thu 2 Apr (Good Friday 3 Apr off): 6-10, 13-17 Apr -> Fri 17 Apr.
    assert r.due_at == "2026-04-17T16:59:59.000000+00:00"

    result = sweep(wib(2026, 4, 16, 7, 45))
    assert [(d.action, d.audience) for d in result.done] == [("sla_reminder", ("pelapor",))]
    (reminder,) = events_of(tid, "sla_reminder")
    assert reminder.data["consequence"] == "auto_close" and reminder.data["stage"] == "konfirmasi"

    assert sweep(wib(2026, 4, 17, 23, 45)).done == []  # the reporter still has the evening
    result = sweep(wib(2026, 4, 18, 0, 15))
    assert [d.action for d in result.done] == ["auto_close"]
    r = report(tid)
    assert (r.status, r.sla_stage, r.due_at, r.sweep_at, r.sweep_shard) == ("selesai", None, None, None, None)
    assert not in_index(tid)
    (closing,) = events_of(tid, "auto_close")
    assert (closing.actor, closing.from_status, closing.to_status, closing.public) == (
        "sistem", "ditindaklanjuti", "selesai", True)
    assert closing.data["stage"] == "konfirmasi"
    # The reporter reads it on the timeline; the reporter's silence is no staff breach.
    view = client.http.get(f"/reports/{tid}", headers={"X-Access-Token": TOKENS[tid]}).json_body
    assert view["status"] == "selesai" and view["timeline"][-1]["actor"] == "sistem"
    assert view["due_at"] is None
    assert "sla_breach" not in actions(tid) and r.breached_by == []
    assert sweep(wib(2026, 5, 1)).done == []


def test_archive_ten_working_days_in_perlu_kelengkapan(
        submit: Callable[..., str], act: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 4, 1, 9))
    r = act(wib(2026, 4, 1, 10), tid, "request_info", message="Mohon kirim foto lokasi.")
    assert (r.status, r.sla_stage) == ("perlu_kelengkapan", "kelengkapan")
    assert r.due_at == "2026-04-16T16:59:59.000000+00:00"  # 2, 6-10, 13-16 Apr (3 Apr off)

    assert sweep(wib(2026, 4, 15, 7, 15)).done == []
    result = sweep(wib(2026, 4, 15, 7, 45))
    assert [(d.action, d.audience) for d in result.done] == [("sla_reminder", ("pelapor",))]
    assert events_of(tid, "sla_reminder")[0].data["consequence"] == "archive"
    assert sweep(wib(2026, 4, 16, 23, 50)).done == []
    result = sweep(wib(2026, 4, 17, 0, 15))
    assert [d.action for d in result.done] == ["archive"]
    r = report(tid)
    assert r.status == "ditolak" and r.sweep_at is None and not in_index(tid)
    (archived,) = events_of(tid, "archive")
    assert (archived.actor, archived.to_status, archived.public) == ("sistem", "ditolak", True)
    assert "sla_breach" not in actions(tid)


def test_perlu_kelengkapan_pauses_the_staff_clock_and_the_reply_starts_a_fresh_one(
        submit: Callable[..., str], act: Callable[..., Any], reply: Callable[..., Any]) -> None:
    tid = submit(wib(2026, 3, 17, 10))  # verification would be due Fri 27 Mar...
    act(wib(2026, 3, 17, 11), tid, "request_info", message="Mohon lengkapi alamat.")
    # ...but the report waits on the reporter: no staff reminder, no breach, however long.
    assert sweep(wib(2026, 3, 26, 8)).done == []
    assert sweep(wib(2026, 3, 28, 0, 30)).done == []
    assert sweep(wib(2026, 4, 3, 12)).done == []
    assert report(tid).sla_stage == "kelengkapan" and not report(tid).sla_breached

    # The reporter answers on Mon 6 Apr: back to verification, with a fresh 3 HK from the reply.
    r = reply(wib(2026, 4, 6, 10), tid)
    assert (r.status, r.sla_stage) == ("diajukan", "verifikasi")
    assert r.due_at == "2026-04-09T16:59:59.000000+00:00"  # Tue 7, Wed 8, Thu 9 Apr
    assert sweep(wib(2026, 4, 7, 12)).done == []  # the kelengkapan reminder (Tue 7 Apr) is gone with its stage
    assert [d.action for d in sweep(wib(2026, 4, 8, 8)).done] == ["sla_reminder"]
    assert [d.action for d in sweep(wib(2026, 4, 10, 0, 15)).done] == ["sla_breach", "sla_escalation"]
    assert actions(tid) == ["submit", "request_info", "reply", "sla_reminder", "sla_breach", "sla_escalation"]


def test_a_human_move_between_read_and_write_wins_over_the_sweep(
        submit: Callable[..., str], act: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The reporter (or an officer) changes the report after the sweep read it: the sweep's
    auto-close loses the version race and is dropped whole; the next run sees the new stage."""
    from chalicelib.services import sla_sweep

    tid = submit(wib(2026, 4, 1, 9))
    act(wib(2026, 4, 1, 10), tid, "verify", opd_code="DPUPR")
    act(wib(2026, 4, 2, 10), tid, "respond", role="opd", opd="DPUPR", message="Sudah ditangani.")
    fired = write_first(monkeypatch, lambda: act(wib(2026, 4, 18, 0, 14), tid, "close", message="Ditutup oleh admin."))
    result = sla_sweep.sweep(wib(2026, 4, 18, 0, 15))
    # The sweep read the report again: closed by hand, nothing is left for it to do.
    assert fired and (result.retried, result.conflicts, result.done) == ([tid], [], [])
    assert result.items_read == result.due + 1  # the re-read is counted
    assert actions(tid)[-1] == "close" and "auto_close" not in actions(tid)
    assert sweep(wib(2026, 4, 18, 0, 30)).done == []


def test_a_sync_record_between_read_and_write_does_not_delay_the_breach(
        submit: Callable[..., str], act: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The SP4N-LAPOR! sync records its result on the report (a versioned write) just after the
    sweep read it: the sweep plans again from the stored report and breaches in the same run,
    instead of leaving the breach and escalation for the run 15 minutes later."""
    from chalicelib.services import sla_sweep, sync

    tid = submit(wib(2026, 4, 1, 9))
    act(wib(2026, 4, 1, 10), tid, "verify", opd_code="DPUPR")
    fired = write_first(monkeypatch, lambda: sync.record_synced(tid, 2, "LPR-0001", "create"))
    result = sla_sweep.sweep(wib(2026, 4, 9, 1))  # Wed 8 Apr 23:59:59 was the OPD's deadline
    assert fired and result.retried == [tid] and result.conflicts == []
    assert [(d.action, d.opd_code) for d in result.done] == [("sla_breach", "DPUPR"), ("sla_escalation", "DPUPR")]
    assert actions(tid) == ["submit", "verify", "sp4n_synced", "sla_breach", "sla_escalation"]
    assert report(tid).breached_by == ["DPUPR"]


def test_a_report_that_keeps_changing_is_left_for_the_next_run(
        submit: Callable[..., str], act: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone writes first on every attempt: after ATTEMPTS tries the sweep gives up on that
    report without writing anything; it stays due and the next run takes it."""
    from chalicelib.data import reports as repo
    from chalicelib.services import sla_sweep

    tid = submit(wib(2026, 4, 1, 9))
    act(wib(2026, 4, 1, 10), tid, "verify", opd_code="DPUPR")
    before = report(tid)
    original = repo.save_change
    tries = []

    def always_second(report_: Any, expected: int, events: Any, *claims: Any) -> None:
        tries.append(expected)
        raise repo.Conflict(["ConditionalCheckFailed"], ["report"])  # someone else wrote first

    monkeypatch.setattr(repo, "save_change", always_second)
    result = sla_sweep.sweep(wib(2026, 4, 9, 1))
    assert len(tries) == sla_sweep.ATTEMPTS
    assert (result.retried, result.conflicts, result.done) == ([tid], [tid], [])
    assert "1 skipped (changed concurrently, next run retries)" in result.summary()
    after = report(tid)
    assert (after.version, after.sweep_at, actions(tid)) == (before.version, before.sweep_at, ["submit", "verify"])

    monkeypatch.setattr(repo, "save_change", original)
    assert [d.action for d in sla_sweep.sweep(wib(2026, 4, 9, 1, 15)).done] == ["sla_breach", "sla_escalation"]


# -- what staff and citizens see ------------------------------------------------------------

def test_staff_see_sla_and_citizens_see_due_at(submit: Callable[..., str], act: Callable[..., Any],
                                               client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.local import tokens
    from tests.staff_support import bearer, key_pair

    monkeypatch.setenv("LOCAL_JWT_PUBLIC_KEY", key_pair()[1])
    monkeypatch.setenv("JWT_ISSUER", tokens.ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", tokens.AUDIENCE)
    monkeypatch.setenv("CURSOR_SECRET", "test-cursor-secret-0123456789abcdef")
    monkeypatch.delenv("COGNITO_USER_POOL_ID", raising=False)

    tid = submit(wib(2026, 3, 16, 14))
    act(wib(2026, 3, 17, 10), tid, "verify", opd_code="DINSOS")
    sweep(wib(2026, 3, 28, 0, 15))
    staff = client.http.get(f"/staff/reports/{tid}", headers=bearer("admin"))
    assert staff.status_code == 200, staff.body
    assert staff.json_body["sla"]["stage"] == "respon_opd"
    assert staff.json_body["sla"]["due_at"] == "2026-03-27T23:59:59+07:00"
    assert staff.json_body["sla"]["breached"] is True
    citizen = client.http.get(f"/reports/{tid}", headers={"X-Access-Token": TOKENS[tid]}).json_body
    assert citizen["due_at"] == "2026-03-27T23:59:59+07:00"
    assert "sla" not in citizen and "breached" not in str(citizen)


# -- exactly once ---------------------------------------------------------------------------

@pytest.fixture
def atomic_requests(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make in-process moto handle one DynamoDB request at a time, as DynamoDB does.

    moto's TransactWriteItems snapshots whole tables and restores the snapshot when a condition
    fails; two threads inside moto at once let a losing transaction erase the winner's committed
    write (a moto artifact: DynamoDB transactions are serializable). Serialising requests keeps
    every interleaving that matters here (read, then conditional write, per request) and removes
    only the one DynamoDB cannot have.
    """
    import botocore.client

    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def call(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name != "dynamodb":
            return original(self, operation, params)
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)


def race(now: datetime, monkeypatch: pytest.MonkeyPatch, *, hold_first_write: bool) -> list[Any]:
    """Two sweeps at the same instant in two threads.

    With `hold_first_write`, each thread's first write waits until the other thread also reached
    its first write: both have read their first page of due reports (same versions) before
    anything changes. That is the worst interleaving, every time, instead of whatever the
    scheduler happens to do.
    """
    from chalicelib.data import reports
    from chalicelib.services import sla_sweep

    barrier = threading.Barrier(2, timeout=30)
    local = threading.local()
    original = reports.save_change

    def save_change(*args: Any, **kwargs: Any) -> None:
        if hold_first_write and not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        original(*args, **kwargs)

    monkeypatch.setattr(reports, "save_change", save_change)
    start = threading.Barrier(2, timeout=30)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(sla_sweep.sweep(now))
        except BaseException as exc:  # noqa: BLE001  (surfaced by the caller)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(reports, "save_change", original)
    assert not errors, errors
    assert [r.failed for r in results] == [[], []]
    return results


def test_two_sweeps_at_the_same_time_send_nothing_twice(submit: Callable[..., str], atomic_requests: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config

    # One shard: each sweep reads every due report in its first page, so with the first write
    # held back both hold all 12 reports at the same version: every report is contested.
    monkeypatch.setenv("DUE_SHARDS", "1")
    config.reset()
    ids = [submit(wib(2026, 3, 17, 9, i)) for i in range(12)]

    results = race(wib(2026, 3, 26, 8), monkeypatch, hold_first_write=True)
    assert [r.due for r in results] == [12, 12]
    # For each report one sweep wrote the reminder and the other lost the version race and
    # dropped its whole change, event included.
    sent = Counter(d.tracking_id for r in results for d in r.done if d.action == "sla_reminder")
    assert sent == Counter({tid: 1 for tid in ids})
    # The loser read each report again and found its reminder already recorded: nothing to do.
    assert sorted(c for r in results for c in r.retried) == sorted(ids)
    assert [r.conflicts for r in results] == [[], []]
    for tid in ids:
        assert actions(tid) == ["submit", "sla_reminder"]

    # The same at the breach: one breach and one escalation per report, never two.
    results = race(wib(2026, 3, 28, 0, 10), monkeypatch, hold_first_write=True)
    assert sorted(c for r in results for c in r.retried) == sorted(ids)
    for tid in ids:
        assert actions(tid) == ["submit", "sla_reminder", "sla_breach", "sla_escalation"]
        assert report(tid).breached_by == ["DISKOMINFOTIK"]

    # And a retry after the fact (a re-delivered schedule) finds nothing to do.
    assert sweep(wib(2026, 3, 28, 0, 10)).done == []


def test_concurrent_sweeps_over_all_shards_never_duplicate(submit: Callable[..., str], atomic_requests: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Free-running threads over the 4 shards: whatever the interleaving, nothing twice.
    ids = [submit(wib(2026, 3, 17, 9, i)) for i in range(16)]
    for now in (wib(2026, 3, 26, 8), wib(2026, 3, 28, 0, 10)):
        for _ in range(2):
            race(now, monkeypatch, hold_first_write=False)
    for tid in ids:
        assert actions(tid) == ["submit", "sla_reminder", "sla_breach", "sla_escalation"]


def test_a_sweep_after_three_skipped_intervals_catches_everything_that_fell_due(
        submit: Callable[..., str]) -> None:
    # Submitted Tue 17 Mar: reminder Thu 26 Mar 07:30, deadline Fri 27 Mar 23:59:59.
    first = [submit(wib(2026, 3, 17, 9, i)) for i in range(3)]
    # Submitted Wed 25 Mar: reminder Fri 27 Mar 07:30, deadline Mon 30 Mar 23:59:59.
    second = [submit(wib(2026, 3, 25, 9, i)) for i in range(3)]
    # Submitted Fri 27 Mar during the skipped runs: reminder Tue 31 Mar 07:30, deadline Wed 1 Apr.
    later = [submit(wib(2026, 3, 27, 7, 40)), submit(wib(2026, 3, 27, 7, 55))]
    assert {d.tracking_id for d in sweep(wib(2026, 3, 26, 7, 45)).done} == set(first)

    # The last run was Fri 27 Mar 07:15; the runs of 07:30, 07:45 and 08:00 were skipped.
    assert sweep(wib(2026, 3, 27, 7, 15)).done == []
    result = sweep(wib(2026, 3, 27, 8, 15))
    assert sorted(d.tracking_id for d in result.done) == sorted(second)
    assert {d.action for d in result.done} == {"sla_reminder"}

    # Three runs skipped across midnight: the first run after catches every breach.
    assert sweep(wib(2026, 3, 27, 23, 45)).done == []
    result = sweep(wib(2026, 3, 28, 0, 45))
    assert sorted(d.tracking_id for d in result.done if d.action == "sla_breach") == sorted(first)
    # Skipped for a whole weekend and more: Monday's deadlines and Tuesday morning's reminders
    # are caught by Tuesday's first run.
    result = sweep(wib(2026, 3, 31, 9))
    assert sorted(d.tracking_id for d in result.done if d.action == "sla_breach") == sorted(second)
    assert sorted(d.tracking_id for d in result.done if d.action == "sla_reminder") == sorted(later)
    for tid in first + second:
        assert actions(tid) == ["submit", "sla_reminder", "sla_breach", "sla_escalation"]
    for tid in later:
        assert actions(tid) == ["submit", "sla_reminder"]


def test_skipped_runs_over_a_reminder_and_its_deadline_send_the_breach_not_a_stale_reminder(
        submit: Callable[..., str]) -> None:
    tid = submit(wib(2026, 3, 17, 10))
    result = sweep(wib(2026, 3, 28, 1))  # the first run in days: reminder and deadline both passed
    assert sorted(d.action for d in result.done) == ["sla_breach", "sla_escalation"]
    assert actions(tid) == ["submit", "sla_breach", "sla_escalation"]


# -- weekly digest --------------------------------------------------------------------------

def test_weekly_digest_to_pimpinan_is_recorded_once_per_week(submit: Callable[..., str]) -> None:
    from chalicelib.data import digests
    from chalicelib.services import sla_sweep

    late = submit(wib(2026, 3, 17, 10))
    on_time = submit(wib(2026, 3, 27, 10))
    sweep(wib(2026, 3, 28, 1))
    monday = wib(2026, 3, 30, 7, 30)  # Monday 07:30 WIB = 00:30 UTC
    first = sla_sweep.weekly_digest(monday)
    assert first.week == "2026-W13" and first.recorded
    second = sla_sweep.weekly_digest(monday + timedelta(minutes=5))  # a retried schedule
    assert not second.recorded
    event = digests.get("2026-W13")
    assert event is not None and event.action == "sla_digest" and event.actor == "sistem"
    assert event.data["audience"] == ["pimpinan"]
    assert event.data["overdue_total"] == 1 and event.data["overdue_by_opd"] == {"DISKOMINFOTIK": 1}
    assert [i["tracking_id"] for i in event.data["overdue"]] == [late]
    assert on_time not in str(event.data)
    from chalicelib.data.models import LedgerItem

    assert LedgerItem.get("digest#2026-W13").state == "done"


def test_schedules_are_declared_on_the_app_and_run_the_services(
        app: Any, submit: Callable[..., str], at: Callable[[datetime], None]) -> None:
    import app as app_module
    from chalicelib.data import digests

    handlers = {h.name: h for h in app.event_sources}
    assert handlers["sla_sweep"].schedule_expression.to_string() == "rate(15 minutes)"
    # Monday 07:30 WIB is Monday 00:30 UTC.
    assert handlers["sla_weekly_digest"].schedule_expression.to_string() == "cron(30 0 ? * MON *)"

    tid = submit(wib(2026, 3, 17, 10))
    at(wib(2026, 3, 28, 0, 15))
    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-03-27T17:15:00Z",
             "id": "1", "region": "ap-southeast-3", "resources": [], "detail": {}, "account": "123456789012"}
    app_module.sla_sweep_schedule(event, None)
    assert actions(tid) == ["submit", "sla_breach", "sla_escalation"]
    at(wib(2026, 3, 30, 7, 30))
    app_module.sla_weekly_digest(event, None)
    app_module.sla_weekly_digest(event, None)  # EventBridge delivers at least once
    digest = digests.get("2026-W13")
    assert digest is not None and digest.data["overdue_total"] == 1


# -- public calendar ------------------------------------------------------------------------

def test_public_calendar_of_2026(client: Any) -> None:
    r = client.http.get("/calendar?year=2026")
    assert r.status_code == 200
    body = r.json_body
    off = {d["date"]: d["kind"] for d in body["days_off"]}
    assert off["2026-03-18"] == "cuti_bersama" and off["2026-03-19"] == "libur_nasional"
    assert body["working_days_per_month"]["2026-03"] == 17
    bad = client.http.get("/calendar?year=26x")
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "validation_error"
    assert client.http.get("/calendar?year=1999").status_code == 400


# -- holiday overrides: API (admin only) and CLI ----------------------------------------------

@pytest.fixture
def staff_tokens(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, str]]:
    from chalicelib.local import tokens
    from tests.staff_support import bearer, key_pair

    monkeypatch.setenv("LOCAL_JWT_PUBLIC_KEY", key_pair()[1])
    monkeypatch.setenv("JWT_ISSUER", tokens.ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", tokens.AUDIENCE)
    monkeypatch.setenv("CURSOR_SECRET", "test-cursor-secret-0123456789abcdef")
    monkeypatch.delenv("COGNITO_USER_POOL_ID", raising=False)
    return bearer


def test_overrides_api_is_for_admins(client: Any, submit: Callable[..., str],
                                     staff_tokens: Callable[..., dict[str, str]]) -> None:
    import json

    path = "/staff/calendar/overrides"
    body = json.dumps({"kind": "off", "note": "Cuti bersama susulan"})
    json_type = {"Content-Type": "application/json"}
    tid = submit(wib(2026, 8, 14, 9))  # Fri: 3 HK = Tue 18, Wed 19, Thu 20 Aug (17 Aug is a holiday)
    assert report(tid).due_at == "2026-08-20T16:59:59.000000+00:00"

    for role, opd in (("opd", "DINSOS"), ("pimpinan", None)):
        headers = staff_tokens(role, opd)
        assert client.http.get(path, headers=headers).status_code == 403
        r = client.http.put(f"{path}/2026-08-18", body=body, headers={**json_type, **headers})
        assert r.status_code == 403 and r.json_body["error"]["code"] == "forbidden"
        assert client.http.delete(f"{path}/2026-08-18", headers=headers).status_code == 403
    assert client.http.get(path).status_code == 401
    assert client.http.put(f"{path}/2026-08-18", body=body, headers=json_type).status_code == 401

    admin = {**json_type, **staff_tokens("admin")}
    r = client.http.put(f"{path}/2026-08-18", body=body, headers=admin)
    assert r.status_code == 200, r.body
    assert r.json_body["date"] == "2026-08-18" and r.json_body["kind"] == "off"
    assert r.json_body["updated_by"] == "local-admin"
    listed = client.http.get(path, headers=admin).json_body["items"]
    assert [(i["date"], i["kind"], i["note"]) for i in listed] == [("2026-08-18", "off", "Cuti bersama susulan")]
    # The open report's deadline moved with it, and the public calendar shows the day.
    assert report(tid).due_at == "2026-08-21T16:59:59.000000+00:00"
    public = client.http.get("/calendar?year=2026").json_body
    assert {"date": "2026-08-18", "kind": "override", "name": "Cuti bersama susulan", "weekend": False} \
        in public["days_off"]

    for bad_path, bad_body in ((f"{path}/2026-02-30", body), (f"{path}/18-08-2026", body),
                               (f"{path}/2026-08-19", json.dumps({"kind": "maybe"})),
                               (f"{path}/2026-08-19", json.dumps({"kind": "off", "extra": 1}))):
        r = client.http.put(bad_path, body=bad_body, headers=admin)
        assert r.status_code == 400 and r.json_body["error"]["code"] == "validation_error", (bad_path, r.body)

    assert client.http.delete(f"{path}/2026-08-18", headers=admin).status_code == 200
    assert client.http.delete(f"{path}/2026-08-18", headers=admin).status_code == 404
    assert client.http.get(path, headers=admin).json_body["items"] == []
    assert report(tid).due_at == "2026-08-20T16:59:59.000000+00:00"


def test_cli_calendar_and_sla_sweep(submit: Callable[..., str], aws: dict[str, str], tmp_path: Any,
                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from chalicelib import cli

    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # no local stack file: the test's moto
    tid = submit(wib(2026, 3, 17, 10))

    assert cli.main(["calendar", "add", "2026-03-26", "--kind", "off", "--note", "Banjir"]) == 0
    assert "2026-03-26 closed (off)" in capsys.readouterr().out
    assert cli.main(["calendar", "list"]) == 0
    assert "2026-03-26  off  Banjir" in capsys.readouterr().out
    assert report(tid).due_at == "2026-03-30T16:59:59.000000+00:00"
    assert cli.main(["calendar", "add", "2026-13-01"]) == 2
    assert cli.main(["calendar", "remove", "2026-03-26"]) == 0
    capsys.readouterr()

    assert cli.main(["sla-sweep", "--now", "2026-03-26T07:45+07:00"]) == 0
    out = capsys.readouterr().out
    assert "1 report(s) due" in out and f"{tid}  sla_reminder" in out and "-> admin" in out
    before = report(tid)
    assert cli.main(["sla-sweep", "--now", "2026-03-28T00:15", "--dry-run", "--json"]) == 0
    looked = capsys.readouterr()
    planned = json.loads(looked.out)
    assert planned["dry_run"] is True and planned["counts"] == {"sla_breach": 1, "sla_escalation": 1}
    after = report(tid)
    assert (after.version, after.event_seq, after.sla_state, after.sla_breached) == (
        before.version, before.event_seq, before.sla_state, before.sla_breached)
    assert "warning" not in looked.err  # a past instant: nothing to warn about
    assert cli.main(["sla-sweep", "--now", "2026-03-28T00:15", "--json"]) == 0  # no offset: WIB
    printed = json.loads(capsys.readouterr().out)
    assert printed["now"] == "2026-03-28T00:15:00+07:00" and printed["dry_run"] is False
    assert printed["counts"] == {"sla_breach": 1, "sla_escalation": 1}
    assert cli.main(["sla-sweep", "--now", "2026-03-28T00:30"]) == 0
    assert "nothing to send or close" in capsys.readouterr().out
    assert cli.main(["sla-sweep", "--now", "2099-01-05T08:00", "--dry-run"]) == 0
    looked = capsys.readouterr()
    assert "dry run" in looked.out and "warning" not in looked.err
    assert cli.main(["sla-sweep", "--now", "2099-01-05T08:00"]) == 0
    assert "in the future" in capsys.readouterr().err
    assert cli.main(["sla-sweep", "--now", "yesterday"]) == 2
    assert cli.main(["sla-digest", "--now", "2026-03-30T07:30"]) == 0
    assert "Weekly digest 2026-W13: 1 overdue report(s), recorded." in capsys.readouterr().out


def test_run_scheduled_is_the_sweep_at_the_service_clock(submit: Callable[..., str],
                                                         at: Callable[[datetime], None]) -> None:
    from chalicelib.services import sla_sweep

    tid = submit(wib(2026, 3, 17, 10))
    at(wib(2026, 3, 28, 0, 15))  # what clock.now() answers, as in the Lambda and the local pump
    result = sla_sweep.run_scheduled()
    assert [(d.tracking_id, d.action) for d in result.done] == [(tid, "sla_breach"), (tid, "sla_escalation")]


def test_a_run_cut_short_leaves_the_rest_due_for_the_next(submit: Callable[..., str]) -> None:
    from chalicelib.services import sla_sweep

    ids = [submit(wib(2026, 3, 17, 9, i)) for i in range(5)]

    class AlmostOutOfTime:  # a Lambda context with less time left than the safety margin
        def get_remaining_time_in_millis(self) -> int:
            return 5_000

    cut = sla_sweep.run_scheduled(wib(2026, 3, 26, 8), context=AlmostOutOfTime())
    assert cut.truncated and cut.done == []
    capped = sla_sweep.sweep(wib(2026, 3, 26, 8), max_reports=2)
    assert capped.truncated and len(capped.done) == 2
    rest = sla_sweep.sweep(wib(2026, 3, 26, 8, 15))
    assert not rest.truncated and len(rest.done) == 3
    for tid in ids:
        assert actions(tid) == ["submit", "sla_reminder"]


# -- cost: counted, not timed ---------------------------------------------------------------

class ReadMeter:
    """Items DynamoDB would bill as read, from the responses themselves: ScannedCount summed over
    every Query/Scan page (moto's Query walks the whole table internally, so its wall time says
    nothing; the ScannedCount it returns is what DynamoDB reads), one per item a Get returns."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def record(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        table = str(params.get("TableName", "?"))
        self.calls[operation] += 1
        if operation in ("Query", "Scan"):
            self.items[table] += int(response.get("ScannedCount", 0))
        elif operation == "GetItem":
            self.items[table] += 1 if response.get("Item") else 0
        elif operation == "BatchGetItem":
            for name, found in response.get("Responses", {}).items():
                self.items[name] += len(found)
        elif operation == "TransactGetItems":
            self.items["transact"] += sum(1 for r in response.get("Responses", []) if r.get("Item"))

    @property
    def total(self) -> int:
        return sum(self.items.values())


@pytest.fixture
def meter(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ReadMeter]:
    import botocore.client

    m = ReadMeter()
    original = botocore.client.BaseClient._make_api_call

    def call(self: Any, operation: str, params: Any) -> Any:
        response = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            m.record(operation, params, response)
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    yield m


def fill(table: str, total: int, due_template: dict[str, Any], due: int, now_utc: str, future_utc: str) -> list[str]:
    """`total` reports in the table, `due` of them due now; written directly with batch writes.

    Only what the sweep's access path could touch is realistic: the due reports are full copies
    of a real report. The others carry just what places them in (or out of) the index: 10% are
    open work due later (in the index, sweep_at in the future), 90% closed (not in the index).
    Writing only that keeps 50,000 items fast enough.
    """
    import boto3

    from chalicelib.services import sla_fields

    client = boto3.client("dynamodb", region_name="ap-southeast-3")
    due_ids: list[str] = []
    requests: list[dict[str, Any]] = []

    def flush() -> None:
        while requests:
            batch = {table: requests[:25]}
            del requests[:25]
            while batch:
                batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    for i in range(total):
        tid = f"KBB-B{i:07d}"
        if i < due:
            item = {**due_template, "tracking_id": {"S": tid}, "sweep_shard": {"S": sla_fields.shard_of(tid)},
                    "sweep_at": {"S": now_utc}}
            due_ids.append(tid)
        elif i % 10 == 0:
            item = {"tracking_id": {"S": tid}, "status": {"S": "diproses"},
                    "sweep_shard": {"S": sla_fields.shard_of(tid)}, "sweep_at": {"S": future_utc}}
        else:
            item = {"tracking_id": {"S": tid}, "status": {"S": "selesai"}}
        requests.append({"PutRequest": {"Item": item}})
        if len(requests) >= 500:
            flush()
    flush()
    return due_ids


DUE_IN_BULK = 40


@pytest.fixture
def cheap_moto_snapshots(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's per-transaction table snapshot is O(table size): ~5 s per write with 50,000 items,
    a cost of moto's alone that tells nothing about the sweep (see loadgen)."""
    from chalicelib.local import loadgen

    loadgen.cheap_transaction_snapshots(monkeypatch.setattr)


@pytest.mark.parametrize("total", [1_000, 10_000, 50_000])
def test_items_read_per_due_report_does_not_grow_with_the_table(
        total: int, submit: Callable[..., str], meter: ReadMeter, aws: dict[str, str],
        cheap_moto_snapshots: None) -> None:
    import time

    import boto3

    template_id = submit(wib(2026, 3, 17, 10))  # a real report through the intake
    client = boto3.client("dynamodb", region_name="ap-southeast-3")
    table = aws["REPORTS_TABLE"]
    template = client.get_item(TableName=table, Key={"tracking_id": {"S": template_id}})["Item"]
    client.delete_item(TableName=table, Key={"tracking_id": {"S": template_id}})
    started = time.monotonic()
    due_ids = fill(table, total, template, DUE_IN_BULK, "2026-03-25T00:30:00.000000+00:00",
                   "2026-04-30T00:30:00.000000+00:00")
    filled = time.monotonic() - started
    assert client.describe_table(TableName=table)["Table"]["ItemCount"] in (0, total)  # moto: 0 or exact

    meter.items.clear()
    meter.calls.clear()
    result = sweep(wib(2026, 3, 26, 8))  # reminders of the 40 due reports
    assert sorted(d.tracking_id for d in result.done) == sorted(due_ids)
    assert meter.calls["Scan"] == 0
    per_due = meter.total / result.due
    print(f"\n{total:>6} reports, {result.due} due: {meter.total} items read "
          f"({dict(meter.items)}), {per_due:.3f} per due report, calls {dict(meter.calls)}; "
          f"fill {filled:.1f} s, sweep {time.monotonic() - started - filled:.1f} s")
    assert result.due == DUE_IN_BULK
    assert per_due <= 1.05
    assert result.items_read == DUE_IN_BULK  # the sweep's own account agrees
