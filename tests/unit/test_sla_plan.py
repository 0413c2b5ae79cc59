"""The sweep's decision per report (chalicelib.domain.sla_plan): pure, no AWS."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain import sla
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.clock import WIB
from chalicelib.domain.sla import SlaClock
from chalicelib.domain.sla_plan import ADMIN_OPD_CODE, plan, responsible_opd

CAL = WorkingCalendar()
POLICY = sla.load_policy()


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=WIB)


FORWARDED = wib(2026, 3, 17, 10)  # Tue, the week before Nyepi/Lebaran
DUE = wib(2026, 3, 27, 23, 59, 59)  # 3 HK: Wed 25, Thu 26, Fri 27
REMIND = wib(2026, 3, 26, 7, 30)  # 07:30 of the working day before


def opd_clock(cal: WorkingCalendar = CAL) -> SlaClock:
    return SlaClock.start(POLICY, cal, "didisposisikan", FORWARDED, "pengaduan", "bansos")


def test_clock_of_the_domain_example() -> None:
    clk = opd_clock()
    assert clk.due_at == DUE and clk.reminder_at == REMIND


def test_reminder_goes_to_the_opd_once_and_records_itself() -> None:
    clk = opd_clock()
    p = plan(clk, REMIND + timedelta(minutes=10), swept_at=REMIND, stored_due=DUE, state={}, opd_code="DINSOS")
    assert [n.action for n in p.notices] == ["sla_reminder"]
    data = p.notices[0].data
    assert data["audience"] == ["opd"] and data["opd_code"] == "DINSOS" and data["stage"] == "respon_opd"
    assert data["due_at"] == "2026-03-27T23:59:59+07:00"
    assert "sla_reminder" in p.sla_state
    assert p.sweep_at == DUE and not p.sla_breached and p.system_move is None

    # A retry of the same run (or a second sweep that read the report before the first wrote it
    # and lost the version race, then read it again) finds the reminder recorded: nothing again.
    again = plan(clk, REMIND + timedelta(minutes=11), swept_at=REMIND, stored_due=DUE, state=p.sla_state,
                 opd_code="DINSOS")
    assert again.notices == () and again.sweep_at == DUE


def test_nothing_before_the_reminder() -> None:
    p = plan(opd_clock(), REMIND - timedelta(seconds=1), swept_at=REMIND, stored_due=DUE, state={},
             opd_code="DINSOS")
    assert p.notices == () and p.sweep_at == REMIND


def test_breach_and_escalation_after_the_deadline() -> None:
    clk = opd_clock()
    now = DUE + timedelta(minutes=1)
    p = plan(clk, now, swept_at=DUE, stored_due=DUE, state={"sla_reminder": "x"}, opd_code="DINSOS")
    assert [n.action for n in p.notices] == ["sla_breach", "sla_escalation"]
    breach, escalation = p.notices
    assert breach.data["audience"] == ["opd"] and breach.data["opd_code"] == "DINSOS"
    assert escalation.data["audience"] == ["opd_head", "admin"] and escalation.data["opd_code"] == "DINSOS"
    assert p.sla_breached and p.breached_by == "DINSOS"
    assert p.sweep_at is None  # nothing more to check in this stage: out of the index
    assert {"sla_reminder", "sla_breach", "sla_escalation"} <= set(p.sla_state)


def test_the_deadline_second_itself_is_still_in_time() -> None:
    p = plan(opd_clock(), DUE, swept_at=DUE, stored_due=DUE, state={"sla_reminder": "x"}, opd_code="DINSOS")
    assert p.notices == () and not p.sla_breached
    assert p.sweep_at == DUE  # look again right after


def test_skipped_runs_act_on_everything_since_the_stored_sweep_at() -> None:
    # The reminder was due, three runs were skipped... and the deadline passed too: the breach is
    # what matters, a reminder for a deadline already missed is dropped (SlaClock.due_checks).
    p = plan(opd_clock(), DUE + timedelta(minutes=45), swept_at=REMIND, stored_due=DUE, state={},
             opd_code="DINSOS")
    assert [n.action for n in p.notices] == ["sla_breach", "sla_escalation"]


def test_partial_state_completes_without_repeating() -> None:
    p = plan(opd_clock(), DUE + timedelta(hours=1), swept_at=DUE, stored_due=DUE,
             state={"sla_breach": "x"}, opd_code="DINSOS", breached=True)
    assert [n.action for n in p.notices] == ["sla_escalation"]
    assert p.breached_by is None and p.sla_breached


def test_verification_is_the_diskominfotik_desk() -> None:
    clk = SlaClock.start(POLICY, CAL, "diajukan", FORWARDED, "pengaduan", None)
    reminder = plan(clk, REMIND, swept_at=REMIND, stored_due=DUE, state={}, opd_code=None)
    assert reminder.notices[0].data["audience"] == ["admin"]
    assert reminder.notices[0].data["opd_code"] == ADMIN_OPD_CODE
    breach = plan(clk, DUE + timedelta(seconds=1), swept_at=DUE, stored_due=DUE, state=reminder.sla_state,
                  opd_code="DINSOS")  # a returned report may still carry the old OPD: not its breach
    assert breach.breached_by == ADMIN_OPD_CODE
    assert breach.notices[1].data["audience"] == ["opd_head", "admin"]


def test_responsible_opd() -> None:
    assert responsible_opd("verifikasi", "DINSOS") == ADMIN_OPD_CODE
    assert responsible_opd("respon_opd", "DINSOS") == "DINSOS"
    assert responsible_opd("tindak_lanjut", None) == ADMIN_OPD_CODE
    assert responsible_opd("konfirmasi", "DINSOS") is None
    assert responsible_opd(None, "DINSOS") is None


def test_konfirmasi_reminds_the_reporter_then_auto_closes() -> None:
    answered = wib(2026, 4, 6, 9)  # Mon
    clk = SlaClock.start(POLICY, CAL, "ditindaklanjuti", answered, "pengaduan", None)
    assert clk.reminder_at is not None and clk.due_at is not None
    r = plan(clk, clk.reminder_at, swept_at=clk.reminder_at, stored_due=clk.due_at, state={}, opd_code="DPUPR")
    assert [n.action for n in r.notices] == ["sla_reminder"]
    assert r.notices[0].data["audience"] == ["pelapor"] and r.notices[0].data["consequence"] == "auto_close"
    closing = plan(clk, clk.due_at + timedelta(minutes=5), swept_at=clk.due_at, stored_due=clk.due_at,
                   state=r.sla_state, opd_code="DPUPR")
    assert closing.system_move == "auto_close" and closing.notices == ()
    assert not closing.sla_breached and closing.breached_by is None  # the reporter's stage never breaches


def test_kelengkapan_archives_and_never_breaches() -> None:
    asked = wib(2026, 4, 6, 9)
    clk = SlaClock.start(POLICY, CAL, "perlu_kelengkapan", asked, "pengaduan", None)
    assert clk.due_at is not None and clk.reminder_at is not None
    r = plan(clk, clk.reminder_at, swept_at=clk.reminder_at, stored_due=clk.due_at, state={}, opd_code=None)
    assert r.notices[0].data["consequence"] == "archive"
    p = plan(clk, clk.due_at + timedelta(days=3), swept_at=clk.due_at, stored_due=clk.due_at,
             state=r.sla_state, opd_code=None)
    assert p.system_move == "archive" and not p.sla_breached and p.notices == ()


def test_closed_report_leaves_the_index() -> None:
    clk = SlaClock.start(POLICY, CAL, "selesai", FORWARDED)
    p = plan(clk, FORWARDED, swept_at=FORWARDED, stored_due=None, state=None, opd_code="DINSOS")
    assert p.sweep_at is None and p.notices == () and p.due_at is None


def test_deadline_moved_by_an_override_looks_at_the_whole_stage_without_repeats() -> None:
    # Reminder sent Thu 26 Mar; then an admin closes Fri 27 Mar (a regional closure).
    cal = WorkingCalendar.from_overrides([{"date": "2026-03-27", "kind": "off"}])
    clk = opd_clock(cal)
    assert clk.due_at == wib(2026, 3, 30, 23, 59, 59)  # Mon
    p = plan(clk, wib(2026, 3, 28, 0, 5), swept_at=DUE, stored_due=DUE, state={"sla_reminder": "x"},
             opd_code="DINSOS")
    assert p.notices == () and not p.sla_breached
    assert p.due_at == clk.due_at and p.sweep_at == clk.due_at


def test_deadline_moved_earlier_is_still_caught() -> None:
    # A Saturday opened ("on"): the deadline moves a day earlier than the stored one.
    cal = WorkingCalendar.from_overrides([{"date": "2026-03-21", "kind": "on"}])
    clk = SlaClock.start(POLICY, cal, "didisposisikan", wib(2026, 3, 17, 10), "pengaduan", None)
    assert clk.due_at is not None and clk.due_at < DUE
    p = plan(clk, DUE + timedelta(minutes=1), swept_at=DUE, stored_due=DUE, state={"sla_reminder": "x"},
             opd_code="DINSOS")
    assert [n.action for n in p.notices] == ["sla_breach", "sla_escalation"]
