"""Closing a Tukin month, pure: the objection window from the regency calendar, what an accepted
objection changes, the refusals, where a late event about a final month goes, and Diskominfotik's
verification block."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from chalicelib.domain import month_close as mc
from chalicelib.domain import performance as perf
from chalicelib.domain import sla
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.clock import WIB
from chalicelib.domain.errors import Conflict, Invalid

CAL = WorkingCalendar()
POLICY = sla.load_policy()


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


def test_window_runs_from_the_month_to_the_fifth_working_day_after_it() -> None:
    w = mc.objection_window("2026-11", CAL)
    assert w.opens == wib(2026, 11, 1) and w.closes == wib(2026, 12, 7, 23, 59, 59)  # Tue 1 .. Mon 7 Dec
    assert w.state(wib(2026, 10, 31, 23, 59)) == "not_open"
    assert w.state(wib(2026, 11, 15)) == "open"  # the current month: accepted too
    assert w.state(wib(2026, 12, 7, 23, 59, 59)) == "open"
    assert w.state(wib(2026, 12, 8, 0, 0)) == "closed"


def test_window_follows_national_days_off_and_the_admins_overrides() -> None:
    # April 2026: Good Friday (3 April) is no working day, so March's 5th working day is the 8th.
    assert mc.objection_window("2026-03", CAL).closes == wib(2026, 4, 8, 23, 59, 59)
    # An admin's day off on 2 December moves November's close by one working day.
    off = WorkingCalendar(overrides_off=[date(2026, 12, 2)])
    assert mc.objection_window("2026-11", off).closes == wib(2026, 12, 8, 23, 59, 59)
    # December's window runs into January (New Year's Day is off).
    assert mc.objection_window("2026-12", CAL).closes.date() > date(2027, 1, 7)


def test_objection_refused_outside_the_window_and_on_a_final_month() -> None:
    mc.check_may_object("2026-11", CAL, wib(2026, 12, 7, 16), final=False)
    with pytest.raises(Conflict) as closed:
        mc.check_may_object("2026-11", CAL, wib(2026, 12, 8, 8), final=False)
    assert closed.value.code == "objection_window_closed" and "berakhir" in closed.value.message
    with pytest.raises(Conflict) as future:
        mc.check_may_object("2026-12", CAL, wib(2026, 11, 20), final=False)
    assert future.value.code == "objection_window_not_open"
    with pytest.raises(Conflict) as final:
        mc.check_may_object("2026-11", CAL, wib(2026, 11, 20), final=True)
    assert final.value.code == "month_final"


def test_finalise_needs_the_window_closed_and_every_objection_decided() -> None:
    with pytest.raises(Conflict) as early:
        mc.check_may_finalise("2026-11", CAL, wib(2026, 12, 7, 12), final=False, undecided=0)
    assert early.value.code == "objection_window_open"
    with pytest.raises(Conflict) as undecided:
        mc.check_may_finalise("2026-11", CAL, wib(2026, 12, 8, 8), final=False, undecided=2)
    assert undecided.value.code == "objections_undecided"
    with pytest.raises(Conflict) as again:
        mc.check_may_finalise("2026-11", CAL, wib(2026, 12, 8, 8), final=True, undecided=0)
    assert again.value.code == "month_final"
    mc.check_may_finalise("2026-11", CAL, wib(2026, 12, 8, 8), final=False, undecided=0)


def test_objection_input() -> None:
    assert mc.check_objection("late", "  Pelapor tidak dapat dihubungi.  ") == ("late", "Pelapor tidak dapat dihubungi.")
    for figure, reason in (("received", "alasan"), ("late", " "), ("late", None), ("late", "x" * 1001)):
        with pytest.raises(Invalid):
            mc.check_objection(figure, reason)
    a = mc.objection_id("2026-11", "DPUPR", "KBB-1", "late")
    assert a == mc.objection_id("2026-11", "DPUPR", "KBB-1", "late") != mc.objection_id("2026-11", "DPUPR", "KBB-1",
                                                                                          "breaches")


def fold(steps: list[perf.Step]) -> perf.Fact:
    (fact,) = perf.disposition_facts("KBB-1", steps, policy=POLICY, calendar=CAL)
    return fact


SUBMIT = perf.Step(1, wib(2026, 11, 2, 8), "submit", None, "diajukan")
VERIFY = perf.Step(2, wib(2026, 11, 3, 9), "verify", "diajukan", "didisposisikan", {"opd_code": "DPUPR"})
LATE_ANSWER = perf.Step(3, wib(2026, 11, 10, 9), "respond", "didisposisikan", "ditindaklanjuti",
                        {"opd_code": "DPUPR"})
NOW = wib(2026, 11, 20)


def test_an_accepted_late_objection_counts_the_answer_as_on_time() -> None:
    fact = fold([SUBMIT, VERIFY, LATE_ANSWER])
    assert perf.outcome(fact, NOW) == perf.LATE
    (waived,) = mc.waive([fact], mc.waivers([{"status": "accepted", "opd_code": "DPUPR", "tracking_id": "KBB-1",
                                              "figure": "late"}]))
    assert perf.outcome(waived, NOW) == perf.ON_TIME
    board = perf.figures([waived], NOW)
    assert (board.count("late"), board.count("responded_on_time"), board.on_time_pct) == (0, 1, 100.0)
    # Rejected or undecided objections, or another OPD's, change nothing.
    for o in ({"status": "rejected", "opd_code": "DPUPR"}, {"status": "undecided", "opd_code": "DPUPR"},
              {"status": "accepted", "opd_code": "DINSOS"}):
        (same,) = mc.waive([fact], mc.waivers([{**o, "tracking_id": "KBB-1", "figure": "late"}]))
        assert perf.outcome(same, NOW) == perf.LATE


def test_an_accepted_late_objection_without_an_answer_counts_as_withdrawn() -> None:
    fact = fold([SUBMIT, VERIFY])  # never answered: late once the deadline passed
    assert perf.outcome(fact, NOW) == perf.LATE and perf.is_overdue(fact, NOW)
    waived = replace(fact, waived=("late", "overdue_open"))
    assert perf.outcome(waived, NOW) == perf.WITHDRAWN and not perf.is_overdue(waived, NOW)
    board = perf.figures([waived], NOW)
    assert board.count("received") == board.count("withdrawn") == 1 and board.on_time_pct is None


def test_an_accepted_breach_objection_takes_the_report_out_of_breaches_only() -> None:
    breach = perf.Step(3, wib(2026, 11, 7, 0, 15), "sla_breach", "didisposisikan", "didisposisikan",
                       {"stage": "respon_opd", "opd_code": "DPUPR"})
    fact = fold([SUBMIT, VERIFY, breach])
    assert perf.in_figure(fact, "breaches", NOW)
    waived = replace(fact, waived=("breaches",))
    assert not perf.in_figure(waived, "breaches", NOW) and perf.in_figure(waived, "late", NOW)
    assert perf.Fact.from_dict(waived.as_dict()) == waived


def test_a_late_event_is_a_correction_of_the_next_open_month() -> None:
    finalised_at = wib(2026, 12, 8, 9)
    frozen = fold([SUBMIT, VERIFY])  # at finalisation: unanswered and late
    now_fact = fold([SUBMIT, VERIFY, LATE_ANSWER])
    # Answered (late) after the month closed: one more answer, one fewer report overdue.
    assert mc.changes(frozen, finalised_at, now_fact, wib(2026, 12, 9)) == {"responded": 1, "overdue_open": -1}
    assert mc.changes(frozen, finalised_at, frozen, wib(2026, 12, 9)) == {}
    # A disposition the frozen record never had counts in full.
    assert mc.changes(None, finalised_at, frozen, wib(2026, 12, 9)) == {"received": 1, "late": 1, "overdue_open": 1}
    final = {"2026-11", "2026-12"}
    assert mc.correction_period("2026-11", lambda p: p in {"2026-11"}) == "2026-12"
    assert mc.correction_period("2026-11", lambda p: p in final) == "2027-01"
    assert mc.next_period("2026-12") == "2027-01"


def test_verification_time_is_a_block_of_its_own() -> None:
    fact = fold([SUBMIT, VERIFY])
    assert fact.desk_since == "2026-11-02T01:00:00.000000+00:00"
    assert fact.desk_due_at is not None and fact.disposed_at <= fact.desk_due_at
    late_verify = replace(VERIFY, at=wib(2026, 11, 9, 9))  # Mon 2 -> 3 HK ends Thu 5
    breach = perf.Step(3, wib(2026, 11, 6, 0, 15), "sla_breach", "diajukan", "diajukan",
                       {"stage": "verifikasi", "opd_code": "DISKOMINFOTIK"})
    late = fold([SUBMIT, breach, replace(late_verify, seq=4)])
    block = mc.verification([fact, late])
    assert block["unit"] == "DISKOMINFOTIK" and block["forwarded"] == 1  # one report, one tracking id
    redisposed = fold([SUBMIT, VERIFY])
    other = replace(late, tracking_id="KBB-2")
    block = mc.verification([redisposed, other])
    assert (block["forwarded"], block["on_time"], block["late"], block["breaches"]) == (2, 1, 1, 1)
    assert block["on_time_pct"] == 50.0 and block["median_working_hours"] is not None
    # The desk is not an OPD row: the scoreboard's rows are the OPDs the reports went to.
    assert list(perf.scoreboard([redisposed, other], NOW).rows) == ["DPUPR"]
