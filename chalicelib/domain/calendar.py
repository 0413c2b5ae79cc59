"""Working days (*hari kerja*, HK) and office hours (07:30-16:00 WIB) of the KBB offices:
Monday-Friday minus national holidays and *cuti bersama* (the `holidays` package), with the
admins' "off" and "on" overrides winning. The rules and why the hours are fixed: docs/DOMAIN.md.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

from chalicelib.domain.clock import WIB, to_wib

OFFICE_OPEN = time(7, 30)
OFFICE_CLOSE = time(16, 0)
# A deadline is the whole last day: late in the evening still counts, the next morning does not.
END_OF_DAY = time(23, 59, 59)
# No real calendar goes this long without a working day; the bound turns a broken override list
# (say, every day "off") into an error instead of an endless loop.
_MAX_SCAN_DAYS = 366
_MEMO_DAYS = 4096  # bounds the memo of a long-lived calendar (the sweep walks years of dates)

OverrideKind = Literal["off", "on"]
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# The package's answer for the years around now, written by tools/national_days_off.py: importing
# `holidays` loads every country it knows, which was most of a cold API function's first
# submission. tests/unit/test_calendar.py checks the file against the pinned package, so an
# upgrade that moves a day fails the suite until the file is written again.
DAYS_OFF_FILE = Path(__file__).resolve().parent.parent / "config" / "national_days_off.json"


@cache
def _recorded() -> Mapping[str, list[str]]:
    with DAYS_OFF_FILE.open(encoding="utf-8") as fh:
        return dict(json.load(fh)["years"])


@cache
def national_days_off(year: int) -> frozenset[date]:
    """Indonesian national holidays and cuti bersama of one year (cached: computed once per year)."""
    recorded = _recorded().get(str(year))
    if recorded is not None:
        return frozenset(date.fromisoformat(day) for day in recorded)
    return national_days_off_from_package(year)


def national_days_off_from_package(year: int) -> frozenset[date]:
    """The `holidays` package's answer (categories PUBLIC + GOVERNMENT)."""
    import holidays

    table = holidays.country_holidays("ID", categories=(holidays.PUBLIC, holidays.GOVERNMENT), years=year)
    return frozenset(d for d in table if d.year == year)


class InvalidOverride(ValueError):
    """An override list that cannot be used (bad date, bad kind, a day both off and on)."""


class Override(NamedTuple):
    day: date
    kind: OverrideKind
    note: str = ""


def parse_overrides(items: Iterable[Mapping[str, object]]) -> tuple[Override, ...]:
    """Parse `[{"date": "2026-08-18", "kind": "off"|"on", "note": "..."}]` (other keys are ignored).

    The same day listed twice with the same kind is harmless; listed as both "off" and "on" it is
    an error, because no rule could say which one the admin meant.
    """
    seen: dict[date, Override] = {}
    for i, item in enumerate(items):
        raw_day = item.get("date")
        if isinstance(raw_day, datetime):
            raise InvalidOverride(f"override {i}: 'date' must be a date, not a datetime")
        if isinstance(raw_day, date):
            day = raw_day
        elif isinstance(raw_day, str) and _DATE_RE.match(raw_day):
            try:
                day = date.fromisoformat(raw_day)
            except ValueError as exc:
                raise InvalidOverride(f"override {i}: 'date' {raw_day!r} is not a real date") from exc
        else:
            raise InvalidOverride(f"override {i}: 'date' must be YYYY-MM-DD, got {raw_day!r}")
        kind = item.get("kind")
        if kind != "off" and kind != "on":
            raise InvalidOverride(f"override {i}: 'kind' must be 'off' or 'on', got {kind!r}")
        note = item.get("note", "")
        if note is None:
            note = ""
        if not isinstance(note, str):
            raise InvalidOverride(f"override {i}: 'note' must be text")
        previous = seen.get(day)
        if previous is not None and previous.kind != kind:
            raise InvalidOverride(f"override {i}: {day.isoformat()} is listed both as 'off' and 'on'")
        if previous is None:
            seen[day] = Override(day=day, kind=kind, note=note)
    return tuple(sorted(seen.values(), key=lambda o: o.day))


def _as_wib_date(value: date | datetime) -> date:
    # datetime is a subclass of date: test it first, and take the WIB calendar day of the instant.
    if isinstance(value, datetime):
        return to_wib(value).date()
    return value


class WorkingCalendar:
    """Working days and office hours in WIB. Immutable once built; cheap to build per request."""

    def __init__(
        self,
        overrides_off: Iterable[date] = (),
        overrides_on: Iterable[date] = (),
        *,
        office_open: time = OFFICE_OPEN,
        office_close: time = OFFICE_CLOSE,
    ) -> None:
        off = frozenset(overrides_off)
        on = frozenset(overrides_on)
        for d in off | on:
            # A datetime would never equal the date looked up later: refuse it loudly.
            if isinstance(d, datetime) or not isinstance(d, date):
                raise TypeError(f"overrides are dates, got {d!r}")
        both = off & on
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise InvalidOverride(f"days both off and on: {days}")
        if not office_open < office_close:
            raise ValueError("office hours must open before they close")
        self.overrides_off: frozenset[date] = off
        self.overrides_on: frozenset[date] = on
        self.office_open = office_open
        self.office_close = office_close
        # Memo of _step: every submission and status change asks for the same few days.
        self._steps: dict[tuple[date, int], date] = {}

    @classmethod
    def from_overrides(cls, items: Iterable[Mapping[str, object]]) -> WorkingCalendar:
        """Build from the admin-editable list (see `parse_overrides`)."""
        parsed = parse_overrides(items)
        return cls(
            overrides_off=[o.day for o in parsed if o.kind == "off"],
            overrides_on=[o.day for o in parsed if o.kind == "on"],
        )

    def __repr__(self) -> str:
        return f"WorkingCalendar(off={len(self.overrides_off)}, on={len(self.overrides_on)})"

    # -- days ------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a WIB date; use clock.to_wib(at).date()")
        if d in self.overrides_on:
            return True
        if d in self.overrides_off:
            return False
        return d.weekday() < 5 and d not in national_days_off(d.year)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self._step(d, 1)

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before `d`."""
        return self._step(d, -1)

    def _step(self, d: date, direction: int) -> date:
        if isinstance(d, datetime):
            raise TypeError("pass a WIB date, not a datetime")
        known = self._steps.get((d, direction))
        if known is not None:
            return known
        day = d
        for _ in range(_MAX_SCAN_DAYS):
            day += timedelta(days=direction)
            if self.is_working_day(day):
                if len(self._steps) >= _MEMO_DAYS:
                    self._steps.clear()
                self._steps[(d, direction)] = day
                return day
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days of {d.isoformat()}")

    def end_of_day(self, d: date) -> datetime:
        """23:59:59 WIB of `d`: the instant a deadline falling on `d` expires."""
        return datetime.combine(d, END_OF_DAY, tzinfo=WIB)

    def opening(self, d: date) -> datetime:
        return datetime.combine(d, self.office_open, tzinfo=WIB)

    def closing(self, d: date) -> datetime:
        return datetime.combine(d, self.office_close, tzinfo=WIB)

    # -- deadlines -------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """23:59:59 WIB of the n-th working day strictly after `start`'s WIB date (n >= 1).

        The day of `start` never counts, whatever the hour: a report forwarded on Tue 17 Mar 2026
        has 3 HK until Fri 27 Mar 2026 23:59:59+07:00.
        """
        if n < 1:
            raise ValueError("a deadline is at least one working day away")
        day = to_wib(start).date()
        for _ in range(n):
            day = self.next_working_day(day)
        return self.end_of_day(day)

    def add_calendar_days(self, start: datetime, n: int, *, roll_forward: bool = True) -> datetime:
        """23:59:59 WIB of `start`'s WIB date + n days (n >= 1).

        With `roll_forward` (the default) a deadline that lands on a day off moves to the next
        working day, as administrative deadlines usually do: nobody can act on a closed office.
        """
        if n < 1:
            raise ValueError("a deadline is at least one day away")
        day = to_wib(start).date() + timedelta(days=n)
        if roll_forward and not self.is_working_day(day):
            day = self.next_working_day(day)
        return self.end_of_day(day)

    # -- measuring -------------------------------------------------------------------------

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days d with a < d <= b (WIB dates); negative when b is before a.

        The inverse of `add_working_days`: working_days_between(s, add_working_days(s, n)) == n.
        """
        start, end = _as_wib_date(a), _as_wib_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Office hours (07:30-16:00 WIB on working days) elapsed from `a` to `b`, in hours.

        Time outside office hours does not count: a report sent Friday 20:00 and answered
        Monday 08:30 took 1.0 working hour. Negative when b is before a.
        """
        if b < a:
            return -self.working_hours_between(b, a)
        start, end = to_wib(a), to_wib(b)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                lo = max(start, self.opening(day))
                hi = min(end, self.closing(day))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600.0
