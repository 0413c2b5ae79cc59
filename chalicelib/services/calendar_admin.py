"""Holiday overrides (admin-editable) and the public working-day calendar of a year.

Overrides live in the reference table (kind `holiday`, code = the date). The API and the CLI both
call this module, so the validation is one piece of code. Every change is audited: an event in the
events table under `audit#calendar#<year>` (who, when, the date, old and new value), written in
the same transaction as the change (chalicelib/data/audit.py). After a change, open reports are
re-planned at once (`sla_sweep.reschedule_open`): a citizen sees the moved deadline immediately,
and a deadline moved earlier is not checked at its old, later time.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.data import audit, reference
from chalicelib.domain import clock
from chalicelib.domain.calendar import InvalidOverride, parse_overrides
from chalicelib.domain.calendar_year import MAX_YEAR, MIN_YEAR, year_calendar
from chalicelib.domain.errors import not_found, validation_error, version_conflict
from chalicelib.services import sla_fields

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
    old = audit.current(KIND, item["date"])
    _audited(when, old, item, actor, "calendar_override_set")
    if reschedule:
        _reschedule()
    return _public(item)


def remove_override(day: str, *, actor: str | None = None, reschedule: bool = True) -> dict[str, Any]:
    when = _day(day)
    old = audit.current(KIND, when.isoformat())
    if old is None:
        raise not_found(f"Tidak ada pengecualian kalender pada {when.isoformat()}.")
    _audited(when, old, None, actor, "calendar_override_removed")
    if reschedule:
        _reschedule()
    return _public(dict(old.data))


def _value(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else {"kind": data.get("kind", "off"), "note": data.get("note", "")}


def _audited(when: date, old: Any, new: dict[str, Any] | None, actor: str | None, action: str) -> None:
    """The change and its audit event (who, when, the date, old and new value), in one write."""
    event = {"at": clock.iso_utc(clock.now()), "actor": "admin", "actor_id": actor, "role": "admin",
             "action": action, "public": False, "message": None,
             "data": {"date": when.isoformat(), "old": _value(dict(old.data) if old is not None else None),
                      "new": _value(new)}}
    try:
        audit.change_reference(KIND, when.isoformat(), old, new, audit_subject(when.year), event)
    except audit.Changed:
        raise version_conflict("Hari ini baru saja diubah oleh admin lain; muat ulang lalu coba lagi.") from None


def audit_subject(year: int) -> str:
    return f"calendar#{year}"


def audit_trail(year: int) -> list[dict[str, Any]]:
    """Every override change of `year`, oldest first: who, when, the date, old and new value."""
    return [{"seq": int(e.seq), "at": e.at, "actor_id": e.actor_id, "action": e.action, **dict(e.data or {})}
            for e in audit.trail(audit_subject(year))]


def _reschedule() -> None:
    # Imported here: the sweep pulls in the workflow service, which the calendar does not need.
    from chalicelib.services import sla_sweep

    sla_sweep.reschedule_open()


def year_view(year: int) -> dict[str, Any]:
    overrides = parse_overrides(reference.holiday_overrides())
    try:
        return year_calendar(sla_fields.calendar(), year, overrides)
    except ValueError as exc:
        raise validation_error([{"field": "year", "type": "range", "message": str(exc)}]) from None
