"""Holiday overrides (admin-editable) and the public working-day calendar of a year.

Overrides live in the reference table (kind `holiday`, code = the date). The API and the CLI both
call this module, so the validation is one piece of code. After a change, open reports are
re-planned at once (`sla_sweep.reschedule_open`): a citizen sees the moved deadline immediately,
and a deadline moved earlier is not checked at its old, later time.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.data import reference
from chalicelib.domain import clock
from chalicelib.domain.calendar import InvalidOverride, parse_overrides
from chalicelib.domain.calendar_year import MAX_YEAR, MIN_YEAR, year_calendar
from chalicelib.errors import not_found, validation_error
from chalicelib.services import sla_state

KIND = "holiday"
MAX_NOTE = 200


def list_overrides() -> list[dict[str, Any]]:
    return [_public(o) for o in reference.holiday_overrides()]


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {"date": item["date"], "kind": item.get("kind", "off"), "note": item.get("note", ""),
            "updated_at": item.get("updated_at"), "updated_by": item.get("updated_by")}


def _day(value: str) -> date:
    try:
        (parsed,) = parse_overrides([{"date": value, "kind": "off"}])
    except InvalidOverride:
        raise validation_error([{"field": "date", "type": "format",
                                 "message": "tanggal yang benar, YYYY-MM-DD"}]) from None
    if not MIN_YEAR <= parsed.day.year <= MAX_YEAR:
        raise validation_error([{"field": "date", "type": "range",
                                 "message": f"tahun antara {MIN_YEAR} dan {MAX_YEAR}"}])
    return parsed.day


def put_override(day: str, kind: Any, note: Any = "", *, actor: str | None = None,
                 reschedule: bool = True) -> dict[str, Any]:
    """Create or replace the override of `day`. `kind` "off" closes the day, "on" opens it."""
    when = _day(day)
    problems = []
    if kind not in ("off", "on"):
        problems.append({"field": "kind", "type": "enum", "message": "'off' atau 'on'"})
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        problems.append({"field": "note", "type": "format", "message": f"teks maksimal {MAX_NOTE} karakter"})
    if problems:
        raise validation_error(problems)
    item = {"date": when.isoformat(), "kind": kind, "note": note.strip(),
            "updated_at": clock.iso(clock.now()), "updated_by": actor}
    # The whole list must still make a calendar (parse_overrides refuses contradictions).
    others = [o for o in reference.holiday_overrides() if o.get("date") != item["date"]]
    try:
        parse_overrides([*others, item])
    except InvalidOverride as exc:
        raise validation_error([{"field": "date", "type": "conflict", "message": str(exc)}]) from None
    reference.put(KIND, item["date"], item)
    if reschedule:
        _reschedule()
    return _public(item)


def remove_override(day: str, *, reschedule: bool = True) -> dict[str, Any]:
    when = _day(day).isoformat()
    current = {o["date"]: o for o in reference.holiday_overrides()}
    if when not in current:
        raise not_found(f"Tidak ada pengecualian kalender pada {when}.")
    reference.delete(KIND, when)
    if reschedule:
        _reschedule()
    return _public(current[when])


def _reschedule() -> None:
    # Imported here: the sweep pulls in the workflow service, which the calendar does not need.
    from chalicelib.services import sla_sweep

    sla_sweep.reschedule_open()


def year_view(year: int) -> dict[str, Any]:
    overrides = parse_overrides(reference.holiday_overrides())
    try:
        return year_calendar(sla_state.calendar(), year, overrides)
    except ValueError as exc:
        raise validation_error([{"field": "year", "type": "range", "message": str(exc)}]) from None
