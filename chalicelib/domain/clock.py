"""Time in the service's zone. Indonesia's WIB has no daylight saving, so a fixed offset is exact."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def now() -> datetime:
    return datetime.now(UTC)


def to_wib(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: every instant in this service carries its offset")
    return at.astimezone(WIB)


def iso(at: datetime) -> str:
    """Responses speak Asia/Jakarta (+07:00), to the second."""
    return to_wib(at).replace(microsecond=0).isoformat()


def iso_utc(at: datetime) -> str:
    """Stored instants: UTC with microseconds, so they sort as strings."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"{value!r} has no offset")
    return at


def today_wib(at: datetime | None = None) -> date:
    return to_wib(at or now()).date()


def month_wib(at: datetime) -> str:
    return to_wib(at).strftime("%Y-%m")
