"""Attachments: upload slots (presigned POSTs into quarantine), the scanner that publishes checked
files, short-lived download links, and the daily purge of uploads no report claimed.
The steps, their limits and why redelivery is harmless: docs/DESIGN.md, "Uploads: quarantine,
check, claim, purge".
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.data import attachments as records
from chalicelib.data import reports as reports_data
from chalicelib.domain import clock, uploads
from chalicelib.domain.errors import TooLarge, UnsupportedMedia, not_found
from chalicelib.observability import access as access_log
from chalicelib.observability import logger
from chalicelib.services.attachment_claims import ATTACHMENT_ID

if TYPE_CHECKING:
    from chalicelib.auth import Principal
    from chalicelib.data.models import Attachment

ID_PREFIX = "att_"
INCOMING = "incoming/"  # quarantine key prefix (the S3 notification filters on it)
CLEAN = "clean/"  # attachments bucket key prefix
UPLOAD_EXPIRES = 600  # the presigned POST: 10 minutes to start the upload
DOWNLOAD_EXPIRES = 300  # presigned GET: 5 minutes
# A pending record outlives its upload window by far: S3 events can arrive late and the queue
# retries for a while. It goes with the quarantine bucket's own 2-day expiry.
PENDING_TTL = 2 * 24 * 3600
ALLOWED_TYPES = (uploads.JPEG, uploads.PNG, uploads.PDF)


def _s3() -> Any:
    return aws.client("s3")


def new_id() -> str:
    return ID_PREFIX + secrets.token_hex(16)  # 128 bits: the id is also the capability to use it


# ---- 1. upload slots -------------------------------------------------------------------------

def check_declared(body: Any) -> None:
    """The two refusals the contract names: an unsupported type is a 415 and more than 10 MB a 413.
    Everything else (missing or mistyped fields) is left to the 400 of the schema."""
    if not isinstance(body, dict):
        return
    content_type, size = body.get("content_type"), body.get("size")
    if isinstance(content_type, str) and content_type not in ALLOWED_TYPES:
        raise UnsupportedMedia("Hanya berkas JPEG, PNG atau PDF yang diterima.",
                               [{"field": "content_type", "type": "unsupported",
                                 "message": "salah satu dari " + ", ".join(ALLOWED_TYPES)}])
    if isinstance(size, int) and not isinstance(size, bool) and size > uploads.MAX_BYTES:
        raise TooLarge("Ukuran berkas maksimal 10 MB.",
                       [{"field": "size", "type": "too_large", "message": f"maksimal {uploads.MAX_BYTES} byte"}])


def create(content_type: str, size: int) -> dict[str, Any]:
    """A pending record and the presigned POST that may fill it (one PutItem; signing is local)."""
    attachment_id = new_id()
    now = clock.now()
    records.create_pending(attachment_id, content_type, size, clock.iso_utc(now), int(now.timestamp()) + PENDING_TTL)
    key = INCOMING + attachment_id
    post = _s3().generate_presigned_post(
        Bucket=settings().quarantine_bucket,
        Key=key,  # boto3 adds the {"key": ...} and {"bucket": ...} conditions itself
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
        ExpiresIn=UPLOAD_EXPIRES,
    )
    return {"attachment_id": attachment_id, "upload": {"url": post["url"], "fields": post["fields"]}}


def take(data: bytes, content_type: str) -> tuple[str, str]:
    """A file that reached us through a channel rather than a presigned POST (a WhatsApp photo):
    the same pending record, the same quarantine key, then the same scan, at once, so the
    sender hears whether it was taken. Returns (attachment_id, outcome of `scan_object`); a
    `clean` one can be claimed by a report like a web upload.

    S3 also announces the object to the scan_upload function; whichever scan comes second finds
    the record decided and only cleans up, so the outcome is then read from the record."""
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMedia("Hanya berkas JPEG, PNG atau PDF yang diterima.")
    if len(data) > uploads.MAX_BYTES:
        raise TooLarge("Ukuran berkas maksimal 10 MB.")
    attachment_id = new_id()
    now = clock.now()
    records.create_pending(attachment_id, content_type, len(data), clock.iso_utc(now),
                           int(now.timestamp()) + PENDING_TTL)
    bucket = settings().quarantine_bucket
    _s3().put_object(Bucket=bucket, Key=INCOMING + attachment_id, Body=data, ContentType=content_type)
    outcome = scan_object(bucket, INCOMING + attachment_id)
    if outcome in ("missing", "already_clean", "already_rejected"):
        decided = records.get(attachment_id)  # just created: only a TTL days away removes it
        if decided is None:
            outcome = "unknown"
        else:
            outcome = f"rejected:{decided.reason or 'unknown'}" if decided.state == "rejected" else str(decided.state)
    return attachment_id, outcome


# ---- 2. the scanner --------------------------------------------------------------------------

def scan_records(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """scan_upload: an SQS batch of S3 notifications -> {"batchItemFailures": [...]}.

    Only a record that failed for a passing reason (S3 or DynamoDB unavailable) is retried; a bad
    file is not a failure, it is a decision (rejected) and the message is done.
    """
    from chalicelib.services import batch

    return batch.process(event, _handle_message)


def _handle_message(record: dict[str, Any]) -> list[str]:
    body = json.loads(record["body"])  # not JSON: fails, retries, ends in the DLQ for a person to see
    if body.get("Event") == "s3:TestEvent":
        return []  # S3 posts this once when the notification is configured
    done = []
    for s3_record in body.get("Records", []):
        if not str(s3_record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        bucket = s3_record["s3"]["bucket"]["name"]
        key = unquote_plus(s3_record["s3"]["object"]["key"])  # keys arrive URL-encoded
        done.append(scan_object(bucket, key))
    return done


def scan_object(bucket: str, key: str) -> str:
    """Check one quarantined object and decide its attachment. Returns the outcome, for logs and
    tests: clean, rejected:<code>, already_<state>, unknown, ignored."""
    if bucket != settings().quarantine_bucket:
        logger.warning("upload event for another bucket ignored", extra={"bucket": bucket})
        return "ignored"
    attachment_id = key.removeprefix(INCOMING)
    if not key.startswith(INCOMING) or not ATTACHMENT_ID.match(attachment_id):
        # Only a presigned POST writes here, and its policy pins the key: this is not an upload.
        logger.warning("unexpected object in quarantine deleted", extra={"key": key[:200]})
        _delete_quarantined(key)
        return "unknown"
    record = records.get(attachment_id)
    if record is None:
        logger.warning("upload without a record (expired or never created) deleted",
                       extra={"attachment_id": attachment_id})
        _delete_quarantined(key)
        return "unknown"
    if record.state != "pending":
        # Redelivery, or a second upload through the same presigned POST: the decision stands.
        _delete_quarantined(key)
        return f"already_{record.state}"

    try:
        obj = _s3().get_object(Bucket=bucket, Key=key)
    except _s3().exceptions.NoSuchKey:
        # Gone already (a redelivery after the delete, before the record was updated): S3 would
        # tell us nothing new. Leave the record pending; its TTL removes it.
        logger.warning("quarantined object missing", extra={"attachment_id": attachment_id})
        return "missing"
    length = int(obj.get("ContentLength") or 0)
    if length > min(int(record.size), uploads.MAX_BYTES):
        obj["Body"].close()  # never read a body that the policy would not have allowed
        return _reject(record, key, uploads.Refused("size_mismatch", "The file is larger than the size declared."))
    data = obj["Body"].read()

    try:
        clean = uploads.sanitise(data, record.content_type, int(record.size))
    except uploads.Refused as refused:
        return _reject(record, key, refused)

    # Publish first, then decide, then clean up: a crash at any point leaves a state that the
    # redelivered message completes (re-encoding the same bytes gives the same file).
    _s3().put_object(
        Bucket=settings().attachments_bucket,
        Key=CLEAN + attachment_id,
        Body=clean.data,
        ContentType=clean.content_type,
        ContentDisposition=disposition(attachment_id, clean.content_type),
        CacheControl="private, max-age=300",
    )
    _decide(record, "clean", clean_size=len(clean.data), sha256=clean.sha256)
    _delete_quarantined(key)
    logger.info("attachment clean", extra={"attachment_id": attachment_id, "content_type": clean.content_type,
                                           "bytes_in": len(data), "bytes_out": len(clean.data)})
    return "clean"


def _reject(record: Attachment, key: str, refused: uploads.Refused) -> str:
    _decide(record, "rejected", reason=refused.code)
    _delete_quarantined(key)
    logger.info("attachment rejected", extra={"attachment_id": record.attachment_id, "reason": refused.code})
    return f"rejected:{refused.code}"


def _decide(record: Attachment, state: str, **fields: Any) -> None:
    """pending -> clean | rejected, once. Losing the race to a concurrent scan is fine: that scan
    decided, and both only ever publish checked bytes. A clean one has no TTL from now on (a
    report may point at it); until one claims it, the daily purge (purge_unclaimed) sees it."""
    if not records.decide(record.attachment_id, state, clock.iso_utc(clock.now()), **fields):
        logger.info("attachment already decided", extra={"attachment_id": record.attachment_id})


def _delete_quarantined(key: str) -> None:
    # Idempotent: deleting a missing key succeeds.
    _s3().delete_object(Bucket=settings().quarantine_bucket, Key=key)


# ---- 4. purging uploads no report took ---------------------------------------------------------

UNCLAIMED_DAYS = 7


def purge_unclaimed(now: datetime | None = None) -> dict[str, int]:
    """Delete clean uploads that no report or response claimed within UNCLAIMED_DAYS: the file in
    the attachments bucket and its record. Reads only the sparse by_unclaimed index (the
    candidates), never the table.

    Race-free against a late claim: the record first moves clean -> purging on condition that no
    report holds it (a claim needs `clean`, so from then on it fails and the client is told the
    upload expired); then the object goes, then the record. A crash in between leaves a `purging`
    record still in the index, which the next run finishes."""
    now = now or clock.now()
    cutoff = clock.iso_utc(now - timedelta(days=UNCLAIMED_DAYS))
    counts = {"purged": 0, "claimed_meanwhile": 0}
    for attachment_id in records.unclaimed_before(cutoff):
        if not records.start_purge(attachment_id):
            counts["claimed_meanwhile"] += 1
            continue
        _s3().delete_object(Bucket=settings().attachments_bucket, Key=CLEAN + attachment_id)
        records.finish_purge(attachment_id)
        counts["purged"] += 1
    logger.info("unclaimed uploads purged", extra=counts)
    return counts


def erase(attachment_id: str) -> None:
    """Delete a claimed attachment, file and record (personal-data erasure,
    chalicelib/services/erasure.py). Both deletes are no-ops the second time."""
    _s3().delete_object(Bucket=settings().attachments_bucket, Key=CLEAN + attachment_id)
    records.delete(attachment_id)


# ---- 3. serving --------------------------------------------------------------------------------

def disposition(attachment_id: str, content_type: str) -> str:
    """How a browser opens a checked file: images inline; a PDF as a download, never rendered
    inside the browser's viewer on the bucket's origin (a PDF can carry scripts and forms that
    the sanitiser may not know of)."""
    kind = "inline" if content_type.startswith("image/") else "attachment"
    return f'{kind}; filename="{attachment_id}.{uploads.EXTENSION[content_type]}"'


def download_url(attachment_id: str) -> dict[str, Any]:
    """A 5-minute GET link to a clean attachment; anything else is a 404. The caller has already
    decided that its user may see this attachment (the reporter: it belongs to their report)."""
    if not ATTACHMENT_ID.match(attachment_id):
        raise not_found("Lampiran tidak ditemukan.")
    record = records.get(attachment_id)
    if record is None or record.state != "clean":
        raise not_found("Lampiran tidak ditemukan.")
    # The link states type and disposition itself, whatever the object's metadata says (an object
    # stored before PDFs became downloads, or one whose metadata was changed).
    url = _s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().attachments_bucket, "Key": CLEAN + attachment_id,
                "ResponseContentType": str(record.content_type),
                "ResponseContentDisposition": disposition(attachment_id, str(record.content_type))},
        ExpiresIn=DOWNLOAD_EXPIRES,
    )
    return {"url": url, "expires_in": DOWNLOAD_EXPIRES}


def clean_link(attachment_id: str) -> str:
    """A 5-minute GET link to a file a report has claimed, without reading its record: only a clean
    file can be claimed, and a claimed one is never purged (the Open311 feed's media_url)."""
    return str(_s3().generate_presigned_url(
        "get_object", Params={"Bucket": settings().attachments_bucket, "Key": CLEAN + attachment_id},
        ExpiresIn=DOWNLOAD_EXPIRES))


def clean_copy(attachment_id: str) -> tuple[bytes, str] | None:
    """The checked file's bytes and type, for sending it on (SP4N-LAPOR!); None unless clean."""
    if not ATTACHMENT_ID.match(attachment_id):
        return None
    record = records.get(attachment_id)
    if record is None or record.state != "clean":
        return None
    obj = _s3().get_object(Bucket=settings().attachments_bucket, Key=CLEAN + attachment_id)
    return obj["Body"].read(), str(record.content_type)


def reporter_download_url(tracking_id: str, token: str | None, attachment_id: str) -> dict[str, Any]:
    """The reporter's link: the token must open the report and the report must list the file.
    Every refusal is the same 404, as for the report itself."""
    from chalicelib.services import views

    report = views.load_for_reporter(tracking_id, token)
    if attachment_id not in (report.attachments or []) and attachment_id not in views.report_files(
            report, reports_data.events(report.tracking_id), public_only=True):
        raise not_found("Lampiran tidak ditemukan.")
    return download_url(attachment_id)


def staff_download_url(tracking_id: str, attachment_id: str, principal: Principal) -> dict[str, Any]:
    """GET /staff/reports/{id}/attachments/{attachment_id}: a 5-minute link for staff who may read
    the report (chalicelib.domain.privacy.may_read: admin, the assigned OPD, pimpinan but never
    `rahasia`) to a file of that report (the submission's or any step's). Every link handed out
    leaves an access-log line: a file can show the reporter as much as their name does."""
    from chalicelib.services import views, workflow

    report = workflow.load_for_staff(tracking_id, principal)
    if attachment_id not in views.report_files(report, reports_data.events(report.tracking_id),
                                               public_only=False):
        raise not_found("Lampiran tidak ditemukan pada laporan ini.")
    link = download_url(attachment_id)
    access_log("attachment_download", sub=principal.sub, role=principal.role, rows=1,
               tracking_id=report.tracking_id, fields=("attachment",), attachment_id=attachment_id)
    return link
