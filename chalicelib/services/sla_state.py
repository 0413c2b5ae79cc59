"""The SLA fields a report carries for its current stage: due time, and when the sweep must look.

Pure rules live in chalicelib.domain.sla and .calendar; this module binds them to the configured
policy and the admins' holiday overrides.
"""
from __future__ import annotations

import zlib
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from chalicelib.config import settings
from chalicelib.data import reference
from chalicelib.domain import clock, sla
from chalicelib.domain.calendar import WorkingCalendar


@lru_cache(maxsize=1)
def policy() -> Any:
    return sla.load_policy()


def calendar() -> WorkingCalendar:
    overrides = reference.holiday_overrides()
    key = tuple((str(o["date"]), str(o.get("kind", "off"))) for o in overrides)
    return _calendar(key)


@lru_cache(maxsize=8)
def _calendar(key: tuple[tuple[str, str], ...]) -> WorkingCalendar:
    off = [date.fromisoformat(d) for d, kind in key if kind == "off"]
    on = [date.fromisoformat(d) for d, kind in key if kind == "on"]
    return WorkingCalendar(overrides_off=off, overrides_on=on)


def shard_of(tracking_id: str) -> str:
    return str(zlib.crc32(tracking_id.encode()) % settings().due_shards)


def stage_fields(tracking_id: str, report_type: str, category: str | None, status: str,
                 start: datetime, now: datetime) -> dict[str, Any]:
    """Fields to set on a report entering `status` at `start`."""
    stage = sla.stage_for(status)
    if stage is None:
        return {"sla_stage": None, "due_at": None, "sla_stage_started_at": None,
                "sweep_at": None, "sweep_shard": None, "sla_state": None, "sla_breached": False}
    cal = calendar()
    due = sla.deadline(policy(), cal, stage, start, report_type, category)
    remind = sla.reminder_at(cal, due)
    next_check = remind if remind > now else due
    return {
        "sla_stage": stage,
        "due_at": clock.iso_utc(due),
        "sla_stage_started_at": clock.iso_utc(start),
        "sweep_at": clock.iso_utc(next_check),
        "sweep_shard": shard_of(tracking_id),
        "sla_state": {},
        "sla_breached": False,
    }
