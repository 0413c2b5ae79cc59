"""WorkingCalendar against the official 2026 calendar (SKB 3 Menteri) and admin overrides."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.domain.calendar import (
    InvalidOverride,
    Override,
    WorkingCalendar,
    national_days_off,
    national_days_off_from_package,
    parse_overrides,
)
from chalicelib.domain.clock import WIB

CAL = WorkingCalendar()


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=WIB)


# -- the holiday source ---------------------------------------------------------------------

def test_2026_lebaran_week_national_holidays_and_cuti_bersama() -> None:
    off = national_days_off(2026)
    # Nyepi 19 Mar, Idul Fitri 21-22 Mar, cuti bersama 18, 20, 23, 24 Mar.
    for day in (18, 19, 20, 21, 22, 23, 24):
        assert date(2026, 3, day) in off
    assert date(2026, 3, 17) not in off
    assert date(2026, 3, 25) not in off


def test_recorded_days_off_agree_with_the_pinned_holidays_package() -> None:
    # config/national_days_off.json spares the API the package's import; it must say what the
    # package says (after an upgrade: tools/national_days_off.py), year by year.
    from importlib.metadata import version

    from chalicelib.domain.calendar import DAYS_OFF_FILE

    recorded = json.loads(DAYS_OFF_FILE.read_text(encoding="utf-8"))
    assert recorded["holidays_version"] == version("holidays")
    assert date.today().year in {int(y) for y in recorded["years"]}
    for year, days in recorded["years"].items():
        assert {date.fromisoformat(d) for d in days} == national_days_off_from_package(int(year)), year


def test_a_year_outside_the_file_asks_the_package() -> None:
    assert national_days_off(2040) == national_days_off_from_package(2040)
    assert date(2040, 8, 17) in national_days_off(2040)


def test_2026_has_17_national_holidays_and_8_cuti_bersama() -> None:
    assert len(national_days_off(2026)) == 25
    assert date(2026, 12, 24) in national_days_off(2026)  # cuti bersama Natal
    assert date(2026, 12, 25) in national_days_off(2026)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 17), True),   # Tue before the Lebaran week
        (date(2026, 3, 18), False),  # cuti bersama Nyepi
        (date(2026, 3, 19), False),  # Nyepi
        (date(2026, 3, 20), False),  # cuti bersama Idul Fitri (Friday)
        (date(2026, 3, 21), False),  # Idul Fitri, Saturday anyway
        (date(2026, 3, 23), False),  # cuti bersama
        (date(2026, 3, 24), False),  # cuti bersama
        (date(2026, 3, 25), True),
        (date(2026, 3, 28), False),  # Saturday
        (date(2026, 3, 29), False),  # Sunday
        (date(2026, 8, 17), False),  # Independence Day
        (date(2026, 8, 18), True),   # no joint leave in 2026 (there was one in 2025)
        (date(2025, 8, 18), False),  # the 2025 one, declared late
        (date(2026, 12, 24), False),  # cuti bersama Natal
        (date(2026, 12, 28), True),
        (date(2027, 1, 1), False),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_is_working_day_refuses_a_datetime() -> None:
    # A datetime would be read in its own zone: make the caller pick the WIB date explicitly.
    with pytest.raises(TypeError):
        CAL.is_working_day(wib(2026, 3, 17, 10))


# -- add_working_days -----------------------------------------------------------------------

def test_forwarded_17_march_2026_plus_3_hk_is_friday_27_march() -> None:
    due = CAL.add_working_days(wib(2026, 3, 17, 10, 15), 3)
    assert due == wib(2026, 3, 27, 23, 59, 59)
    assert due.isoformat() == "2026-03-27T23:59:59+07:00"
    assert due.weekday() == 4


def test_start_day_never_counts_whatever_the_hour() -> None:
    early = CAL.add_working_days(wib(2026, 3, 17, 0, 1), 3)
    late = CAL.add_working_days(wib(2026, 3, 17, 23, 59), 3)
    assert early == late == wib(2026, 3, 27, 23, 59, 59)


def test_start_is_read_in_wib_not_in_its_own_offset() -> None:
    # 16 Mar 2026 20:00 UTC is already Tue 17 Mar 03:00 WIB.
    utc_start = datetime(2026, 3, 16, 20, 0, tzinfo=UTC)
    assert CAL.add_working_days(utc_start, 3) == wib(2026, 3, 27, 23, 59, 59)
    # 16 Mar 2026 16:00 UTC is still Mon 16 Mar 23:00 WIB: one working day earlier.
    assert CAL.add_working_days(datetime(2026, 3, 16, 16, 0, tzinfo=UTC), 3) == wib(
        2026, 3, 26, 23, 59, 59
    )


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(datetime(2026, 3, 17, 10), 3)


def test_weekend_is_skipped() -> None:
    # Thu 5 Feb 2026 + 3 HK: Fri 6, (Sat, Sun), Mon 9, Tue 10.
    assert CAL.add_working_days(wib(2026, 2, 5, 9), 3) == wib(2026, 2, 10, 23, 59, 59)
    # Submitted on a Saturday: Mon 9, Tue 10, Wed 11.
    assert CAL.add_working_days(wib(2026, 2, 7, 9), 3) == wib(2026, 2, 11, 23, 59, 59)


def test_year_boundary_with_christmas_cuti_bersama() -> None:
    # Tue 22 Dec 2026 + 3 HK: Wed 23, (24 cuti bersama, 25 Natal, 26-27 weekend), Mon 28, Tue 29.
    assert CAL.add_working_days(wib(2026, 12, 22, 14), 3) == wib(2026, 12, 29, 23, 59, 59)
    # Wed 23 Dec 2026 + 5 HK: Mon 28, Tue 29, Wed 30, Thu 31, (1 Jan 2027), Mon 4 Jan 2027.
    assert CAL.add_working_days(wib(2026, 12, 23, 14), 5) == wib(2027, 1, 4, 23, 59, 59)


def test_ten_working_days() -> None:
    # Wed 11 Mar 2026 + 10 HK: 12, 13, 16, 17, 25, 26, 27, 30, 31 Mar, 1 Apr.
    assert CAL.add_working_days(wib(2026, 3, 11, 9), 10) == wib(2026, 4, 1, 23, 59, 59)


def test_zero_or_negative_working_days_is_an_error() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(wib(2026, 3, 17), 0)
    with pytest.raises(ValueError):
        CAL.add_working_days(wib(2026, 3, 17), -1)


def test_add_calendar_days_rolls_a_day_off_forward() -> None:
    # Mon 2 Mar 2026 + 14 days = Mon 16 Mar (a working day).
    assert CAL.add_calendar_days(wib(2026, 3, 2, 9), 14) == wib(2026, 3, 16, 23, 59, 59)
    # Wed 4 Mar 2026 + 14 days = Wed 18 Mar (cuti bersama) -> Wed 25 Mar.
    assert CAL.add_calendar_days(wib(2026, 3, 4, 9), 14) == wib(2026, 3, 25, 23, 59, 59)
    assert CAL.add_calendar_days(wib(2026, 3, 4, 9), 14, roll_forward=False) == wib(
        2026, 3, 18, 23, 59, 59
    )


# -- overrides ------------------------------------------------------------------------------

def test_a_late_holiday_moves_a_deadline() -> None:
    # Mon 17 Aug 2026 is a holiday; suppose Tue 18 Aug is declared off late (as in 2025).
    start = wib(2026, 8, 14, 10)  # Fri
    assert CAL.add_working_days(start, 3) == wib(2026, 8, 20, 23, 59, 59)  # 18, 19, 20
    late = WorkingCalendar(overrides_off=[date(2026, 8, 18)])
    assert not late.is_working_day(date(2026, 8, 18))
    assert late.add_working_days(start, 3) == wib(2026, 8, 21, 23, 59, 59)  # 19, 20, 21


def test_a_day_given_back_shortens_a_deadline() -> None:
    # Saturday 28 Mar 2026 declared a working day (e.g. to make up for the long leave).
    start = wib(2026, 3, 26, 10)  # Thu
    assert CAL.add_working_days(start, 3) == wib(2026, 3, 31, 23, 59, 59)  # 27, 30, 31
    given = WorkingCalendar(overrides_on=[date(2026, 3, 28)])
    assert given.is_working_day(date(2026, 3, 28))
    assert given.add_working_days(start, 3) == wib(2026, 3, 30, 23, 59, 59)  # 27, 28, 30


def test_a_cuti_bersama_given_back() -> None:
    given = WorkingCalendar(overrides_on=[date(2026, 3, 24)])
    assert given.add_working_days(wib(2026, 3, 17, 10), 3) == wib(2026, 3, 26, 23, 59, 59)


def test_a_day_both_off_and_on_is_refused() -> None:
    with pytest.raises(InvalidOverride):
        WorkingCalendar(overrides_off=[date(2026, 8, 18)], overrides_on=[date(2026, 8, 18)])


def test_override_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(overrides_off=[wib(2026, 8, 18)])


def test_parse_overrides_from_plain_data() -> None:
    parsed = parse_overrides(
        [
            {"date": "2026-08-18", "kind": "off", "note": "cuti bersama HUT RI (SKB baru)"},
            {"date": "2026-03-28", "kind": "on"},
            {"date": "2026-08-18", "kind": "off"},  # duplicate, same meaning: harmless
        ]
    )
    assert parsed == (
        Override(date(2026, 3, 28), "on", ""),
        Override(date(2026, 8, 18), "off", "cuti bersama HUT RI (SKB baru)"),
    )
    cal = WorkingCalendar.from_overrides(
        [{"date": "2026-08-18", "kind": "off"}, {"date": "2026-03-28", "kind": "on", "note": None}]
    )
    assert cal.overrides_off == frozenset({date(2026, 8, 18)})
    assert cal.overrides_on == frozenset({date(2026, 3, 28)})
    assert not cal.is_working_day(date(2026, 8, 18))
    assert cal.is_working_day(date(2026, 3, 28))


@pytest.mark.parametrize(
    "items",
    [
        [{"date": "18-08-2026", "kind": "off"}],
        [{"date": "2026-02-30", "kind": "off"}],
        [{"date": "20260818", "kind": "off"}],
        [{"kind": "off"}],
        [{"date": "2026-08-18", "kind": "libur"}],
        [{"date": "2026-08-18"}],
        [{"date": "2026-08-18", "kind": "off", "note": 5}],
        [{"date": "2026-08-18", "kind": "off"}, {"date": "2026-08-18", "kind": "on"}],
    ],
)
def test_parse_overrides_rejects_bad_items(items: list[dict[str, object]]) -> None:
    with pytest.raises(InvalidOverride):
        parse_overrides(items)


# -- neighbours and counting ----------------------------------------------------------------

def test_next_and_previous_working_day() -> None:
    assert CAL.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)
    assert CAL.previous_working_day(date(2026, 3, 25)) == date(2026, 3, 17)
    assert CAL.next_working_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert CAL.previous_working_day(date(2027, 1, 4)) == date(2026, 12, 31)
    assert CAL.next_working_day(date(2026, 2, 6)) == date(2026, 2, 9)  # Fri -> Mon
    assert CAL.previous_working_day(date(2026, 2, 9)) == date(2026, 2, 6)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 27)) == 3
    assert CAL.working_days_between(date(2026, 3, 27), date(2026, 3, 17)) == -3
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 24)) == 0
    # datetimes are read as WIB dates
    assert CAL.working_days_between(wib(2026, 12, 22, 10), wib(2027, 1, 4, 8)) == 6


def test_working_days_between_inverts_add_working_days() -> None:
    start = wib(2026, 3, 10, 11)
    for n in (1, 3, 5, 10, 14, 60):
        assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


# -- office hours ---------------------------------------------------------------------------

def test_working_hours_within_one_day() -> None:
    assert CAL.working_hours_between(wib(2026, 3, 17, 8), wib(2026, 3, 17, 10, 30)) == 2.5


def test_working_hours_clip_to_office_hours() -> None:
    # 06:00-18:00 on a working day counts 07:30-16:00 = 8.5 h.
    assert CAL.working_hours_between(wib(2026, 3, 17, 6), wib(2026, 3, 17, 18)) == 8.5


def test_working_hours_over_a_weekend() -> None:
    # Fri 20:00 -> Mon 08:30: only Monday 07:30-08:30 counts.
    assert CAL.working_hours_between(wib(2026, 2, 6, 20), wib(2026, 2, 9, 8, 30)) == 1.0
    # Fri 15:00 -> Mon 09:00: 1 h Friday + 1.5 h Monday.
    assert CAL.working_hours_between(wib(2026, 2, 6, 15), wib(2026, 2, 9, 9)) == 2.5


def test_working_hours_over_the_lebaran_week() -> None:
    # Tue 17 Mar 15:00 -> Wed 25 Mar 08:00: 1 h + 0.5 h, the holidays count nothing.
    assert CAL.working_hours_between(wib(2026, 3, 17, 15), wib(2026, 3, 25, 8)) == 1.5


def test_working_hours_whole_days_and_sign() -> None:
    # Mon 9 Feb 07:30 -> Fri 13 Feb 16:00 = 5 x 8.5 h.
    a, b = wib(2026, 2, 9, 7, 30), wib(2026, 2, 13, 16)
    assert CAL.working_hours_between(a, b) == 42.5
    assert CAL.working_hours_between(b, a) == -42.5
    assert CAL.working_hours_between(a, a) == 0.0


def test_working_hours_on_a_holiday_and_on_a_day_given_back() -> None:
    a, b = wib(2026, 3, 28, 8), wib(2026, 3, 28, 12)  # Saturday
    assert CAL.working_hours_between(a, b) == 0.0
    assert WorkingCalendar(overrides_on=[date(2026, 3, 28)]).working_hours_between(a, b) == 4.0
    tue = wib(2026, 8, 18, 8), wib(2026, 8, 18, 12)
    assert CAL.working_hours_between(*tue) == 4.0
    assert WorkingCalendar(overrides_off=[date(2026, 8, 18)]).working_hours_between(*tue) == 0.0


def test_working_hours_accept_any_offset() -> None:
    # 01:00-03:00 UTC is 08:00-10:00 WIB.
    a = datetime(2026, 3, 17, 1, tzinfo=UTC)
    assert CAL.working_hours_between(a, a + timedelta(hours=2)) == 2.0


def test_custom_office_hours() -> None:
    cal = WorkingCalendar(office_open=time(8, 0), office_close=time(16, 30))
    assert cal.working_hours_between(wib(2026, 3, 17, 7), wib(2026, 3, 17, 17)) == 8.5
    with pytest.raises(ValueError):
        WorkingCalendar(office_open=time(16, 0), office_close=time(7, 30))
