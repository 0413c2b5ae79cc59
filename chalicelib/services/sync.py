"""SP4N-LAPOR! sync: push our reports to the national system, pull back what happened there.

Push (SyncQueue consumer), per event:
- `submit`: create the complaint (privacy flags is_anonymous/is_secret; the text cut of the
  reporter's identity by the adapter's payload builder; never a name, contact or NIK);
- `respond`, `close`, `auto_close`, `archive`: the public text as a follow-up (tindak lanjut);
- `reject`: LAPOR!'s reject (bukan wewenang) when the reason says it is not the regency's
  authority, otherwise the public text as a follow-up. `return` stays inside KBB (an OPD hands
  the report back to Diskominfotik, which re-routes it): nothing to tell LAPOR!.
The report records `sp4n.state` (pending|synced|failed), `complaint_id`, `attempts`.

Exactly once per (tracking_id, seq): a claim `sync#<tracking_id>#<seq>` is taken first; the
complaint id is written into the claim the moment LAPOR! returns it, then onto the report. A
retry that finds the id in the claim only records it. A write whose answer was lost (timeout,
5xx after processing) is marked in the claim ("sending"); the retry first looks on LAPOR! for
what it sent (same text since the first try) and adopts it instead of sending again. Write calls
are made without the adapter's internal retries, so one attempt is one request; SQS redelivery
(with backoff) is the retry. Residual risk: LAPOR! offers no idempotency reference, so a complaint
whose text LAPOR! changes on receipt would not be recognised and could be filed twice.

Recording on the report goes through `reports.save_change` (version check + an `sp4n_synced` /
`sp4n_failed` event), so it never overwrites a concurrent workflow change and the workflow never
overwrites it: whoever loses the version race re-reads and retries. Only the attempt counter and
last error of a transient failure are written without a version (an UpdateItem on `sp4n`), so an
outage does not turn officers' edits into version conflicts; a concurrent workflow write may
overwrite those two diagnostic fields, nothing else.

Failures: transient (unavailable, timeouts, protocol errors, our own credentials rejected) fail
the SQS item; it comes back with backoff; on the 5th receive `sp4n.state` becomes `failed` and
SQS then moves it to the DLQ (`python -m chalicelib.cli dlq redrive --queue sync` after the
outage). A 4xx rejection of the request itself is permanent: `failed`, acknowledged, not retried.

Pull (schedule, every 3 h; the local pump more often): complaints changed on LAPOR! since the
last pull. Known ones (ours) get their LAPOR!-side status changes and follow-ups as internal
events (actor `sistem`); KBB complaints filed directly on LAPOR! are imported as reports
(source `sp4n`, privacy from the flags). Everything is applied idempotently (each LAPOR! log entry
and follow-up is recorded once, by reference), and the cursor only moves past what was applied.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters import sp4n
from chalicelib.data import claims, reports
from chalicelib.data.models import (
    IdempotencyRecord,
    Location,
    Report,
    ReportEvent,
    Sp4nState,
)
from chalicelib.domain import clock, tracking
from chalicelib.domain.events import DomainEvent, MalformedEvent
from chalicelib.observability import logger, mask_text
from chalicelib.services import consumer, sla_state

CONSUMER = "sync"
# Longer than one attempt can take (the function times out after 120 s).
LEASE_SECONDS = 180.0
FOLLOWUP_ACTIONS = frozenset({"respond", "close", "auto_close", "archive"})
SYNCED_ACTIONS = FOLLOWUP_ACTIONS | {"submit", "reject"}
NOT_OUR_AUTHORITY = frozenset({"bukan_wewenang", "not_our_authority", "bukan wewenang"})
# How far back the first pull looks; afterwards the stored cursor decides.
PULL_LOOKBACK = timedelta(days=int(os.environ.get("SP4N_PULL_LOOKBACK_DAYS", "7")))
# LAPOR!'s clock and ours differ a little: a lost-answer search starts this much earlier.
CLOCK_SLACK = timedelta(minutes=5)
CURSOR_KEY = "sync#pull#cursor"
OUR_AUTHOR = "institution"  # how LAPOR! marks follow-ups posted through the integration API
_TYPES = {1: "pengaduan", 2: "aspirasi", 3: "permintaan_informasi"}
_KECAMATAN_BY_ID = {v: k for k, v in sp4n.KECAMATAN_LOCATION_IDS.items()}
UNKNOWN_KECAMATAN = "tidak_diketahui"


class NotYetSynced(Exception):
    """A follow-up arrived before its complaint exists on LAPOR!: retry later."""


class _Permanent(Exception):
    """The request can never succeed as it is (LAPOR! rejected it, or our payload is invalid)."""


# -- clients --------------------------------------------------------------------------------
_clients: dict[str, sp4n.Sp4nClient] = {}


def client(kind: str = "read") -> sp4n.Sp4nClient:
    """`read`: the adapter's bounded retries (GETs are safe to repeat). `write`: one request per
    attempt, because a write repeated after a lost answer could file twice; SQS retries it."""
    if kind not in _clients:
        options: dict[str, Any] = {}
        if os.environ.get("SP4N_BACKOFF_BASE"):
            options["backoff_base"] = float(os.environ["SP4N_BACKOFF_BASE"])
        if kind == "write":
            options["max_attempts"] = 1
        _clients[kind] = sp4n.Sp4nClient.from_env(**options)
    return _clients[kind]


def reset_clients() -> None:
    _clients.clear()


# -- recording on the report ----------------------------------------------------------------

def _event(report: Report, action: str, data: dict[str, Any], message: str | None = None) -> ReportEvent:
    return ReportEvent(report.tracking_id, 0, at=clock.iso_utc(clock.now()), actor="sistem", role="sistem",
                       action=action, from_status=report.status, to_status=report.status, public=False,
                       message=message, data=data)


def change_report(tracking_id: str, mutate: Callable[[Report], list[ReportEvent]]) -> list[ReportEvent]:
    """Apply `mutate` to the current report and store it with the events it returns, under the
    version check; on a concurrent change, re-read and apply again. [] from `mutate`: nothing."""
    for _ in range(10):
        report = reports.get(tracking_id)
        if report is None:
            raise MalformedEvent(f"no report {tracking_id}")
        new_events = mutate(report)
        if not new_events:
            return []
        expected = int(report.version or 1)
        seq = int(report.event_seq or 0)
        for e in new_events:
            seq += 1
            e.seq = seq
        report.version = expected + 1
        report.event_seq = seq
        try:
            reports.save_change(report, expected, new_events)
        except reports.Conflict:
            continue
        return new_events
    raise RuntimeError(f"report {tracking_id} kept changing; retried later")


def _sp4n(report: Report) -> Sp4nState:
    if report.sp4n is None:
        report.sp4n = Sp4nState()
    return report.sp4n


def record_synced(tracking_id: str, seq: int, complaint_id: str, call: str, attempts: int = 1) -> None:
    def mutate(report: Report) -> list[ReportEvent]:
        s = _sp4n(report)
        if s.complaint_id == complaint_id and int(s.synced_seq or 0) >= seq and s.state == "synced":
            return []  # recorded by an earlier delivery
        s.state = "synced"
        s.complaint_id = complaint_id
        s.attempts = int(s.attempts or 0) + attempts
        s.last_error = None
        s.synced_seq = max(int(s.synced_seq or 0), seq)
        return [_event(report, "sp4n_synced", {"origin": "sync", "for_seq": seq, "complaint_id": complaint_id,
                                                "call": call})]

    change_report(tracking_id, mutate)


def record_failed(tracking_id: str, seq: int, error: str) -> None:
    def mutate(report: Report) -> list[ReportEvent]:
        s = _sp4n(report)
        if s.state == "failed" and s.last_error == error:
            return []
        s.state = "failed"
        s.attempts = int(s.attempts or 0) + 1
        s.last_error = error
        return [_event(report, "sp4n_failed", {"origin": "sync", "for_seq": seq, "error": error})]

    change_report(tracking_id, mutate)


def record_attempt(tracking_id: str, error: str) -> None:
    """A transient failure: count it without bumping the version (see the module doc)."""
    try:
        Report(tracking_id).update(
            # typed map attributes are document paths on the class (PynamoDB's stubs do not say so)
            actions=[Report.sp4n.attempts.add(1), Report.sp4n.last_error.set(error)],  # type: ignore[attr-defined]
            condition=Report.tracking_id.exists() & Report.sp4n.exists(),
        )
    except UpdateError as exc:
        logger.warning("could not count the sync attempt", extra={"tracking_id": tracking_id,
                                                                  "error": type(exc).__name__})


def _error_text(exc: BaseException) -> str:
    return mask_text(f"{type(exc).__name__}: {exc}")[:300]


# -- the complaint <-> report map -----------------------------------------------------------

def map_key(complaint_id: str) -> str:
    return f"sp4n#complaint#{complaint_id}"


def mapped_report(complaint_id: str) -> str | None:
    record = claims.get(map_key(complaint_id))
    return str((record.response or {}).get("tracking_id")) if record is not None else None


def _map_record(complaint_id: str, tracking_id: str) -> IdempotencyRecord:
    # No TTL: the map lives as long as the report does.
    return IdempotencyRecord(map_key(complaint_id), state="map", response={"tracking_id": tracking_id})


def remember_complaint(complaint_id: str, tracking_id: str) -> None:
    try:
        _map_record(complaint_id, tracking_id).save(condition=IdempotencyRecord.key.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        other = mapped_report(complaint_id)
        if other != tracking_id:
            raise RuntimeError(f"LAPOR! complaint {complaint_id} is already linked to {other}") from None


# -- push -----------------------------------------------------------------------------------

def _report_fields(report: Report) -> dict[str, Any]:
    return {
        "type": report.type, "title": report.title, "description": report.description,
        "category": report.category, "kecamatan": report.kecamatan,
        "location": {"kecamatan": report.location.kecamatan if report.location else report.kecamatan},
        "incident_date": report.incident_date, "created_at": report.created_at, "privacy": report.privacy,
        "reporter": _reporter(report),
    }


def _reporter(report: Report) -> dict[str, Any]:
    r = report.reporter
    return {} if r is None else {"name": r.name, "email": r.email, "phone": r.phone}


def payload(report: Report) -> sp4n.Sp4nComplaintIn:
    # Our attachment ids are not LAPOR! document ids; attachments are not forwarded (yet).
    try:
        return sp4n.payload_from_report(_report_fields(report), document_ids=[])
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        raise _Permanent(f"payload not valid: {type(exc).__name__}") from None


def _since(claim: claims.Claim) -> datetime:
    first = claim.data.get("first_try_at")
    at = clock.parse(first) if first else clock.now()
    return at - CLOCK_SLACK


def _find_created(report: Report, body: sp4n.Sp4nComplaintIn, since: datetime) -> str | None:
    """A complaint we filed whose answer we never got: same text and flags, not linked elsewhere."""
    for c in client("read").list_changes(since):
        if c.source not in (None, "integration"):
            continue
        same = (c.title == body.title and c.content == body.content and c.is_anonymous == body.is_anonymous
                and c.is_secret == body.is_secret and c.date_of_incident in (None, body.date_of_incident))
        if same and mapped_report(c.complaint_id) in (None, report.tracking_id):
            return c.complaint_id
    return None


def _create(report: Report, event: DomainEvent, claim: claims.Claim) -> tuple[str, str]:
    s = _sp4n(report)
    if s.complaint_id:
        return s.complaint_id, "known"  # imported from LAPOR!, or recorded by an earlier delivery
    complaint_id = claim.data.get("complaint_id")
    body = payload(report)
    if not complaint_id and claim.data.get("phase") == "sending":
        complaint_id = _find_created(report, body, _since(claim))
        if complaint_id:
            logger.warning("adopted a complaint whose create answer was lost",
                           extra={"tracking_id": report.tracking_id, "complaint_id": complaint_id})
    if not complaint_id:
        claims.note(claim, phase="sending", first_try_at=claim.data.get("first_try_at") or clock.iso_utc(clock.now()))
        complaint_id = client("write").create_complaint(body)
    # Written before anything else: from here on no retry can create a second complaint.
    claims.note(claim, complaint_id=complaint_id, phase="sent")
    remember_complaint(complaint_id, report.tracking_id)
    return complaint_id, "create"


def _complaint_of(report: Report) -> str:
    complaint_id = _sp4n(report).complaint_id
    if complaint_id:
        return str(complaint_id)
    create = claims.get(f"{CONSUMER}#{report.tracking_id}#1")
    if create is not None and create.state == claims.DONE and (create.response or {}).get("outcome") == "rejected":
        raise _Permanent("the complaint itself was rejected by SP4N-LAPOR!")
    raise NotYetSynced(f"{report.tracking_id}: complaint not on SP4N-LAPOR! yet")


def _followup(report: Report, event: DomainEvent, claim: claims.Claim, text: str) -> str:
    complaint_id = _complaint_of(report)
    reporter = _reporter(report)
    sent_text = sp4n.redact_text(text.strip(), reporter, contacts=False)
    if claim.data.get("phase") == "sending":
        since = _since(claim)
        for f in client("read").get_followups(complaint_id):
            if f.author == OUR_AUTHOR and f.content == sent_text and (f.created_at is None or f.created_at >= since):
                claims.note(claim, phase="sent", followup_id=f.id)
                return complaint_id
    claims.note(claim, phase="sending", first_try_at=claim.data.get("first_try_at") or clock.iso_utc(clock.now()))
    followup_id = client("write").add_followup(complaint_id, text, reporter=reporter)
    claims.note(claim, phase="sent", followup_id=followup_id)
    return complaint_id


def _reject(report: Report, event: DomainEvent, claim: claims.Claim, reason: str) -> str:
    complaint_id = _complaint_of(report)
    if claim.data.get("phase") == "sending" and client("read").get_complaint(complaint_id).status_code == "rejected":
        return complaint_id
    claims.note(claim, phase="sending", first_try_at=claim.data.get("first_try_at") or clock.iso_utc(clock.now()))
    try:
        client("write").reject(complaint_id, reason, reporter=_reporter(report))
    except sp4n.Sp4nRejected as exc:
        if exc.status != 409:  # 409: already rejected there, which is what we wanted
            raise
    claims.note(claim, phase="sent")
    return complaint_id


def _push(report: Report, event: DomainEvent, claim: claims.Claim) -> tuple[str, str]:
    if event.action == "submit":
        return _create(report, event, claim)
    text = (event.message or "").strip()
    if event.action == "reject" and str(event.data.get("reason") or "").strip().lower() in NOT_OUR_AUTHORITY:
        return _reject(report, event, claim, text or "Bukan kewenangan Pemerintah Kabupaten Bandung Barat."), "reject"
    if not text:
        return _complaint_of(report), "nothing"
    return _followup(report, event, claim, text), "followup"


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (sp4n.Sp4nAuthError, sp4n.Sp4nConfigError)):
        return True  # our credentials or settings: fix them and redrive, the report is fine
    return not isinstance(exc, (sp4n.Sp4nRejected, _Permanent))


def handle_event(event: DomainEvent, delivery: consumer.Delivery | None = None) -> str:
    """Push one event to SP4N-LAPOR!. Returns what was done; raises to have SQS retry."""
    if event.action not in SYNCED_ACTIONS or event.data.get("origin") == "sp4n":
        return "ignored"
    delivery = delivery or consumer.Delivery(1, "")
    if delivery.batch.get("unavailable"):
        # One call in this batch already found LAPOR! down: fail the rest fast instead of letting
        # each wait for its timeouts (and the function for its own).
        raise sp4n.Sp4nUnavailable("SP4N-LAPOR! unavailable earlier in this batch; not tried")
    report = reports.get(event.tracking_id)
    if report is None:
        raise MalformedEvent(f"no report {event.tracking_id}")
    claim = claims.acquire(f"{CONSUMER}#{event.tracking_id}#{event.seq}", LEASE_SECONDS)
    if claim is None:
        return "duplicate"
    try:
        complaint_id, call = _push(report, event, claim)
    except Exception as exc:
        if isinstance(exc, sp4n.Sp4nUnavailable):
            delivery.batch["unavailable"] = True
        if not isinstance(exc, (NotYetSynced, claims.Busy)):
            consumer.count("Sp4nFailed")  # the alarm of infra/operations.yaml
        error = _error_text(exc)
        if not _is_transient(exc):
            claims.complete(claim, outcome="rejected", error=error)
            record_failed(event.tracking_id, event.seq, error)
            logger.error("SP4N-LAPOR! rejected the sync; not retried",
                         extra={"tracking_id": event.tracking_id, "seq": event.seq, "error": error})
            return "rejected"
        claims.release(claim)
        if delivery.last_attempt:
            # SQS moves it to the DLQ on the next receive: say so on the report now.
            record_failed(event.tracking_id, event.seq, error)
        elif not isinstance(exc, NotYetSynced):  # no call was made for that one
            record_attempt(event.tracking_id, error)
        raise
    if call != "nothing":
        record_synced(event.tracking_id, event.seq, complaint_id, call)
        consumer.count("Sp4nSynced")
    claims.complete(claim, outcome="synced", complaint_id=complaint_id, call=call)
    logger.info("synced to SP4N-LAPOR!", extra={"tracking_id": event.tracking_id, "seq": event.seq,
                                                "action": event.action, "call": call})
    return call


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for SyncQueue: Powertools' partial batch response."""
    return consumer.process(event, context, handle_event, CONSUMER)


# -- pull -----------------------------------------------------------------------------------

def _cursor() -> datetime | None:
    record = claims.get(CURSOR_KEY)
    since = (record.response or {}).get("since") if record is not None else None
    return clock.parse(since) if since else None


def _save_cursor(since: datetime) -> None:
    IdempotencyRecord(CURSOR_KEY, state="cursor", response={"since": since.isoformat()}).save()


def _privacy(c: sp4n.Sp4nComplaint) -> str:
    if c.is_secret:
        return "rahasia"  # hides the whole report; LAPOR! gave us no identity to hide anyway
    return "anonim" if c.is_anonymous else "publik"


def import_complaint(c: sp4n.Sp4nComplaint, now: datetime) -> str | None:
    """A KBB complaint filed directly on LAPOR!: a new report (source `sp4n`). The map record is
    written in the same transaction, so a complaint is imported once however often it is seen."""
    rtype = _TYPES.get(int(c.classification_id or 1), "pengaduan")
    kecamatan = _KECAMATAN_BY_ID.get(int(c.location_id or 0), UNKNOWN_KECAMATAN)
    title = " ".join((c.title or "").split())[:150] or f"Laporan SP4N-LAPOR! {c.complaint_id}"
    description = (c.content or "").strip() or title
    privacy = _privacy(c)
    for _ in range(3):
        tracking_id = tracking.new_tracking_id()
        created = clock.iso_utc(now)
        report = Report(
            tracking_id, type=rtype, title=title, description=description, category=None,
            classification=None, opd_code=None, kecamatan=kecamatan,
            location=Location(kecamatan=kecamatan),  # type: ignore[no-untyped-call]
            privacy=privacy, reporter=None,
            incident_date=c.date_of_incident.isoformat() if c.date_of_incident else None,
            status="diajukan", created_at=created, created_month=clock.month_wib(now), updated_at=created,
            version=1, event_seq=1,
            # The citizen follows the report on LAPOR!; nobody holds a token for our reporter view.
            access_token_hash=tracking.hash_token(secrets.token_urlsafe(32)),
            source="sp4n",
            sp4n=Sp4nState(state="synced", complaint_id=c.complaint_id, attempts=0, synced_seq=1),  # type: ignore[no-untyped-call]
            **sla_state.stage_fields(tracking_id, rtype, None, "diajukan", now, now),
        )
        event = ReportEvent(tracking_id, 1, at=created, actor="sistem", role="sistem", action="submit",
                            from_status=None, to_status="diajukan", public=True,
                            message="Laporan diterima dari SP4N-LAPOR! dan menunggu verifikasi.",
                            data={"type": rtype, "privacy": privacy, "source": "sp4n", "origin": "sp4n",
                                  "complaint_id": c.complaint_id})
        try:
            reports.create(report, event, _map_record(c.complaint_id, tracking_id))
        except reports.Conflict as exc:
            if exc.failed("idempotency"):
                return None  # imported before
            if exc.failed("report"):
                continue
            raise
        return tracking_id
    raise RuntimeError("could not allocate a tracking id")


def _lapor_changes(report: Report, c: sp4n.Sp4nComplaint, known_refs: set[str]) -> list[ReportEvent]:
    """Events for what happened on LAPOR! itself and is not recorded yet."""
    out: list[ReportEvent] = []
    previous: str | None = None
    for log in c.logs:
        ref = f"log:{log.at.isoformat()}:{log.status_code}"
        if previous is not None and log.status_code != previous and ref not in known_refs:
            out.append(_event(report, "sp4n_status", {
                "origin": "sp4n", "sp4n_ref": ref, "complaint_id": c.complaint_id, "status_code": log.status_code,
                "status_name": log.status_name, "disposition_name": c.disposition_name,
            }, f"Status di SP4N-LAPOR!: {log.status_name}"))
        previous = log.status_code
    for f in client("read").get_followups(c.complaint_id):
        ref = f"followup:{f.id}"
        if f.author == OUR_AUTHOR or ref in known_refs:
            continue
        # Staff read it; the reporter's identity and ID numbers are cut as everywhere else.
        text = sp4n.redact_text(f.content, _reporter(report))
        out.append(_event(report, "sp4n_followup", {
            "origin": "sp4n", "sp4n_ref": ref, "complaint_id": c.complaint_id, "author": f.author,
        }, f"Tindak lanjut di SP4N-LAPOR!: {text}"[:4000]))
    return out


def apply_complaint(c: sp4n.Sp4nComplaint, now: datetime) -> dict[str, int]:
    tracking_id = mapped_report(c.complaint_id)
    imported = 0
    if tracking_id is None:
        if c.source == "integration":
            # Ours, but its id is not recorded yet (the sync is about to): not a new report.
            return {"imported": 0, "events": 0}
        tracking_id = import_complaint(c, now) or mapped_report(c.complaint_id)
        imported = 1
        if tracking_id is None:
            return {"imported": 0, "events": 0}
    known = {str((e.data or {}).get("sp4n_ref")) for e in reports.events(tracking_id) if (e.data or {}).get("sp4n_ref")}
    written = change_report(tracking_id, lambda report: _lapor_changes(report, c, known))
    return {"imported": imported, "events": len(written)}


def pull(now: datetime | None = None) -> dict[str, Any]:
    """Bring back what changed on LAPOR! since the last pull. Safe to run twice or concurrently."""
    now = now or clock.now()
    since = _cursor() or (now - PULL_LOOKBACK)
    changes = client("read").list_changes(since)
    result: dict[str, Any] = {"since": since.isoformat(), "seen": len(changes), "imported": 0, "events": 0,
                              "failed": None}
    cursor = since
    for c in changes:
        try:
            done = apply_complaint(c, now)
        except Exception as exc:  # noqa: BLE001 logged; the cursor stays here for the next pull
            # Stop here: the cursor stays at this complaint, so the next pull tries it again.
            result["failed"] = c.complaint_id
            logger.error("SP4N-LAPOR! pull stopped", extra={"complaint_id": c.complaint_id,
                                                            "error": _error_text(exc)})
            break
        result["imported"] += done["imported"]
        result["events"] += done["events"]
        if c.updated_at is not None and c.updated_at > cursor:
            cursor = c.updated_at
    if cursor > since:
        _save_cursor(cursor)  # inclusive on LAPOR!'s side: the last one is seen again, harmlessly
    result["cursor"] = cursor.isoformat()
    logger.info("SP4N-LAPOR! pull", extra={k: v for k, v in result.items() if k != "since"})
    return result
