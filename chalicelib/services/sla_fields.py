"""The SLA fields a report carries for its current stage, and the clock rebuilt from them: the
pure rules of chalicelib.domain.sla, .calendar and .sla_plan bound to the configured policy and
the admins' holiday overrides. Moves set the fields through the report entity (`SlaRules`);
the fields and who sets them: docs/DESIGN.md, "SLA engine".
"""
from __future__ import annotations

import zlib
from datetime import datetime
from functools import lru_cache
from typing import Any

from chalicelib.config import settings
from chalicelib.data import reference
from chalicelib.domain import clock, sla
from chalicelib.domain.calendar import WorkingCalendar


@lru_cache(maxsize=1)
def policy() -> sla.SlaPolicy:
    return sla.load_policy()


def calendar(fresh: bool = False) -> WorkingCalendar:
    """The working calendar with the admins' current overrides (cached per override list).

    `reference.holiday_overrides()` is cached per container for a few minutes, so an override
    edited through the API reaches other containers within that time; the container that made the
    edit sees it at once (the audited write, data/audit.py, drops its cache). `fresh` reads the list again: the
    sweep does, so it never writes back a deadline computed from a stale list.
    """
    if fresh:
        reference.refresh("holiday")
    items = reference.holiday_overrides()
    key = tuple((str(o.get("date")), str(o.get("kind", "off"))) for o in items)
    return _calendar(key)


@lru_cache(maxsize=16)
def _calendar(key: tuple[tuple[str, str], ...]) -> WorkingCalendar:
    # Built through the domain's parser, so a broken stored override fails loudly instead of
    # being silently ignored by the deadline arithmetic.
    return WorkingCalendar.from_overrides({"date": day, "kind": kind} for day, kind in key)


def shard_of(tracking_id: str) -> str:
    """Write shard of the `by_sweep` index: spreads open work over DUE_SHARDS partitions."""
    return str(zlib.crc32(tracking_id.encode()) % settings().due_shards)


def start_clock(report_type: str | None, category: str | None, status: str, start: datetime, *,
                classification: str | None = None, cal: WorkingCalendar | None = None) -> sla.SlaClock:
    """The clock of a report that entered `status` at `start` under the current policy/calendar."""
    return sla.SlaClock.start(policy(), cal or calendar(), status, start, report_type, category,
                              classification=classification)


# The key in `sla_state` of a stage resumed after the OPD's own request for information: its
# deadline is the time left when paused, not the policy's amount from the stage start.
RESUMED = "resumed_due_at"


def clock_of(report: Any, cal: WorkingCalendar | None = None) -> sla.SlaClock:
    """Rebuild a stored report's clock for its current stage.

    Rebuilt from the stage's start (not the stored due_at), so a holiday declared after the stage
    began moves the deadline, as SlaClock's docstring asks. A resumed stage keeps the deadline
    fixed when it resumed. A report stored before `sla_stage_started_at` existed falls back to
    its stored deadline.
    """
    cal = cal or calendar()
    resumed = (report.sla_state or {}).get(RESUMED)
    if resumed and report.sla_stage:
        return sla.SlaClock.restore(cal, report.status, clock.parse(resumed),
                                    clock.parse(report.sla_stage_started_at) if report.sla_stage_started_at else None,
                                    reminder=policy().stage(report.sla_stage).reminder)
    if report.sla_stage_started_at:
        return start_clock(report.type, report.category, report.status,
                           clock.parse(report.sla_stage_started_at),
                           classification=report.classification, cal=cal)
    if report.due_at:
        return sla.SlaClock.restore(cal, report.status, clock.parse(report.due_at))
    return sla.SlaClock.start(policy(), cal, report.status, clock.parse(report.updated_at),
                              report.type, report.category, classification=report.classification)


def first_sweep_at(clk: sla.SlaClock, now: datetime) -> datetime | None:
    """When the sweep must first look at a stage that starts now.

    The next check after `now`; when even the deadline is already behind us (a stage recorded
    late), the deadline itself, so the very next sweep acts on it instead of never.
    """
    nxt = clk.next_check(after=now)
    if nxt is not None:
        return nxt.at
    return clk.due_at


def cleared_fields() -> dict[str, Any]:
    """A closed report: no stage, no deadline, out of the sweep index."""
    return {"sla_stage": None, "due_at": None, "sla_stage_started_at": None,
            "sweep_at": None, "sweep_shard": None, "sla_state": None, "sla_breached": False}


def stage_fields(tracking_id: str, report_type: str, category: str | None, status: str,
                 start: datetime, now: datetime, *, classification: str | None = None) -> dict[str, Any]:
    """Fields to set on a report entering `status` at `start` (usually start == now).

    `breached_by` is not here on purpose: a breach stays on the record of the OPD that breached,
    whatever happens to the report afterwards (redisposition, reopening, closing).
    """
    clk = start_clock(report_type, category, status, start, classification=classification)
    if clk.stage is None or clk.due_at is None:
        return cleared_fields()
    sweep_at = first_sweep_at(clk, now)
    return {
        "sla_stage": clk.stage,
        "due_at": clock.iso_utc(clk.due_at),
        "sla_stage_started_at": clock.iso_utc(start),
        "sweep_at": clock.iso_utc(sweep_at) if sweep_at else None,
        "sweep_shard": shard_of(tracking_id) if sweep_at else None,
        "sla_state": {},
        "sla_breached": False,
    }


def replanned_fields(report: Any, now: datetime) -> dict[str, Any]:
    """The running stage's deadline after a correction of the report's type or category: the
    same stage from the same start, under the rule the corrected report falls under. Empty when
    nothing moves (no stage, a stage whose rule does not depend on them, or a resumed stage,
    whose deadline is the time it had left). What the sweep already did stays done."""
    if not report.sla_stage or not report.sla_stage_started_at or RESUMED in (report.sla_state or {}):
        return {}
    clk = clock_of(report)
    if clk.due_at is None or (report.due_at and clock.parse(report.due_at) == clk.due_at):
        return {}
    sweep_at = first_sweep_at(clk, now)
    if sla.CheckKind.BREACH.value in (report.sla_state or {}) and clk.next_check(after=now) is None:
        sweep_at = None  # past the new deadline too, and its breach already recorded
    return {
        "due_at": clock.iso_utc(clk.due_at),
        "sweep_at": clock.iso_utc(sweep_at) if sweep_at else None,
        "sweep_shard": shard_of(report.tracking_id) if sweep_at else None,
    }


def pause(report: Any, now: datetime) -> dict[str, Any]:
    """What `info_request.paused` keeps of the OPD stage its own request for information stops:
    the time left (chalicelib.domain.sla.PausedClock) and what the sweep already did in it."""
    cal = calendar()
    clk = clock_of(report, cal)
    if clk.stage is None or clk.due_at is None or clk.stage not in sla.STAFF_STAGES:
        raise ValueError(f"no OPD clock runs in status {report.status}")
    stopped = sla.PausedClock.stop(cal, clk.stage, clk.due_at, now)
    return {**stopped.as_dict(), "breached": stopped.breached or bool(report.sla_breached),
            "sla_state": dict(report.sla_state or {})}


def resumed_fields(tracking_id: str, status: str, paused: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Fields of the OPD stage resumed at `now` with the time it had left when paused.

    A breach recorded before the pause stays (sla_state keeps it, so it is never sent twice)."""
    cal = calendar()
    stopped = sla.PausedClock.from_dict(paused)
    due = stopped.resumed_due(cal, now)
    clk = sla.SlaClock.restore(cal, status, due, now, reminder=policy().stage(stopped.stage).reminder)
    state = {k: v for k, v in dict(paused.get("sla_state") or {}).items() if k != RESUMED}
    recorded = sla.CheckKind.BREACH.value in state
    nxt = clk.next_check(after=now)
    # Past its deadline and no breach recorded yet (paused between the deadline and the next
    # sweep): the next sweep records it.
    sweep_at = nxt.at if nxt is not None else (None if recorded else clk.due_at)
    return {
        "sla_stage": stopped.stage,
        "due_at": clock.iso_utc(due),
        "sla_stage_started_at": clock.iso_utc(now),
        "sweep_at": clock.iso_utc(sweep_at) if sweep_at else None,
        "sweep_shard": shard_of(tracking_id) if sweep_at else None,
        "sla_state": {**state, RESUMED: clock.iso_utc(due)},
        "sla_breached": recorded,
    }


def staff_view(report: Any) -> dict[str, Any]:
    """`sla` of the staff view (CONTRACT.md): {"stage", "due_at", "breached"} (stage and due_at
    null once the report is closed).

    `breached_by` is added because it is what the monthly per-OPD record counts.
    """
    return {
        "stage": report.sla_stage or None,
        "due_at": clock.iso(clock.parse(report.due_at)) if report.due_at else None,
        "breached": bool(report.sla_breached),
        "breached_by": list(report.breached_by or []),
    }
