"""Files both ways: staff open a report's files (GET /staff/reports/{id}/attachments/{att}, each
link access-logged), an OPD's answer files reach the reporter (tracking view and download), and a
reporter's reply may carry files, claimed like a new report's."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.integration.test_observability import Lines, log_lines  # noqa: F401  (fixture)
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def staff_get(client: Any, tid: str, attachment_id: str, role: str, opd: str | None = None) -> Any:
    return client.http.get(f"/staff/reports/{tid}/attachments/{attachment_id}", headers=bearer(role, opd))


def reply(client: Any, created: dict[str, Any], **body: Any) -> Any:
    return client.http.post(f"/reports/{created['tracking_id']}/replies", body=json.dumps(body),
                            headers={"Content-Type": "application/json", "X-Access-Token": created["access_token"]})


def access_records(lines: Lines) -> list[dict[str, Any]]:
    out = []
    for line in lines.getvalue().splitlines():
        record = json.loads(line)
        if record.get("message") == "staff access" and record["access"]["what"] == "attachment_download":
            out.append(record["access"])
    return out


def with_photo(valid_report: dict[str, Any], privacy: str = "publik") -> tuple[dict[str, Any], str]:
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()
    return {**valid_report, "privacy": privacy, "attachments": [photo]}, photo


def test_admin_and_assigned_opd_download_and_each_link_is_logged(
        client: Any, valid_report: dict[str, Any], log_lines: Lines) -> None:  # noqa: F811
    api = Api(client)
    body, photo = with_photo(valid_report)
    created = api.submit(body)
    tid = created["tracking_id"]
    api.walk(created, "didisposisikan")
    log_lines.truncate(0)
    log_lines.seek(0)

    for role, opd in (("admin", None), ("opd", "DPUPR"), ("pimpinan", None)):
        r = staff_get(client, tid, photo, role, opd)
        assert r.status_code == 200, (role, r.body)
        assert r.json_body["expires_in"] == 300
        url = r.json_body["url"]
        assert urlparse(url).path.endswith(f"/clean/{photo}")
        assert parse_qs(urlparse(url).query)["response-content-disposition"][0].startswith("inline;")
        got = requests.get(url, timeout=10)
        assert got.status_code == 200 and got.content[:4] == b"\x89PNG"

    assert access_records(log_lines) == [
        {"what": "attachment_download", "sub": sub, "role": role, "rows": 1, "fields": ["attachment"],
         "tracking_id": tid, "attachment_id": photo}
        for sub, role in (("local-admin", "admin"), ("local-opd-dpupr", "opd"), ("local-pimpinan", "pimpinan"))]


def test_pdf_is_a_download(client: Any, valid_report: dict[str, Any]) -> None:
    from tests.attachment_support import clean_attachment

    pdf = clean_attachment(pdf=True)
    tid = Api(client).submit({**valid_report, "attachments": [pdf]})["tracking_id"]
    r = staff_get(client, tid, pdf, "admin")
    assert r.status_code == 200
    query = parse_qs(urlparse(r.json_body["url"]).query)
    assert query["response-content-disposition"][0].startswith("attachment;")
    assert query["response-content-type"] == ["application/pdf"]


@pytest.mark.parametrize("privacy, role, opd, status", [
    ("publik", "opd", "DINKES", 404),     # another OPD
    ("publik", "opd", "DPUPR", 200),      # the assigned OPD
    ("anonim", "opd", "DPUPR", 200),      # a file is the report's content, as its texts are
    ("anonim", "pimpinan", None, 200),
    ("rahasia", "pimpinan", None, 404),   # pimpinan never read a rahasia report
    ("rahasia", "opd", "DPUPR", 200),
    ("rahasia", "admin", None, 200),
])
def test_who_may_download(client: Any, valid_report: dict[str, Any], log_lines: Lines,  # noqa: F811
                          privacy: str, role: str, opd: str | None, status: int) -> None:
    api = Api(client)
    body, photo = with_photo(valid_report, privacy)
    created = api.submit(body)
    api.walk(created, "didisposisikan")
    log_lines.truncate(0)
    log_lines.seek(0)
    r = staff_get(client, created["tracking_id"], photo, role, opd)
    assert r.status_code == status, r.body
    if status == 404:
        assert r.json_body["error"]["code"] == "not_found"
        assert access_records(log_lines) == []  # a refusal hands out nothing, so logs nothing
    else:
        assert len(access_records(log_lines)) == 1


def test_an_opd_before_disposition_sees_nothing(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    body, photo = with_photo(valid_report)
    tid = api.submit(body)["tracking_id"]
    assert staff_get(client, tid, photo, "opd", "DPUPR").status_code == 404
    assert staff_get(client, tid, photo, "admin").status_code == 200


def test_unknown_foreign_and_unclean_files_are_404(client: Any, valid_report: dict[str, Any],
                                                   log_lines: Lines) -> None:  # noqa: F811
    from chalicelib.services import attachments
    from tests.attachment_support import clean_attachment

    api = Api(client)
    body, photo = with_photo(valid_report)
    tid = api.submit(body)["tracking_id"]
    other_body, other_photo = with_photo(valid_report)
    api.submit(other_body)
    loose = clean_attachment()  # clean, on no report
    pending = attachments.create("image/png", 100)["attachment_id"]
    log_lines.truncate(0)
    log_lines.seek(0)
    for attachment_id in (other_photo, loose, pending, "att_" + "0" * 32, "..%2F..%2Fetc"):
        r = staff_get(client, tid, attachment_id, "admin")
        assert r.status_code == 404, attachment_id
        assert r.json_body["error"]["code"] == "not_found"
        assert "Lampiran" in r.json_body["error"]["message"]
    assert staff_get(client, "KBB-0000-0000", photo, "admin").status_code == 404
    assert client.http.get(f"/staff/reports/{tid}/attachments/{photo}").status_code == 401
    assert access_records(log_lines) == []


def test_opd_answer_files_reach_the_reporter(client: Any, valid_report: dict[str, Any]) -> None:
    from tests.attachment_support import clean_attachment

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "didisposisikan")
    answer = clean_attachment(pdf=True)
    api.ok(tid, "opd", "DPUPR", action="respond", message="Sudah diperbaiki, berita acara terlampir.",
           attachments=[answer])

    view = api.reporter(created)
    assert view["attachments"] == []  # the submission's own files
    answered = [t for t in view["timeline"] if t["status"] == "ditindaklanjuti"]
    assert answered[-1]["attachments"] == [answer] and answered[-1]["actor"] == "opd"
    r = client.http.get(f"/reports/{tid}/attachments/{answer}", headers={"X-Access-Token": created["access_token"]})
    assert r.status_code == 200, r.body
    assert requests.get(r.json_body["url"], timeout=10).content.startswith(b"%PDF")
    # staff open it through their route too
    assert staff_get(client, tid, answer, "opd", "DPUPR").status_code == 200


def test_reporter_reply_carries_a_file_that_staff_open(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Attachment
    from tests.attachment_support import clean_attachment

    api = Api(client)
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "perlu_kelengkapan")
    document = clean_attachment(pdf=True)
    r = reply(client, created, message="Surat keterangan terlampir.", attachments=[document])
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "diajukan"
    assert r.json_body["timeline"][-1]["attachments"] == [document]
    assert Attachment.get(document, consistent_read=True).report_id == tid
    staff = api.get(tid, "admin").json_body
    assert staff["timeline"][-1]["attachments"] == [document]
    assert staff["audit_trail"][-1]["data"]["attachments"] == [document]
    assert staff_get(client, tid, document, "admin").status_code == 200
    got = client.http.get(f"/reports/{tid}/attachments/{document}", headers={"X-Access-Token": created["access_token"]})
    assert got.status_code == 200


def test_a_reply_with_a_file_not_the_reporters_changes_nothing(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.data.models import Attachment
    from chalicelib.services import attachments

    api = Api(client)
    other_body, other_photo = with_photo(valid_report)
    other_tid = api.submit(other_body)["tracking_id"]  # another reporter's file, already claimed
    created = api.submit(valid_report)
    tid = created["tracking_id"]
    api.walk(created, "perlu_kelengkapan")
    before = api.get(tid, "admin").json_body
    pending = attachments.create("image/png", 100)["attachment_id"]
    cases = [([other_photo], "attachment_in_use"), ([pending], "attachment_pending"),
             (["att_" + "0" * 32], "unknown"), (["bukan-id"], "format")]
    for ids, kind in cases:
        r = reply(client, created, message="Ini lampirannya.", attachments=ids)
        assert r.status_code == 400, (ids, r.body)
        assert r.json_body["error"]["details"][0]["type"] == kind, r.json_body
        assert r.json_body["error"]["details"][0]["field"].startswith("attachments")
    after = api.get(tid, "admin").json_body
    assert (after["version"], after["status"]) == (before["version"], "perlu_kelengkapan")
    assert Attachment.get(other_photo, consistent_read=True).report_id == other_tid
    assert Attachment.get(pending, consistent_read=True).report_id is None


def test_openapi_names_the_route_and_reply_files(client: Any) -> None:
    spec = client.http.get("/openapi.json").json_body
    path = spec["paths"]["/staff/reports/{tracking_id}/attachments/{attachment_id}"]["get"]
    assert "200" in path["responses"] and "404" in path["responses"]
    schemas = spec["components"]["schemas"]
    assert "attachments" in schemas["ReplyIn"]["properties"]
    assert "attachments" in schemas["TimelineEntry"]["properties"]
