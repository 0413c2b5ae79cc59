"""Attachments end to end against moto in-process, provisioned from infra/resources.yaml.

The path is the real one: POST /attachments -> a multipart POST to S3 with the presigned fields
(moto intercepts `requests`) -> moto's S3 notification puts the event on UploadsQueue -> the
message is received and handed to the scan_upload handler as a Lambda SQS event
(tests/sqs_events.py) -> clean file in the attachments bucket, record decided.
moto does not enforce POST policy conditions, so the policy is decoded and asserted instead.
"""
from __future__ import annotations

import base64
import io
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from PIL import Image

from tests import sqs_events
from tests.unit.test_uploads import jpeg_with_gps, png_with_metadata

GPS_IFD = 0x8825
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


# ---- helpers ------------------------------------------------------------------------------------

def create(client: Any, content_type: str, size: int) -> Any:
    return client.http.post("/attachments", headers={"Content-Type": "application/json"},
                            body=json.dumps({"content_type": content_type, "size": size}))


def upload(created: dict[str, Any], data: bytes, filename: str, content_type: str) -> None:
    """What a browser does with the presigned POST: the fields, then the file last."""
    up = created["upload"]
    r = requests.post(up["url"], data=up["fields"], files={"file": (filename, data, content_type)}, timeout=10)
    assert r.status_code in (200, 201, 204), r.text


def scan(client: Any, aws: dict[str, str]) -> list[dict[str, Any]]:
    """Receive what S3 put on UploadsQueue, run scan_upload on it, delete what succeeded (as
    Lambda does). Returns the handler's answers."""
    import boto3

    sqs = boto3.client("sqs")
    answers = []
    while True:
        event, messages = sqs_events.receive_event(sqs, aws["UPLOADS_QUEUE_URL"], max_messages=5)
        if not messages:
            return answers
        answer = client.lambda_.invoke("scan_upload", event).payload
        sqs_events.delete_succeeded(sqs, aws["UPLOADS_QUEUE_URL"], messages, answer)
        answers.append(answer)


def submit(client: Any, content_type: str, data: bytes, filename: str, aws: dict[str, str]) -> str:
    created = create(client, content_type, len(data) or 1)
    assert created.status_code == 201, created.body
    body = created.json_body
    upload(body, data, filename, content_type)
    scan(client, aws)
    return str(body["attachment_id"])


def record(attachment_id: str) -> Any:
    from chalicelib.data.models import Attachment

    return Attachment.get(attachment_id, consistent_read=True)


def keys(bucket: str) -> list[str]:
    import boto3

    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def clean_bytes(aws: dict[str, str], attachment_id: str) -> tuple[bytes, str]:
    import boto3

    obj = boto3.client("s3").get_object(Bucket=aws["ATTACHMENTS_BUCKET"], Key=f"clean/{attachment_id}")
    return obj["Body"].read(), obj["ContentType"]


def post_report(client: Any, report: dict[str, Any]) -> Any:
    return client.http.post("/reports", headers={"Content-Type": "application/json"}, body=json.dumps(report))


# ---- POST /attachments ----------------------------------------------------------------------------

def test_presigned_post_policy_pins_key_type_size_and_expiry(client: Any, aws: dict[str, str]) -> None:
    before = time.time()
    r = create(client, "image/jpeg", 123_456)
    assert r.status_code == 201, r.body
    body = r.json_body
    attachment_id = body["attachment_id"]
    assert attachment_id.startswith("att_") and len(attachment_id) == 36
    fields = body["upload"]["fields"]
    assert aws["QUARANTINE_BUCKET"] in body["upload"]["url"]
    assert fields["key"] == f"incoming/{attachment_id}"
    assert fields["Content-Type"] == "image/jpeg"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions  # exact match, not starts-with
    assert ["content-length-range", 1, 123_456] in conditions
    assert {"key": f"incoming/{attachment_id}"} in conditions
    assert {"bucket": aws["QUARANTINE_BUCKET"]} in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    expires = time.mktime(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 590 <= expires <= time.time() + 601  # 10 minutes

    item = record(attachment_id)
    assert (item.state, item.content_type, item.size) == ("pending", "image/jpeg", 123_456)
    assert item.created_at and item.expires_at > time.time()  # TTL for an upload that never comes


def test_regional_endpoint_for_presigned_urls(client: Any) -> None:
    # ap-southeast-3 (2021) does not answer the legacy global endpoint s3.amazonaws.com.
    url = create(client, "image/png", 10).json_body["upload"]["url"]
    assert ".s3.ap-southeast-3.amazonaws.com" in url


@pytest.mark.parametrize("body, status, code, field", [
    ({"content_type": "text/html", "size": 10}, 415, "unsupported_media_type", "content_type"),
    ({"content_type": "image/gif", "size": 10}, 415, "unsupported_media_type", "content_type"),
    ({"content_type": "image/jpeg", "size": 10 * 1024 * 1024 + 1}, 413, "too_large", "size"),
    ({"content_type": "image/jpeg", "size": 0}, 400, "validation_error", "size"),
    ({"content_type": "image/jpeg", "size": -5}, 400, "validation_error", "size"),
    ({"content_type": "image/jpeg", "size": "100"}, 400, "validation_error", "size"),
    ({"content_type": "image/jpeg", "size": 1.5}, 400, "validation_error", "size"),
    ({"content_type": "image/jpeg"}, 400, "validation_error", "size"),
    ({"size": 10}, 400, "validation_error", "content_type"),
    ({"content_type": "image/jpeg", "size": 10, "key": "clean/x"}, 400, "validation_error", "key"),
])
def test_bad_requests_for_an_upload_slot(client: Any, body: dict[str, Any], status: int, code: str, field: str) -> None:
    from chalicelib.data.models import Attachment

    r = create_raw(client, body)
    assert r.status_code == status, r.body
    error = r.json_body["error"]
    assert error["code"] == code
    assert field in [d["field"] for d in error["details"]]
    assert Attachment.count() == 0


def create_raw(client: Any, body: Any) -> Any:
    return client.http.post("/attachments", headers={"Content-Type": "application/json"}, body=json.dumps(body))


def test_exactly_10_mb_is_allowed(client: Any) -> None:
    assert create(client, "application/pdf", 10 * 1024 * 1024).status_code == 201


# ---- the scanner ------------------------------------------------------------------------------------

def test_s3_notification_reaches_the_queue(client: Any, aws: dict[str, str]) -> None:
    """moto's CloudFormation ignores NotificationConfiguration; the local step sets it, and moto
    then delivers the ObjectCreated event (after the s3:TestEvent that S3 also sends)."""
    import boto3

    created = create(client, "image/png", 100).json_body
    upload(created, png_with_metadata(), "a.png", "image/png")
    messages = boto3.client("sqs").receive_message(QueueUrl=aws["UPLOADS_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert any(b.get("Event") == "s3:TestEvent" for b in bodies)
    records = [r for b in bodies for r in b.get("Records", [])]
    assert [r["eventName"] for r in records] == ["ObjectCreated:Post"]
    assert records[0]["s3"]["bucket"]["name"] == aws["QUARANTINE_BUCKET"]


def test_jpeg_with_gps_comes_out_without_any_exif(client: Any, aws: dict[str, str]) -> None:
    photo = jpeg_with_gps((64, 32), orientation=6)
    attachment_id = submit(client, "image/jpeg", photo, "IMG_0001.jpg", aws)

    item = record(attachment_id)
    assert item.state == "clean" and item.expires_at is None
    data, content_type = clean_bytes(aws, attachment_id)
    assert content_type == "image/jpeg"
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert dict(img.getexif()) == {} and img.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in img.info and b"Exif\x00\x00" not in data and b"Pixel 8" not in data
    assert img.size == (32, 64)  # upright: the orientation was applied, then dropped
    assert item.clean_size == len(data) and len(item.sha256) == 64
    assert keys(aws["QUARANTINE_BUCKET"]) == []  # the original with GPS is gone


def test_png_passes(client: Any, aws: dict[str, str]) -> None:
    attachment_id = submit(client, "image/png", png_with_metadata(), "screenshot.png", aws)
    assert record(attachment_id).state == "clean"
    data, content_type = clean_bytes(aws, attachment_id)
    assert content_type == "image/png" and b"Siti Aminah" not in data
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert keys(aws["QUARANTINE_BUCKET"]) == []


def test_pdf_passes(client: Any, aws: dict[str, str]) -> None:
    attachment_id = submit(client, "application/pdf", PDF_BYTES, "surat.pdf", aws)
    assert record(attachment_id).state == "clean"
    assert clean_bytes(aws, attachment_id) == (PDF_BYTES, "application/pdf")


@pytest.mark.parametrize("declared, data, filename, reason", [
    ("image/jpeg", PDF_BYTES, "foto.jpg", "type_mismatch"),  # a PDF renamed .jpg
    ("image/png", HTML_BYTES, "gambar.png", "unrecognised_type"),  # an HTML page
    ("image/jpeg", b"", "kosong.jpg", "empty"),  # zero bytes (S3 would refuse: length range 1..)
    ("application/pdf", b"%PDF-1.7\n/OpenAction << /S /JavaScript /JS (app.alert(1)) >>\n%%EOF", "x.pdf",
     "pdf_active_content"),
])
def test_bad_files_are_refused_deleted_and_never_reach_the_clean_bucket(
        client: Any, aws: dict[str, str], declared: str, data: bytes, filename: str, reason: str) -> None:
    attachment_id = submit(client, declared, data, filename, aws)
    item = record(attachment_id)
    assert (item.state, item.reason) == ("rejected", reason)
    assert item.expires_at > time.time()
    assert keys(aws["QUARANTINE_BUCKET"]) == []
    assert keys(aws["ATTACHMENTS_BUCKET"]) == []


def test_upload_larger_than_declared_is_refused(client: Any, aws: dict[str, str]) -> None:
    # S3 enforces content-length-range; moto does not, so the scanner checks again.
    photo = jpeg_with_gps()
    created = create(client, "image/jpeg", len(photo) - 10).json_body
    upload(created, photo, "a.jpg", "image/jpeg")
    scan(client, aws)
    assert record(created["attachment_id"]).reason == "size_mismatch"
    assert keys(aws["ATTACHMENTS_BUCKET"]) == []


def test_redelivery_is_idempotent(client: Any, aws: dict[str, str]) -> None:
    import boto3

    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    good = create(client, "image/jpeg", 10_000).json_body
    bad = create(client, "image/jpeg", 10_000).json_body
    upload(good, jpeg_with_gps(), "a.jpg", "image/jpeg")
    upload(bad, HTML_BYTES, "b.jpg", "image/jpeg")
    event, _ = sqs_events.receive_event(sqs, aws["UPLOADS_QUEUE_URL"])
    first = client.lambda_.invoke("scan_upload", event).payload
    assert first == {"batchItemFailures": []}
    good_item, bad_item = record(good["attachment_id"]), record(bad["attachment_id"])

    # The same messages again (SQS is at-least-once): nothing changes, nothing fails.
    again = client.lambda_.invoke("scan_upload", event).payload
    assert again == {"batchItemFailures": []}
    assert record(good["attachment_id"]).attribute_values == good_item.attribute_values
    assert record(bad["attachment_id"]).attribute_values == bad_item.attribute_values
    versions = s3.list_object_versions(Bucket=aws["ATTACHMENTS_BUCKET"]).get("Versions", [])
    assert [v["Key"] for v in versions] == [f"clean/{good['attachment_id']}"]  # written once

    # A second upload through the same presigned POST cannot replace the checked file.
    upload(good, HTML_BYTES, "c.jpg", "image/jpeg")
    scan(client, aws)
    assert record(good["attachment_id"]).state == "clean"
    assert Image.open(io.BytesIO(clean_bytes(aws, good["attachment_id"])[0])).format == "JPEG"
    assert keys(aws["QUARANTINE_BUCKET"]) == []


def test_a_failed_record_alone_is_retried_and_the_retry_completes(
        client: Any, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Partial batch response: a crash between publishing and deciding fails only that record;
    its redelivery finishes the job."""
    import boto3

    from chalicelib.services import attachments

    sqs = boto3.client("sqs")
    a = create(client, "image/png", 10_000).json_body
    b = create(client, "application/pdf", 10_000).json_body
    upload(a, png_with_metadata(), "a.png", "image/png")
    upload(b, PDF_BYTES, "b.pdf", "application/pdf")
    real_decide = attachments._decide

    def flaky(record: Any, state: str, **fields: Any) -> None:
        if record.content_type == "image/png":
            raise RuntimeError("DynamoDB unavailable")
        real_decide(record, state, **fields)

    monkeypatch.setattr(attachments, "_decide", flaky)
    event, messages = sqs_events.receive_event(sqs, aws["UPLOADS_QUEUE_URL"], visibility_timeout=0)
    result = client.lambda_.invoke("scan_upload", event).payload
    by_id = {m["MessageId"]: json.loads(m["Body"]) for m in messages}
    failed = sqs_events.failed_ids(result)
    assert len(failed) == 1
    assert a["attachment_id"] in json.dumps(by_id[failed.pop()])
    assert record(a["attachment_id"]).state == "pending" and record(b["attachment_id"]).state == "clean"
    sqs_events.delete_succeeded(sqs, aws["UPLOADS_QUEUE_URL"], messages, result)

    monkeypatch.setattr(attachments, "_decide", real_decide)
    scan(client, aws)  # the failed message is visible again (visibility 0 here; 360 s in AWS)
    assert record(a["attachment_id"]).state == "clean"
    assert keys(aws["QUARANTINE_BUCKET"]) == []


def test_objects_that_are_not_uploads_are_deleted(client: Any, aws: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.put_object(Bucket=aws["QUARANTINE_BUCKET"], Key="incoming/att_" + "0" * 32, Body=b"\xff\xd8\xff")  # no record
    s3.put_object(Bucket=aws["QUARANTINE_BUCKET"], Key="incoming/../../clean/evil", Body=b"x")
    answers = scan(client, aws)
    assert answers and all(a == {"batchItemFailures": []} for a in answers)
    assert keys(aws["QUARANTINE_BUCKET"]) == [] and keys(aws["ATTACHMENTS_BUCKET"]) == []


# ---- reports reference only clean attachments ------------------------------------------------

def test_report_may_reference_a_clean_attachment(client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    attachment_id = submit(client, "image/jpeg", jpeg_with_gps(), "a.jpg", aws)
    r = post_report(client, {**valid_report, "attachments": [attachment_id]})
    assert r.status_code == 201, r.body
    created = r.json_body
    view = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]}).json_body
    assert view["attachments"] == [attachment_id]


def test_report_may_not_reference_pending_rejected_or_unknown(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Report

    clean = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    rejected = submit(client, "image/jpeg", PDF_BYTES, "b.jpg", aws)
    pending = create(client, "image/png", 100).json_body["attachment_id"]  # never uploaded
    unknown = "att_" + "f" * 32
    r = post_report(client, {**valid_report, "attachments": [clean, pending, rejected, unknown]})
    assert r.status_code == 400, r.body
    details = {d["field"]: d for d in r.json_body["error"]["details"]}
    assert set(details) == {"attachments.1", "attachments.2", "attachments.3"}
    assert details["attachments.1"]["type"] == "attachment_pending"
    assert details["attachments.2"]["type"] == "attachment_rejected"
    assert "type_mismatch" in details["attachments.2"]["message"]
    assert details["attachments.3"]["type"] == "unknown"
    assert Report.count() == 0


def test_submission_with_attachments_costs_one_aws_call(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any], aws_calls: Any) -> None:
    """The claims ride in the report's transaction: no read of the attachment records."""
    ids = [submit(client, "image/png", png_with_metadata(), f"{i}.png", aws) for i in range(3)]
    post_report(client, valid_report)  # warm the reference cache, as a warm container would have it
    aws_calls.clear()
    r = post_report(client, {**valid_report, "attachments": ids})
    assert r.status_code == 201, r.body
    assert dict(aws_calls) == {"dynamodb.TransactWriteItems": 1}, aws_calls  # NIK: the cached data key
    assert all(record(i).report_id == r.json_body["tracking_id"] and record(i).unclaimed is None for i in ids)


def test_an_attachment_belongs_to_one_report(client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Report

    photo = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    assert record(photo).unclaimed == "yes"
    first = post_report(client, {**valid_report, "attachments": [photo]})
    assert first.status_code == 201, first.body
    second = post_report(client, {**valid_report, "attachments": [photo]})
    assert second.status_code == 400, second.body
    [detail] = second.json_body["error"]["details"]
    assert (detail["field"], detail["type"]) == ("attachments.0", "attachment_in_use")
    assert Report.count() == 1 and record(photo).report_id == first.json_body["tracking_id"]


def test_a_retried_submission_with_attachments_gets_its_first_answer(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    photo = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    body = json.dumps({**valid_report, "attachments": [photo]})
    headers = {"Content-Type": "application/json", "Idempotency-Key": "retry-with-a-photo-0001"}
    first = client.http.post("/reports", headers=headers, body=body)
    again = client.http.post("/reports", headers=headers, body=body)
    assert first.status_code == again.status_code == 201
    assert first.json_body == again.json_body


def test_a_response_claims_its_attachments(aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    """Staff answers claim their files too (services/workflow.py), with the same refusal."""
    from chalicelib.auth import Principal
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import intake, workflow
    from chalicelib.submission import ReportIn
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()
    mine = intake.submit(ReportIn.from_data({**valid_report, "attachments": [photo]}))["tracking_id"]
    other = intake.submit(ReportIn.from_data(valid_report))["tracking_id"]
    admin = Principal(sub="admin-1", role="admin", opd_code=None)
    workflow.act(other, "verify", admin, {"opd_code": "DPUPR"})
    opd = Principal(sub="opd-1", role="opd", opd_code="DPUPR")
    workflow.act(other, "accept", opd, {})
    with pytest.raises(DomainError) as refused:
        workflow.act(other, "respond", opd, {"message": "Sudah ditangani.", "attachments": [photo]})
    assert refused.value.code == "validation_error" and refused.value.details[0]["type"] == "attachment_in_use"
    answer = clean_attachment(pdf=True)
    workflow.act(other, "respond", opd, {"message": "Sudah ditangani.", "attachments": [answer]})
    assert record(answer).report_id == other and record(photo).report_id == mine


def test_a_file_that_turned_clean_while_its_claim_was_refused_is_claimed_on_the_retry(
        aws: dict[str, str], valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim's condition saw the file still pending, but by the time the refusal is
    explained the scanner has passed it: nothing is wrong any more, so the move is tried again
    (not a 409 for a conflict that never was)."""
    from chalicelib.auth import Principal
    from chalicelib.data import reports
    from chalicelib.services import intake, workflow
    from chalicelib.submission import ReportIn
    from tests.attachment_support import clean_attachment

    tid = intake.submit(ReportIn.from_data(valid_report))["tracking_id"]
    admin = Principal(sub="admin-1", role="admin", opd_code=None)
    workflow.act(tid, "verify", admin, {"opd_code": "DPUPR"})
    answer = clean_attachment(pdf=True)
    real, refused = reports.save_change, []

    def pending_once(report: Any, expected: int, events: Any, claims: Any = (), extra: Any = ()) -> None:
        if claims and not refused:
            refused.append(expected)
            raise reports.Conflict([None, None, "ConditionalCheckFailed"], ["report", "event", "attachment"])
        real(report, expected, events, claims, extra)

    monkeypatch.setattr(reports, "save_change", pending_once)
    opd = Principal(sub="opd-1", role="opd", opd_code="DPUPR")
    saved = workflow.act(tid, "respond", opd, {"message": "Sudah ditangani.", "attachments": [answer]})
    assert refused and saved.status == "ditindaklanjuti" and record(answer).report_id == tid


def test_a_submission_whose_file_turned_clean_while_its_claim_was_refused_is_stored_on_the_retry(
        aws: dict[str, str], valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The same race at intake: the web client sends the report as soon as the scan says clean,
    and the claim may still have seen the file pending. Found as a 500 by the browser tests."""
    from chalicelib.data import reports
    from chalicelib.services import intake
    from chalicelib.submission import ReportIn
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()
    real, refused = reports.create, []

    def pending_once(report: Any, event: Any, *args: Any) -> None:
        if not refused:
            refused.append(report["tracking_id"])
            raise reports.Conflict([None, None, None, "ConditionalCheckFailed"],
                                   ["report", "event", "rate_limit", "attachment"])
        real(report, event, *args)

    monkeypatch.setattr(reports, "create", pending_once)
    tid = intake.submit(ReportIn.from_data({**valid_report, "attachments": [photo]}))["tracking_id"]
    assert refused and refused[0] != tid and record(photo).report_id == tid


# ---- purging uploads no report took --------------------------------------------------------------

def _age(attachment_id: str, days: int) -> None:
    from datetime import timedelta

    from chalicelib.data.models import Attachment
    from chalicelib.domain import clock

    Attachment(attachment_id).update(actions=[
        Attachment.checked_at.set(clock.iso_utc(clock.now() - timedelta(days=days)))])


def test_unclaimed_uploads_are_purged_after_seven_days_and_claimed_ones_never(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any], aws_calls: Any) -> None:
    from chalicelib.data.models import Attachment
    from chalicelib.services import attachments

    claimed, abandoned, recent = (submit(client, "image/png", png_with_metadata(), f"{i}.png", aws) for i in range(3))
    assert post_report(client, {**valid_report, "attachments": [claimed]}).status_code == 201
    _age(claimed, 30)
    _age(abandoned, 8)
    _age(recent, 6)
    aws_calls.clear()
    assert attachments.purge_unclaimed() == {"purged": 1, "claimed_meanwhile": 0}
    assert aws_calls["dynamodb.Query"] == 1 and not aws_calls["dynamodb.Scan"]
    assert f"clean/{abandoned}" not in keys(aws["ATTACHMENTS_BUCKET"])
    with pytest.raises(Attachment.DoesNotExist):
        record(abandoned)
    assert {f"clean/{claimed}", f"clean/{recent}"} <= set(keys(aws["ATTACHMENTS_BUCKET"]))
    assert record(claimed).state == record(recent).state == "clean"
    assert attachments.purge_unclaimed() == {"purged": 0, "claimed_meanwhile": 0}  # nothing left to do


def test_a_claim_after_the_purge_began_is_told_the_upload_expired(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Attachment, Report
    from chalicelib.services import attachments

    photo = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    _age(photo, 8)
    Attachment(photo).update(actions=[Attachment.state.set("purging")])  # a purge that stopped half-way
    r = post_report(client, {**valid_report, "attachments": [photo]})
    assert r.status_code == 400 and r.json_body["error"]["details"][0]["type"] == "attachment_purging"
    assert Report.count() == 0
    assert attachments.purge_unclaimed()["purged"] == 1  # the next run finishes it
    assert f"clean/{photo}" not in keys(aws["ATTACHMENTS_BUCKET"])


def test_a_claim_between_query_and_purge_keeps_the_file(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data.models import Attachment
    from chalicelib.services import attachments

    photo = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    _age(photo, 8)
    query = Attachment.by_unclaimed.query
    created: dict[str, Any] = {}

    def query_then_claim(*args: Any, **kwargs: Any) -> Any:
        found = list(query(*args, **kwargs))
        created["r"] = post_report(client, {**valid_report, "attachments": [photo]})
        return iter(found)

    monkeypatch.setattr(Attachment.by_unclaimed, "query", query_then_claim)
    assert attachments.purge_unclaimed() == {"purged": 0, "claimed_meanwhile": 1}
    assert created["r"].status_code == 201
    assert record(photo).state == "clean" and f"clean/{photo}" in keys(aws["ATTACHMENTS_BUCKET"])


def test_the_purge_is_a_daily_schedule(app: Any) -> None:
    [source] = [s for s in app.event_sources if getattr(s, "name", None) == "purge_uploads"]
    assert source.schedule_expression.to_string() == "cron(0 20 * * ? *)"


# ---- serving ---------------------------------------------------------------------------------------

def test_reporter_downloads_only_clean_attachments_of_their_report(
        client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    photo = submit(client, "image/jpeg", jpeg_with_gps(), "a.jpg", aws)
    other = submit(client, "image/png", png_with_metadata(), "b.png", aws)  # clean, not on this report
    created = post_report(client, {**valid_report, "attachments": [photo]}).json_body
    token = {"X-Access-Token": created["access_token"]}
    base = f"/reports/{created['tracking_id']}/attachments"

    r = client.http.get(f"{base}/{photo}", headers=token)
    assert r.status_code == 200, r.body
    assert r.json_body["expires_in"] == 300
    url = r.json_body["url"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert urlparse(url).path.endswith(f"/clean/{photo}")
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == clean_bytes(aws, photo)[0]

    not_found = [
        client.http.get(f"{base}/{other}", headers=token),  # clean, but another report's
        client.http.get(f"{base}/{photo}", headers={"X-Access-Token": "x" * 43}),  # wrong token
        client.http.get(f"{base}/{photo}"),  # no token
        client.http.get(f"/reports/KBB-0000-0000/attachments/{photo}", headers=token),
        client.http.get(f"{base}/att_{'0' * 32}", headers=token),
        client.http.get(f"{base}/..%2F..%2Fetc", headers=token),
    ]
    assert [n.status_code for n in not_found] == [404] * len(not_found)
    assert all(n.json_body["error"]["code"] == "not_found" for n in not_found)


def test_pdfs_are_served_as_downloads_and_images_inline(client: Any, aws: dict[str, str]) -> None:
    from chalicelib.services import attachments

    pdf = submit(client, "application/pdf", PDF_BYTES, "surat.pdf", aws)
    photo = submit(client, "image/png", png_with_metadata(), "a.png", aws)
    expected = {pdf: ("attachment", "application/pdf"), photo: ("inline", "image/png")}
    for attachment_id, (kind, content_type) in expected.items():
        url = attachments.download_url(attachment_id)["url"]
        query = parse_qs(urlparse(url).query)
        assert query["response-content-disposition"][0].startswith(kind + ";"), attachment_id
        assert query["response-content-type"] == [content_type]
        got = requests.get(url, timeout=10)
        assert got.status_code == 200
        assert got.headers["Content-Disposition"].startswith(kind + ";")
        assert got.headers["Content-Type"] == content_type


def test_download_url_for_staff_serves_clean_only(client: Any, aws: dict[str, str]) -> None:
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import attachments

    clean = submit(client, "application/pdf", PDF_BYTES, "a.pdf", aws)
    rejected = submit(client, "image/png", HTML_BYTES, "b.png", aws)
    pending = create(client, "image/png", 100).json_body["attachment_id"]
    assert attachments.download_url(clean)["expires_in"] == 300
    for attachment_id in (rejected, pending, "att_" + "0" * 32, "nonsense"):
        with pytest.raises(DomainError) as err:
            attachments.download_url(attachment_id)
        assert err.value.code == "not_found"


def test_openapi_documents_the_routes(client: Any) -> None:
    paths = client.http.get("/openapi.json").json_body["paths"]
    assert "201" in paths["/attachments"]["post"]["responses"]
    assert {"413", "415"} <= set(paths["/attachments"]["post"]["responses"])
    assert "200" in paths["/reports/{tracking_id}/attachments/{attachment_id}"]["get"]["responses"]


# ---- the template -----------------------------------------------------------------------------------

def test_template_wires_quarantine_to_the_uploads_queue() -> None:
    """What moto's CloudFormation skips is still checked: the notification, the queue's policy,
    DLQ and encryption, and the visibility timeout against the function's timeout. The local step
    (provision.configure_quarantine_bucket) must set the same notification."""
    from pathlib import Path

    from cfnlint.decode import decode

    from chalicelib.local import provision

    root = Path(__file__).resolve().parents[2]
    template, problems = decode(str(root / "infra" / "resources.yaml"))
    assert not problems
    res, outputs = template["Resources"], template["Outputs"]

    bucket = res["QuarantineBucket"]
    assert bucket["DependsOn"] == "UploadsQueuePolicy"  # S3 checks it may send when configured
    [notification] = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Queue"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert [notification["Event"]] == provision.UPLOAD_EVENTS
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": provision.UPLOAD_PREFIX}]

    queue = res["UploadsQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["UploadsDlq", "Arn"]}, "maxReceiveCount": 5}
    assert queue["KmsMasterKeyId"] == {"Ref": "DataKey"} and res["UploadsDlq"]["Properties"]["KmsMasterKeyId"]
    chalice = json.loads((root / ".chalice" / "config.json").read_text())
    timeout = chalice.get("lambda_functions", {}).get("scan_upload", {}).get("lambda_timeout", chalice["lambda_timeout"])
    assert queue["VisibilityTimeout"] >= 6 * timeout

    [statement] = res["UploadsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]

    table = res["AttachmentsTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "attachment_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}
    assert {"AttachmentsTable", "UploadsQueueUrl", "UploadsQueueArn"} <= set(outputs)


def test_handler_is_registered_for_the_uploads_queue(app: Any) -> None:
    [source] = [s for s in app.event_sources if getattr(s, "queue", None) == "UploadsQueue"]
    assert source.name == "scan_upload" and source.batch_size == 5


def test_support_helper_makes_a_referencable_attachment(client: Any, aws: dict[str, str], valid_report: dict[str, Any]) -> None:
    from tests.attachment_support import clean_attachment

    ids = [clean_attachment(), clean_attachment(pdf=True)]
    assert post_report(client, {**valid_report, "attachments": ids}).status_code == 201
