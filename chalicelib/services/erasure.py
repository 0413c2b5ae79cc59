"""Personal data under UU PDP: the retention run, and a data subject's export and erasure.

One eraser serves the daily `retention` schedule and `python -m chalicelib.cli subject erase`;
the rules are chalicelib/domain/retention.py, the policy config/retention.json, the reasons and
the crash-safe order of an erasure docs/PRIVACY.md ("Retention policy", "Data-subject requests").
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import contact_key, kms
from chalicelib.data import attachments as attachment_records
from chalicelib.data import report_fields, reports
from chalicelib.domain import clock, identity, retention
from chalicelib.domain.report import Event
from chalicelib.domain.workflow import CLOSED_STATUSES
from chalicelib.observability import logger
from chalicelib.services import attachments, views

if TYPE_CHECKING:
    from chalicelib.data.models import Report, ReportEvent

_RETRIES = 3


class UnknownContact(ValueError):
    """The phone or email given to a data-subject command cannot be read."""


def _policy() -> retention.RetentionPolicy:
    return retention.load_policy()


def _plain_reporter(report: Report) -> dict[str, Any]:
    r = report.reporter
    return {"name": r.name, "email": r.email, "phone": r.phone} if r is not None else {}


def _report_values(report: Report) -> dict[str, Any]:
    loc = report.location
    return {
        "title": report.title, "description": report.description, "reporter": _plain_reporter(report),
        "nik_ciphertext": report.nik_ciphertext, "attachments": list(report.attachments or []),
        "phone_hash": report.phone_hash, "email_hash": report.email_hash,
        "location": loc.as_dict() if loc is not None else {},
    }


def _attachment_ids(report: Report, events: Iterable[ReportEvent]) -> list[str]:
    """The reporter's uploads and those of the answers (a photo of a street shows people too)."""
    found: dict[str, None] = dict.fromkeys(str(a) for a in report.attachments or [])
    for e in events:
        ids = (e.data or {}).get("attachments") if isinstance(e.data, dict) else None
        for i in ids or []:
            if isinstance(i, str):
                found[i] = None
    return list(found)


def _existing_attachments(ids: list[str]) -> list[str]:
    return attachment_records.existing(ids)


def plan(report: Report, events: list[ReportEvent], policy: retention.RetentionPolicy) -> dict[str, Any]:
    """What erasing `report` would change: field names, event seqs, attachment ids. No values."""
    changes, fields = retention.anonymised_report(_report_values(report), policy.coordinate_decimals)
    reporter = _plain_reporter(report)
    scrubs: dict[int, dict[str, Any]] = {}
    event_fields: set[str] = set()
    for e in events:
        delta, names = retention.scrubbed_event(
            {"actor": e.actor, "action": e.action, "message": e.message, "data": e.data}, reporter)
        if delta:
            scrubs[int(e.seq)] = delta
            event_fields.update(names)
    return {"changes": changes, "fields": fields, "scrubs": scrubs, "event_fields": sorted(event_fields),
            "attachments": _existing_attachments(_attachment_ids(report, events))}


def _summary(report: Report, p: dict[str, Any], outcome: str) -> dict[str, Any]:
    return {"tracking_id": report.tracking_id, "status": report.status, "closed_at": report.closed_at,
            "outcome": outcome, "fields": p["fields"], "events": sorted(p["scrubs"]),
            "event_fields": p["event_fields"], "attachments": len(p["attachments"])}


def erase_report(tracking_id: str, *, policy: retention.RetentionPolicy, policy_due: str | None = None,
                 request_id: str | None = None, dry_run: bool = False, merged_into: str | None = None,
                 now: datetime | None = None) -> dict[str, Any] | None:
    """Erase one report's personal data (docs/PRIVACY.md, "How it runs"). `policy_due` (ISO UTC): the
    retention run's cutoff; the report is then re-checked to be closed before it. `request_id`: a
    data subject's erasure request. Returns the summary (tracking id, field names, counts), or
    None when there is no such report."""
    now = now or clock.now()
    answer: dict[str, Any] = {}  # the summary when nothing is written
    done: dict[str, Any] = {}  # the plan and reason of the erasure written

    def erase(report: Report) -> list[Event] | None:
        answer.clear()
        if merged_into is not None:
            # A duplicate never closes on its own: it is due with the primary it was merged into.
            if report.merged_into != merged_into:
                answer.update(tracking_id=tracking_id, status=report.status, outcome="not_due")
                return None
        elif policy_due is not None and (report.status not in policy.closed_statuses
                                         or not report.closed_at or report.closed_at >= policy_due):
            answer.update(tracking_id=tracking_id, status=report.status, outcome="not_due")
            return None
        p = plan(report, reports.events(tracking_id), policy)
        nothing = not (p["changes"] or p["scrubs"] or p["attachments"])
        if dry_run or (nothing and report.erased_at):
            outcome = "already_erased" if nothing and report.erased_at else "would_erase"
            answer.update(_summary(report, p, outcome))
            return None
        # Files and old events first: after a lost race they are already done, or redone.
        for attachment_id in p["attachments"]:
            attachments.erase(attachment_id)
        for seq, delta in p["scrubs"].items():
            reports.scrub_event(tracking_id, seq, delta)
        for name, value in p["changes"].items():
            setattr(report, name, value)
        report.erased_at = clock.iso_utc(now)
        reason = {"request": request_id} if request_id else {"policy": policy.policy}
        done.update(plan=p, reason=reason)
        return [Event.bookkeeping(report.status, "erase", now, {
            "fields": p["fields"], "events": sorted(p["scrubs"]), "event_fields": p["event_fields"],
            "attachments_erased": len(p["attachments"]), **reason})]

    try:
        saved = reports.update(tracking_id, erase, attempts=_RETRIES)
    except reports.Conflict:
        raise RuntimeError(f"{tracking_id} kept changing; the next run retries it") from None
    if saved is None:
        return None
    if not saved.written:
        return dict(answer)
    p, reason = done["plan"], done["reason"]
    logger.info("personal data erased", extra={"tracking_id": tracking_id, "fields": p["fields"],
                                               "events": len(p["scrubs"]), "attachments": len(p["attachments"]),
                                               **reason})
    return _summary(saved.report, p, "erased")


def run_retention(now: datetime | None = None, dry_run: bool = False,
                  policy: retention.RetentionPolicy | None = None) -> dict[str, Any]:
    """The daily run: every report closed longer than the policy allows, found by the sparse
    by_retention index (never a Scan), at most `max_reports_per_run` per run (the rest the next day)."""
    policy = policy or _policy()
    now = now or clock.now()
    cutoff = clock.iso_utc(policy.cutoff(now))
    due = reports.due_for_erasure(cutoff, policy.max_reports_per_run)
    results = []
    for tracking_id in due:
        # Duplicates merged into a due report go first: only the primary's own erasure takes it out
        # of the index, so a run that stops halfway finds the primary, and its duplicates, again.
        primary = reports.get(tracking_id)
        if primary is not None and primary.closed_at and primary.closed_at < cutoff:
            for duplicate in primary.merged_ids or []:
                followed = erase_report(str(duplicate), policy=policy, merged_into=tracking_id, dry_run=dry_run,
                                        now=now)
                if followed is not None:
                    results.append(followed)
        result = erase_report(tracking_id, policy=policy, policy_due=cutoff, dry_run=dry_run, now=now)
        if result is not None:
            results.append(result)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    summary = {"policy": policy.policy, "closed_before": cutoff, "dry_run": dry_run, "counts": counts,
               "reports": results}
    logger.info("retention run", extra={"policy": policy.policy, "closed_before": cutoff, "dry_run": dry_run,
                                        "found": len(due), **counts})
    return summary


# -- data-subject requests -------------------------------------------------------------------------

def _hashes(phone: str | None, email: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    if not phone and not email:
        raise UnknownContact("give --phone or --email")
    e164 = None
    if phone:
        try:
            e164 = identity.normalise_phone(phone)
        except ValueError as exc:
            raise UnknownContact(f"phone: {exc}") from None
    mail = identity.normalise_email(email) if email else None
    hashes = identity.contact_hashes(contact_key.key(), e164, mail)
    return e164, mail, hashes["phone_hash"], hashes["email_hash"]


def subject_reports(phone: str | None = None, email: str | None = None) -> list[Report]:
    """The reports whose reporter has this phone or email, through the contact index. Each hit is
    checked against the stored contact, so a stale index entry never hands over someone else's report."""
    e164, mail, phone_hash, email_hash = _hashes(phone, email)
    out = []
    for tracking_id in reports.by_contact(phone_hash, email_hash):
        report = reports.get(tracking_id)
        if report is None or report.reporter is None:
            continue
        if (e164 and report.reporter.phone == e164) or (
                mail and report.reporter.email and identity.normalise_email(report.reporter.email) == mail):
            out.append(report)
    return sorted(out, key=lambda r: r.created_at)


def subject_export(phone: str | None = None, email: str | None = None, include_nik: bool = False) -> dict[str, Any]:
    """All we hold on the person: each report where they are the reporter, as they see it (their
    timeline), with the contact details and location we keep; the NIK only when asked for."""
    out = []
    for report in subject_reports(phone, email):
        events = reports.events(report.tracking_id)
        view = views.reporter_view(report, events)
        view["reporter"] = _plain_reporter(report)
        view["location"] = report.location.as_dict() if report.location is not None else None
        view["incident_date"] = report.incident_date
        view["has_nik"] = report.nik_ciphertext is not None
        view["erased_at"] = report.erased_at
        view["your_messages"] = [{"at": e.at, "action": e.action, "message": e.message,
                                  "comment": (e.data or {}).get("comment")}
                                 for e in events if e.actor == "pelapor" and e.action != "submit"]
        if include_nik and report.nik_ciphertext is not None:
            view["nik"] = kms.decrypt_nik(report.nik_ciphertext, report.tracking_id)
        out.append(view)
    return {"subject": {"phone": bool(phone), "email": bool(email)}, "generated_at": clock.iso_utc(clock.now()),
            "reports": out}


def subject_erase(phone: str | None = None, email: str | None = None, *, request_id: str,
                  include_open: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Erase the person's personal data from their reports, as the retention run does. A report
    still being handled is left alone unless `include_open` (the reporter then withdraws the
    contact the OPD would answer them on): the operator says so to the person."""
    policy = _policy()
    results = []
    for report in subject_reports(phone, email):
        if report.status not in CLOSED_STATUSES and not include_open:
            results.append({"tracking_id": report.tracking_id, "status": report.status, "outcome": "open_skipped"})
            continue
        result = erase_report(report.tracking_id, policy=policy, request_id=request_id, dry_run=dry_run)
        if result is not None:
            results.append(result)
    return {"request": request_id, "dry_run": dry_run, "reports": results}


# -- migration ----------------------------------------------------------------------------------

def migrate_contact_index(dry_run: bool = False, rehash: bool = False) -> dict[str, int]:
    """Backfill (re-runnable) for reports stored before the contact index and the retention
    clock: sets phone_hash/email_hash where missing (all of them with `rehash`, after a key
    rotation), and closed_at/retention_due on closed reports. This one-off walk is a paginated
    Scan of the reports table, the only one in the code base; the daily paths read indexes."""
    counts = {"reports": 0, "hashed": 0, "clock_started": 0}
    key = contact_key.key()
    statuses = _policy().closed_statuses
    for report in report_fields.every_report():
        counts["reports"] += 1
        values: dict[str, Any] = {}
        reporter = _plain_reporter(report)
        if report.erased_at is None and (reporter.get("phone") or reporter.get("email")):
            hashes = identity.contact_hashes(key, reporter.get("phone"), reporter.get("email"))
            for name, value in hashes.items():
                if value and (rehash or getattr(report, name) != value):
                    values[name] = value
            if values:
                counts["hashed"] += 1
        if report.status in statuses and not report.closed_at:
            closed = _closed_at(report)
            fields = retention.closure_fields(report.status, closed, None, report.erased_at, statuses)
            values["closed_at"] = fields["closed_at"]
            if fields["retention_due"]:
                values["retention_due"] = fields["retention_due"]
            counts["clock_started"] += 1
        # Conditional on the version read: a report changed meanwhile is done by the next run.
        if values and not dry_run and not report_fields.set_if_unchanged(report, values):
            counts["raced"] = counts.get("raced", 0) + 1
    return counts


def _closed_at(report: Report) -> str:
    """When the report last entered its closed status (its events say); else its last change."""
    last = None
    for e in reports.events(report.tracking_id):
        if e.to_status == report.status and e.from_status != report.status:
            last = e.at
    return str(last or report.updated_at)
