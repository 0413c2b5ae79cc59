"""SP4N-LAPOR! reconciliation: our open synced reports against LAPOR!'s own view of them, daily
(`sp4n_reconcile`) and for one report on an admin's retry. It re-pushes steps that never
arrived, pulls the complaint, compares statuses and lists what is left (`problems()`).
The steps and the problems list: docs/SP4N.md, "Reconciliation and problems".
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.data import claims, reports
from chalicelib.domain import clock
from chalicelib.domain.events import DomainEvent
from chalicelib.observability import logger
from chalicelib.services import sqs_batches, sync

if TYPE_CHECKING:
    from chalicelib.data.models import Report

GRACE = timedelta(minutes=30)


def _repush(report: Report, now: datetime, force: bool) -> tuple[int, str | None]:
    events = reports.events(report.tracking_id)
    pending = sync.pending_pushes(report, events, older_than=None if force else now - GRACE)
    if force:
        synced = {int((e.data or {}).get("for_seq") or 0) for e in events if e.action == "sp4n_synced"}
        for e in events:
            key = sync.claim_key(report.tracking_id, e.seq)
            claim = claims.get(key) if e.action in sync.synced_actions() and int(e.seq) not in synced else None
            if claim is not None and (claim.response or {}).get("outcome") == "rejected":
                claims.forget(key)  # the admin retries what LAPOR! refused once
                pending.append(e)
    done = 0
    for e in sorted(pending, key=lambda ev: int(ev.seq)):
        try:
            sync.handle_event(DomainEvent.from_mapping(e.attribute_values))
        except Exception as exc:  # noqa: BLE001 reported to the caller; later steps wait for this one
            return done, sync._error_text(exc)
        done += 1
    return done, None


def reconcile_one(tracking_id: str, now: datetime | None = None, *, force: bool = False) -> dict[str, Any]:
    """Repair, pull and compare one report (see the module doc). `force`: an admin's retry."""
    now = now or clock.now()
    report = reports.get(tracking_id)
    if report is None:
        raise LookupError(tracking_id)
    outcome: dict[str, Any] = {"tracking_id": tracking_id, "repushed": 0, "events": 0, "error": None}
    outcome["repushed"], outcome["error"] = _repush(report, now, force)
    report = reports.get(tracking_id)
    complaint_id = report.sp4n.complaint_id if report is not None and report.sp4n is not None else None
    if complaint_id and outcome["error"] is None:
        try:
            c = sync.client("read").get_complaint(str(complaint_id))
            outcome["events"] += sync.apply_complaint(c, now)["events"]
            report = reports.get(tracking_id)
            if report is not None and not sync.pending_pushes(report, reports.events(tracking_id)):
                outcome["events"] += sync.mark_diverged(tracking_id, c.status_code, c.status_name)
                outcome["events"] += sync.settle(tracking_id, c.status_code)
                outcome["events"] += sync.settle_privacy(tracking_id, c)
            reports.mark_checked(tracking_id, clock.iso_utc(now))
        except Exception as exc:  # noqa: BLE001 reported to the caller
            outcome["error"] = sync._error_text(exc)
    outcome["problem"] = item(reports.get(tracking_id))
    return outcome


def item(report: Report | None) -> dict[str, Any] | None:
    """A report as the problems list shows it (staff only: admins); None when in step."""
    if report is None or report.sp4n is None or report.sp4n_watch != "problem":
        return None
    s = report.sp4n
    kind = "diverged" if s.problem else "failed" if s.state == "failed" else "privacy"
    return {"tracking_id": report.tracking_id, "title": report.title, "status": report.status,
            "source": report.source, "updated_at": report.updated_at, "kind": kind,
            "sp4n": {"state": s.state, "complaint_id": s.complaint_id, "attempts": int(s.attempts or 0),
                     "last_error": s.last_error, "problem": s.problem, "lapor_status": s.lapor_status,
                     "privacy_divergence": s.privacy_divergence}}


def problems(limit: int = 200) -> list[dict[str, Any]]:
    """Failed and diverged syncs, least recently checked first."""
    return [i for i in (item(r) for r in reports.watched("problem", limit=limit)) if i is not None]


def run(now: datetime | None = None) -> dict[str, Any]:
    """The daily job: every open synced report and every listed problem, repaired where possible."""
    now = now or clock.now()
    seen: set[str] = set()
    result: dict[str, Any] = {"checked": 0, "repushed": 0, "events": 0, "errors": 0}
    for partition in ("problem", "open"):
        for report in list(reports.watched(partition)):
            if report.tracking_id in seen:
                continue
            seen.add(report.tracking_id)
            outcome = reconcile_one(report.tracking_id, now)
            result["checked"] += 1
            result["repushed"] += outcome["repushed"]
            result["events"] += outcome["events"]
            result["errors"] += 1 if outcome["error"] else 0
    left = problems()
    result["problems"] = len(left)
    sqs_batches.count("Sp4nDiverged", sum(1 for p in left if p["kind"] == "diverged"))
    sqs_batches.count("Sp4nProblems", len(left))
    sqs_batches.flush_metrics()
    logger.info("SP4N-LAPOR! reconciliation", extra=result)
    return result
