"""The working-day calendar: public for a year, holiday overrides editable by admins."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.api.http import answer, current_request, query, route
from chalicelib.domain.errors import validation_error
from chalicelib.schemas import Out, Strict, parse
from chalicelib.services import calendar_admin


class CalendarDay(Out):
    date: str
    kind: str = Field(description="libur_nasional | cuti_bersama | override")
    name: str
    weekend: bool


class YearCalendar(Out):
    year: int
    timezone: str
    weekend: list[str]
    office_hours: dict[str, str]
    working_days: int
    working_days_per_month: dict[str, int]
    days_off: list[CalendarDay] = Field(description="National holidays, cuti bersama and admin-declared days off")
    extra_working_days: list[CalendarDay] = Field(description="Weekend days or holidays an admin opened")


class OverrideIn(Strict):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["off", "on"]
    note: str = Field(default="", max_length=200)


class OverrideOut(Out):
    date: str
    kind: str
    note: str
    updated_at: str | None = None
    updated_by: str | None = None


class OverrideList(Out):
    items: list[OverrideOut]


_YEAR_PARAM = [{"name": "year", "in": "query", "required": False, "schema": {"type": "integer"},
                "description": "Defaults to the current year (WIB)"}]


@route("/calendar", "GET", summary="Working days of a year (holidays, cuti bersama, overrides)",
       tags=["reference"], responses={200: YearCalendar}, errors=(400,), parameters=_YEAR_PARAM)
def year_calendar() -> Any:
    from chalicelib.domain import clock

    raw = query(current_request()).get("year")
    if raw is None:
        year = clock.today_wib().year
    elif raw.isdigit() and len(raw) == 4:
        year = int(raw)
    else:
        raise validation_error([{"field": "year", "type": "format", "message": "tahun, misalnya 2026"}])
    return answer(calendar_admin.year_view(year))


# -- admin: holiday overrides ---------------------------------------------------------------

ADMINS = ("admin",)
_DATE_PARAM = [{"name": "date", "in": "path", "required": True, "schema": {"type": "string", "format": "date"},
                "description": "YYYY-MM-DD (WIB calendar day)"}]


@route("/staff/calendar/overrides", "GET", summary="Holiday overrides (days closed or opened by admins)",
       tags=["calendar"], responses={200: OverrideList}, errors=(401, 403), auth="staff", roles=ADMINS)
def list_overrides() -> Any:
    return answer({"items": calendar_admin.list_overrides()})


@route("/staff/calendar/overrides/{date}", "PUT",
       summary="Close (off) or open (on) a day; deadlines of open reports move at once",
       tags=["calendar"], request=OverrideIn, responses={200: OverrideOut}, errors=(400, 401, 403, 409),
       auth="staff", roles=ADMINS, parameters=_DATE_PARAM)
def put_override(date: str) -> Any:
    from chalicelib.auth import principal_of

    request = current_request()
    body = parse(OverrideIn, request.raw_body)
    item = calendar_admin.put_override(date, body.kind, body.note, actor=principal_of(request).sub)
    return answer(item)


@route("/staff/calendar/overrides/{date}", "DELETE", summary="Remove a day's override",
       tags=["calendar"], responses={200: OverrideOut}, errors=(400, 401, 403, 404, 409), auth="staff", roles=ADMINS,
       parameters=_DATE_PARAM)
def delete_override(date: str) -> Any:
    from chalicelib.auth import principal_of

    return answer(calendar_admin.remove_override(date, actor=principal_of(current_request()).sub))
