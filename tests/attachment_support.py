"""Clean attachments for tests that need one to reference (a report, a staff `respond`).

Reports and answers may reference only attachments that the scanner marked clean
(services/attachment_claims.py), so a made-up `att_<hex>` id is a 400. Inside the `aws` fixture:

    from tests.attachment_support import clean_attachment
    attachment_id = clean_attachment()            # a small clean PNG
    attachment_id = clean_attachment(pdf=True)    # a small clean PDF

This takes the service path (record, object in quarantine, scan) without HTTP or the queue; the
S3 notification it also causes is harmless (a redelivery finds the attachment already decided).
"""
from __future__ import annotations

import io


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def clean_attachment(pdf: bool = False) -> str:
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.services import attachments

    data, content_type = (PDF, "application/pdf") if pdf else (_png(), "image/png")
    attachment_id = str(attachments.create(content_type, len(data))["attachment_id"])
    key = attachments.INCOMING + attachment_id
    aws.client("s3").put_object(Bucket=settings().quarantine_bucket, Key=key, Body=data, ContentType=content_type)
    outcome = attachments.scan_object(settings().quarantine_bucket, key)
    assert outcome == "clean", outcome
    return attachment_id
