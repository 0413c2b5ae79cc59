"""The notification consumer: who is told what, by email (SES), SMS (SNS) and WhatsApp, in Indonesian.

`RULES` below say who hears of which event; the texts are chalicelib/config/templates/. Nothing an
OPD, the admin desk or pimpinan receives carries the reporter's identity. Each message is sent
once per recipient (a lease in the ledger). The rules in prose: docs/DESIGN.md ("Who is told what").
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.mail import Outgoing, Sender
from chalicelib.data import access, claims, ledger, officers, reference, reports
from chalicelib.domain import clock, identity
from chalicelib.domain.events import DomainEvent, MalformedEvent, from_sns_envelope
from chalicelib.domain.redaction import redact_text
from chalicelib.domain.workflow import is_neutral_message
from chalicelib.observability import logger
from chalicelib.services import sqs_batches, templates, whatsapp_outbound

if TYPE_CHECKING:
    from chalicelib.data.models import Report

CONSUMER = "notify"
# Longer than one send can take (the function times out after 30 s).
LEASE_SECONDS = 90.0

# action -> {audience: template}; `None` as audience list means "data.audience, else the default".
_SLA_TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "sla_reminder": {"opd": "opd_pengingat", "opd_head": "opd_pengingat", "admin": "admin_pengingat",
                     "pelapor": "pelapor_pengingat"},
    "sla_breach": {"opd": "opd_terlambat", "opd_head": "opd_terlambat", "admin": "admin_terlambat"},
    "sla_escalation": {"opd": "opd_eskalasi", "opd_head": "opd_eskalasi", "admin": "admin_eskalasi"},
}
_SLA_DEFAULT_AUDIENCE: Mapping[str, tuple[str, ...]] = {
    "sla_reminder": ("opd",), "sla_breach": ("opd", "admin"), "sla_escalation": ("opd", "opd_head", "admin"),
}
# Other actions whose `data.audience` names staff (auto_close, archive): a plain status notice.
_INFO_TEMPLATES: Mapping[str, str] = {"opd": "opd_pemberitahuan"}
# The reporter's reply or "not resolved" feedback that reopens an answered report: the OPD gets it
# back with a new deadline, as on disposition, and Diskominfotik follows the second round.
_REOPEN_TEMPLATES: Mapping[str, str] = {"opd": "opd_dibuka_kembali", "admin": "admin_dibuka_kembali"}
REOPENING_ACTIONS = frozenset({"reply", "feedback"})
# The reporter's own codes (chalicelib/services/access_recovery.py), from a sealed copy, never the event.
_CODE_TEMPLATES: Mapping[str, str] = {"access_recovery": "pelapor_pemulihan", "access_reissued": "pelapor_kode_baru"}
RECEIPT_WITH_CODE = "pelapor_diterima_kode"
STAFF_AUDIENCES = frozenset({"opd", "opd_head", "admin", "pimpinan", "officer"})
ASSIGNED_TEMPLATE = "opd_penugasan"
# The templates these rules fill themselves (the template tests check their placeholders).
OWN_TEMPLATES = frozenset({"opd_disposisi", "admin_dikembalikan", "pelapor_diterima", "pelapor_status",
                           "pelapor_perkembangan", "opd_kelengkapan_diterima",
                           RECEIPT_WITH_CODE, *_CODE_TEMPLATES.values(),
                           "pimpinan_ringkasan", ASSIGNED_TEMPLATE,
                           *_INFO_TEMPLATES.values(), *_REOPEN_TEMPLATES.values(),
                           *(t for m in _SLA_TEMPLATES.values() for t in m.values())})


@dataclass(frozen=True)
class Notice:
    audience: str  # opd | opd_head | admin | pimpinan | pelapor
    template: str


def plan(event: DomainEvent, report: Report | None) -> list[Notice]:
    """Who hears of `event`, with which template. Pure apart from reading nothing: testable."""
    out: list[Notice] = []
    action = event.action
    if action == "sla_digest":
        return [Notice("pimpinan", "pimpinan_ringkasan")]
    if action in ("verify", "redispose") and event.to_status == "didisposisikan":
        out.append(Notice("opd", "opd_disposisi"))
    elif action == "return":
        out.append(Notice("admin", "admin_dikembalikan"))
    elif action == "assign":
        out.append(Notice("officer", ASSIGNED_TEMPLATE))
    elif action == "reply" and event.from_status == "perlu_kelengkapan" and event.to_status == "diproses":
        # The answer to the OPD's own request for information: back to it, its clock resumed.
        out.append(Notice("opd", "opd_kelengkapan_diterima"))
    elif action in REOPENING_ACTIONS and event.to_status == "diproses":
        out.extend(Notice(a, t) for a, t in _REOPEN_TEMPLATES.items())
    elif action in _SLA_TEMPLATES:
        audience = list(_audience(event) or _SLA_DEFAULT_AUDIENCE[action])
        if action == "sla_escalation" and "opd" not in audience:
            audience.insert(0, "opd")  # the OPD's own desk always hears of its escalation
        out.extend(Notice(a, _SLA_TEMPLATES[action][a]) for a in audience if a in _SLA_TEMPLATES[action])
    elif isinstance(event.data.get("template"), str):
        # An event that names its own template and fills it (`data.values`), e.g. the monthly
        # performance digest for pimpinan: sent as given to each audience it names.
        template = str(event.data["template"])
        if template not in templates.names():
            raise MalformedEvent(f"unknown template {template!r}")
        out.extend(Notice(a, template) for a in _audience(event) if a in STAFF_AUDIENCES)
    else:
        out.extend(Notice(a, _INFO_TEMPLATES[a]) for a in _audience(event) if a in _INFO_TEMPLATES)
    if action in _CODE_TEMPLATES:
        out.append(Notice("pelapor", _CODE_TEMPLATES[action]))
    if not event.public:
        pass
    elif action == "submit":
        # A report filed by SMS or WhatsApp was answered in the chat it came from, with its code.
        if event.data.get("source") not in ("sms", "whatsapp"):
            out.append(Notice("pelapor", "pelapor_diterima"))
    elif action == "progress":
        # A progress update changes no status, but it is what the reporter waits to hear.
        out.append(Notice("pelapor", "pelapor_perkembangan"))
    elif event.changes_status and event.actor != "pelapor":
        # The reporter's own reply or feedback is not sent back to them: they just wrote it.
        out.append(Notice("pelapor", "pelapor_status"))
    return out


def _audience(event: DomainEvent) -> tuple[str, ...]:
    value = event.data.get("audience")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return ()


def _opd_code(event: DomainEvent, report: Report | None) -> str | None:
    code = event.data.get("opd_code")
    if not code and report is not None:
        # After a return the OPD that handed it back is the last of `returned_by`.
        returned = list(report.returned_by or [])
        code = returned[-1] if event.action == "return" and returned else report.opd_code
    return str(code) if code else None


def recipients(audience: str, event: DomainEvent, report: Report | None) -> list[tuple[str, str]]:
    """(channel, address) pairs for an audience; duplicates removed, order kept."""
    pairs: list[tuple[str, str]] = []
    if audience in ("opd", "opd_head"):
        code = _opd_code(event, report)
        opd = reference.opds().get(code or "", {})
        if audience == "opd":
            pairs += [("email", e) for e in opd.get("emails", [])]
            pairs += [("sms", p) for p in opd.get("phones", [])]
        else:
            pairs += [("email", e) for e in opd.get("head_emails", [])]
    elif audience == "officer":
        officer = officers.get(str(event.data.get("opd_code") or ""), str(event.data.get("officer") or ""))
        if officer is not None:  # removed from the OPD since: nobody to tell
            pairs += [("email", officer["email"])] if officer.get("email") else []
            pairs += [("sms", officer["phone"])] if officer.get("phone") else []
    elif audience in ("admin", "pimpinan"):
        group = reference.contacts(audience)
        pairs += [("email", e) for e in group.get("emails", [])]
        pairs += [("sms", p) for p in group.get("phones", [])]
    elif audience == "pelapor" and report is not None and report.reporter is not None:
        # Only the contact the reporter gave; anonymous reporters without one hear nothing.
        if report.reporter.email:
            pairs.append(("email", report.reporter.email))
        if report.reporter.phone:
            pairs.append(("sms", report.reporter.phone))
    # SMS only to Indonesian mobiles, whoever the audience: a landline is kept for calls, and no
    # configured or submitted number can make us text abroad (SMS pumping).
    pairs = [(ch, to) for ch, to in pairs if ch != "sms" or identity.is_mobile(to)]
    if audience == "pelapor" and getattr(report, "source", None) == "whatsapp" \
            and event.action not in _CODE_TEMPLATES:
        # The reporter wrote from WhatsApp: follow up in that chat (`messages` falls back to SMS
        # where no WhatsApp text is configured). Access codes keep to the contact a request names.
        pairs = [("whatsapp" if ch == "sms" else ch, to) for ch, to in pairs]
    if audience == "pelapor" and event.action == "access_recovery":
        # A recovery code goes only to the contact the request named.
        pairs = [(ch, to) for ch, to in pairs if ch == event.data.get("channel")]
    seen: set[tuple[str, str]] = set()
    return [p for p in pairs if p[1] and not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


# -- texts ----------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _when(value: Any) -> str:
    if not value:
        return "-"
    try:
        at = clock.to_wib(clock.parse(str(value)))
    except ValueError:
        return str(value)
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year} {at:%H:%M} WIB"


def _day(value: Any) -> str:
    """A YYYY-MM-DD date as "10 Des 2026"."""
    if not value:
        return "belum ditentukan"
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _reporter_fields(report: Report | None) -> dict[str, Any]:
    if report is None or report.reporter is None:
        return {}
    return {"name": report.reporter.name, "email": report.reporter.email, "phone": report.reporter.phone}


def values(notice: Notice, event: DomainEvent, report: Report | None) -> dict[str, Any]:
    labels = templates.labels()
    base = os.environ.get("WEB_BASE_URL", labels["web_base_url"]).rstrip("/")
    code = _opd_code(event, report)
    opd = reference.opds().get(code or "", {})
    # The status the event left the report in, not whatever it is by the time this runs.
    status = event.to_status or (report.status if report is not None else None) or ""
    title = "-"
    if report is not None:
        title = (labels["secret_title"] if report.privacy == "rahasia"
                 else redact_text(report.title, _reporter_fields(report)))
    category = reference.categories().get(report.category or "", {}) if report is not None else {}
    kecamatan = reference.kecamatan().get(report.kecamatan, {}) if report is not None else {}
    data = event.data
    out: dict[str, Any] = {
        "nomor": event.tracking_id,
        "judul": title,
        "kategori": category.get("name", "-"),
        "kecamatan": kecamatan.get("name", "-"),
        "opd_nama": opd.get("name", code or labels["no_opd"]),
        "opd_kode": code or "-",
        "status": labels["status"].get(status, status or "-"),
        "tahap": labels["stage"].get(str(data.get("stage") or ""), str(data.get("stage") or "-")),
        # What the deadline of a stage that waits on the reporter brings: the reminder says it.
        "akibat": labels["outcome"].get(str(data.get("stage") or ""), labels["outcome"]["konfirmasi"]),
        "batas_waktu": _when(data.get("due_at") or (report.due_at if report is not None else None)),
        "rencana_selesai": _day(data.get("planned_completion")),
        "tautan_staf": f"{base}/#/staf/laporan/{event.tracking_id}",
        "tautan_lacak": f"{base}/#/lacak",
        "tautan_kinerja": f"{base}/#/staf/kinerja",
    }
    if notice.audience == "pelapor":
        # The public text of the change: what the reporter also reads on the timeline.
        out["pesan"] = (event.message or "").strip()
    else:
        out["pesan"] = ""
        reason = data.get("reason") or data.get("alasan") or ""
        # Staff read the reason, but still never the reporter's identity or an ID number.
        out["alasan"] = redact_text(str(reason), _reporter_fields(report)) if reason else "-"
    given = data.get("values")
    if isinstance(given, dict) and isinstance(data.get("template"), str):
        out.update({str(k): "" if v is None else str(v) for k, v in given.items()})
    if event.action == "sla_digest":
        by_opd = data.get("overdue_by_opd") or {}
        ranked = sorted(by_opd.items(), key=lambda kv: (-int(kv[1]), kv[0]))
        names = reference.opds()
        out.update({
            "minggu": data.get("week", "-"),
            "jumlah": data.get("overdue_total", 0),
            "rincian": "\n".join(f"- {names.get(c, {}).get('name', c)} ({c}): {n}" for c, n in ranked)
            or "- (tidak ada)",
            "rincian_singkat": ", ".join(f"{c} {n}" for c, n in ranked[:5]) or "-",
        })
    return out


def messages(notice: Notice, event: DomainEvent, report: Report | None,
             code: str | None = None) -> list[Outgoing]:
    vals = values(notice, event, report)
    if code is not None and notice.audience == "pelapor":
        vals["kode"] = code
    sms_vals = vals
    if vals.get("pesan") and is_neutral_message(event.action, vals["pesan"]):
        sms_vals = {**vals, "pesan": ""}  # the status label already says it
    out: list[Outgoing] = []
    for channel, address in recipients(notice.audience, event, report):
        if channel == "email":
            subject, body = templates.render_email(notice.template, vals)
            out.append(Outgoing("email", address, body, subject))
        elif channel == "whatsapp" and (chat := whatsapp_outbound.outgoing(notice.template, address, sms_vals)):
            out.append(chat)
        else:
            text = templates.render_sms(notice.template, sms_vals)
            if text:
                out.append(Outgoing("sms", address, text))
    return out


# -- sending --------------------------------------------------------------------------------

_senders: dict[str, Sender] = {}


def senders() -> dict[str, Sender]:
    if not _senders:
        from chalicelib.adapters.mail import SesSender
        from chalicelib.adapters.sms import SnsSmsSender

        _senders.update({"email": SesSender(), "sms": SnsSmsSender(), "whatsapp": whatsapp_outbound.WhatsappSender()})
    return _senders


def set_senders(replacement: Mapping[str, Sender] | None) -> None:
    """Swap the channels (tests, another provider); None restores SES, SNS and WhatsApp."""
    _senders.clear()
    if replacement:
        _senders.update(replacement)


def claim_key(event: DomainEvent, message: Outgoing) -> str:
    # The recipient is hashed: the ledger needs no one's address in clear.
    who = hashlib.sha256(message.to.strip().lower().encode()).hexdigest()[:32]
    return ledger.NOTIFY_LEASE.key(event.tracking_id, event.seq, message.channel, who)


def send_once(event: DomainEvent, message: Outgoing) -> bool:
    """Send unless this (event, channel, recipient) was already sent. True if sent now."""
    claim = claims.acquire(claim_key(event, message), LEASE_SECONDS)
    if claim is None:
        return False
    claims.complete(claim, provider_id=_send_claimed(claim, message))
    return True


def _send_claimed(claim: claims.Claim, message: Outgoing) -> str:
    """Send under a held claim; a failed send gives the claim back at once for the retry."""
    try:
        return senders()[message.channel].send(message)
    except Exception:
        claims.release(claim)
        raise


@dataclass
class Planned:
    """An event's messages, with the claims taken for them in the batch's one write (None: the
    event claims its own)."""

    event: DomainEvent
    code: str | None
    outgoing: list[Outgoing]
    claims: list[claims.Claim] | None = None


def planned(event: DomainEvent, read: Mapping[str, Report] | None = None) -> Planned:
    """`read`: the batch's reports, read together (a report absent from it is read here)."""
    report = None
    if not event.tracking_id.startswith("digest#"):
        report = (read or {}).get(event.tracking_id) or reports.get(event.tracking_id)
        if report is None:
            raise MalformedEvent(f"no report {event.tracking_id} for event seq {event.seq}")
    code = _sealed_code(event)
    outgoing = [message for notice in _with_code(plan(event, report), event, code)
                for message in messages(notice, event, report, code)]
    return Planned(event, code, outgoing)


def claim_together(plans: list[Planned]) -> None:
    """Claim the fresh messages of several events in as few writes as a transaction allows. A
    group whose write is refused (a redelivered event among them) leaves each event to claim its
    own, so one redelivery does not send the whole batch message by message."""
    groups: list[list[tuple[Planned, list[str]]]] = [[]]
    for member in plans:
        keys = [claim_key(member.event, m) for m in member.outgoing]
        if sum(len(k) for _, k in groups[-1]) + len(keys) > claims.MAX_TOGETHER:
            groups.append([])
        groups[-1].append((member, keys))
    for group in groups:
        taken = claims.acquire_new([k for _, keys in group for k in keys], LEASE_SECONDS)
        start = 0
        for member, keys in group:
            member.claims = taken[start:start + len(keys)] if taken is not None else None
            start += len(keys)


def handle_event(event: DomainEvent, delivery: sqs_batches.Delivery | None = None,
                 prepared: Planned | None = None,
                 done: list[tuple[claims.Claim, dict[str, Any]]] | None = None) -> dict[str, int]:
    """Send an event's messages once each. `prepared` and `done` come from `handle`: the plan and
    claims made for the whole batch, and the batch's list of sent claims it marks done in one
    write at the end. Alone, the event claims its messages and marks them itself."""
    prepared = prepared or planned(event)
    outgoing, code = prepared.outgoing, prepared.code
    # The first delivery of an event (the usual case) claims all its messages in one write and
    # marks the sent ones done in one more; a redelivery goes message by message (send_once).
    fresh = prepared.claims
    if fresh is None:
        fresh = claims.acquire_new([claim_key(event, m) for m in outgoing], LEASE_SECONDS)
    sent = skipped = 0
    failures: list[Exception] = []
    sent_claims: list[tuple[claims.Claim, dict[str, Any]]] = []
    try:
        for i, message in enumerate(outgoing):
            try:
                if fresh is None:
                    if send_once(event, message):
                        sent += 1
                    else:
                        skipped += 1
                    continue
                sent_claims.append((fresh[i], {"provider_id": _send_claimed(fresh[i], message)}))
                sent += 1
            except Exception as exc:  # noqa: BLE001 the others still go out; this record is retried for the rest
                failures.append(exc)
    finally:
        if done is None:
            claims.complete_all(sent_claims)
        else:
            done.extend(sent_claims)
    if sent or skipped or failures:
        logger.info("notifications", extra={"tracking_id": event.tracking_id, "seq": event.seq,
                                            "action": event.action, "sent": sent, "skipped": skipped,
                                            "failed": len(failures)})
    if sent:
        sqs_batches.count("NotificationsSent", sent)
    if failures:
        sqs_batches.count("NotificationsFailed", len(failures))
        raise failures[0]
    if code is not None:
        access.drop_seal(event.tracking_id, event.seq)  # sent: no copy of the code is kept
    return {"sent": sent, "skipped": skipped}


def _sealed_code(event: DomainEvent) -> str | None:
    """The code an event sends to the reporter, from its sealed copy (None when the event sends
    none, or it was sent already and the copy is gone, or it lapsed)."""
    if not event.data.get("sealed"):
        return None
    import time

    from chalicelib.adapters import access_key

    sealed = access.read_seal(event.tracking_id, event.seq, time.time())
    return access_key.unseal(sealed, f"{event.tracking_id}#{event.seq}") if sealed else None


def _with_code(notices: list[Notice], event: DomainEvent, code: str | None) -> list[Notice]:
    """Without its code, a code message is not sent; the receipt then goes without the code."""
    if code is not None:
        return [Notice(n.audience, RECEIPT_WITH_CODE) if n.template == "pelapor_diterima" else n for n in notices]
    return [n for n in notices if n.template not in _CODE_TEMPLATES.values()]


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for NotifyQueue: Powertools' partial batch response. The batch's events are
    planned first and their messages claimed together; the sent ones are marked done together
    at the end (docs/DESIGN.md, "Notifications")."""
    parsed: dict[str, DomainEvent] = {}  # body -> event: each body is parsed once
    for record in event.get("Records") or []:
        try:
            parsed[record["body"]] = from_sns_envelope(record["body"])
        except Exception:  # noqa: BLE001, S112 the record's own turn fails again, logged and retried there
            continue
    parsed_events = list(parsed.values())
    try:
        read = reports.get_many(e.tracking_id for e in parsed_events if not e.tracking_id.startswith("digest#"))
    except Exception:  # noqa: BLE001 each event reads its own report, and fails on its own
        read = {}
    plans: dict[tuple[str, int], Planned] = {}
    for one_event in parsed_events:
        try:
            if (one_event.tracking_id, one_event.seq) not in plans:
                plans[(one_event.tracking_id, one_event.seq)] = planned(one_event, read)
        except Exception:  # noqa: BLE001, S112 the record's own turn fails again, logged and retried there
            continue
    claim_together(list(plans.values()))
    done: list[tuple[claims.Claim, dict[str, Any]]] = []

    seen: set[tuple[str, int]] = set()

    def one(event_: DomainEvent, delivery: sqs_batches.Delivery) -> dict[str, int]:
        key = (event_.tracking_id, event_.seq)
        if key in seen:
            # A second copy in the same batch (SNS delivers at least once): the first copy's
            # claims cover its messages, and if that copy failed, its own record comes back.
            return {"sent": 0, "skipped": 0}
        seen.add(key)
        return handle_event(event_, delivery, plans.pop(key, None), done)

    def parse(body: str) -> DomainEvent:
        return parsed[body] if body in parsed else from_sns_envelope(body)

    try:
        return sqs_batches.process(event, context, one, CONSUMER, parse)
    finally:
        claims.complete_all(done)
