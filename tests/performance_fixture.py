"""The March 2026 scoreboard fixture.

31 reports forwarded in March 2026 to 4 OPDs (34 dispositions: three reports moved between OPDs),
plus three just outside the month (one of them only by the WIB clock). March 2026 has the Nyepi /
Idul Fitri block: Wed 18 - Tue 24 March are days off (national holidays and cuti bersama), so
working days in March are 2-6, 9-13, 16, 17, 25-27, 30, 31; in April, Fri 3 (Good Friday) is off.

Deadlines used below (chalicelib/config/sla.json; category "lainnya" takes the default case):
- respon_opd: 3 working days (HK) after the disposition's day, until 23:59:59 WIB;
- tindak_lanjut: 5 HK after the accept (or after the reporter's reopen).
Working hours are 07:30-16:00 WIB on working days (8.5 h a day).

The same scenario is driven two ways: through the pure fold (tests/unit/test_performance.py) and
through the real services with a controlled clock, the real SLA sweep running every night at
00:15 WIB (tests/integration/test_performance.py). `breach` steps below are what that sweep
records; the integration test checks that it records exactly them.

The scoreboard is evaluated at NOW = Wed 1 April 2026 07:30 WIB (the monthly digest's moment).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.clock import WIB

PERIOD = "2026-03"


def t(day: int, hh: int, mm: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=WIB)


NOW = t(1, 7, 30, month=4)


@dataclass(frozen=True)
class Act:
    at: datetime
    action: str  # verify redispose accept respond return close reply feedback breach
    opd: str | None = None  # verify/redispose: the new OPD; breach: who owed the step
    resolved: bool | None = None
    rating: int | None = None
    stage: str | None = None  # breach: respon_opd | tindak_lanjut


def V(at: datetime, opd: str) -> Act: return Act(at, "verify", opd)  # noqa: E704
def RD(at: datetime, opd: str) -> Act: return Act(at, "redispose", opd)  # noqa: E704
def A(at: datetime) -> Act: return Act(at, "accept")  # noqa: E704
def R(at: datetime) -> Act: return Act(at, "respond")  # noqa: E704
def RET(at: datetime) -> Act: return Act(at, "return")  # noqa: E704
def C(at: datetime) -> Act: return Act(at, "close")  # noqa: E704
def RE(at: datetime) -> Act: return Act(at, "reply")  # noqa: E704
def F(at: datetime, resolved: bool, rating: int | None = None) -> Act: return Act(at, "feedback", resolved=resolved, rating=rating)  # noqa: E704
def B(at: datetime, opd: str, stage: str) -> Act: return Act(at, "breach", opd, stage=stage)  # noqa: E704


def nightly(day: int, month: int = 3) -> datetime:
    """When the nightly sweep records a breach: 00:15 WIB of the day after the deadline."""
    return t(day, 0, 15, month=month)


RO, TL = "respon_opd", "tindak_lanjut"

SCENARIO: dict[str, list[Act]] = {
    # -- DINSOS --------------------------------------------------------------------------------
    # S1: answered the same day (Mon 2, 09:00 -> 15:00 = 6.0 h); due Thu 5 -> on time; rated 5.
    "S1": [V(t(2, 9), "DINSOS"), R(t(2, 15)), F(t(3, 9), True, 5)],
    # S2: accepted in time, answered Mon 9 12:00 before the tindak_lanjut deadline (accept Tue 3
    # -> 5 HK = Tue 10). Hours: Tue 3 08:00-16:00 8.0 + Wed-Fri 25.5 + Mon 9 07:30-12:00 4.5 = 38.0.
    "S2": [V(t(3, 8), "DINSOS"), A(t(3, 10)), R(t(9, 12)), F(t(10, 9), True, 4)],
    # S3: across the holiday block: forwarded Tue 17 10:00 (due Fri 27, DOMAIN.md's example),
    # answered Wed 25 10:00. Hours: Tue 17 10:00-16:00 6.0 + (18-24 off) + Wed 25 2.5 = 8.5.
    "S3": [V(t(17, 10), "DINSOS"), R(t(25, 10)), F(t(26, 9), True, 3)],
    # S4: forwarded Wed 4 (due Mon 9), breached at the sweep of Tue 10 00:15, answered Wed 11 -> late.
    # Hours: Wed 4 09:00-16:00 7.0 + Thu 5..Tue 10 4 x 8.5 + Wed 11 07:30-11:00 3.5 = 44.5.
    "S4": [V(t(4, 9), "DINSOS"), B(nightly(10), "DINSOS", RO), R(t(11, 11))],
    # S5: the REOPENED one: answered Tue 10 09:00 (Mon 9 08:00-16:00 8.0 + 1.5 = 9.5 h, due Thu 12
    # -> on time); reporter unhappy (rating 2) Wed 11 -> diproses; answered again Thu 12; closed
    # with rating 4 (the last rating counts). The first response stays Tue 10.
    "S5": [V(t(9, 8), "DINSOS"), R(t(10, 9)), F(t(11, 10), False, 2), R(t(12, 10)), F(t(13, 9), True, 4)],
    # S6: forwarded Mon 30 (due Thu 2 Apr), no answer yet at NOW -> pending, not overdue.
    "S6": [V(t(30, 10), "DINSOS")],
    # S7: the OVERDUE one: forwarded Thu 12 (due Tue 17), never answered; breached Wed 18 00:15.
    # At NOW: late, overdue_open, breached.
    "S7": [V(t(12, 9), "DINSOS"), B(nightly(18), "DINSOS", RO)],
    # S8: forwarded to DINSOS Mon 16 (due Thu 26), moved by the admin to DPUPR Tue 17 09:00 before
    # DINSOS owed anything -> withdrawn for DINSOS. DPUPR (due Fri 27) answered Thu 26 14:00 ->
    # on time; hours Tue 17 09:00-16:00 7.0 + Wed 25 8.5 + Thu 26 07:30-14:00 6.5 = 22.0; rated 4.
    "S8": [V(t(16, 9), "DINSOS"), RD(t(17, 9), "DPUPR"), R(t(26, 14)), F(t(27, 9), True, 4)],

    # -- DISDUKCAPIL ---------------------------------------------------------------------------
    # D1: Mon 2 10:00 -> 11:00 = 1.0 h, on time, rated 5.
    "D1": [V(t(2, 10), "DISDUKCAPIL"), R(t(2, 11)), F(t(2, 15), True, 5)],
    # D2: Tue 3 13:00 -> Wed 4 08:30 = 3.0 + 1.0 = 4.0 h, on time, rated 4.
    "D2": [V(t(3, 13), "DISDUKCAPIL"), R(t(4, 8, 30)), F(t(5, 9), True, 4)],
    # D3: HANDED BACK in time (Thu 5 -> returned Fri 6, due Tue 10): returned, withdrawn. The admin
    # forwards it to DINKES Mon 9 09:00 (due Thu 12), answered Wed 11 09:00:
    # 7.0 + 8.5 + 1.5 = 17.0 h, on time, rated 5 (DINKES's rating).
    "D3": [V(t(5, 9), "DISDUKCAPIL"), RET(t(6, 10)), RD(t(9, 9), "DINKES"), R(t(11, 9)), F(t(12, 9), True, 5)],
    # D4: handed back AFTER its deadline (Mon 9 -> due Thu 12, breached Fri 13 00:15, returned Fri 13
    # 10:00): returned AND late; then closed by the admin.
    "D4": [V(t(9, 9), "DISDUKCAPIL"), B(nightly(13), "DISDUKCAPIL", RO), RET(t(13, 10)), C(t(13, 11))],
    # D5: accepted LATE (Wed 11 -> due Mon 16, breached Tue 17 00:15, accepted Tue 17 09:00), then
    # answered Wed 25 within tindak_lanjut (due Tue 31): still late, the accept was. Hours:
    # Wed 11 7.0 + Thu 12..Tue 17 4 x 8.5 + Wed 25 2.5 = 43.5.
    "D5": [V(t(11, 9), "DISDUKCAPIL"), B(nightly(17), "DISDUKCAPIL", RO), A(t(17, 9)), R(t(25, 10))],
    # D6: forwarded Tue 31 (due Mon 6 Apr: Fri 3 Apr is Good Friday) -> pending.
    "D6": [V(t(31, 10), "DISDUKCAPIL")],
    # D7: answered on the deadline day after office hours (Thu 26 -> due Tue 31 23:59:59, answered
    # Tue 31 20:00) -> on time; hours Thu 26 7.0 + Fri 27 8.5 + Mon 30 8.5 + Tue 31 8.5 = 32.5.
    "D7": [V(t(26, 9), "DISDUKCAPIL"), R(t(31, 20))],
    # D8: answered just after the deadline, before office hours (Fri 6 -> due Wed 11 23:59:59,
    # breached Thu 12 00:15, answered Thu 12 07:00) -> late with the same 32.5 working hours as D7
    # (Fri 6 7.0 + Mon-Wed 25.5 + Thu 07:00 = 0).
    "D8": [V(t(6, 9), "DISDUKCAPIL"), B(nightly(12), "DISDUKCAPIL", RO), R(t(12, 7))],
    # D9: closed by the admin (a duplicate) the next morning, before anything was due -> withdrawn.
    "D9": [V(t(2, 14), "DISDUKCAPIL"), C(t(3, 9))],

    # -- DPUPR ---------------------------------------------------------------------------------
    # P1: accepted Mon 2 08:30 (tindak_lanjut due Mon 9), answered Fri 6 15:00 -> on time;
    # hours Mon 2 08:00-16:00 8.0 + Tue-Thu 25.5 + Fri 6 07:30-15:00 7.5 = 41.0; rated 3.
    "P1": [V(t(2, 8), "DPUPR"), A(t(2, 8, 30)), R(t(6, 15)), F(t(6, 16), True, 3)],
    # P2: answered in time (Tue 3 09:00 -> Thu 5 09:00: 7.0 + 8.5 + 1.5 = 17.0 h), then REOPENED by
    # the reporter's reply Fri 6 10:00 (tindak_lanjut due Fri 13) and never answered again:
    # breached Sat 14 00:15, overdue_open at NOW; its first response still counts as on time.
    "P2": [V(t(3, 9), "DPUPR"), R(t(5, 9)), RE(t(6, 10)), B(nightly(14), "DPUPR", TL)],
    # P3: forwarded Fri 13 (due Wed 25 across the holidays), accepted Mon 16 08:00 (tindak_lanjut
    # due Mon 30), answered Fri 27 11:00 -> on time; hours Fri 13 6.0 + Mon 16 8.5 + Tue 17 8.5
    # + Wed 25 8.5 + Thu 26 8.5 + Fri 27 3.5 = 43.5.
    "P3": [V(t(13, 10), "DPUPR"), A(t(16, 8)), R(t(27, 11))],
    # P4: forwarded Fri 27 (due Wed 1 Apr 23:59:59): pending at NOW (07:30 that day).
    "P4": [V(t(27, 9), "DPUPR")],
    # P5: Wed 4 10:00 -> 11:30 = 1.5 h, on time (auto-closed later by the sweep; no rating).
    "P5": [V(t(4, 10), "DPUPR"), R(t(4, 11, 30))],
    # P6: accepted in time (Mon 9 10:00, tindak_lanjut due Mon 16), breached Tue 17 00:15,
    # answered Wed 25 09:00 -> late; hours Mon 9 7.0 + Tue 10..Tue 17 6 x 8.5 + Wed 25 1.5 = 59.5;
    # rated 2.
    "P6": [V(t(9, 9), "DPUPR"), A(t(9, 10)), B(nightly(17), "DPUPR", TL), R(t(25, 9)), F(t(25, 10), True, 2)],
    # P7: handed back in time (Tue 10 -> Wed 11 09:00, due Fri 13): returned, withdrawn. Forwarded to
    # DINKES Wed 11 13:00, answered Thu 12 08:00: 3.0 + 0.5 = 3.5 h, on time.
    "P7": [V(t(10, 9), "DPUPR"), RET(t(11, 9)), RD(t(11, 13), "DINKES"), R(t(12, 8))],
    # P8: forwarded Wed 25 (due Mon 30), never answered: breached Tue 31 00:15, overdue at NOW, late.
    "P8": [V(t(25, 9), "DPUPR"), B(nightly(31), "DPUPR", RO)],

    # -- DINKES --------------------------------------------------------------------------------
    # K1: Mon 2 09:00 -> Tue 3 09:00 = 7.0 + 1.5 = 8.5 h, on time, rated 4.
    "K1": [V(t(2, 9), "DINKES"), R(t(3, 9)), F(t(3, 10), True, 4)],
    # K2: Tue 17 15:00 -> Thu 26 10:00 = 1.0 + (holidays) 8.5 + 2.5 = 12.0 h; due Fri 27: on time.
    "K2": [V(t(17, 15), "DINKES"), R(t(26, 10))],
    # K3: forwarded ON a holiday (Fri 20, Idul Fitri): due Fri 27 (25, 26, 27), answered Wed 25 08:00:
    # the holidays count nothing, 0.5 h, on time.
    "K3": [V(t(20, 10), "DINKES"), R(t(25, 8))],
    # K4: Thu 12 (due Tue 17), breached Wed 18 00:15, answered Wed 25 09:00 -> late; hours
    # Thu 12 7.0 + Fri 13 8.5 + Mon 16 8.5 + Tue 17 8.5 + Wed 25 1.5 = 34.0; rated 1.
    "K4": [V(t(12, 9), "DINKES"), B(nightly(18), "DINKES", RO), R(t(25, 9)), F(t(25, 12), True, 1)],
    # K5: forwarded Tue 31 at 23:30 WIB (16:30 UTC): a March report by the WIB clock; due Mon 6 Apr,
    # pending.
    "K5": [V(t(31, 23, 30), "DINKES")],
    # K6: accepted in time (Mon 16 -> Tue 17 09:00), tindak_lanjut due Tue 31, never answered:
    # breached Wed 1 Apr 00:15; late and overdue at NOW.
    "K6": [V(t(16, 9), "DINKES"), A(t(17, 9)), B(nightly(1, month=4), "DINKES", TL)],

    # -- outside March -------------------------------------------------------------------------
    # X1: forwarded in February, answered in March: February's record.
    "X1": [V(t(27, 10, month=2), "DINSOS"), R(t(2, 10))],
    # X2: Sat 28 Feb 23:30 WIB (16:30 UTC): February; never answered (due Wed 4 Mar, breached
    # Thu 5 00:15), which stays on DINKES's February record.
    "X2": [V(t(28, 23, 30, month=2), "DINKES"), B(nightly(5), "DINKES", RO)],
    # X3: Wed 1 Apr 00:30 WIB = Tue 31 Mar 17:30 UTC: April by the WIB clock, not March.
    "X3": [V(t(1, 0, 30, month=4), "DINSOS")],
}


def submitted_at(key: str) -> datetime:
    """Each report is submitted half an hour before its verification (no verification breach)."""
    return SCENARIO[key][0].at - timedelta(minutes=30)


# -- the figures, worked out by hand from the comments above -------------------------------------

IDS: dict[str, dict[str, set[str]]] = {
    "DINSOS": {
        "received": {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"},
        "responded": {"S1", "S2", "S3", "S4", "S5"},
        "responded_on_time": {"S1", "S2", "S3", "S5"},
        "late": {"S4", "S7"},
        "pending": {"S6"},
        "withdrawn": {"S8"},
        "overdue_open": {"S7"},
        "returned": set(),
        "breaches": {"S4", "S7"},
        "rated": {"S1", "S2", "S3", "S5"},
    },
    "DISDUKCAPIL": {
        "received": {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9"},
        "responded": {"D1", "D2", "D5", "D7", "D8"},
        "responded_on_time": {"D1", "D2", "D7"},
        "late": {"D4", "D5", "D8"},
        "pending": {"D6"},
        "withdrawn": {"D3", "D9"},
        "overdue_open": set(),  # D6 is not due yet; D5 waits on the reporter
        "returned": {"D3", "D4"},
        "breaches": {"D4", "D5", "D8"},
        "rated": {"D1", "D2"},
    },
    "DPUPR": {
        "received": {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "S8"},
        "responded": {"P1", "P2", "P3", "P5", "P6", "S8"},
        "responded_on_time": {"P1", "P2", "P3", "P5", "S8"},
        "late": {"P6", "P8"},
        "pending": {"P4"},
        "withdrawn": {"P7"},
        "overdue_open": {"P2", "P8"},
        "returned": {"P7"},
        "breaches": {"P2", "P6", "P8"},
        "rated": {"P1", "P6", "S8"},
    },
    "DINKES": {
        "received": {"K1", "K2", "K3", "K4", "K5", "K6", "D3", "P7"},
        "responded": {"K1", "K2", "K3", "K4", "D3", "P7"},
        "responded_on_time": {"K1", "K2", "K3", "D3", "P7"},
        "late": {"K4", "K6"},
        "pending": {"K5"},
        "withdrawn": set(),
        "overdue_open": {"K6"},
        "returned": set(),
        "breaches": {"K4", "K6"},
        "rated": {"K1", "K4", "D3"},
    },
}

EXPECTED: dict[str, dict[str, object]] = {
    "DINSOS": {
        "received": 8, "responded": 5, "responded_on_time": 4,
        "on_time_pct": 66.7,  # 4 / (4 on time + 2 late) = 66.67
        "median_first_response_hours": 9.5,  # 6.0, 8.5, [9.5], 38.0, 44.5
        "overdue_open": 1, "returned": 0,
        "avg_rating": 4.0,  # (5 + 4 + 3 + 4) / 4
        "breaches": 2,
        "returned_pct": 0.0,  # 0 / 8
        "late": 2, "pending": 1, "withdrawn": 1, "rated": 4,  # 4 + 2 + 1 + 1 = 8 received
    },
    "DISDUKCAPIL": {
        "received": 9, "responded": 5, "responded_on_time": 3,
        "on_time_pct": 50.0,  # 3 / (3 + 3)
        "median_first_response_hours": 32.5,  # 1.0, 4.0, [32.5], 32.5, 43.5
        "overdue_open": 0, "returned": 2,
        "avg_rating": 4.5,  # (5 + 4) / 2
        "breaches": 3,
        "returned_pct": 22.2,  # 2 / 9 = 22.22
        "late": 3, "pending": 1, "withdrawn": 2, "rated": 2,  # 3 + 3 + 1 + 2 = 9
    },
    "DPUPR": {
        "received": 9, "responded": 6, "responded_on_time": 5,
        "on_time_pct": 71.4,  # 5 / (5 + 2) = 71.43
        "median_first_response_hours": 31.5,  # 1.5, 17.0, [22.0, 41.0], 43.5, 59.5 -> (22 + 41) / 2
        "overdue_open": 2, "returned": 1,
        "avg_rating": 3.0,  # (3 + 2 + 4) / 3
        "breaches": 3,
        "returned_pct": 11.1,  # 1 / 9 = 11.11
        "late": 2, "pending": 1, "withdrawn": 1, "rated": 3,  # 5 + 2 + 1 + 1 = 9
    },
    "DINKES": {
        "received": 8, "responded": 6, "responded_on_time": 5,
        "on_time_pct": 71.4,  # 5 / (5 + 2)
        "median_first_response_hours": 10.25,  # 0.5, 3.5, [8.5, 12.0], 17.0, 34.0 -> (8.5 + 12) / 2
        "overdue_open": 1, "returned": 0,
        "avg_rating": 3.33,  # (4 + 1 + 5) / 3 = 3.333
        "breaches": 2,
        "returned_pct": 0.0,
        "late": 2, "pending": 1, "withdrawn": 0, "rated": 3,  # 5 + 2 + 1 + 0 = 8
    },
    # The regency: the rows added up (34 dispositions of 31 reports).
    "totals": {
        "received": 34, "responded": 22, "responded_on_time": 17,
        "on_time_pct": 65.4,  # 17 / (17 + 9 late) = 65.38
        # The 22 first-response times sorted: 0.5 1.0 1.5 3.5 4.0 6.0 8.5 8.5 9.5 12.0 [17.0 17.0]
        # 22.0 32.5 32.5 34.0 38.0 41.0 43.5 43.5 44.5 59.5 -> the 11th and 12th are both 17.0.
        "median_first_response_hours": 17.0,
        "overdue_open": 4, "returned": 3,
        "avg_rating": 3.67,  # (16 + 9 + 9 + 10) / 12 ratings = 44 / 12 = 3.667
        "breaches": 10,
        "returned_pct": 8.8,  # 3 / 34 = 8.82
        "late": 9, "pending": 4, "withdrawn": 4, "rated": 12,  # 17 + 9 + 4 + 4 = 34
    },
}

OPD_NAMES_SEEN = ("DINKES", "DINSOS", "DISDUKCAPIL", "DPUPR")  # the rows, in code order

# Breaches the nightly sweep records (report -> (OPD, stage, night)), from the `B(...)` steps.
BREACHES: dict[str, tuple[str, str, datetime]] = {
    key: (str(a.opd), str(a.stage), a.at) for key, acts in SCENARIO.items() for a in acts if a.action == "breach"
}
