"""Attachments through the real local stack: chalice local, moto in server mode (its S3 delivers
the ObjectCreated notification to UploadsQueue), and the pump running scan_upload."""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.unit.test_uploads import jpeg_with_gps

ROOT = Path(__file__).parents[2]
pytestmark = [
    pytest.mark.xdist_group("stack"),
    pytest.mark.skipif(not (ROOT / "chalicelib" / "local" / "pump.py").exists(),
                       reason="the local pump (fan-out issue) is what runs scan_upload locally"),
]

EXAMPLE = json.loads((ROOT / "docs" / "example-report.json").read_text())


def upload(http: Any, content_type: str, data: bytes, filename: str) -> str:
    status, created, _ = http.call("POST", "/attachments", {"content_type": content_type, "size": max(1, len(data))})
    assert status == 201, created
    up = created["upload"]
    r = requests.post(up["url"], data=up["fields"], files={"file": (filename, data, content_type)}, timeout=10)
    assert r.status_code in (200, 201, 204), r.text
    return str(created["attachment_id"])


def submit_when_checked(http: Any, attachment_ids: list[str], timeout: float = 30.0) -> tuple[int, Any]:
    """POST /reports until the attachments are no longer pending (the pump scans within ~1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body, _ = http.call("POST", "/reports", {**EXAMPLE, "attachments": attachment_ids})
        pending = status == 400 and any(d.get("type") == "attachment_pending" for d in body["error"]["details"])
        if not pending or time.monotonic() > deadline:
            return status, body
        time.sleep(0.5)


def test_photo_is_checked_stripped_attached_and_served(http: Any) -> None:
    attachment_id = upload(http, "image/jpeg", jpeg_with_gps((64, 32)), "IMG_0001.jpg")
    status, created = submit_when_checked(http, [attachment_id])
    assert status == 201, created
    status, link, _ = http.call("GET", f"/reports/{created['tracking_id']}/attachments/{attachment_id}",
                                headers={"X-Access-Token": created["access_token"]})
    assert status == 200 and link["expires_in"] == 300
    got = requests.get(link["url"], timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/jpeg"
    img = Image.open(io.BytesIO(got.content))
    assert dict(img.getexif()) == {} and b"Exif\x00\x00" not in got.content
    assert img.size == (32, 64)


def test_pdf_renamed_jpg_is_refused_over_http(http: Any) -> None:
    attachment_id = upload(http, "image/jpeg", b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n", "surat.jpg")
    status, body = submit_when_checked(http, [attachment_id])
    assert status == 400
    [detail] = body["error"]["details"]
    assert detail["field"] == "attachments.0" and detail["type"] == "attachment_rejected"


def test_a_reply_carries_a_document_that_staff_download(http: Any, stack: Any) -> None:
    """The kelengkapan loop over HTTP: admin asks, the reporter uploads a PDF and replies with it,
    the admin opens it through the staff route; another report's file is refused."""
    from chalicelib.local import tokens

    key, iss, aud = tokens.read_state(Path(stack.state_dir))
    admin = {"Authorization": "Bearer " + tokens.mint(key, role="admin", opd_code=None, issuer=iss, audience=aud)}
    status, created, _ = http.call("POST", "/reports", EXAMPLE)
    assert status == 201, created
    tid, reporter = created["tracking_id"], {"X-Access-Token": created["access_token"]}
    status, view, _ = http.call("POST", f"/staff/reports/{tid}/actions",
                                {"action": "request_info", "message": "Mohon lampirkan surat keterangan RT."},
                                headers=admin)
    assert status == 200 and view["status"] == "perlu_kelengkapan", view

    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    document = upload(http, "application/pdf", pdf, "surat-rt.pdf")
    deadline = time.monotonic() + 30
    while True:  # the pump scans within about a second
        status, replied, _ = http.call("POST", f"/reports/{tid}/replies",
                                       {"message": "Surat keterangan RT terlampir.", "attachments": [document]},
                                       headers=reporter)
        pending = status == 400 and any(d.get("type") == "attachment_pending" for d in replied["error"]["details"])
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200, replied
    assert replied["status"] == "diajukan" and replied["timeline"][-1]["attachments"] == [document]

    status, link, _ = http.call("GET", f"/staff/reports/{tid}/attachments/{document}", headers=admin)
    assert status == 200 and link["expires_in"] == 300, link
    got = requests.get(link["url"], timeout=10)
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert got.headers["Content-Disposition"].startswith("attachment;")

    photo = upload(http, "image/jpeg", jpeg_with_gps((16, 16)), "lain.jpg")
    status, other = submit_when_checked(http, [photo])
    assert status == 201, other
    status, refused, _ = http.call("GET", f"/staff/reports/{tid}/attachments/{photo}", headers=admin)
    assert status == 404 and refused["error"]["code"] == "not_found"
