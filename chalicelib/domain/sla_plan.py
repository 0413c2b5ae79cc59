"""What the SLA sweep does to one report at one instant: a pure decision, no storage.

The sweep (chalicelib.services.sla_sweep) rebuilds a due report's SlaClock and asks `plan(...)`
which reminders, breaches, escalations or system move are due, what the report then records, and
when to look again. The rules: docs/DESIGN.md ("The sweep, and what it decides per report").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import clock as wib_clock
from chalicelib.domain.sla import (
    KELENGKAPAN,
    KONFIRMASI,
    REPORTER_STAGES,
    VERIFIKASI,
    CheckKind,
    SlaClock,
)

# Diskominfotik runs the regency's complaint desk: verification is its stage (DOMAIN.md).
ADMIN_OPD_CODE = "DISKOMINFOTIK"

REMINDER = CheckKind.REMINDER.value
BREACH = CheckKind.BREACH.value
ESCALATION = "sla_escalation"

# Who the notifier tells, by event. Names, not addresses: the notifier resolves them
# ("opd" = the OPD's contacts, "opd_head" = its head, "admin" = Diskominfotik's desk,
# "pelapor" = the reporter, unless anonymous without contact).
AUDIENCE_STAFF_REMINDER_ADMIN = ("admin",)
AUDIENCE_STAFF_REMINDER_OPD = ("opd",)
AUDIENCE_REPORTER = ("pelapor",)
AUDIENCE_ESCALATION = ("opd_head", "admin")

_CONSEQUENCE = {KONFIRMASI: "auto_close", KELENGKAPAN: "archive"}


@dataclass(frozen=True)
class Notice:
    """An event the sweep appends (it changes no status): reminder, breach or escalation."""

    action: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    notices: tuple[Notice, ...] = ()
    system_move: str | None = None  # "auto_close" | "archive": a workflow move by role sistem
    sla_state: dict[str, str] = field(default_factory=dict)
    sla_breached: bool = False
    breached_by: str | None = None  # OPD code to add to the report's breached_by
    due_at: datetime | None = None  # the stage's deadline (may have moved with the calendar)
    sweep_at: datetime | None = None  # next look; None drops the report from the index

    @property
    def acts(self) -> bool:
        return bool(self.notices) or self.system_move is not None


def responsible_opd(stage: str | None, opd_code: str | None) -> str | None:
    """The OPD that owes the step of a staff stage (None for reporter stages)."""
    if stage is None or stage in REPORTER_STAGES:
        return None
    if stage == VERIFIKASI or not opd_code:
        return ADMIN_OPD_CODE
    return opd_code


def plan(clk: SlaClock, now: datetime, *, swept_at: datetime | None, stored_due: datetime | None,
         state: Mapping[str, str] | None, opd_code: str | None, breached: bool = False) -> Plan:
    """Decide what a sweep at `now` does to a report whose clock is `clk`.

    `swept_at` is the report's stored sweep_at (the check the last sweep scheduled);
    `stored_due` its stored due_at; `state` its sla_state; `breached` its sla_breached.
    """
    done: dict[str, str] = dict(state or {})
    if clk.stage is None or clk.due_at is None:
        return Plan(sla_state=done, sla_breached=False, due_at=None, sweep_at=None)

    since = swept_at if stored_due == clk.due_at else None
    stage = clk.stage
    owner = responsible_opd(stage, opd_code)
    base = {"stage": stage, "due_at": wib_clock.iso(clk.due_at), "opd_code": owner}
    stamp = wib_clock.iso_utc(now)

    notices: list[Notice] = []
    move: str | None = None
    newly_breached: str | None = None
    deferred: datetime | None = None

    for check in clk.due_checks(since, now):
        if check.kind is CheckKind.REMINDER:
            if REMINDER in done:
                continue
            if stage in REPORTER_STAGES:
                data = {**base, "opd_code": opd_code, "audience": list(AUDIENCE_REPORTER),
                        "consequence": _CONSEQUENCE[stage]}
            elif stage == VERIFIKASI:
                data = {**base, "audience": list(AUDIENCE_STAFF_REMINDER_ADMIN)}
            else:
                data = {**base, "audience": list(AUDIENCE_STAFF_REMINDER_OPD)}
            notices.append(Notice(REMINDER, data))
            done[REMINDER] = stamp
            continue
        if now <= check.at:
            # The deadline's own second is still in time: look again right after it.
            deferred = check.at
            continue
        if check.kind is CheckKind.BREACH:
            if BREACH not in done:
                audience = AUDIENCE_STAFF_REMINDER_ADMIN if stage == VERIFIKASI else AUDIENCE_STAFF_REMINDER_OPD
                notices.append(Notice(BREACH, {**base, "audience": list(audience)}))
                done[BREACH] = stamp
                newly_breached = owner
            if ESCALATION not in done:
                notices.append(Notice(ESCALATION, {**base, "audience": list(AUDIENCE_ESCALATION)}))
                done[ESCALATION] = stamp
            continue
        # AUTO_CLOSE / ARCHIVE: the reporter's time ran out; the workflow moves the report.
        move = check.kind.value

    if deferred is not None:
        next_at: datetime | None = deferred
    else:
        nxt = clk.next_check(after=now)
        next_at = nxt.at if nxt is not None else None
    return Plan(
        notices=tuple(notices),
        system_move=move,
        sla_state=done,
        sla_breached=breached or BREACH in done,
        breached_by=newly_breached,
        due_at=clk.due_at,
        sweep_at=next_at,
    )
