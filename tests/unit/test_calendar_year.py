"""The public year calendar (GET /calendar) against the official 2026 dates."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain.calendar import WorkingCalendar, parse_overrides
from chalicelib.domain.calendar_year import year_calendar


def test_2026_lists_holidays_and_cuti_bersama_with_indonesian_names() -> None:
    view = year_calendar(WorkingCalendar(), 2026)
    off = {d["date"]: d for d in view["days_off"]}
    assert len(off) == 25  # 17 national holidays + 8 cuti bersama (SKB 3 Menteri 2026)
    assert off["2026-03-19"]["kind"] == "libur_nasional" and "Nyepi" in off["2026-03-19"]["name"]
    assert off["2026-03-18"]["kind"] == "cuti_bersama" and off["2026-03-18"]["name"].startswith("Cuti Bersama")
    assert off["2026-03-21"]["weekend"] is True  # Idul Fitri on a Saturday is still listed
    assert view["extra_working_days"] == []
    assert view["timezone"] == "Asia/Jakarta" and view["weekend"] == ["saturday", "sunday"]


def test_working_day_count_matches_the_calendar_day_by_day() -> None:
    cal = WorkingCalendar()
    view = year_calendar(cal, 2026)
    day, expected = date(2026, 1, 1), 0
    while day.year == 2026:
        expected += cal.is_working_day(day)
        day += timedelta(days=1)
    assert view["working_days"] == expected == sum(view["working_days_per_month"].values())
    # March 2026: 22 weekdays minus 18, 19, 20, 23, 24 March.
    assert view["working_days_per_month"]["2026-03"] == 17


def test_overrides_are_listed_with_their_notes() -> None:
    items = [
        {"date": "2026-08-18", "kind": "off", "note": "Cuti bersama HUT RI (keputusan susulan)"},
        {"date": "2026-03-28", "kind": "on", "note": "Sabtu masuk"},
        {"date": "2026-12-24", "kind": "on", "note": "Natal: kantor buka"},
    ]
    cal = WorkingCalendar.from_overrides(items)
    view = year_calendar(cal, 2026, parse_overrides(items))
    off = {d["date"]: d for d in view["days_off"]}
    assert off["2026-08-18"] == {"date": "2026-08-18", "kind": "override",
                                 "name": "Cuti bersama HUT RI (keputusan susulan)", "weekend": False}
    assert "2026-12-24" not in off
    extra = {d["date"]: d for d in view["extra_working_days"]}
    assert extra["2026-03-28"]["name"] == "Sabtu masuk" and extra["2026-03-28"]["weekend"]
    assert extra["2026-12-24"]["name"] == "Natal: kantor buka" and not extra["2026-12-24"]["weekend"]
    assert view["working_days"] == year_calendar(WorkingCalendar(), 2026)["working_days"] - 1 + 2


def test_year_out_of_range() -> None:
    with pytest.raises(ValueError):
        year_calendar(WorkingCalendar(), 1999)
