"""A citizen submits a report: validate against reference data, store it with its first event in
one transaction, answer with the tracking id and a secret token shown once.

AWS calls per submission: one TransactWriteItems (a KMS GenerateDataKey every 1,000 NIKs or 5
minutes, chalicelib/adapters/kms.py). Attachments are claimed inside that transaction; only a
refused claim reads their records, to say which file and why. The event
reaches the queues through the events table's stream, not through a call made here. The client's
rate-limit hit is an item of that same transaction (chalicelib/services/rate_limits.py), so the
limit costs no call, and a submission refused by it stores nothing.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import access_key, contact_key, kms
from chalicelib.data import access, ledger, reference, reports
from chalicelib.domain import access_code, clock, identity, tracking
from chalicelib.domain.errors import Conflict, validation_error
from chalicelib.services import attachment_claims, rate_limits, sla_fields
from chalicelib.submission import ReportIn

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


NOTICE_SENT = ("Simpan kode akses ini. Kode juga kami kirim ke nomor HP/email Anda; jika hilang, "
               "gunakan \"Lupa kode akses?\" di halaman lacak.")
NOTICE_ONLY_KEY = ("Anda tidak mencantumkan nomor HP atau email: kode akses ini satu-satunya kunci laporan Anda "
                   "dan tidak dapat dipulihkan. Catat atau simpan sekarang.")


def deliverable(report: ReportIn) -> bool:
    """Whether the reporter left a contact a code can reach (an email, or a mobile for SMS): then
    the code is sent there and can be recovered through it."""
    phone = report.reporter.phone
    return bool(report.reporter.email) or (bool(phone) and identity.is_mobile(phone))


def _fingerprint(report: ReportIn) -> str:
    canonical = json.dumps(report.as_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _aead(idempotency_key: str, fingerprint: str) -> AESGCM:
    # Imported here: cryptography is a large part of an API cold start, and only submissions with an
    # Idempotency-Key need it.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=fingerprint.encode(), info=b"lapor-kbb token").derive(
        idempotency_key.encode()
    )
    return AESGCM(key)


def _seal(token: str, idempotency_key: str, fingerprint: str) -> str:
    """The replay of a retried submission must return the same token, yet the token is stored only
    as a hash: the copy kept for replays is encrypted under a key derived from the client's
    idempotency key, which the table does not hold."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aead(idempotency_key, fingerprint).encrypt(nonce, token.encode(), None)).decode()


def _unseal(sealed: str, idempotency_key: str, fingerprint: str) -> str:
    raw = base64.b64decode(sealed)
    return _aead(idempotency_key, fingerprint).decrypt(raw[:12], raw[12:], None).decode()


def _check_reference(report: ReportIn) -> tuple[str, str | None, dict[str, Any] | None]:
    problems = report.contact_problems()
    kec = reference.find_kecamatan(report.location.kecamatan)
    if kec is None:
        problems.append({"field": "location.kecamatan", "type": "unknown",
                         "message": "bukan kecamatan di Kabupaten Bandung Barat (lihat GET /kecamatan)"})
    desa = None
    if kec is not None and report.location.desa is not None:
        found = reference.find_desa(kec, report.location.desa)
        if found is None:
            problems.append({"field": "location.desa", "type": "unknown",
                             "message": "bukan desa/kelurahan di kecamatan ini (lihat daftar desa di GET /kecamatan)"})
        else:
            desa = found["code"]
    category = None
    if report.category is not None:
        category = reference.categories().get(report.category)
        if category is None:
            problems.append({"field": "category", "type": "unknown",
                             "message": "kategori tidak dikenal (lihat GET /categories)"})
    if report.opd_code is not None and report.opd_code not in reference.opds():
        problems.append({"field": "opd_code", "type": "unknown", "message": "OPD tidak dikenal (lihat GET /opds)"})
    problems.extend(attachment_claims.shape_problems(report.attachments))  # the rest: claimed in the write
    if problems:
        raise validation_error(problems)
    return str(kec), desa, category


def submit(report: ReportIn, idempotency_key: str | None = None, source: str = "web",
           client: str | None = None, entered_by: tuple[str, str] | None = None) -> dict[str, Any]:
    """Store a new report. `source`: the channel it came by. `client`: who the per-client limit
    counts (None: no limit, e.g. staff entering a walk-in complaint). `entered_by`: (role, sub) of
    the officer who entered it for the citizen, recorded as the submission's actor."""
    limit = rate_limits.window(rate_limits.REPORTS, client)
    rate_limits.refuse_if_known(limit)  # before any work: a known flood costs no call
    kecamatan, desa, category = _check_reference(report)
    privacy = report.privacy or ("rahasia" if category and category.get("sensitive") else "publik")
    fingerprint = _fingerprint(report) if idempotency_key else ""  # only a retry compares it

    for _ in range(3):  # a fresh tracking id on the (rare) collision
        now = clock.now()
        tracking_id = tracking.new_tracking_id()
        token = access_code.new_code()
        item = _build(report, tracking_id, token, privacy, kecamatan, now, source, desa)
        recoverable = deliverable(report)
        event = {  # a ReportEvent's values (reports.create builds its item without the model)
            "tracking_id": tracking_id, "seq": 1, "at": item["created_at"], "actor": "pelapor", "role": "pelapor",
            "action": "submit", "to_status": "diajukan", "public": True,
            "message": "Laporan diterima dan menunggu verifikasi.",
            "data": {"type": report.type, "privacy": privacy, "source": source,
                     **({"sealed": True} if recoverable else {})},
        }
        if entered_by is not None:
            event.update({"actor": entered_by[0], "role": entered_by[0], "actor_id": entered_by[1]})
            event["data"] = {**event["data"], "entered_by": entered_by[1]}
        answer = {
            "tracking_id": tracking_id,
            "status": "diajukan",
            "created_at": clock.iso(now),
            "due_at": clock.iso(clock.parse(item["due_at"])) if item["due_at"] else None,
            "access_code_recoverable": recoverable,
            "access_notice": NOTICE_SENT if recoverable else NOTICE_ONLY_KEY,
        }
        # The confirmation to the reporter's own contact carries the code: the notify consumer
        # reads this sealed copy (never the event) and deletes it once sent.
        extra = [("sealed", access.put_seal(tracking_id, 1, access_key.seal(token, f"{tracking_id}#1"),
                                            now.timestamp()))] if recoverable else []
        # Only a hash of the client's key is stored: the key itself seals the replayed token.
        record = ledger.idempotency_record(
            idempotency_key, fingerprint, {**answer, "sealed_token": _seal(token, idempotency_key, fingerprint)},
            IDEMPOTENCY_TTL_SECONDS) if idempotency_key else None
        claims = attachment_claims.claim_items(list(report.attachments), tracking_id)
        try:
            reports.create(item, event, record, limit, claims, extra)
        except reports.Conflict as exc:
            if exc.failed("idempotency"):  # first: a retry of an accepted submission gets its answer
                return _replay(idempotency_key or "", fingerprint)
            if limit is not None and exc.failed("rate_limit"):
                raise rate_limits.limited(limit) from None
            attachment_claims.explain_refused_claim(exc, list(report.attachments))
            if exc.failed("report") or exc.failed("attachment"):
                continue  # tracking id taken, or a file the scanner passed since the claim was refused
            raise
        return {**answer, "access_token": token}
    raise RuntimeError("could not allocate a tracking id")


def _replay(idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    stored = ledger.stored_answer(idempotency_key)
    if stored is None:  # the write was refused because it exists; only its TTL (a day) removes it
        raise RuntimeError("the idempotency record that refused the write is gone")
    if stored.fingerprint != fingerprint:
        raise Conflict("Idempotency-Key ini sudah dipakai untuk isi permintaan yang lain.",
                       code="idempotency_conflict")
    response = stored.answer
    sealed = response.pop("sealed_token")
    return {**response, "access_token": _unseal(sealed, idempotency_key, fingerprint)}


def _build(report: ReportIn, tracking_id: str, token: str, privacy: str, kecamatan: str,
           now: Any, source: str, desa: str | None = None) -> dict[str, Any]:
    """The new Report's values: reports.create turns them into its item without building the
    model (items.item_of): building it first cost as much again as serialising it."""
    nik = report.reporter.nik
    reporter = None
    if report.reporter.name or report.reporter.email or report.reporter.phone:
        reporter = {"name": report.reporter.name, "email": report.reporter.email, "phone": report.reporter.phone}
    created = clock.iso_utc(now)
    location = report.location
    hashes = identity.contact_hashes(contact_key.key(), report.reporter.phone, report.reporter.email)
    return {
        **{k: v for k, v in hashes.items() if v},
        "tracking_id": tracking_id,
        "type": report.type,
        "title": report.title,
        "description": report.description,
        "category": report.category,
        "suggested_opd": report.opd_code,
        "kecamatan": kecamatan,
        "location": {"kecamatan": kecamatan, "desa": desa, "address": location.address,
                     "lat": location.lat, "lon": location.lon},
        "incident_date": report.incident_date.isoformat() if report.incident_date else None,
        "privacy": privacy,
        "reporter": reporter,
        "nik_ciphertext": kms.encrypt_nik(nik, tracking_id) if nik else None,
        "attachments": list(report.attachments),
        "status": "diajukan",
        "created_at": created,
        "created_month": clock.month_wib(now),
        "updated_at": created,
        "version": 1,
        "event_seq": 1,
        "access_token_hash": access_code.digest(access_key.key(), token),
        "source": source,
        **sla_fields.stage_fields(tracking_id, report.type, report.category, "diajukan", now, now),
    }
