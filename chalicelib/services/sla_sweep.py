"""The SLA sweep: reminders, breaches, escalations, auto-close and archive, every 15 minutes.

Reads the due reports from the sparse `by_sweep` index (one Query per shard, never a Scan), asks
chalicelib.domain.sla_plan what is due, and writes each report with `reports.update`. How it finds
work and why it acts once: docs/DESIGN.md ("The sweep, and what it decides per report").
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.config import settings
from chalicelib.data import digests, report_queries, reports
from chalicelib.domain import clock, sla_plan
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.sla import STAFF_STAGES, stage_for
from chalicelib.domain.workflow import Status
from chalicelib.observability import logger as log
from chalicelib.services import sla_fields

if TYPE_CHECKING:
    from chalicelib.data.models import Report
    from chalicelib.domain.report import Event

# A run handles at most this many due reports; the rest stay due (sweep_at unchanged) and the
# next run, 15 minutes later, takes them. Bounds one Lambda invocation during a surge.
DEFAULT_MAX_REPORTS = 5000
# Query page size: small enough that a page is processed long before its items go stale.
PAGE_SIZE = 200
# Writes tried per due report. A conflict means someone else wrote first; each retry re-reads the
# report (one strongly consistent GetItem). A report still changing after that waits for the next run.
ATTEMPTS = 3


@dataclass(frozen=True)
class Done:
    """One thing the sweep did to one report."""

    tracking_id: str
    action: str  # sla_reminder | sla_breach | sla_escalation | auto_close | archive | reschedule
    stage: str | None
    opd_code: str | None
    due_at: str | None
    audience: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "action": self.action, "stage": self.stage,
                "opd_code": self.opd_code, "due_at": self.due_at, "audience": list(self.audience)}


@dataclass
class SweepResult:
    now: datetime
    dry_run: bool = False  # planned only: nothing written, nothing sent
    due: int = 0  # due reports read from the index
    items_read: int = 0  # ScannedCount summed over the Query pages: what DynamoDB bills
    done: list[Done] = field(default_factory=list)
    rescheduled: int = 0  # due reports with nothing left to do: only sweep_at moved (or removed)
    retried: list[str] = field(default_factory=list)  # lost a version race once: read again, planned again
    conflicts: list[str] = field(default_factory=list)  # still changing after ATTEMPTS writes: next run
    failed: list[str] = field(default_factory=list)  # unexpected errors: retried next run
    truncated: bool = False  # stopped at max_reports; the rest stays due for the next run

    def count(self, action: str) -> int:
        return sum(1 for d in self.done if d.action == action)

    def as_dict(self) -> dict[str, Any]:
        actions = sorted({d.action for d in self.done})
        return {
            "now": clock.iso(self.now),
            "dry_run": self.dry_run,
            "due": self.due,
            "items_read": self.items_read,
            "counts": {a: self.count(a) for a in actions},
            "done": [d.as_dict() for d in self.done],
            "rescheduled": self.rescheduled,
            "retried": list(self.retried),
            "conflicts": list(self.conflicts),
            "failed": list(self.failed),
            "truncated": self.truncated,
        }

    def summary(self) -> str:
        """Human-readable account of the run (the CLI prints this)."""
        head = f"SLA sweep at {clock.iso(self.now)}: {self.due} report(s) due, {self.items_read} item(s) read"
        lines = [head + (" (dry run: what it would do; nothing written or sent)" if self.dry_run else "")]
        for d in self.done:
            who = ",".join(d.audience) or "-"
            lines.append(f"  {d.tracking_id}  {d.action:<15} stage={d.stage or '-'} "
                         f"opd={d.opd_code or '-'} due={d.due_at or '-'} -> {who}")
        if not self.done:
            lines.append("  nothing to send or close")
        if self.rescheduled:
            lines.append(f"  {self.rescheduled} report(s) only rescheduled")
        if self.retried:
            lines.append(f"  {len(self.retried)} read again after a concurrent change: " + ", ".join(self.retried))
        if self.conflicts:
            lines.append(f"  {len(self.conflicts)} skipped (changed concurrently, next run retries): "
                         + ", ".join(self.conflicts))
        if self.failed:
            lines.append(f"  {len(self.failed)} failed (next run retries): " + ", ".join(self.failed))
        if self.truncated:
            lines.append("  stopped at the per-run limit; the rest stays due for the next run")
        return "\n".join(lines)


# -- finding due work -----------------------------------------------------------------------

def _shards() -> list[str]:
    return [str(i) for i in range(settings().due_shards)]


def _due(shard: str, now: datetime, result: SweepResult) -> Iterator[Report]:
    """Due reports of one shard, oldest check first. Key condition only: nothing read is wasted."""
    pages = report_queries.due(shard, clock.iso_utc(now), PAGE_SIZE)
    try:
        yield from pages
    finally:
        result.items_read += pages.items_read


# -- acting on one report -------------------------------------------------------------------

def _plan(report: Report, now: datetime, cal: WorkingCalendar, done: list[Done]) -> list[Event]:
    """Apply the SLA plan to one due report in memory: its new deadline and next check, and the
    events (reminders, breaches, a system move) it produced; what they tell is added to `done`."""
    clk = sla_fields.clock_of(report, cal)
    decision = sla_plan.plan(
        clk, now,
        swept_at=clock.parse(report.sweep_at) if report.sweep_at else None,
        stored_due=clock.parse(report.due_at) if report.due_at else None,
        state=report.sla_state, opd_code=report.opd_code, breached=bool(report.sla_breached),
    )
    from chalicelib.domain.report import Event  # loaded by the first due report, not the cold start

    done.clear()
    events: list[Event] = []
    for notice in decision.notices:
        events.append(Event.bookkeeping(report.status, notice.action, now, notice.data))
        done.append(Done(report.tracking_id, notice.action, notice.data.get("stage"),
                         notice.data.get("opd_code"), notice.data.get("due_at"),
                         tuple(notice.data.get("audience", ()))))

    report.sla_state = decision.sla_state
    report.sla_breached = decision.sla_breached
    breached_by: list[Any] = list(report.breached_by or [])
    if decision.breached_by and decision.breached_by not in breached_by:
        # Kept across stages and OPDs: a redisposed report keeps the breach of the OPD before.
        breached_by.append(decision.breached_by)
        report.breached_by = breached_by
    if decision.due_at is not None:
        report.due_at = clock.iso_utc(decision.due_at)
    report.sweep_at = clock.iso_utc(decision.sweep_at) if decision.sweep_at else None
    report.sweep_shard = sla_fields.shard_of(report.tracking_id) if decision.sweep_at else None

    if decision.system_move is not None:
        # The workflow's own system move (status, index keys, a fresh SLA stage), applied in
        # memory so it goes into this same versioned transaction. Imported here: only the rare
        # auto-close/archive needs the workflow service (and the auth code it brings along).
        from chalicelib.services import workflow

        stage = report.sla_stage
        due = clock.iso(decision.due_at) if decision.due_at else None
        audience = ["pelapor", "opd"] if report.opd_code else ["pelapor"]
        events.append(workflow.apply_system_move(
            report, decision.system_move, now,
            {"stage": stage, "due_at": due, "audience": audience}))
        done.append(Done(report.tracking_id, decision.system_move, stage, report.opd_code, due,
                         tuple(audience)))
    return events


def _settle(report: Report, now: datetime, cal: WorkingCalendar, result: SweepResult) -> None:
    """Plan and write one due report under the version check. After a lost race (another sweep,
    an officer, the sync wrote first) it is read again and planned again from what is stored,
    unless the other writer did the work, closed the report or moved its deadline."""
    done: list[Done] = []
    if result.dry_run:
        events = _plan(report, now, cal, done)
        result.done.extend(done)
        result.rescheduled += not events
        return

    def still_due(tracking_id: str) -> Report | None:
        if tracking_id not in result.retried:
            result.retried.append(tracking_id)
        result.items_read += 1
        fresh = reports.get(tracking_id)
        if fresh is None or not fresh.sweep_at or fresh.sweep_at > clock.iso_utc(now):
            return None
        return fresh

    try:
        saved = reports.update(report.tracking_id, lambda r: reports.Change(_plan(r, now, cal, done)),
                               attempts=ATTEMPTS, read=still_due, current=report)
    except reports.Conflict:
        result.conflicts.append(report.tracking_id)
        return
    if saved is None:
        return
    result.done.extend(done)
    if not saved.events:
        result.rescheduled += 1


def sweep(now: datetime | None = None, *, max_reports: int = DEFAULT_MAX_REPORTS,
          stop_at: float | None = None, dry_run: bool = False) -> SweepResult:
    """Run the SLA check once as if the time were `now` (default: the real now).

    `dry_run` plans every due report and writes nothing: no event, so no message either.
    Stops early (truncated) after `max_reports` due reports or at `stop_at` (time.monotonic());
    what it did not reach keeps its sweep_at and is the next run's work.
    """
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("sweep(now) needs an aware datetime")
    result = SweepResult(now=now, dry_run=dry_run)
    # One calendar for the whole run, read fresh: every report sees the same, current days.
    cal = sla_fields.calendar(fresh=True)
    for shard in _shards():
        for report in _due(shard, now, result):
            if result.due >= max_reports or (stop_at is not None and time.monotonic() >= stop_at):
                result.truncated = True
                break
            result.due += 1
            try:
                _settle(report, now, cal, result)
            except Exception:  # noqa: BLE001  (one broken report must not stop the sweep for all others)
                log.exception("sla sweep failed on a report", extra={"tracking_id": report.tracking_id})
                result.failed.append(report.tracking_id)
        if result.truncated:
            break
    return result


def reschedule_open() -> int:
    """After a holiday override changed: move due_at/sweep_at of every report in the sweep index
    whose deadline the new calendar moves. Sends nothing; the next sweep acts on what became due.

    Reads the open work (all of the index), not the table. Returns how many reports moved.
    """
    cal = sla_fields.calendar(fresh=True)
    moved: list[str] = []
    for shard in _shards():
        for report in report_queries.in_sweep(shard, PAGE_SIZE):
            # A lost race is planned again from the stored report: the winner may not have
            # re-planned the deadline (the sync's records keep whatever due_at they read).
            try:
                saved = reports.update(report.tracking_id, lambda r: _reschedule(r, cal), attempts=ATTEMPTS,
                                       read=_open, current=report)
            except reports.Conflict:
                log.warning("deadline not moved: the report kept changing",
                            extra={"tracking_id": report.tracking_id})
                continue
            if saved is not None and saved.written:
                moved.append(report.tracking_id)
    return len(moved)


def _open(tracking_id: str) -> Report | None:
    """The report as stored now, unless it was closed meanwhile (nothing left to move)."""
    report = reports.get(tracking_id)
    return report if report is not None and report.sweep_at else None


def _reschedule(report: Report, cal: WorkingCalendar) -> reports.Change | None:
    """Move one report's deadline to `cal` in memory; None when it is already right."""
    clk = sla_fields.clock_of(report, cal)
    if clk.due_at is None or report.due_at == clock.iso_utc(clk.due_at):
        return None
    state = report.sla_state or {}
    # The first check of the moved stage not done yet (it may already be due: the next
    # sweep then acts on it at once instead of at the old, later time).
    pending = [c for c in clk.checks() if c.kind.value not in state]
    report.due_at = clock.iso_utc(clk.due_at)
    report.sweep_at = clock.iso_utc(pending[0].at) if pending else None
    report.sweep_shard = sla_fields.shard_of(report.tracking_id) if pending else None
    return reports.Change([])


# Seconds kept free at the end of a Lambda invocation: one report's transaction and the log line.
SAFETY_SECONDS = 10.0


def run_scheduled(now: datetime | None = None, context: Any = None) -> SweepResult:
    """Entry point for schedulers (the Lambda schedule and the local pump).

    With a Lambda `context`, the run stops before the function's timeout instead of being killed
    mid-way: nothing would be lost either way (every report is its own transaction), but a clean
    stop logs what it did.
    """
    from chalicelib import observability

    stop_at = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        stop_at = time.monotonic() + context.get_remaining_time_in_millis() / 1000.0 - SAFETY_SECONDS
    result = sweep(now, stop_at=stop_at)
    log.info("sla sweep", extra={"sla_sweep": {k: v for k, v in result.as_dict().items() if k != "done"}})
    # The SlaBreaches alarm and dashboard (infra/operations.yaml) count what this run recorded.
    observability.count("SlaBreaches", result.count("sla_breach"))
    return result


# -- weekly digest to pimpinan --------------------------------------------------------------

_STAFF_STATUSES = tuple(s.value for s in Status if stage_for(s.value) in STAFF_STAGES)
# The digest lists at most this many reports (the counts stay complete): an event must stay far
# below DynamoDB's 400 KB item limit even in a week of disaster.
MAX_DIGEST_ITEMS = 500


def digest_week(now: datetime) -> str:
    """The ISO week a digest sent at `now` reports on: the week (WIB) before the one `now` is in."""
    year, week, _ = (clock.to_wib(now) - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class DigestResult:
    week: str
    recorded: bool  # False: this week's digest already exists (a retried or second run)
    data: dict[str, Any]


def weekly_digest(now: datetime | None = None) -> DigestResult:
    """Record the weekly breach digest for `pimpinan`: one event per ISO week, exactly once.

    Content: every open report whose current staff stage is past its deadline, by OPD, with when
    it breached. Found by one Query per staff-stage status on the `by_status` index (cost follows
    the open work, not the table). Idempotent through the ledger's key
    `digest#<iso-week>`, written in the same transaction as the event.
    """
    now = now or clock.now()
    week = digest_week(now)
    items: list[dict[str, Any]] = []
    for status in _STAFF_STATUSES:
        for r in report_queries.breached(status):
            items.append({
                "tracking_id": r.tracking_id,
                "stage": r.sla_stage,
                "opd_code": sla_plan.responsible_opd(r.sla_stage, r.opd_code),
                "due_at": clock.iso(clock.parse(r.due_at)) if r.due_at else None,
                "breached_at": clock.iso(clock.parse(r.sla_state["sla_breach"]))
                if r.sla_state and r.sla_state.get("sla_breach") else None,
            })
    items.sort(key=lambda i: (i["opd_code"] or "", i["due_at"] or ""))
    by_opd: dict[str, int] = {}
    for i in items:
        by_opd[i["opd_code"] or "-"] = by_opd.get(i["opd_code"] or "-", 0) + 1
    data = {"week": week, "audience": ["pimpinan"], "overdue_total": len(items),
            "overdue_by_opd": by_opd, "overdue": items[:MAX_DIGEST_ITEMS],
            "overdue_truncated": len(items) > MAX_DIGEST_ITEMS, "generated_at": clock.iso(now)}
    recorded = digests.record(week, now, data)
    return DigestResult(week=week, recorded=recorded, data=data)
