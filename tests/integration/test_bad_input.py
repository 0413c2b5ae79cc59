"""Each kind of bad input gets a 4xx in the contract's shape, and stores nothing."""
from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.conftest import VALID_REPORT


def _with(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(VALID_REPORT)
    *parents, leaf = path.split(".")
    target = body
    for p in parents:
        target = target[p]
    if value is _DELETE:
        del target[leaf]
    else:
        target[leaf] = value
    return body


_DELETE = object()
J = "application/json"

# (name, raw body or dict, content type, expected status, field named in details or None)
CASES: list[tuple[str, Any, str, int, str | None]] = [
    ("malformed_json", b'{"type": "pengaduan",', J, 400, "body"),
    ("empty_body", b"", J, 400, "body"),
    ("json_array", b"[1, 2]", J, 400, "body"),
    ("json_string", b'"laporan"', J, 400, "body"),
    ("wrong_content_type", b"type=pengaduan", "application/x-www-form-urlencoded", 415, None),
    ("text_plain", b"{}", "text/plain", 415, None),
    ("oversize_body", json.dumps(_with("description", "x" * 70000)).encode(), J, 413, None),
    ("missing_type", _with("type", _DELETE), J, 400, "type"),
    ("unknown_type", _with("type", "keluhan"), J, 400, "type"),
    ("type_not_string", _with("type", 3), J, 400, "type"),
    ("missing_title", _with("title", _DELETE), J, 400, "title"),
    ("short_title", _with("title", "abc"), J, 400, "title"),
    ("long_title", _with("title", "x" * 151), J, 400, "title"),
    ("title_number", _with("title", 12345), J, 400, "title"),
    ("short_description", _with("description", "terlalu pendek"), J, 400, "description"),
    ("long_description", _with("description", "x" * 4001), J, 400, "description"),
    ("missing_location", _with("location", _DELETE), J, 400, "location"),
    ("missing_kecamatan", _with("location.kecamatan", _DELETE), J, 400, "location.kecamatan"),
    ("unknown_kecamatan", _with("location.kecamatan", "Coblong"), J, 400, "location.kecamatan"),
    ("lat_out_of_range", _with("location.lat", -123.0), J, 400, "location.lat"),
    ("lat_as_string", _with("location.lat", "-6.8"), J, 400, "location.lat"),
    ("future_incident_date", _with("incident_date", "2999-01-01"), J, 400, "incident_date"),
    ("bad_incident_date", _with("incident_date", "31-12-2025"), J, 400, "incident_date"),
    ("unknown_privacy", _with("privacy", "rahasia_sekali"), J, 400, "privacy"),
    ("unknown_top_field_status", _with("status", "selesai"), J, 400, "status"),
    ("unknown_top_field_opd_assignment", _with("assigned_opd", "DINSOS"), J, 400, "assigned_opd"),
    ("unknown_top_field_due", _with("due_at", "2026-01-01T00:00:00+07:00"), J, 400, "due_at"),
    ("unknown_reporter_field", _with("reporter.role", "admin"), J, 400, "reporter.role"),
    ("nik_short", _with("reporter.nik", "32170145089"), J, 400, "reporter.nik"),
    ("nik_leading_zero", _with("reporter.nik", "0217014508900001"), J, 400, "reporter.nik"),
    ("nik_serial_zero", _with("reporter.nik", "3217014508900000"), J, 400, "reporter.nik"),
    ("nik_bad_month", _with("reporter.nik", "3217014513900001"), J, 400, "reporter.nik"),
    ("nik_letters", _with("reporter.nik", "32170145089OOO01"), J, 400, "reporter.nik"),
    ("bad_phone", _with("reporter.phone", "12-ab"), J, 400, "reporter.phone"),
    ("short_phone", _with("reporter.phone", "0812"), J, 400, "reporter.phone"),
    ("foreign_phone", _with("reporter.phone", "+1 202 555 0100"), J, 400, "reporter.phone"),
    ("foreign_mobile", _with("reporter.phone", "+44 7911 123456"), J, 400, "reporter.phone"),
    ("bad_email", _with("reporter.email", "siti@@example"), J, 400, "reporter.email"),
    ("no_name_not_anonymous", _with("reporter.name", _DELETE), J, 400, "reporter.name"),
    ("no_contact_not_anonymous", _with("reporter", {"name": "Siti"}), J, 400, "reporter.email"),
    ("unknown_category", _with("category", "ufo"), J, 400, "category"),
    ("unknown_opd", _with("opd_code", "NASA"), J, 400, "opd_code"),
    ("attachment_not_id", _with("attachments", ["../../etc/passwd"]), J, 400, "attachments.0"),
    ("attachments_not_list", _with("attachments", "att_x"), J, 400, "attachments"),
    ("too_many_attachments", _with("attachments", [f"att_{i:032x}" for i in range(6)]), J, 400, "attachments"),
    ("null_title", _with("title", None), J, 400, "title"),
    ("nan_lat", b'{"type":"aspirasi","title":"Judul laporan","description":"Deskripsi yang cukup panjang untuk lolos","location":{"kecamatan":"Lembang","lat":NaN},"privacy":"anonim"}', J, 400, None),
]


# Words pydantic's and our former English messages used; none belongs in an Indonesian message.
ENGLISH = re.compile(r"\b(the|should|must|is|are|not|required|invalid|characters|input|field|only|"
                     r"unknown|allowed|number|least|most|larger|body)\b", re.IGNORECASE)


def test_messages_say_the_limit_in_indonesian(client: Any) -> None:
    r = client.http.post("/reports", body=json.dumps(_with("title", "abc")), headers={"Content-Type": J})
    detail = next(d for d in r.json_body["error"]["details"] if d["field"] == "title")
    assert (detail["type"], detail["message"]) == ("string_too_short", "minimal 5 karakter")
    assert r.json_body["error"]["message"] == "Permintaan tidak valid; periksa isian yang disebut."
    r = client.http.get("/reports/KBB-0000-0000", headers={"X-Access-Token": "x" * 20})
    assert r.json_body["error"]["message"] == "Tidak ada laporan dengan nomor dan kode akses ini."


@pytest.mark.parametrize("name,body,content_type,status,field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_contract_shape(client: Any, name: str, body: Any, content_type: str,
                                                status: int, field: str | None) -> None:
    from chalicelib.data.models import LedgerItem, Report, ReportEvent

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.http.post("/reports", body=raw, headers={"Content-Type": content_type})
    assert r.status_code == status, r.body
    err = json.loads(r.body)["error"]
    assert set(err) == {"code", "message", "details"}
    assert err["code"] == {400: "validation_error", 413: "too_large", 415: "unsupported_media_type"}[status]
    if field is not None:
        assert field in [d["field"] for d in err["details"]], err["details"]
    assert b"Traceback" not in r.body and b"3217014508900001" not in r.body
    said = " ".join([err["message"], *(str(d.get("message", "")) for d in err["details"])])
    assert not ENGLISH.search(said), said  # citizens and officers read Indonesian
    assert Report.count() == 0 and ReportEvent.count() == 0 and LedgerItem.count() == 0


def test_there_are_at_least_thirty_kinds() -> None:
    assert len(CASES) >= 30


def test_bad_idempotency_key_is_a_400(client: Any) -> None:
    r = client.http.post("/reports", body=json.dumps(VALID_REPORT),
                         headers={"Content-Type": J, "Idempotency-Key": "short"})
    assert r.status_code == 400
    assert json.loads(r.body)["error"]["details"][0]["field"] == "Idempotency-Key"


def test_a_foreign_phone_is_refused_in_indonesian_and_a_landline_kept_untexted(client: Any) -> None:
    from chalicelib.data.models import Report
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import notify

    r = client.http.post("/reports", body=json.dumps(_with("reporter.phone", "+234 803 123 4567")),
                         headers={"Content-Type": J})
    assert r.status_code == 400
    detail = next(d for d in json.loads(r.body)["error"]["details"] if d["field"] == "reporter.phone")
    assert "nomor Indonesia" in detail["message"]

    body = _with("reporter.phone", "(022) 6867-1234")
    body["reporter"]["email"] = "warga@example.net"
    r = client.http.post("/reports", body=json.dumps(body), headers={"Content-Type": J})
    assert r.status_code == 201, r.body
    report = Report.get(r.json_body["tracking_id"])
    assert report.reporter.phone == "+622268671234"  # kept, for a call back
    submitted = DomainEvent(tracking_id=report.tracking_id, seq=1, action="submit", at=report.created_at,
                            actor="pelapor", to_status="diajukan", public=True)
    sent = [m for n in notify.plan(submitted, report) for m in notify.messages(n, submitted, report)
            if n.audience == "pelapor"]
    assert [m.channel for m in sent] == ["email"]  # the confirmation: email yes, SMS to a landline no
