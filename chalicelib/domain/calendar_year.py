"""The working-day calendar of one year, as data clients can use to show expected dates.

`GET /calendar?year=2026` answers with this. A client that knows the weekend, the listed days off
and the listed extra working days can count working days exactly as the server does
(WorkingCalendar.add_working_days), so a web form can say "answer expected by Fri 27 Mar".

Each day off says why: `libur_nasional` (national holiday), `cuti_bersama` (joint leave), or
`override` (declared by an admin: a late decree, a regional closure). Holidays falling on a
weekend are listed too (they are in the official decree, and a client may want to show them).
Names are Indonesian, from the `holidays` package.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from typing import Any

from chalicelib.domain.calendar import Override, WorkingCalendar

MIN_YEAR = 2000
MAX_YEAR = 2100
WEEKEND = ("saturday", "sunday")


@cache
def _named(year: int) -> dict[date, tuple[str, str]]:
    """date -> (kind, Indonesian name) for national holidays and cuti bersama of `year`."""
    import holidays  # here, as in calendar.py: not a cost of every cold start

    out: dict[date, tuple[str, str]] = {}
    for category, kind in ((holidays.PUBLIC, "libur_nasional"), (holidays.GOVERNMENT, "cuti_bersama")):
        table = holidays.country_holidays("ID", categories=(category,), years=year, language="id")
        for day, name in table.items():
            if day.year == year and day not in out:
                out[day] = (kind, str(name))
    return out


def year_calendar(cal: WorkingCalendar, year: int, overrides: Iterable[Override] = ()) -> dict[str, Any]:
    """The year's working days in WIB, with the days off and the extra working days explained."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"tahun harus antara {MIN_YEAR} dan {MAX_YEAR}")
    notes = {o.day: o.note for o in overrides if o.day.year == year}
    named = _named(year)
    days_off: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    per_month = [0] * 12
    day = date(year, 1, 1)
    while day.year == year:
        working = cal.is_working_day(day)
        weekend = day.weekday() >= 5
        if working:
            per_month[day.month - 1] += 1
        if not working and day in cal.overrides_off:
            days_off.append({"date": day.isoformat(), "kind": "override", "name": notes.get(day, ""),
                             "weekend": weekend})
        elif not working and day in named:
            kind, name = named[day]
            days_off.append({"date": day.isoformat(), "kind": kind, "name": name, "weekend": weekend})
        elif working and (weekend or day in named):
            # A day given back by an admin: a Saturday opened, or a holiday cancelled.
            extra.append({"date": day.isoformat(), "kind": "override", "name": notes.get(day, ""),
                          "weekend": weekend})
        day += timedelta(days=1)
    return {
        "year": year,
        "timezone": "Asia/Jakarta",
        "weekend": list(WEEKEND),
        "office_hours": {"open": cal.office_open.strftime("%H:%M"), "close": cal.office_close.strftime("%H:%M")},
        "working_days": sum(per_month),
        "working_days_per_month": {f"{year}-{m + 1:02d}": n for m, n in enumerate(per_month)},
        "days_off": days_off,
        "extra_working_days": extra,
    }
