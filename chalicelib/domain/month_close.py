"""Closing a Tukin month: the objection window, what an accepted objection waives,
finalisation, where an event about a final month goes, and the verification desk's figures.
Pure: no storage. The rules in words: docs/PERFORMANCE_CLOSE.md.
"""
from __future__ import annotations

import hashlib
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import performance as perf
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.errors import Conflict, Invalid

PROVISIONAL, FINAL = "provisional", "final"
OBJECTION_WORKING_DAYS = 5
OBJECTABLE: tuple[str, ...] = ("late", "breaches", "overdue_open")
UNDECIDED, ACCEPTED, REJECTED = "undecided", "accepted", "rejected"
DECISIONS = (ACCEPTED, REJECTED)
REASON_MAX = 1000


def _first_day(period: str) -> date:
    perf.check_period(period)
    return date(int(period[:4]), int(period[5:]), 1)


def next_period(period: str) -> str:
    first = _first_day(period)
    after = (first + timedelta(days=32)).replace(day=1)
    return f"{after.year:04d}-{after.month:02d}"


@dataclass(frozen=True)
class Window:
    opens: datetime  # 00:00 WIB on the 1st of the month
    closes: datetime  # 23:59:59 WIB of the 5th working day after the month

    def state(self, now: datetime) -> str:
        """not_open | open | closed"""
        if now < self.opens:
            return "not_open"
        return "open" if now <= self.closes else "closed"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {"opens": clock.iso(self.opens), "closes": clock.iso(self.closes), "state": self.state(now)}


def objection_window(period: str, calendar: WorkingCalendar) -> Window:
    first = _first_day(period)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    opens = datetime.combine(first, time(0, 0), tzinfo=clock.WIB)
    # add_working_days never counts the start's own day: the 1st counted is after the month.
    closes = calendar.add_working_days(datetime.combine(last, time(12, 0), tzinfo=clock.WIB),
                                       OBJECTION_WORKING_DAYS)
    return Window(opens, closes)


def check_may_object(period: str, calendar: WorkingCalendar, now: datetime, *, final: bool) -> None:
    """Raise unless an objection on `period` may be filed at `now`."""
    window = objection_window(period, calendar)
    if final:
        raise Conflict("Bulan ini sudah final; keberatan tidak dapat diajukan lagi.", code="month_final")
    state = window.state(now)
    if state == "not_open":
        raise Conflict("Keberatan hanya dapat diajukan untuk bulan berjalan atau bulan yang sudah lewat.",
                       code="objection_window_not_open")
    if state == "closed":
        raise Conflict("Masa keberatan bulan ini sudah berakhir (hari kerja ke-5 setelah akhir bulan, "
                       f"{clock.iso(window.closes)}).", code="objection_window_closed",
                       details=[{"closes": clock.iso(window.closes)}])


def check_may_finalise(period: str, calendar: WorkingCalendar, now: datetime, *, final: bool,
                       undecided: int) -> None:
    """Raise unless `period` may be finalised at `now`. No force: the window is the OPDs' right to
    object, and closing early would take it from them."""
    if final:
        raise Conflict("Bulan ini sudah final.", code="month_final")
    window = objection_window(period, calendar)
    if window.state(now) != "closed":
        raise Conflict("Bulan belum dapat difinalkan: masa keberatan OPD berakhir "
                       f"{clock.iso(window.closes)}.", code="objection_window_open",
                       details=[{"closes": clock.iso(window.closes)}])
    if undecided:
        raise Conflict(f"Masih ada {undecided} keberatan yang belum diputuskan.", code="objections_undecided",
                       details=[{"undecided": undecided}])


def check_objection(figure: Any, reason: Any) -> tuple[str, str]:
    problems = []
    if figure not in OBJECTABLE:
        problems.append({"field": "figure", "type": "enum", "message": "salah satu dari " + ", ".join(OBJECTABLE)})
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > REASON_MAX:
        problems.append({"field": "reason", "type": "length",
                         "message": f"alasan wajib diisi, paling banyak {REASON_MAX} karakter"})
    if problems:
        raise Invalid("Keberatan tidak lengkap atau tidak sah.", problems)
    return str(figure), text


def objection_id(period: str, opd_code: str, tracking_id: str, figure: str) -> str:
    """One objection per OPD, report and figure in a month: the id is derived from them, so a
    second filing of the same objection is refused by the store, not by a read-then-write."""
    digest = hashlib.sha256(f"{period}|{opd_code}|{tracking_id}|{figure}".encode()).hexdigest()
    return f"keb_{digest[:20]}"


def waivers(objections: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], frozenset[str]]:
    """(OPD, tracking id) -> the figures waived by accepted objections."""
    out: dict[tuple[str, str], set[str]] = {}
    for o in objections:
        if o.get("status") == ACCEPTED:
            out.setdefault((str(o["opd_code"]), str(o["tracking_id"])), set()).add(str(o["figure"]))
    return {k: frozenset(v) for k, v in out.items()}


def waive(facts: Iterable[perf.Fact], waived: Mapping[tuple[str, str], frozenset[str]]) -> list[perf.Fact]:
    return [replace(f, waived=tuple(sorted(waived[(f.opd_code, f.tracking_id)])))
            if (f.opd_code, f.tracking_id) in waived else f for f in facts]


def changes(frozen: perf.Fact | None, frozen_at: datetime, current: perf.Fact, now: datetime) -> dict[str, int]:
    """What a late event changed in a final month's figures: figure -> +1 or -1 (only changes)."""
    out = {}
    for figure in perf.FIGURES:
        before = frozen is not None and perf.in_figure(frozen, figure, frozen_at)
        after = perf.in_figure(current, figure, now)
        if before != after:
            out[figure] = 1 if after else -1
    return out


def correction_period(fact_month: str, is_final: Callable[[str], bool], *, limit: int = 24) -> str:
    """The record a late event about final month `fact_month` goes to: the first later month that
    is not final (normally the next one)."""
    period = next_period(fact_month)
    for _ in range(limit):
        if not is_final(period):
            return period
        period = next_period(period)
    raise Conflict("Tidak ada bulan terbuka untuk mencatat koreksi.", code="no_open_month")


def verification(facts: Iterable[perf.Fact]) -> dict[str, Any]:
    """Diskominfotik's own desk time (the verifikasi stage, 3 HK): the reports it forwarded in the
    month from `diajukan`, whichever OPD received them. Not an OPD row: the desk is not answering
    the reporter, it is routing."""
    desk = sorted({f.tracking_id: f for f in facts if f.desk_since is not None}.values(),
                  key=lambda f: (f.disposed_at, f.tracking_id))
    on_time = [f for f in desk if f.desk_due_at is not None and f.disposed_at <= f.desk_due_at
               and not f.desk_breached]
    hours = [f.desk_hours for f in desk if f.desk_hours is not None]
    late = len(desk) - len(on_time)
    return {
        "unit": "DISKOMINFOTIK",
        "stage": "verifikasi",
        "forwarded": len(desk),
        "on_time": len(on_time),
        "late": late,
        "on_time_pct": round(100.0 * len(on_time) / len(desk), 1) if desk else None,
        "breaches": sum(1 for f in desk if f.desk_breached),
        "median_working_hours": round(statistics.median(hours), 2) if hours else None,
    }
