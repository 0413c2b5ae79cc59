"""SP4N-LAPOR! sync: push our reports to the national system, pull back what happened there.

Push (the SyncQueue consumer): each event as chalicelib/config/sp4n_mapping.json says, once per
(tracking_id, seq) and in order. Pull (scheduled): the open complaints linked to LAPOR!, whose
reporter's and admins' moves come in through the workflow service, each once. How, and what
LAPOR! does not let us check: docs/SP4N.md.
"""
from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import sp4n
from chalicelib.data import claims, ledger, report_fields, reports
from chalicelib.data.models import (
    Location,
    Report,
    ReportEvent,
    Sp4nState,
)
from chalicelib.domain import clock, tracking
from chalicelib.domain import workflow as wf
from chalicelib.domain.events import DomainEvent, MalformedEvent
from chalicelib.observability import logger, mask_text
from chalicelib.services import sla_fields, sqs_batches

if TYPE_CHECKING:
    from chalicelib.domain.report import Event

CONSUMER = "sync"
# Longer than one attempt can take (the function times out after 120 s).
LEASE_SECONDS = 180.0
# How far back the first pull looks; afterwards the stored cursor decides.
PULL_LOOKBACK = timedelta(days=int(os.environ.get("SP4N_PULL_LOOKBACK_DAYS", "7")))
# LAPOR!'s clock and ours differ a little: a lost-answer search starts this much earlier.
CLOCK_SLACK = timedelta(minutes=5)
# Writes of the sync's records race the very moves they record; nobody waits on them, so they
# try more often than a person's move before SQS or the next pull takes over.
_ATTEMPTS = 10
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

def _event(report: Report, action: str, data: dict[str, Any], message: str | None = None) -> Event:
    from chalicelib.domain.report import Event  # loaded by the first record, not the cold start

    return Event.bookkeeping(report.status, action, clock.now(), data, message)


def change_report(tracking_id: str, mutate: Callable[[Report], list[Event]]) -> list[ReportEvent]:
    """Apply `mutate` to the current report and store it with the events it returns, under the
    version check; on a concurrent change, re-read and apply again. [] from `mutate`: nothing."""
    try:
        saved = reports.update(tracking_id, lambda report: mutate(report) or None, attempts=_ATTEMPTS)
    except reports.Conflict:
        raise RuntimeError(f"report {tracking_id} kept changing; retried later") from None
    if saved is None:
        raise MalformedEvent(f"no report {tracking_id}")
    return saved.events


def _sp4n(report: Report) -> Sp4nState:
    if report.sp4n is None:
        report.sp4n = Sp4nState()
    return report.sp4n


def record_synced(tracking_id: str, seq: int, complaint_id: str, call: str, attempts: int = 1) -> None:
    def mutate(report: Report) -> list[Event]:
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
    def mutate(report: Report) -> list[Event]:
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
    if not report_fields.count_sync_attempt(tracking_id, error):
        logger.warning("could not count the sync attempt", extra={"tracking_id": tracking_id})


def _error_text(exc: BaseException) -> str:
    return mask_text(f"{type(exc).__name__}: {exc}")[:300]


# -- the complaint <-> report map -----------------------------------------------------------

def claim_key(tracking_id: str, seq: float, *, primary: str | None = None) -> str:
    """The lease of one push: of an event of the report, or (`primary`) of a primary's event
    mirrored to this duplicate."""
    return (ledger.SYNC_LEASE.key(tracking_id, "from", primary, seq) if primary
            else ledger.SYNC_LEASE.key(tracking_id, seq))


def mapped_report(complaint_id: str) -> str | None:
    return ledger.linked_report(complaint_id)


def remember_complaint(complaint_id: str, tracking_id: str) -> None:
    if not ledger.link_complaint(complaint_id, tracking_id):
        other = mapped_report(complaint_id)
        if other != tracking_id:
            raise RuntimeError(f"LAPOR! complaint {complaint_id} is already linked to {other}") from None


# -- the mapping (chalicelib/config/sp4n_mapping.json, docs/SP4N.md) ------------------------
MAPPING_PATH = Path(__file__).resolve().parents[1] / "config" / "sp4n_mapping.json"
CALLS = frozenset({"create", "followup", "reject", "none"})


@functools.cache
def mapping() -> dict[str, Any]:
    """The one table of what each step does on LAPOR! (checked on load: a typo fails loudly)."""
    data: dict[str, Any] = json.loads(MAPPING_PATH.read_text(encoding="utf-8"))
    for action, rule in data["push"].items():
        if action not in wf.ACTIONS and action != "submit":
            raise ValueError(f"sp4n mapping: unknown action {action}")
        if rule.get("call") not in CALLS:
            raise ValueError(f"sp4n mapping: {action} has call {rule.get('call')!r}, not one of {sorted(CALLS)}")
        if rule.get("status") not in (None, *sp4n.STATUS_CODES):
            raise ValueError(f"sp4n mapping: {action} sets unknown LAPOR! status {rule.get('status')!r}")
    for action, calls in data["reason_codes"].items():
        if action not in data["push"] or set(calls) != set(wf.RETURN_REASON_CODES):
            raise ValueError(f"sp4n mapping: reason_codes.{action} must name an action and every reason code")
        if not set(calls.values()) <= {"followup", "reject"}:
            raise ValueError(f"sp4n mapping: reason_codes.{action} calls must be followup or reject")
    if set(data["expected"]) != {s.value for s in wf.Status}:
        raise ValueError("sp4n mapping: `expected` must name every status of ours")
    for lapor, action in data["pull_status"].items():
        if lapor not in sp4n.STATUS_CODES or action not in wf.SP4N_ACTIONS:
            raise ValueError(f"sp4n mapping: pull_status {lapor} -> {action} is not valid")
    return data


def push_rule(action: str) -> dict[str, Any]:
    return dict(mapping()["push"].get(action) or {"call": "none"})


def call_for(event: DomainEvent) -> str:
    """The LAPOR! call of this step: the push rule's, unless its reason code says otherwise."""
    call = str(push_rule(event.action)["call"])
    code = event.data.get("reason_code")
    by_code = mapping()["reason_codes"].get(event.action) or {}
    return str(by_code.get(code, call)) if call == "followup" else call


def synced_actions() -> frozenset[str]:
    return frozenset(a for a, r in mapping()["push"].items() if r["call"] != "none")


def agrees(our_status: str, lapor_status: str | None) -> bool:
    return lapor_status in mapping()["expected"].get(our_status, ())


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


def payload(report: Report, document_ids: list[str] | None = None) -> sp4n.Sp4nComplaintIn:
    try:
        return sp4n.payload_from_report(_report_fields(report), document_ids=document_ids or [])
    except ValueError as exc:  # the payload refuses what it must not send
        raise _Permanent(f"payload not valid: {type(exc).__name__}") from None


def _documents(report: Report, claim: claims.Claim, attachment_ids: list[str]) -> list[str]:
    """LAPOR! document ids for our clean attachments, each uploaded once per claim (the ids are
    noted in it, so a retry does not upload again). `rahasia`: none are sent: a file cannot be cut
    of the reporter's identity as a text is, and only admins and the OPD may see it."""
    if report.privacy == "rahasia" or not attachment_ids:
        return []
    from chalicelib.services import attachments

    known: dict[str, str] = dict(claim.data.get("documents") or {})
    out: list[str] = []
    for attachment_id in attachment_ids:
        if attachment_id not in known:
            copy = attachments.clean_copy(attachment_id)
            if copy is None:
                continue  # never checked clean: never leaves
            known[attachment_id] = client("write").upload_file(copy[0], copy[1])
            claims.note(claim, documents=known)
        out.append(known[attachment_id])
    return out


def _since(claim: claims.Claim) -> datetime:
    first = claim.data.get("first_try_at")
    at = clock.parse(first) if first else clock.now()
    return at - CLOCK_SLACK


def _find_created(report: Report, body: sp4n.Sp4nComplaintIn, since: datetime) -> str | None:
    """A complaint we filed whose answer we never got: same text and flags, not linked elsewhere.
    Needs the list endpoint; without it the create is sent again (see the module doc)."""
    if not list_endpoint_enabled():
        return None
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
    if not complaint_id:
        documents = _documents(report, claim, [str(a) for a in report.attachments or []])
        body = payload(report, documents)
        if claim.data.get("phase") == "sending":
            complaint_id = _find_created(report, body, _since(claim))
            if complaint_id:
                logger.warning("adopted a complaint whose create answer was lost",
                               extra={"tracking_id": report.tracking_id, "complaint_id": complaint_id})
        if not complaint_id:
            claims.note(claim, phase="sending",
                        first_try_at=claim.data.get("first_try_at") or clock.iso_utc(clock.now()))
            complaint_id = client("write").create_complaint(body)
    # Written before anything else: from here on no retry can create a second complaint.
    claims.note(claim, complaint_id=complaint_id, phase="sent")
    remember_complaint(complaint_id, report.tracking_id)
    return complaint_id, "create"


def _complaint_of(report: Report) -> str:
    complaint_id = _sp4n(report).complaint_id
    if complaint_id:
        return str(complaint_id)
    create = claims.get(claim_key(report.tracking_id, 1))
    if create is not None and create.state == claims.DONE and (create.response or {}).get("outcome") == "rejected":
        raise _Permanent("the complaint itself was rejected by SP4N-LAPOR!")
    raise NotYetSynced(f"{report.tracking_id}: complaint not on SP4N-LAPOR! yet")


def _followup(report: Report, event: DomainEvent, claim: claims.Claim, text: str, rule: dict[str, Any]) -> str:
    complaint_id = _complaint_of(report)
    reporter = _reporter(report)
    sent_text = sp4n.redact_text(text.strip(), reporter, contacts=False)
    if claim.data.get("phase") == "sending":
        since = _since(claim)
        for f in client("read").get_followups(complaint_id):
            if f.author == OUR_AUTHOR and f.content == sent_text and (f.created_at is None or f.created_at >= since):
                claims.note(claim, phase="sent", followup_id=f.id)
                return complaint_id
    ids = [str(a) for a in (event.data.get("attachments") or [])] if rule.get("attachments") else []
    documents = _documents(report, claim, ids)
    claims.note(claim, phase="sending", first_try_at=claim.data.get("first_try_at") or clock.iso_utc(clock.now()))
    followup_id = client("write").add_followup(complaint_id, text, reporter=reporter, attachments=documents,
                                               status_code=rule.get("status"))
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


def _after_earlier_steps(report: Report, event: DomainEvent) -> None:
    """LAPOR! shows follow-ups in the order they arrive and keeps the status of the last one, and
    SQS redelivers out of order after an outage: a step waits until every earlier one is there."""
    earlier = [e for e in pending_pushes(report, reports.events(report.tracking_id)) if int(e.seq) < event.seq]
    if earlier:
        raise NotYetSynced(f"{report.tracking_id}: step {earlier[0].seq} is not on SP4N-LAPOR! yet")


def _push(report: Report, event: DomainEvent, claim: claims.Claim) -> tuple[str, str]:
    rule = push_rule(event.action)
    if rule["call"] == "create":
        return _create(report, event, claim)
    _after_earlier_steps(report, event)
    text = (event.message or "").strip()  # the timeline text: what LAPOR!'s reporter may read
    if call_for(event) == "reject":
        return _reject(report, event, claim, text or "Bukan kewenangan Pemerintah Kabupaten Bandung Barat."), "reject"
    if not text:
        return _complaint_of(report), "nothing"
    return _followup(report, event, claim, text, rule), "followup"


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (sp4n.Sp4nAuthError, sp4n.Sp4nConfigError)):
        return True  # our credentials or settings: fix them and redrive, the report is fine
    return not isinstance(exc, (sp4n.Sp4nRejected, _Permanent))


def handle_event(event: DomainEvent, delivery: sqs_batches.Delivery | None = None) -> str:
    """Push one event to SP4N-LAPOR!. Returns what was done; raises to have SQS retry."""
    if event.action not in synced_actions() or event.data.get("origin") == "sp4n":
        return "ignored"
    delivery = delivery or sqs_batches.Delivery(1, "")
    if delivery.batch.get("unavailable"):
        # One call in this batch already found LAPOR! down: fail the rest fast instead of letting
        # each wait for its timeouts (and the function for its own).
        raise sp4n.Sp4nUnavailable("SP4N-LAPOR! unavailable earlier in this batch; not tried")
    report = reports.get(event.tracking_id)
    if report is None:
        raise MalformedEvent(f"no report {event.tracking_id}")
    claim = claims.acquire(claim_key(event.tracking_id, event.seq), LEASE_SECONDS)
    if claim is None:
        mirror_to_duplicates(report, event)  # a redelivery after a duplicate's push failed
        return "duplicate"
    try:
        complaint_id, call = _push(report, event, claim)
    except Exception as exc:
        if isinstance(exc, sp4n.Sp4nUnavailable):
            delivery.batch["unavailable"] = True
        if not isinstance(exc, (NotYetSynced, claims.Busy)):
            sqs_batches.count("Sp4nFailed")  # the alarm of infra/operations.yaml
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
    # Recorded even when nothing was sent: later steps wait for every earlier one (see above),
    # and this record outlives the claim.
    record_synced(event.tracking_id, event.seq, complaint_id, call)
    if event.data.get("privacy_from") and event.data.get("privacy"):
        record_privacy_raised(event.tracking_id, event.seq, str(event.data["privacy"]))
    if call != "nothing":
        sqs_batches.count("Sp4nSynced")
    claims.complete(claim, outcome="synced", complaint_id=complaint_id, call=call)
    logger.info("synced to SP4N-LAPOR!", extra={"tracking_id": event.tracking_id, "seq": event.seq,
                                                "action": event.action, "call": call})
    mirror_to_duplicates(report, event)
    return call


# -- duplicates merged into a report (action `merge`) ---------------------------------------

# The primary's steps that answer or close the shared problem: each duplicate's own complaint on
# LAPOR! receives them too, with the LAPOR! status they set.
MIRRORED_ACTIONS = frozenset({"progress", "respond", "close", "auto_close", "reject", "archive"})


def mirror_to_duplicates(primary: Report, event: DomainEvent) -> int:
    """Post the primary's step to the LAPOR! complaint of every duplicate merged into it that is
    on LAPOR!, once per (duplicate, primary step): a claim of its own each, so a redelivery sends
    only what is missing. The text is the step's timeline text without the primary's reporter's
    identity, or only a neutral sentence when the primary is `rahasia`. Returns how many were
    sent; raises (SQS redelivers the primary's event) when one could not be."""
    if event.action not in MIRRORED_ACTIONS or not primary.merged_ids:
        return 0
    text = (event.message or "").strip()
    if primary.privacy == "rahasia" or not text:
        text = wf.neutral_text(event.action, event.to_status or primary.status)
    text = sp4n.redact_text(text, _reporter(primary))
    rule = {**push_rule(event.action), "attachments": False}  # files stay with the primary
    sent = 0
    for duplicate_id in primary.merged_ids:
        duplicate = reports.get(str(duplicate_id))
        if duplicate is None or duplicate.merged_into != primary.tracking_id or not _sp4n(duplicate).complaint_id:
            continue
        claim = claims.acquire(claim_key(duplicate.tracking_id, event.seq, primary=primary.tracking_id),
                               LEASE_SECONDS)
        if claim is None:
            continue  # sent by an earlier delivery
        try:
            complaint_id = _followup(duplicate, event, claim, text, rule)
        except Exception:
            claims.release(claim)
            raise
        claims.complete(claim, outcome="synced", complaint_id=complaint_id, call="followup")
        _record_mirrored(duplicate.tracking_id, primary.tracking_id, event.seq, complaint_id)
        sent += 1
    return sent


def _record_mirrored(tracking_id: str, primary_id: str, primary_seq: int, complaint_id: str) -> None:
    def mutate(report: Report) -> list[Event]:
        return [_event(report, "sp4n_mirrored", {"origin": "sync", "primary": primary_id,
                                                 "primary_seq": primary_seq, "complaint_id": complaint_id})]

    change_report(tracking_id, mutate)


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for SyncQueue: Powertools' partial batch response."""
    return sqs_batches.process(event, context, handle_event, CONSUMER)


# -- pull -----------------------------------------------------------------------------------

def _cursor() -> datetime | None:
    since = ledger.sp4n_cursor()
    return clock.parse(since) if since else None


def _save_cursor(since: datetime) -> None:
    ledger.save_sp4n_cursor(since)


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
            **sla_fields.stage_fields(tracking_id, rtype, None, "diajukan", now, now),
        )
        event = ReportEvent(tracking_id, 1, at=created, actor="sistem", role="sistem", action="submit",
                            from_status=None, to_status="diajukan", public=True,
                            message="Laporan diterima dari SP4N-LAPOR! dan menunggu verifikasi.",
                            data={"type": rtype, "privacy": privacy, "source": "sp4n", "origin": "sp4n",
                                  "complaint_id": c.complaint_id})
        try:
            reports.create(report, event, ledger.complaint_link(c.complaint_id, tracking_id))
        except reports.Conflict as exc:
            if exc.failed("idempotency"):
                return None  # imported before
            if exc.failed("report"):
                continue
            raise
        return tracking_id
    raise RuntimeError("could not allocate a tracking id")


# Authors of follow-ups on LAPOR!: us (the integration), its reporter, anyone else is its admins.
REPORTER_AUTHORS = frozenset({"reporter", "pelapor"})
# How many open synced complaints one pull looks at (least recently checked first).
POLL_BUDGET = int(os.environ.get("SP4N_POLL_BUDGET", "50"))


def list_endpoint_enabled() -> bool:
    """`GET /complaints?updated_since` is not in what LAPOR! documents to us: used only when
    SP4N_LIST_ENDPOINT is on (the local stand-in has it)."""
    return os.environ.get("SP4N_LIST_ENDPOINT", "").lower() in ("1", "on", "true", "yes")


def _refs(tracking_id: str) -> tuple[set[str], list[ReportEvent]]:
    events = reports.events(tracking_id)
    return {str((e.data or {}).get("sp4n_ref")) for e in events if (e.data or {}).get("sp4n_ref")}, events


def apply_once(tracking_id: str, ref: str, build: Callable[[Report], list[Event]]) -> list[ReportEvent]:
    """Write what `build` makes of the current report, once per LAPOR! reference `ref` (kept in
    each event's data), under the version check: a concurrent change re-reads and rebuilds; a
    second pull, or a concurrent one, finds the reference and writes nothing."""
    def build_once(report: Report) -> list[Event] | None:
        known, _events = _refs(tracking_id)
        if ref in known:
            return None
        new_events = build(report)
        for e in new_events:
            e.data = {**(e.data or {}), "sp4n_ref": ref, "origin": "sp4n"}
        return new_events or None

    try:
        saved = reports.update(tracking_id, build_once, attempts=_ATTEMPTS)
    except reports.Conflict:
        raise RuntimeError(f"report {tracking_id} kept changing; retried on the next pull") from None
    if saved is None:
        raise MalformedEvent(f"no report {tracking_id}")
    return saved.events


def _note(report: Report, action: str, message: str, data: dict[str, Any]) -> Event:
    """An internal note of what LAPOR! did."""
    return _event(report, action, data, message[:4000])


def _reporter_move(c: sp4n.Sp4nComplaint, action: str, fields: dict[str, Any], fallback: str,
                   fallback_text: str, extra: dict[str, Any]) -> Callable[[Report], list[Event]]:
    """Their reporter's reply or feedback, as our workflow's own reporter action; where our
    workflow does not take it (a reply while the OPD is at work, a rating after the close), it is
    kept as an internal event for staff."""
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import workflow

    def build(report: Report) -> list[Event]:
        data = {"complaint_id": c.complaint_id, **extra}
        try:
            return [workflow.apply_sp4n_move(report, action, fields, clock.now(), data)]
        except (wf.WorkflowError, DomainError):
            return [_note(report, fallback, fallback_text, {**data, "not_applied": action})]

    return build


def _followup_step(report: Report, c: sp4n.Sp4nComplaint, f: sp4n.Sp4nFollowup) -> tuple[str, Callable[..., Any]]:
    ref = f"followup:{f.id}"
    text = sp4n.redact_text(f.content, _reporter(report)).strip()[:4000] or "(kosong)"
    if f.author in REPORTER_AUTHORS:
        return ref, _reporter_move(c, "reply", {"message": text}, "sp4n_followup",
                                   f"Tanggapan pelapor di SP4N-LAPOR!: {text}", {"author": f.author})
    return ref, lambda r: [_note(r, "sp4n_followup", f"Tindak lanjut di SP4N-LAPOR!: {text}",
                                 {"complaint_id": c.complaint_id, "author": f.author})]


def _rating_step(report: Report, c: sp4n.Sp4nComplaint, rating: sp4n.Sp4nRating) -> tuple[str, Callable[..., Any]]:
    fields: dict[str, Any] = {"resolved": rating.resolved, "rating": rating.rating}
    if rating.comment and rating.comment.strip():
        fields["comment"] = sp4n.redact_text(rating.comment, _reporter(report)).strip()[:2000]
    text = f"Penilaian pelapor di SP4N-LAPOR!: {rating.rating}" + (" (selesai)" if rating.resolved else "")
    return f"rating:{rating.id}", _reporter_move(c, "feedback", fields, "sp4n_rating", text,
                                                 {"lapor_rating": rating.rating, "lapor_resolved": rating.resolved})


def pending_pushes(report: Report, events: list[ReportEvent], older_than: datetime | None = None) -> list[ReportEvent]:
    """Our steps that should be on LAPOR! and are not recorded there yet (no `sp4n_synced` for
    them, and no finished sync claim: a step with nothing to send finishes without a record)."""
    synced = {int((e.data or {}).get("for_seq") or 0) for e in events if e.action == "sp4n_synced"}
    out = []
    for e in events:
        if e.action not in synced_actions() or (e.data or {}).get("origin") == "sp4n" or int(e.seq) in synced:
            continue
        if older_than is not None and clock.parse(e.at) > older_than:
            continue
        claim = claims.get(claim_key(report.tracking_id, e.seq))
        if claim is not None and claim.state == claims.DONE:
            continue
        out.append(e)
    return out


def _status_step(c: sp4n.Sp4nComplaint) -> tuple[str, Callable[[Report], list[Event]]]:
    """LAPOR!'s current status against ours: agreeing, nothing; a change of its admins that our
    workflow allows (mapping `pull_status`), that move by role `sp4n`; anything else a conflict
    for an admin to settle (sp4n.problem, listed by GET /staff/sync/problems)."""
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import workflow

    last = c.logs[-1].at.isoformat() if c.logs else (c.updated_at.isoformat() if c.updated_at else "")
    ref = f"status:{last}:{c.status_code}"

    def build(report: Report) -> list[Event]:
        s = _sp4n(report)
        s.lapor_status = c.status_code
        if agrees(report.status, c.status_code):
            return []
        data = {"complaint_id": c.complaint_id, "status_code": c.status_code, "status_name": c.status_name}
        action = mapping()["pull_status"].get(c.status_code)
        if action:
            try:
                return [workflow.apply_sp4n_move(report, action, {}, clock.now(), data)]
            except (wf.WorkflowError, DomainError):
                pass
        s.problem = f"SP4N-LAPOR! berstatus {c.status_name} ({c.status_code}), laporan di sini {report.status}"
        sqs_batches.count("Sp4nDiverged")
        return [_note(report, "sp4n_conflict", f"Status di SP4N-LAPOR! ({c.status_name}) tidak sejalan "
                      f"dengan status laporan ({report.status}); perlu diselesaikan admin.", data)]

    return ref, build


def apply_complaint(c: sp4n.Sp4nComplaint, now: datetime, *, followups: list[sp4n.Sp4nFollowup] | None = None,
                    judge_status: bool = True) -> dict[str, int]:
    """Everything LAPOR! shows of one complaint, applied once: an unknown KBB complaint imported;
    its reporter's follow-ups and ratings (oldest first) as their reply/feedback; then its
    status judged against ours (skipped while a step of ours is still on its way there)."""
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
    report = reports.get(tracking_id)
    if report is None:
        return {"imported": imported, "events": 0}
    steps: list[tuple[datetime | None, str, Callable[..., Any]]] = []
    for f in client("read").get_followups(c.complaint_id) if followups is None else followups:
        if f.author != OUR_AUTHOR:
            steps.append((f.created_at, *_followup_step(report, c, f)))
    for rating in c.ratings:
        steps.append((rating.created_at, *_rating_step(report, c, rating)))
    steps.sort(key=lambda step: step[0] or now)
    written = 0
    for _, ref, build in steps:
        written += len(apply_once(tracking_id, ref, build))
    if judge_status:
        report = reports.get(tracking_id)
        if report is not None and not pending_pushes(report, reports.events(tracking_id)):
            ref, build = _status_step(c)
            written += len(apply_once(tracking_id, ref, build))
            written += settle(tracking_id, c.status_code)
            _note_lapor_status(tracking_id, c.status_code)
    return {"imported": imported, "events": written}


def settle(tracking_id: str, lapor_status: str) -> int:
    """Clear a recorded divergence once both sides agree again (an admin settled it on either
    side). Returns the events written (0 or 1)."""
    def mutate(report: Report) -> list[Event]:
        s = _sp4n(report)
        if not s.problem or not agrees(report.status, lapor_status):
            return []
        s.problem = None
        s.lapor_status = lapor_status
        return [_event(report, "sp4n_settled", {"origin": "sync", "status_code": lapor_status},
                       "Status SP4N-LAPOR! kembali sejalan dengan laporan.")]

    return len(change_report(tracking_id, mutate))


def mark_diverged(tracking_id: str, lapor_status: str, status_name: str) -> int:
    """Record a divergence found by reconciliation (not a fresh LAPOR! change: the pull's
    conflict covers those). Returns the events written (0 or 1)."""
    def mutate(report: Report) -> list[Event]:
        s = _sp4n(report)
        if s.problem or agrees(report.status, lapor_status):
            return []
        s.problem = f"SP4N-LAPOR! berstatus {status_name} ({lapor_status}), laporan di sini {report.status}"
        s.lapor_status = lapor_status
        return [_event(report, "sp4n_conflict", {"origin": "sync", "status_code": lapor_status},
                       f"Status di SP4N-LAPOR! ({status_name}) tidak sejalan dengan status laporan "
                       f"({report.status}); perlu diselesaikan admin.")]

    return len(change_report(tracking_id, mutate))


def record_privacy_raised(tracking_id: str, seq: int, raised_to: str) -> int:
    """An admin raised the privacy here (verify). LAPOR!'s integration has no call to change a
    complaint's is_anonymous/is_secret, so it is listed for an admin to set by hand there (GET
    /staff/sync/problems, kind `privacy`) until reconciliation sees LAPOR!'s flags agree."""
    def mutate(report: Report) -> list[Event]:
        s = _sp4n(report)
        if s.privacy_divergence == raised_to or report.privacy != raised_to:
            return []
        s.privacy_divergence = raised_to
        return [_event(report, "sp4n_conflict", {"origin": "sync", "for_seq": seq, "privacy": raised_to},
                       f"Kerahasiaan dinaikkan menjadi {raised_to} di sini, tetapi SP4N-LAPOR! tidak menyediakan "
                       "panggilan untuk mengubahnya: ubah secara manual di SP4N-LAPOR!.")]

    return len(change_report(tracking_id, mutate))


def settle_privacy(tracking_id: str, complaint: sp4n.Sp4nComplaint) -> int:
    """Clear a privacy divergence once LAPOR!'s flags say what ours says (set there by hand)."""
    def mutate(report: Report) -> list[Event]:
        s = _sp4n(report)
        if not s.privacy_divergence or complaint.is_secret is None or not sp4n.privacy_agrees(
                report.privacy, complaint.is_anonymous, complaint.is_secret):
            return []
        s.privacy_divergence = None
        return [_event(report, "sp4n_settled", {"origin": "sync", "privacy": report.privacy},
                       "Kerahasiaan di SP4N-LAPOR! kini sejalan dengan laporan.")]

    return len(change_report(tracking_id, mutate))


def _note_lapor_status(tracking_id: str, status_code: str) -> None:
    """LAPOR!'s last seen status, for the problems page (diagnostic, written without a version)."""
    report_fields.note_lapor_status(tracking_id, status_code)  # False: closed or unlinked meanwhile


def poll(now: datetime, budget: int | None = None) -> dict[str, Any]:
    """Per-complaint polling: the open complaints linked to LAPOR!, least recently checked first
    (the sparse by_sp4n_watch index, never a Scan), at most `budget` of them per run."""
    budget = POLL_BUDGET if budget is None else budget
    result: dict[str, Any] = {"polled": 0, "events": 0, "failed": []}
    for report in reports.watched("open", limit=budget):
        complaint_id = _sp4n(report).complaint_id
        if not complaint_id:
            continue
        try:
            done = apply_complaint(client("read").get_complaint(str(complaint_id)), now)
        except Exception as exc:  # noqa: BLE001 one complaint must not stop the others
            result["failed"].append(report.tracking_id)
            logger.error("SP4N-LAPOR! poll failed", extra={"tracking_id": report.tracking_id,
                                                           "error": _error_text(exc)})
            if isinstance(exc, sp4n.Sp4nUnavailable):
                break  # LAPOR! is down: the rest waits for the next run, in the same order
            # Anything else would fail again: to the back of the line, not hogging the budget.
            reports.mark_checked(report.tracking_id, clock.iso_utc(now))
            continue
        reports.mark_checked(report.tracking_id, clock.iso_utc(now))
        result["polled"] += 1
        result["events"] += done["events"]
        if result["polled"] >= budget:
            break
    return result


def pull_list(now: datetime) -> dict[str, Any]:
    """The list endpoint (when enabled): complaints changed since the cursor, imports included."""
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
    return result


def pull(now: datetime | None = None) -> dict[str, Any]:
    """Bring back what happened on LAPOR!: the list endpoint first when enabled (it also imports
    complaints filed there directly), then the bounded per-complaint poll. Safe to run twice or
    concurrently: everything is applied once, by LAPOR!'s own ids."""
    now = now or clock.now()
    result: dict[str, Any] = {"mode": "list+poll" if list_endpoint_enabled() else "poll", "imported": 0}
    if list_endpoint_enabled():
        listed = pull_list(now)
        result.update(listed)
    polled = poll(now)
    result["polled"] = polled["polled"]
    result["events"] = int(result.get("events") or 0) + polled["events"]
    result["poll_failed"] = polled["failed"]
    sqs_batches.flush_metrics()
    logger.info("SP4N-LAPOR! pull", extra={k: v for k, v in result.items() if k != "since"})
    return result
