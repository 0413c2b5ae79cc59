"""The performance definitions (chalicelib.domain.performance), pure: no AWS, no mocks.

The March 2026 fixture (tests/performance_fixture.py: 31 reports, 4 OPDs, the Nyepi/Idul Fitri
holidays, hand-backs, a reopen, overdue ones) is turned into events exactly as the workflow and
the SLA sweep write them, folded, and every figure compared with the values worked out by hand.
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import performance as perf
from chalicelib.domain import sla
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.clock import WIB
from chalicelib.domain.workflow import transition
from tests.performance_fixture import (
    EXPECTED,
    IDS,
    NOW,
    PERIOD,
    SCENARIO,
    Act,
    submitted_at,
)

POLICY = sla.load_policy()
CAL = WorkingCalendar()
CASE = perf.Case(report_type="pengaduan", category="lainnya")
ROLE = {"verify": "admin", "redispose": "admin", "close": "admin", "accept": "opd", "respond": "opd",
        "return": "opd", "reply": "pelapor", "feedback": "pelapor"}


def steps_for(key: str, acts: Iterable[Act]) -> list[perf.Step]:
    """The events the services write for this script (statuses from the workflow table)."""
    out = [perf.Step(1, submitted_at(key), "submit", None, "diajukan", {"type": "pengaduan"})]
    status, holder = "diajukan", None
    for act in acts:
        seq = len(out) + 1
        if act.action == "breach":
            out.append(perf.Step(seq, act.at, "sla_breach", status, status,
                                 {"stage": act.stage, "opd_code": act.opd, "audience": ["opd", "admin"]}))
            continue
        move = transition(status, act.action, ROLE[act.action], resolved=act.resolved)
        data: dict[str, object] = {}
        if act.action in ("verify", "redispose"):
            holder = act.opd
            data = {"opd_code": act.opd}
        elif act.action == "feedback":
            data = {"resolved": act.resolved, "rating": act.rating, "opd_code": holder}
        else:
            data = {"opd_code": holder}
        if act.action == "return":
            holder = None
        out.append(perf.Step(seq, act.at, act.action, status, move.to_status.value, data))
        status = move.to_status.value
    return out


def all_facts(shuffle: random.Random | None = None) -> list[perf.Fact]:
    facts: list[perf.Fact] = []
    for key, acts in SCENARIO.items():
        steps = steps_for(key, acts)
        if shuffle is not None:
            shuffle.shuffle(steps)
        facts += perf.disposition_facts(key, steps, policy=POLICY, calendar=CAL, case=CASE)
    return facts


# -- 1. every figure of the fixture ---------------------------------------------------------

def test_fixture_has_at_least_30_reports_across_4_opds_in_the_month() -> None:
    facts = [f for f in all_facts() if f.month == PERIOD]
    assert len({f.tracking_id for f in facts}) == 31
    assert {f.opd_code for f in facts} == {"DINSOS", "DISDUKCAPIL", "DPUPR", "DINKES"}
    assert len(facts) == 34  # S8, D3 and P7 were forwarded twice


def test_every_figure_matches_the_hand_computed_values() -> None:
    board = perf.scoreboard(all_facts(), NOW, PERIOD)
    got = {code: fig.as_dict() for code, fig in board.rows.items()}
    got["totals"] = board.totals.as_dict()
    assert got == EXPECTED


def test_each_figure_lists_exactly_the_reports_behind_it() -> None:
    board = perf.scoreboard(all_facts(), NOW, PERIOD)
    for code, figures in IDS.items():
        for figure, expected in figures.items():
            ids = board.rows[code].ids[figure]
            assert set(ids) == expected, (code, figure)
            assert len(ids) == board.rows[code].count(figure) == len(expected), (code, figure)
    assert set(board.totals.ids["received"]) == {k for k in SCENARIO if not k.startswith("X")}


def test_months_follow_the_wib_clock() -> None:
    months = {(f.tracking_id, f.opd_code): f.month for f in all_facts()}
    assert months[("X1", "DINSOS")] == "2026-02"
    assert months[("X2", "DINKES")] == "2026-02"  # Sat 28 Feb 23:30 WIB
    assert months[("X3", "DINSOS")] == "2026-04"  # Tue 31 Mar 17:30 UTC is 1 Apr in WIB
    assert months[("K5", "DINKES")] == "2026-03"  # Tue 31 Mar 23:30 WIB


def test_order_of_delivery_does_not_matter() -> None:
    # SQS may deliver a report's events in any order: the fold sorts by seq.
    assert all_facts(random.Random(6)) == all_facts()


# -- the rules, one by one ----------------------------------------------------------------------

def fact(key: str, opd: str) -> perf.Fact:
    return next(f for f in all_facts() if f.tracking_id == key and f.opd_code == opd)


def test_deadlines_skip_the_holiday_block() -> None:
    # DOMAIN.md: forwarded Tue 17 Mar 2026 -> 3 HK ends Fri 27 Mar 23:59:59.
    assert fact("S3", "DINSOS").response_due_at == "2026-03-27T16:59:59.000000+00:00"
    # Forwarded on the holiday itself (Fri 20): 25, 26, 27.
    assert fact("K3", "DINKES").response_due_at == "2026-03-27T16:59:59.000000+00:00"
    assert fact("K3", "DINKES").first_response_hours == 0.5


def test_accept_moves_the_first_response_deadline_to_tindak_lanjut() -> None:
    p3 = fact("P3", "DPUPR")
    assert p3.accepted_at is not None and not p3.accepted_late
    assert p3.response_due_at == "2026-03-30T16:59:59.000000+00:00"  # accept Mon 16 + 5 HK
    assert p3.on_time is True


def test_a_late_accept_makes_the_answer_late_even_within_tindak_lanjut() -> None:
    d5 = fact("D5", "DISDUKCAPIL")
    assert d5.accepted_late
    assert d5.first_response_at is not None and d5.first_response_at <= d5.response_due_at
    assert d5.on_time is False
    assert perf.outcome(d5, NOW) == perf.LATE


def test_deadline_second_is_in_time_and_the_next_morning_is_not() -> None:
    assert perf.outcome(fact("D7", "DISDUKCAPIL"), NOW) == perf.ON_TIME
    assert perf.outcome(fact("D8", "DISDUKCAPIL"), NOW) == perf.LATE
    assert fact("D7", "DISDUKCAPIL").first_response_hours == fact("D8", "DISDUKCAPIL").first_response_hours == 32.5


def test_redisposition_counts_for_both_opds_and_the_return_stays_with_the_first() -> None:
    first, second = fact("D3", "DISDUKCAPIL"), fact("D3", "DINKES")
    assert first.returned and first.ended_by == "return" and not first.holding
    assert perf.outcome(first, NOW) == perf.WITHDRAWN
    assert not second.returned and second.on_time
    s8 = fact("S8", "DINSOS")
    assert s8.ended_by == "redispose" and not s8.returned and perf.outcome(s8, NOW) == perf.WITHDRAWN


def test_a_reopen_keeps_the_first_response_and_restarts_the_opd_clock() -> None:
    p2 = fact("P2", "DPUPR")
    assert p2.on_time and p2.holding and p2.stage == sla.TINDAK_LANJUT
    assert p2.stage_due_at == "2026-03-13T16:59:59.000000+00:00"  # reply Fri 6 + 5 HK
    assert perf.is_overdue(p2, NOW) and not perf.is_overdue(p2, datetime(2026, 3, 13, 23, 0, tzinfo=WIB))
    s5 = fact("S5", "DINSOS")
    assert s5.first_response_seq == 3 and s5.rating == 4  # the last rating of the two


def test_pending_becomes_late_when_its_deadline_passes() -> None:
    p4 = fact("P4", "DPUPR")  # due Wed 1 Apr 23:59:59
    assert perf.outcome(p4, NOW) == perf.PENDING and not perf.is_overdue(p4, NOW)
    later = datetime(2026, 4, 2, 0, 0, tzinfo=WIB)
    assert perf.outcome(p4, later) == perf.LATE and perf.is_overdue(p4, later)


def test_breach_of_another_owner_is_not_this_opds() -> None:
    steps = [
        perf.Step(1, datetime(2026, 3, 2, 8, tzinfo=WIB), "submit", None, "diajukan"),
        perf.Step(2, datetime(2026, 3, 2, 9, tzinfo=WIB), "verify", "diajukan", "didisposisikan", {"opd_code": "DLH"}),
        perf.Step(3, datetime(2026, 3, 9, 0, tzinfo=WIB), "sla_breach", "didisposisikan", "didisposisikan",
                  {"stage": "verifikasi", "opd_code": "DISKOMINFOTIK"}),
        perf.Step(4, datetime(2026, 3, 10, 0, tzinfo=WIB), "sla_breach", "didisposisikan", "didisposisikan",
                  {"stage": "respon_opd"}),  # no owner named: the OPD stage's holder
    ]
    (only,) = perf.disposition_facts("T1", steps, policy=POLICY, calendar=CAL)
    assert only.breach_seqs == (4,)


def test_a_disposition_without_an_opd_credits_nobody() -> None:
    steps = [
        perf.Step(1, datetime(2026, 3, 2, 8, tzinfo=WIB), "submit", None, "diajukan"),
        perf.Step(2, datetime(2026, 3, 2, 9, tzinfo=WIB), "verify", "diajukan", "didisposisikan", {}),
        perf.Step(3, datetime(2026, 3, 2, 10, tzinfo=WIB), "respond", "didisposisikan", "ditindaklanjuti"),
    ]
    assert perf.disposition_facts("T2", steps, policy=POLICY, calendar=CAL) == []


def test_facts_survive_storage_as_json() -> None:
    for f in all_facts():
        assert perf.Fact.from_dict(f.as_dict()) == f
        assert f.key.startswith(f"{f.opd_code}#{f.tracking_id}#")
        assert f.basis_seq == len(SCENARIO[f.tracking_id]) + 1


def test_empty_month_and_unknown_figure() -> None:
    board = perf.scoreboard([], NOW, "2026-05")
    assert board.rows == {} and board.totals.as_dict()["on_time_pct"] is None
    assert board.totals.as_dict()["median_first_response_hours"] is None
    with pytest.raises(ValueError):
        perf.in_figure(fact("S1", "DINSOS"), "popularity", NOW)


def test_scoreboard_ignores_facts_of_other_months() -> None:
    board = perf.scoreboard(all_facts(), NOW, "2026-02")
    assert {c: f.count("received") for c, f in board.rows.items()} == {"DINKES": 1, "DINSOS": 1}


# -- periods and the digest day -------------------------------------------------------------

@pytest.mark.parametrize("value", ["2026-3", "2026-13", "26-03", "2026/03", "1999-12", "2026-00", "abcd-ef", ""])
def test_bad_periods(value: str) -> None:
    with pytest.raises(ValueError):
        perf.check_period(value)


def test_previous_period() -> None:
    assert perf.previous_period(datetime(2026, 4, 1, 7, 30, tzinfo=WIB)) == "2026-03"
    assert perf.previous_period(datetime(2026, 1, 2, 7, 30, tzinfo=WIB)) == "2025-12"
    # 31 Mar 17:30 UTC is already 1 April in WIB.
    assert perf.previous_period(datetime(2026, 3, 31, 17, 30, tzinfo=WIB) + timedelta(hours=7)) == "2026-03"


@pytest.mark.parametrize("day, first", [
    ("2026-04-01", True),   # Wednesday
    ("2026-04-02", False),
    ("2026-01-02", True),   # 1 Jan is New Year's Day: Friday 2 Jan
    ("2026-01-01", False),
    ("2026-05-04", True),   # Fri 1 May (Labour Day) off, then the weekend
    ("2026-05-01", False),
    ("2026-03-02", True),   # Sun 1 Mar: Monday 2
    ("2026-08-03", True),
    ("2026-03-31", False),
])
def test_first_working_day_of_the_month(day: str, first: bool) -> None:
    at = datetime.fromisoformat(day).replace(hour=7, minute=30, tzinfo=WIB)
    assert perf.is_first_working_day_of_month(CAL, at) is first


def test_first_working_day_follows_admin_overrides() -> None:
    cal = WorkingCalendar(overrides_off=[datetime(2026, 4, 1).date()])
    assert not perf.is_first_working_day_of_month(cal, datetime(2026, 4, 1, 7, 30, tzinfo=WIB))
    assert perf.is_first_working_day_of_month(cal, datetime(2026, 4, 2, 7, 30, tzinfo=WIB))


# -- the OPD's progress updates and its own request for information ----------------------------

def _wib(m: int, d: int, hh: int = 10) -> datetime:
    return datetime(2026, m, d, hh, tzinfo=WIB)


def test_a_progress_update_is_the_first_response() -> None:
    steps = [
        perf.Step(1, _wib(7, 1, 9), "submit", None, "diajukan"),
        perf.Step(2, _wib(7, 1), "verify", "diajukan", "didisposisikan", {"opd_code": "DPUPR"}),
        perf.Step(3, _wib(7, 2), "progress", "didisposisikan", "diproses", {"opd_code": "DPUPR"}),
        perf.Step(4, _wib(7, 20), "respond", "diproses", "ditindaklanjuti", {"opd_code": "DPUPR"}),
    ]
    (fact,) = perf.disposition_facts("KBB-AAAA-AAAA", steps, policy=POLICY, calendar=CAL, case=CASE)
    assert fact.first_response_seq == 3 and fact.on_time
    assert perf.outcome(fact, _wib(7, 30)) == perf.ON_TIME


def test_the_opds_request_pauses_its_stage_and_the_reply_resumes_it_as_the_sla_engine_does() -> None:
    steps = [
        perf.Step(1, _wib(7, 1, 9), "submit", None, "diajukan"),
        perf.Step(2, _wib(7, 1), "verify", "diajukan", "didisposisikan", {"opd_code": "DPUPR"}),
        perf.Step(3, _wib(7, 6), "accept", "didisposisikan", "diproses", {"opd_code": "DPUPR"}),
        perf.Step(4, _wib(7, 8), "request_info", "diproses", "perlu_kelengkapan",
                  {"opd_code": "DPUPR", "asked_by": "opd"}),
    ]
    (paused,) = perf.disposition_facts("KBB-AAAA-AAAA", steps, policy=POLICY, calendar=CAL, case=CASE)
    assert paused.first_response_seq == 4 and paused.on_time  # asking in public is an answer
    assert not paused.holding and not perf.is_overdue(paused, _wib(7, 17))  # the reporter owes the step
    steps.append(perf.Step(5, _wib(7, 20), "reply", "perlu_kelengkapan", "diproses", {"opd_code": "DPUPR"}))
    (resumed,) = perf.disposition_facts("KBB-AAAA-AAAA", steps, policy=POLICY, calendar=CAL, case=CASE)
    stopped = sla.PausedClock.stop(CAL, sla.TINDAK_LANJUT, sla.deadline(
        POLICY, CAL, sla.TINDAK_LANJUT, _wib(7, 6), "pengaduan", "lainnya"), _wib(7, 8))
    assert resumed.stage_due_at == perf.clock.iso_utc(stopped.resumed_due(CAL, _wib(7, 20)))
    assert resumed.stage_due_at == perf.clock.iso_utc(datetime(2026, 7, 23, 23, 59, 59, tzinfo=WIB))
    assert resumed.holding and perf.is_overdue(resumed, _wib(7, 24)) and not perf.is_overdue(resumed, _wib(7, 23))
    assert perf.Fact.from_dict(resumed.as_dict()) == resumed
