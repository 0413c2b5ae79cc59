"""SLA policy, deadlines per stage, reminders and the per-report clock (pause/resume)."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain import sla
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.clock import WIB
from chalicelib.domain.sla import Check, CheckKind, SlaClock, SlaConfigError
from chalicelib.domain.workflow import transition

ROOT = Path(__file__).resolve().parents[2]
CAL = WorkingCalendar()
POLICY = sla.load_policy()
RAW: dict[str, Any] = json.loads((ROOT / "chalicelib" / "config" / "sla.json").read_text())


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=WIB)


def eod(y: int, m: int, d: int) -> datetime:
    return wib(y, m, d, 23, 59, 59)


def policy_with(path: list[str], value: Any) -> sla.SlaPolicy:
    data = copy.deepcopy(RAW)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return sla.policy_from_dict(data)


# Forwarded / submitted on Tue 17 Mar 2026, the week before Lebaran 2026.
T0 = wib(2026, 3, 17, 10)


# -- stage_for ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "stage"),
    [
        ("diajukan", "verifikasi"),
        ("dikembalikan", "verifikasi"),
        ("didisposisikan", "respon_opd"),
        ("diproses", "tindak_lanjut"),
        ("ditindaklanjuti", "konfirmasi"),
        ("perlu_kelengkapan", "kelengkapan"),
        ("ditolak", None),
        ("selesai", None),
    ],
)
def test_stage_for(status: str, stage: str | None) -> None:
    assert sla.stage_for(status) == stage


def test_stage_for_unknown_status() -> None:
    with pytest.raises(ValueError):
        sla.stage_for("arsip")


# -- the shipped policy ---------------------------------------------------------------------

def test_shipped_policy_numbers_match_domain_md() -> None:
    def rule(stage: str, case: str = "default") -> tuple[int, str]:
        r = POLICY.stage(stage).cases[case]
        return r.amount, r.unit

    assert rule("verifikasi") == (3, "working_days")
    assert rule("respon_opd") == (3, "working_days")
    assert rule("tindak_lanjut", "sederhana") == (5, "working_days")
    assert rule("tindak_lanjut", "tanpa_pemeriksaan_lapangan") == (14, "working_days")
    assert rule("tindak_lanjut", "pemeriksaan_lapangan") == (60, "working_days")
    assert rule("konfirmasi") == (10, "working_days")
    assert rule("kelengkapan") == (10, "working_days")
    assert all(POLICY.stage(s).reminder for s in sla.STAGES)


def test_policy_categories_exist_in_the_seed() -> None:
    seed = ROOT / "chalicelib" / "seed" / "reference.json"
    if not seed.exists():
        pytest.skip("no seed reference data in this tree")
    codes = {c["code"] for c in json.loads(seed.read_text())["categories"]}
    assert POLICY.listed_categories() <= codes


# -- deadlines per stage --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("stage", "report_type", "category", "due"),
    [
        ("verifikasi", "pengaduan", None, eod(2026, 3, 27)),
        ("respon_opd", "pengaduan", "jalan_rusak", eod(2026, 3, 27)),
        # sederhana, 5 HK: 25, 26, 27, 30, 31 Mar
        ("tindak_lanjut", "permintaan_informasi", None, eod(2026, 3, 31)),
        ("tindak_lanjut", "pengaduan", None, eod(2026, 3, 31)),
        ("tindak_lanjut", "pengaduan", "informasi_publik", eod(2026, 3, 31)),
        ("tindak_lanjut", "pengaduan", "no_such_category", eod(2026, 3, 31)),
        # no field check, 14 HK: ... 2 Apr (7), Good Friday 3 Apr off, 6-10 Apr, 13, 14 Apr
        ("tindak_lanjut", "pengaduan", "adminduk", eod(2026, 4, 14)),
        ("tindak_lanjut", "aspirasi", "sekolah", eod(2026, 4, 14)),
        # field examination, 60 HK: past Labour Day, Ascension, Idul Adha, Pancasila Day and
        # Islamic New Year, to Fri 26 Jun 2026
        ("tindak_lanjut", "pengaduan", "jalan_rusak", eod(2026, 6, 26)),
        # an information request is answered in 5 HK whatever its subject
        ("tindak_lanjut", "permintaan_informasi", "jalan_rusak", eod(2026, 3, 31)),
        # konfirmasi and kelengkapan, 10 HK: 25, 26, 27, 30, 31 Mar, 1, 2, 6, 7, 8 Apr
        ("konfirmasi", "pengaduan", None, eod(2026, 4, 8)),
        ("kelengkapan", "aspirasi", None, eod(2026, 4, 8)),
    ],
)
def test_deadline_of_each_stage(stage: str, report_type: str, category: str | None, due: datetime) -> None:
    assert sla.deadline(POLICY, CAL, stage, T0, report_type, category) == due


def test_classification_berkadar_pengawasan_takes_the_field_examination_rule() -> None:
    due = sla.deadline(POLICY, CAL, "tindak_lanjut", T0, "pengaduan", "adminduk",
                       classification="berkadar_pengawasan")
    assert due == eod(2026, 6, 26)
    plain = sla.deadline(POLICY, CAL, "tindak_lanjut", T0, "pengaduan", "adminduk",
                         classification="tidak_berkadar_pengawasan")
    assert plain == eod(2026, 4, 14)


def test_case_precedence() -> None:
    stage = POLICY.stage("tindak_lanjut")
    assert stage.case_for("pengaduan", "jalan_rusak") == "pemeriksaan_lapangan"
    assert stage.case_for("permintaan_informasi", "jalan_rusak") == "sederhana"
    assert stage.case_for("permintaan_informasi", "adminduk", "berkadar_pengawasan") == "pemeriksaan_lapangan"
    assert stage.case_for(None, None, None) == "sederhana"


def test_unknown_stage() -> None:
    with pytest.raises(ValueError):
        sla.deadline(POLICY, CAL, "banding", T0, "pengaduan", None)


def test_calendar_days_unit_from_config() -> None:
    policy = policy_with(["stages", "tindak_lanjut", "cases", "tanpa_pemeriksaan_lapangan", "unit"],
                         "calendar_days")
    # 17 Mar + 14 days = Tue 31 Mar, a working day.
    assert sla.deadline(policy, CAL, "tindak_lanjut", T0, "pengaduan", "adminduk") == eod(2026, 3, 31)
    # 4 Mar + 14 days = 18 Mar, cuti bersama: rolls to Wed 25 Mar.
    assert sla.deadline(policy, CAL, "tindak_lanjut", wib(2026, 3, 4, 9), "pengaduan", "adminduk") == eod(
        2026, 3, 25
    )


def test_an_override_moves_a_stage_deadline_and_a_day_given_back_shortens_it() -> None:
    start = wib(2026, 8, 14, 10)  # Fri; Mon 17 Aug is Independence Day
    assert sla.deadline(POLICY, CAL, "verifikasi", start, "pengaduan", None) == eod(2026, 8, 20)
    late = WorkingCalendar(overrides_off=[date(2026, 8, 18)])
    assert sla.deadline(POLICY, late, "verifikasi", start, "pengaduan", None) == eod(2026, 8, 21)
    given = WorkingCalendar(overrides_on=[date(2026, 8, 15)])  # Saturday worked
    assert sla.deadline(POLICY, given, "verifikasi", start, "pengaduan", None) == eod(2026, 8, 19)


def test_deadline_across_the_year_boundary() -> None:
    # Wed 23 Dec 2026 + 5 HK: 28, 29, 30, 31 Dec, (1 Jan), Mon 4 Jan 2027.
    assert sla.deadline(POLICY, CAL, "tindak_lanjut", wib(2026, 12, 23, 9), "permintaan_informasi", None) == eod(
        2027, 1, 4
    )


# -- reminders ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("due", "remind"),
    [
        (eod(2026, 3, 27), wib(2026, 3, 26, 7, 30)),
        (eod(2026, 3, 25), wib(2026, 3, 17, 7, 30)),  # back over the Lebaran week
        (eod(2027, 1, 4), wib(2026, 12, 31, 7, 30)),  # back over New Year
        (eod(2026, 2, 9), wib(2026, 2, 6, 7, 30)),  # Monday -> Friday
    ],
)
def test_reminder_at(due: datetime, remind: datetime) -> None:
    assert sla.reminder_at(CAL, due) == remind


def test_reminder_moves_with_an_override() -> None:
    cal = WorkingCalendar(overrides_off=[date(2026, 3, 26)])
    assert sla.reminder_at(cal, eod(2026, 3, 27)) == wib(2026, 3, 25, 7, 30)


# -- the clock ------------------------------------------------------------------------------

def test_clock_of_a_new_report() -> None:
    clock = SlaClock.start(POLICY, CAL, "diajukan", T0, "pengaduan", None)
    assert clock.stage == "verifikasi"
    assert clock.due_at == eod(2026, 3, 27)
    assert clock.reminder_at == wib(2026, 3, 26, 7, 30)
    assert clock.waits_on == "staff" and not clock.paused
    assert clock.expiry is CheckKind.BREACH
    assert clock.checks() == (
        Check(CheckKind.REMINDER, wib(2026, 3, 26, 7, 30)),
        Check(CheckKind.BREACH, eod(2026, 3, 27)),
    )
    # the sweep stores sweep_at = next_check(after=now)
    assert clock.next_check(after=T0) == Check(CheckKind.REMINDER, wib(2026, 3, 26, 7, 30))
    assert clock.next_check(after=wib(2026, 3, 26, 7, 30)) == Check(CheckKind.BREACH, eod(2026, 3, 27))
    assert clock.next_check(after=eod(2026, 3, 27)) is None
    assert clock.next_check() == Check(CheckKind.REMINDER, wib(2026, 3, 26, 7, 30))


def test_sweep_runs_what_is_due_and_drops_an_overtaken_reminder() -> None:
    clock = SlaClock.start(POLICY, CAL, "didisposisikan", T0, "pengaduan", "jalan_rusak")
    remind, due = wib(2026, 3, 26, 7, 30), eod(2026, 3, 27)
    assert clock.due_checks(since=remind, now=wib(2026, 3, 26, 7, 29)) == ()
    assert clock.due_checks(since=remind, now=wib(2026, 3, 26, 7, 31)) == (Check(CheckKind.REMINDER, remind),)
    assert clock.due_checks(since=due, now=wib(2026, 3, 28, 0, 5)) == (Check(CheckKind.BREACH, due),)
    # the sweep was down over both: only the breach
    assert clock.due_checks(since=remind, now=wib(2026, 3, 30, 9)) == (Check(CheckKind.BREACH, due),)


def test_breach_is_strictly_after_the_deadline() -> None:
    clock = SlaClock.start(POLICY, CAL, "diproses", T0, "permintaan_informasi", None)
    assert clock.due_at == eod(2026, 3, 31)
    assert not clock.is_breached(eod(2026, 3, 31))
    assert clock.is_breached(eod(2026, 3, 31) + timedelta(seconds=1))


def test_reporter_stages_expire_into_system_moves_and_never_breach() -> None:
    answered = SlaClock.start(POLICY, CAL, "ditindaklanjuti", T0, "pengaduan", None)
    assert answered.stage == "konfirmasi" and answered.paused and answered.waits_on == "pelapor"
    assert answered.expiry is CheckKind.AUTO_CLOSE
    assert answered.checks()[-1] == Check(CheckKind.AUTO_CLOSE, eod(2026, 4, 8))
    assert not answered.is_breached(wib(2026, 5, 1))
    waiting = SlaClock.start(POLICY, CAL, "perlu_kelengkapan", T0, "pengaduan", None)
    assert waiting.expiry is CheckKind.ARCHIVE
    assert waiting.checks() == (
        Check(CheckKind.REMINDER, wib(2026, 4, 7, 7, 30)),
        Check(CheckKind.ARCHIVE, eod(2026, 4, 8)),
    )


@pytest.mark.parametrize("status", ["selesai", "ditolak"])
def test_closed_reports_have_no_clock(status: str) -> None:
    clock = SlaClock.start(POLICY, CAL, status, T0, "pengaduan", None)
    assert clock.stage is None and clock.due_at is None
    assert clock.checks() == () and clock.next_check() is None
    assert clock.waits_on is None and not clock.paused and clock.expiry is None
    assert not clock.is_breached(wib(2030, 1, 1))


def test_a_reminder_before_the_stage_start_is_dropped() -> None:
    one_day = policy_with(["stages", "verifikasi", "amount"], 1)
    # Tue 17 Mar 10:00 + 1 HK = Wed 25 Mar; the reminder would be 17 Mar 07:30, already past.
    clock = SlaClock.start(one_day, CAL, "diajukan", T0, "pengaduan", None)
    assert clock.due_at == eod(2026, 3, 25)
    assert clock.reminder_at is None
    assert clock.checks() == (Check(CheckKind.BREACH, eod(2026, 3, 25)),)
    # Submitted at 06:00, before the office opens: the 07:30 reminder still makes sense.
    early = SlaClock.start(one_day, CAL, "diajukan", wib(2026, 3, 17, 6), "pengaduan", None)
    assert early.reminder_at == wib(2026, 3, 17, 7, 30)


def test_reminder_can_be_switched_off_in_config() -> None:
    quiet = policy_with(["stages", "konfirmasi", "reminder"], False)
    clock = SlaClock.start(quiet, CAL, "ditindaklanjuti", T0, "pengaduan", None)
    assert clock.checks() == (Check(CheckKind.AUTO_CLOSE, eod(2026, 4, 8)),)


def test_restore_from_a_stored_deadline_equals_start() -> None:
    started = SlaClock.start(POLICY, CAL, "diajukan", T0, "pengaduan", None)
    assert started.due_at is not None
    assert SlaClock.restore(CAL, "diajukan", started.due_at, T0) == started


def test_rebuilding_picks_up_a_late_holiday() -> None:
    start = wib(2026, 8, 14, 10)
    before = SlaClock.start(POLICY, CAL, "didisposisikan", start, "pengaduan", None)
    after = SlaClock.start(POLICY, WorkingCalendar(overrides_off=[date(2026, 8, 18)]),
                           "didisposisikan", start, "pengaduan", None)
    assert (before.due_at, after.due_at) == (eod(2026, 8, 20), eod(2026, 8, 21))
    assert (before.reminder_at, after.reminder_at) == (wib(2026, 8, 19, 7, 30), wib(2026, 8, 20, 7, 30))


# -- pause and resume, through the workflow -------------------------------------------------

def test_pause_while_waiting_for_the_reporter_and_restart_fresh_on_reply() -> None:
    submitted = wib(2026, 3, 2, 9)  # Mon
    clock = SlaClock.start(POLICY, CAL, "diajukan", submitted, "pengaduan", None)
    assert clock.due_at == eod(2026, 3, 5)

    asked_at = wib(2026, 3, 3, 10)  # Tue: the admin asks for more information
    move = transition("diajukan", "request_info", "admin")
    assert move.restarts_sla
    waiting = SlaClock.start(POLICY, CAL, move.to_status, asked_at, "pengaduan", None)
    assert waiting.stage == "kelengkapan" and waiting.paused
    # 10 HK: 4, 5, 6, 9, 10, 11, 12, 13, 16, 17 Mar
    assert waiting.due_at == eod(2026, 3, 17)
    # the staff's verification deadline of 5 Mar is no longer watched
    assert not waiting.is_breached(wib(2026, 3, 9))

    replied_at = wib(2026, 3, 11, 14)  # Wed: the reporter answers
    move = transition(move.to_status, "reply", "pelapor")
    resumed = SlaClock.start(POLICY, CAL, move.to_status, replied_at, "pengaduan", None)
    assert resumed.stage == "verifikasi" and not resumed.paused
    # a fresh 3 HK from the reply (12, 13, 16 Mar), not the 2 HK left of the first period
    assert resumed.due_at == eod(2026, 3, 16)


def test_no_reply_archives_the_report() -> None:
    asked_at = wib(2026, 3, 3, 10)
    waiting = SlaClock.start(POLICY, CAL, "perlu_kelengkapan", asked_at, "pengaduan", None)
    sweep_at = waiting.next_check(after=asked_at)
    assert sweep_at == Check(CheckKind.REMINDER, wib(2026, 3, 16, 7, 30))
    assert waiting.due_checks(since=sweep_at.at, now=wib(2026, 3, 16, 7, 35)) == (sweep_at,)
    nxt = waiting.next_check(after=wib(2026, 3, 16, 7, 35))
    assert nxt == Check(CheckKind.ARCHIVE, eod(2026, 3, 17))
    (due,) = waiting.due_checks(since=nxt.at, now=wib(2026, 3, 18, 0, 1))
    move = transition("perlu_kelengkapan", due.kind.value, "sistem")
    assert move.to_status == "ditolak"
    assert SlaClock.start(POLICY, CAL, move.to_status, due.at, "pengaduan", None).next_check() is None


def test_reopened_report_gives_the_opd_a_fresh_period() -> None:
    answered_at = wib(2026, 4, 1, 10)
    reply = transition("ditindaklanjuti", "reply", "pelapor")
    assert reply.to_status == "diproses"
    reopened = SlaClock.start(POLICY, CAL, reply.to_status, wib(2026, 4, 6, 9), "permintaan_informasi", None)
    # 5 HK from Mon 6 Apr: 7, 8, 9, 10, 13 Apr
    assert reopened.due_at == eod(2026, 4, 13)
    assert answered_at < reopened.due_at


# -- policy validation ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["stages", "verifikasi", "amount"], 0),
        (["stages", "verifikasi", "amount"], True),
        (["stages", "verifikasi", "amount"], 2.5),
        (["stages", "verifikasi", "unit"], "hari_kerja"),
        (["stages", "verifikasi", "ammount"], 3),
        (["stages", "verifikasi", "reminder"], "yes"),
        (["stages", "tindak_lanjut", "default_case"], "ringan"),
        (["stages", "tindak_lanjut", "by_type", "aspirasi"], "ringan"),
        (["stages", "tindak_lanjut", "categories", "ringan"], ["x"]),
        (["stages", "tindak_lanjut", "categories", "sederhana"], ["adminduk"]),
        (["stages", "tindak_lanjut", "categories", "sederhana"], "adminduk"),
        (["stages", "tindak_lanjut", "cases"], {}),
        (["stages", "banding"], {"amount": 60, "unit": "calendar_days"}),
        (["version"], 2),
    ],
)
def test_policy_validation_rejects(path: list[str], value: Any) -> None:
    with pytest.raises(SlaConfigError):
        policy_with(path, value)


def test_policy_validation_rejects_a_missing_stage() -> None:
    data = copy.deepcopy(RAW)
    del data["stages"]["kelengkapan"]
    with pytest.raises(SlaConfigError):
        sla.policy_from_dict(data)


def test_load_policy_from_another_path(tmp_path: Path) -> None:
    data = copy.deepcopy(RAW)
    data["stages"]["respon_opd"]["amount"] = 2
    target = tmp_path / "sla.json"
    target.write_text(json.dumps(data))
    policy = sla.load_policy(target)
    assert sla.deadline(policy, CAL, "respon_opd", T0, "pengaduan", None) == eod(2026, 3, 26)


# -- the OPD's clock stopped by its own request for information ------------------------------

def test_a_paused_stage_resumes_with_the_working_days_it_had_left() -> None:
    due = eod(2026, 7, 10)  # Friday
    stopped = sla.PausedClock.stop(CAL, sla.TINDAK_LANJUT, due, wib(2026, 7, 7, 10))  # Tuesday
    assert (stopped.remaining, stopped.breached) == (3, False)  # Wed, Thu, Fri
    # Resumed the next Monday: three working days from there, not a fresh stage.
    assert stopped.resumed_due(CAL, wib(2026, 7, 20, 9)) == eod(2026, 7, 23)
    fresh = sla.deadline(POLICY, CAL, sla.TINDAK_LANJUT, wib(2026, 7, 20, 9))
    assert stopped.resumed_due(CAL, wib(2026, 7, 20, 9)) < fresh
    # The time left is counted in working days: 17 August (Independence Day) does not count.
    assert not CAL.is_working_day(date(2026, 8, 17))
    assert stopped.resumed_due(CAL, wib(2026, 8, 14, 15)) == eod(2026, 8, 20)
    # Paused and answered the same day: the deadline does not move at all.
    assert stopped.resumed_due(CAL, wib(2026, 7, 7, 16)) == due


def test_a_stage_paused_on_its_last_day_resumes_with_the_rest_of_a_day() -> None:
    due = eod(2026, 7, 10)
    stopped = sla.PausedClock.stop(CAL, sla.TINDAK_LANJUT, due, wib(2026, 7, 10, 8))
    assert (stopped.remaining, stopped.breached) == (0, False)
    assert stopped.resumed_due(CAL, wib(2026, 7, 15, 9)) == eod(2026, 7, 15)
    assert stopped.resumed_due(CAL, wib(2026, 7, 18, 9)) == eod(2026, 7, 20)  # Saturday: Monday's end


def test_asking_never_wipes_a_breach_recorded_before_the_pause() -> None:
    from chalicelib.domain import sla_plan

    due = eod(2026, 7, 10)
    stopped = sla.PausedClock.stop(CAL, sla.TINDAK_LANJUT, due, wib(2026, 7, 14, 10))
    assert stopped.breached
    resumed_at = wib(2026, 7, 20, 9)
    assert stopped.resumed_due(CAL, resumed_at) == due  # the deadline stays where it was missed
    clk = SlaClock.restore(CAL, "diproses", stopped.resumed_due(CAL, resumed_at), resumed_at)
    assert clk.is_breached(resumed_at)
    done = {"sla_breach": "2026-07-10T17:00:05Z", "sla_escalation": "2026-07-10T17:00:05Z"}
    plan = sla_plan.plan(clk, wib(2026, 7, 21, 9), swept_at=None, stored_due=due, state=done,
                         opd_code="DPUPR", breached=True)
    assert plan.notices == () and plan.sla_breached and plan.sweep_at is None  # recorded once, kept
    # Round trip through the report's stored form.
    assert sla.PausedClock.from_dict(stopped.as_dict()) == stopped


def test_only_a_staff_stage_pauses() -> None:
    with pytest.raises(ValueError):
        sla.PausedClock.stop(CAL, sla.KONFIRMASI, eod(2026, 7, 10), wib(2026, 7, 7))


def test_which_fields_a_deadline_depends_on() -> None:
    """What a correction (`verify`'s fields, action `correct`) may move: only the tindak_lanjut
    stage has cases, chosen by classification, type and category; no stage depends on the
    kecamatan or desa."""
    policy = sla.load_policy()
    combos = [(t, c) for t in ("pengaduan", "aspirasi", "permintaan_informasi")
              for c in ("jalan_rusak", "bansos", "sampah", None)]
    for stage in ("verifikasi", "respon_opd", "konfirmasi", "kelengkapan"):
        assert len({policy.rule_for(stage, t, c) for t, c in combos}) == 1, stage
    rules = {(t, c): policy.rule_for("tindak_lanjut", t, c) for t, c in combos}
    assert rules[("pengaduan", "jalan_rusak")].amount == 60 and rules[("pengaduan", "sampah")].amount == 5
    assert rules[("permintaan_informasi", "jalan_rusak")].amount == 5  # type before category
    assert policy.rule_for("tindak_lanjut", "aspirasi", "sampah", "berkadar_pengawasan").amount == 60
