"""Open311 GeoReport v2 under /open311/v2/ over moto in-process: shapes against the
specification's own examples (tests/fixtures/open311), privacy, filters, errors, CORS, partner
submission into the intake, and bounded reads."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # the element type only; parsing goes through defusedxml
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
import xmltodict
from defusedxml import ElementTree as SafeET

from chalicelib.domain import clock
from tests.staff_support import CANARY, Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "open311"
V2 = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BASE = {
    "type": "pengaduan", "title": "Jalan berlubang di Jl. Raya Lembang",
    "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
    "category": "jalan_rusak", "location": {"kecamatan": "Lembang", "desa": "Jayagiri", "address": "Jl. Raya Lembang 12",
                                            "lat": -6.81, "lon": 107.62},
}
LEAKY = (f"Saya {CANARY['name']}, hubungi {CANARY['phone']} atau {CANARY['email']}, "
         f"NIK {CANARY['nik']}. Lubang besar di depan pasar.")


def reporter(privacy: str) -> dict[str, Any]:
    return {"name": CANARY["name"], "email": CANARY["email"], "phone": CANARY["phone"], "nik": CANARY["nik"]}


def submit(api: Api, privacy: str = "publik", **over: Any) -> dict[str, Any]:
    body = {**BASE, "privacy": privacy, "reporter": reporter(privacy), **over}
    return api.submit(body)


def get(client: Any, path: str, **params: Any) -> Any:
    return client.http.get(f"{V2}/{path}" + (f"?{urlencode(params)}" if params else ""))


def text_of(response: Any) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else str(body)


def as_json(response: Any) -> Any:
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return json.loads(response.body)


def as_xml(response: Any) -> ET.Element:
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    text = text_of(response)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return SafeET.fromstring(text.encode())


def spec_xml(name: str) -> ET.Element:
    return SafeET.parse(SPEC / name).getroot()


def spec_json(name: str) -> Any:
    return json.loads((SPEC / name).read_text())


def tags(el: ET.Element) -> list[str]:
    return [c.tag for c in el]


def kind(value: Any) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", type(None): "null",
            list: "list", dict: "object"}[type(value)]


def same_keys(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours) == set(theirs), set(ours) ^ set(theirs)


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


@pytest.fixture
def partner_key(aws: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import contextlib
    import io

    from chalicelib import cli

    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # no local stack's environment
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["open311-key", "--name", "Mitra Uji"]) == 0
    return out.getvalue().strip().splitlines()[-1]


# ---- shapes: the spec's examples --------------------------------------------------------------

def test_services_have_the_spec_shape_in_both_formats(client: Any) -> None:
    ours = as_json(get(client, "services.json"))
    theirs = spec_json("services.json")
    same_keys(ours[0], theirs[0])
    assert {kind(ours[0][k]) for k in ("metadata",)} == {kind(theirs[0]["metadata"])}
    assert {s["service_code"] for s in ours} >= {"jalan_rusak", "sampah"}
    jalan = next(s for s in ours if s["service_code"] == "jalan_rusak")
    assert jalan["group"] == "Dinas Pekerjaan Umum dan Penataan Ruang" or jalan["group"]
    root, spec = as_xml(get(client, "services.xml")), spec_xml("services.xml")
    assert root.tag == spec.tag == "services"
    assert {c.tag for c in root} == {"service"}
    assert set(tags(root[0])) == set(tags(spec[0]))
    assert root[0].find("metadata").text in ("true", "false")  # type: ignore[union-attr]


def test_service_definition_lists_kecamatan_and_desa(client: Any) -> None:
    ours = as_json(get(client, "services/jalan_rusak.json"))
    theirs = spec_json("service_definition.json")
    same_keys(ours, theirs)
    same_keys(ours["attributes"][0], theirs["attributes"][0])
    kecamatan = ours["attributes"][0]
    assert kecamatan["code"] == "kecamatan" and kecamatan["datatype"] == "singlevaluelist" and kecamatan["required"]
    assert len(kecamatan["values"]) == 16 and {"key", "name"} == set(kecamatan["values"][0])
    desa = ours["attributes"][1]
    assert desa["code"] == "desa" and desa["datatype"] == "singlevaluelist" and not desa["required"]
    assert len(desa["values"]) == 165 and len({v["key"] for v in desa["values"]}) == 165
    assert {"key": "32.17.01.2008", "name": "Jayagiri (Kec. Lembang)"} in desa["values"]
    root, spec = as_xml(get(client, "services/jalan_rusak.xml")), spec_xml("service_definition.xml")
    assert root.tag == spec.tag and tags(root) == tags(spec)
    ours_attr, spec_attr = root.find("attributes/attribute"), spec.find("attributes/attribute")
    assert ours_attr is not None and spec_attr is not None and set(tags(ours_attr)) == set(tags(spec_attr))
    assert len(root.findall("attributes/attribute/values/value")) == 16 + 165
    assert set(tags(root.find("attributes/attribute/values/value"))) == {"key", "name"}  # type: ignore[arg-type]


def test_requests_have_the_spec_shape_and_our_mapping(client: Any, api: Api) -> None:
    created = submit(api)
    api.walk(created, "diproses")
    ours = as_json(get(client, "requests.json"))
    theirs = spec_json("requests.json")
    assert len(ours) == 1
    same_keys(ours[0], theirs[0])
    row = ours[0]
    assert row["service_request_id"] == created["tracking_id"]
    assert row["status"] == "open" and row["status_notes"].startswith("Diproses")
    assert row["service_code"] == "jalan_rusak" and row["service_name"] == "Jalan rusak"
    assert row["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        at = clock.parse(row[field])
        assert row[field].endswith("+07:00") and at.utcoffset() == timedelta(hours=7)
    assert row["requested_datetime"] == created["created_at"]
    assert row["lat"] == -6.81 and row["long"] == 107.62
    assert row["address"] == "Jl. Raya Lembang 12, Desa Jayagiri, Kec. Lembang"
    assert row["address_id"] == "32.17.01.2008"  # the desa's Kemendagri code
    root, spec = as_xml(get(client, "requests.xml")), spec_xml("requests.xml")
    assert root.tag == spec.tag == "service_requests" and {c.tag for c in root} == {"request"}
    assert tags(root[0]) == tags(spec[0])
    assert root[0].findtext("address_id") == "32.17.01.2008"
    single = as_xml(get(client, f"requests/{created['tracking_id']}.xml"))
    assert single.tag == "service_requests" and single[0].findtext("service_request_id") == created["tracking_id"]
    assert as_json(get(client, f"requests/{created['tracking_id']}.json")) == ours


def test_expected_datetime_is_the_current_due_date(client: Any, api: Api) -> None:
    from chalicelib.data import reports

    created = submit(api)
    api.walk(created, "didisposisikan")
    report = reports.get(created["tracking_id"])
    assert report is not None and report.due_at
    row = as_json(get(client, f"requests/{created['tracking_id']}.json"))[0]
    assert row["expected_datetime"] == clock.iso(clock.parse(report.due_at))


def test_closed_statuses_and_the_status_filter(client: Any, api: Api) -> None:
    open_one, done, rejected = submit(api), submit(api), submit(api)
    api.walk(done, "selesai")
    api.walk(rejected, "ditolak")
    rows = {r["service_request_id"]: r for r in as_json(get(client, "requests.json"))}
    assert rows[done["tracking_id"]]["status"] == "closed" and rows[rejected["tracking_id"]]["status"] == "closed"
    assert rows[done["tracking_id"]]["expected_datetime"] is None
    closed = {r["service_request_id"] for r in as_json(get(client, "requests.json", status="closed"))}
    assert closed == {done["tracking_id"], rejected["tracking_id"]}
    opened = {r["service_request_id"] for r in as_json(get(client, "requests.json", status="open"))}
    assert opened == {open_one["tracking_id"]}


def test_the_status_table_covers_every_status() -> None:
    from chalicelib.domain.workflow import ALL_STATUSES
    from chalicelib.services.open311 import STATUS_MAP

    assert set(STATUS_MAP) == {str(s) for s in ALL_STATUSES}


# ---- privacy ----------------------------------------------------------------------------------

def test_rahasia_never_appears_and_nobody_is_named(client: Any, api: Api) -> None:
    publik = submit(api, "publik", description=LEAKY)
    anonim = submit(api, "anonim", description=LEAKY)
    rahasia = submit(api, "rahasia", description=LEAKY)
    for path in ("requests.json", "requests.xml"):
        text = text_of(get(client, path))
        assert rahasia["tracking_id"] not in text
        assert publik["tracking_id"] in text and anonim["tracking_id"] in text
        for secret in (CANARY["name"], "Kanari", "Waluyo", "Sutisna", CANARY["email"], CANARY["nik"],
                       "9876", "+6281398765432"):
            assert secret not in text, (path, secret)
    ids = ",".join(c["tracking_id"] for c in (publik, anonim, rahasia, publik)) + ",kbb-zzzz-zzzz," + "X" * 3000
    listed = {r["service_request_id"] for r in as_json(get(client, "requests.json", service_request_id=ids))}
    assert listed == {publik["tracking_id"], anonim["tracking_id"]}
    for fmt in ("json", "xml"):
        hidden = get(client, f"requests/{rahasia['tracking_id']}.{fmt}")
        unknown = get(client, f"requests/KBB-ZZZZ-ZZZZ.{fmt}")
        assert hidden.status_code == unknown.status_code == 404
        assert text_of(hidden).replace(rahasia["tracking_id"], "X") == text_of(unknown).replace("KBB-ZZZZ-ZZZZ", "X")
    in_range = as_json(get(client, "requests.json", start_date=clock.iso(clock.now() - timedelta(days=1)),
                           end_date=clock.iso(clock.now() + timedelta(minutes=1))))
    assert {r["service_request_id"] for r in in_range} == {publik["tracking_id"], anonim["tracking_id"]}


def test_a_rahasia_report_stays_out_of_the_feed_index(api: Api) -> None:
    from chalicelib.data import reports

    rahasia, publik = submit(api, "rahasia"), submit(api, "publik")
    api.walk(rahasia, "diproses")
    api.walk(publik, "diproses")
    hidden, shown = reports.get(rahasia["tracking_id"]), reports.get(publik["tracking_id"])
    assert hidden is not None and hidden.updated_month is None
    assert shown is not None and shown.updated_month == clock.month_wib(clock.parse(shown.updated_at))
    assert shown.version > 1  # set by save_change as well as by create


def test_reports_stored_before_the_index_are_backfilled(client: Any, api: Api, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import io

    from chalicelib import cli
    from chalicelib.data.models import Report

    old, secret = submit(api), submit(api, "rahasia")
    for created in (old, secret):  # as stored before updated_month existed
        Report(created["tracking_id"]).update(actions=[Report.updated_month.remove()])
    assert as_json(get(client, "requests.json")) == []
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["open311-backfill", "--since", clock.month_wib(clock.now())]) == 0
    assert out.getvalue().startswith("1 report(s)")
    assert [r["service_request_id"] for r in as_json(get(client, "requests.json"))] == [old["tracking_id"]]


def test_media_url_is_a_short_link_to_the_clean_photo(client: Any, api: Api) -> None:
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()
    created = submit(api, attachments=[photo])
    row = as_json(get(client, f"requests/{created['tracking_id']}.json"))[0]
    url = urlparse(row["media_url"])
    assert url.path.endswith(f"/clean/{photo}") or url.path.endswith(f"clean/{photo}")
    assert "X-Amz-Expires=300" in url.query and "X-Amz-Signature=" in url.query
    no_photo = submit(api)
    assert as_json(get(client, f"requests/{no_photo['tracking_id']}.json"))[0]["media_url"] is None


# ---- filters, paging, errors -------------------------------------------------------------------

def test_service_code_date_paging_and_geo_filters(client: Any, api: Api) -> None:
    near = submit(api)
    far = submit(api, category="sampah", location={"kecamatan": "Cipatat", "lat": -6.83, "lon": 107.38})
    nowhere = submit(api, category="sampah", location={"kecamatan": "Cipatat"})
    ids = lambda rows: {r["service_request_id"] for r in rows}  # noqa: E731
    assert ids(as_json(get(client, "requests.json", service_code="sampah"))) == {far["tracking_id"], nowhere["tracking_id"]}
    around = as_json(get(client, "requests.json", lat=-6.8101, long=107.6201, radius=500))
    assert ids(around) == {near["tracking_id"]}
    boxed = as_json(get(client, "requests.json", bbox="107.3,-6.9,107.5,-6.7"))
    assert ids(boxed) == {far["tracking_id"]}
    first = as_json(get(client, "requests.json", page_size=2))
    second = as_json(get(client, "requests.json", page_size=2, page=2))
    assert len(first) == 2 and len(second) == 1 and ids(first) | ids(second) == {
        near["tracking_id"], far["tracking_id"], nowhere["tracking_id"]}
    past = as_json(get(client, "requests.json", start_date="2026-01-01T00:00:00+07:00",
                       end_date="2026-02-01T00:00:00+07:00"))
    assert past == []
    later = as_json(get(client, "requests.json", updated_after=clock.iso(clock.now() + timedelta(seconds=2))))
    assert later == []
    api.walk(near, "didisposisikan")
    recent = as_json(get(client, "requests.json", updated_after=clock.iso_utc(clock.now() - timedelta(seconds=30))))
    assert near["tracking_id"] in ids(recent)


@pytest.mark.parametrize("params", [
    {"start_date": "kemarin"}, {"end_date": "2026-11-01T00:00:00"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
    {"status": "pending"}, {"service_code": "tidak_ada"}, {"page": "0"}, {"page_size": "5000"},
    {"lat": "-6.8"}, {"lat": "nan", "long": "107"}, {"bbox": "1,2,3"}, {"updated_after": "2020-01-01T00:00:00Z"},
    {"service_request_id": ",".join(f"KBB-AAAA-{i:04d}" for i in range(51))},
])
def test_bad_filters_are_a_400_in_the_spec_error_shape(client: Any, params: dict[str, str]) -> None:
    r = get(client, "requests.json", **params)
    assert r.status_code == 400, r.body
    body = as_json(r)
    assert isinstance(body, list) and set(body[0]) == set(spec_json("errors.json")[0]) and body[0]["code"] == 400
    x = get(client, "requests.xml", **params)
    root = as_xml(x)
    assert x.status_code == 400 and root.tag == "errors" and tags(root[0]) == tags(spec_xml("errors.xml")[0])


@pytest.mark.parametrize("path", ["services/tidak_ada.json", "services/jalan_rusak.csv", "services/jalan_rusak",
                                  "requests/KBB-ZZZZ-ZZZZ.json", "requests/.json", "requests/" + "K" * 3000 + ".json"])
def test_unknown_services_and_ids_are_a_404(client: Any, path: str) -> None:
    r = get(client, path)
    assert r.status_code == 404 and as_json(r)[0]["code"] == 404


def test_gets_are_open_to_every_origin(client: Any) -> None:
    for path in ("services.json", "requests.xml", "requests/KBB-ZZZZ-ZZZZ.json"):
        r = client.http.get(f"{V2}/{path}", headers={"Origin": "https://peta.example.org"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.http.get("/categories", headers={"Origin": "https://x.org"}).headers


def test_discovery_names_the_endpoint(client: Any) -> None:
    ours = as_json(get(client, "discovery.json"))
    theirs = spec_json("discovery.json")
    same_keys(ours, theirs)
    same_keys(ours["endpoints"][0], theirs["endpoints"][0])
    assert ours["endpoints"][0]["url"].endswith("/open311/v2")
    assert ours["endpoints"][0]["specification"] == theirs["endpoints"][0]["specification"]


def test_every_route_is_in_the_openapi_description(client: Any) -> None:
    paths = json.loads(client.http.get("/openapi.json").body)["paths"]
    for path, method in [("/open311/v2/services.json", "get"), ("/open311/v2/services/{service_file}", "get"),
                         ("/open311/v2/requests.json", "get"), ("/open311/v2/requests.json", "post"),
                         ("/open311/v2/requests.xml", "post"), ("/open311/v2/requests/{request_file}", "get"),
                         ("/open311/v2/discovery.json", "get")]:
        assert method in paths[path], (path, method)
    post = paths["/open311/v2/requests.json"]["post"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]
    assert {"201", "400", "403"} <= set(post["responses"])


# ---- partner submission -----------------------------------------------------------------------

def post(client: Any, fmt: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return client.http.post(f"{V2}/requests.{fmt}", body=urlencode(form), headers={**FORM, **(headers or {})})


def form(key: str, **over: str) -> dict[str, str]:
    return {"api_key": key, "service_code": "jalan_rusak", "attribute[kecamatan]": "lembang",
            "attribute[desa]": "Jayagiri", "lat": "-6.81", "long": "107.62", "address_string": "Jl. Raya Lembang 40",
            "description": "Lubang besar di depan sekolah, sudah tiga minggu tidak diperbaiki.",
            "first_name": "Budi", "last_name": "Santoso", "email": "budi@example.net", **over}


def test_a_partner_submits_into_the_intake(client: Any, partner_key: str) -> None:
    from chalicelib.data import reports

    r = post(client, "json", form(partner_key))
    assert r.status_code == 201, r.body
    created = as_json(r)
    same_keys(created[0], spec_json("post_request.json")[0])
    tid = created[0]["service_request_id"]
    report = reports.get(tid)
    assert report is not None and report.source == "open311" and report.status == "diajukan"
    assert report.privacy == "publik" and report.reporter is not None and report.reporter.name == "Budi Santoso"
    assert report.location.kecamatan == "lembang" and report.location.desa == "32.17.01.2008"  # Jayagiri
    first = reports.events(tid)[0]
    assert first.action == "submit" and first.data["source"] == "open311"
    row = as_json(get(client, f"requests/{tid}.json"))[0]
    assert row["status"] == "open" and "Budi" not in json.dumps(row) and "budi@" not in json.dumps(row)
    x = post(client, "xml", form(partner_key, first_name="", last_name="", email=""))
    root = as_xml(x)
    assert x.status_code == 201 and tags(root[0]) == tags(spec_xml("post_request.xml")[0])
    nameless = reports.get(root[0].findtext("service_request_id") or "")
    assert nameless is not None and nameless.privacy == "anonim" and nameless.reporter is None


def test_the_api_key_is_stored_hashed_and_checked(client: Any, partner_key: str) -> None:
    import hashlib

    from chalicelib.data.models import ReferenceItem

    stored = list(ReferenceItem.query("open311_key"))
    assert [i.code for i in stored] == [hashlib.sha256(partner_key.encode()).hexdigest()]
    assert partner_key not in json.dumps([i.data for i in stored])
    for key in ("", "o311_salah", partner_key + "x"):
        r = post(client, "json", form(key))
        assert r.status_code == 403 and as_json(r)[0]["code"] == 403
    xml_refusal = post(client, "xml", form("o311_salah"))
    assert xml_refusal.status_code == 403 and as_xml(xml_refusal).tag == "errors"


@pytest.mark.parametrize("over", [{"service_code": "tidak_ada"}, {"attribute[kecamatan]": "Atlantis"},
                                  # a desa of Cipatat in Lembang; a code of no desa
                                  {"attribute[desa]": "32.17.07.2003"}, {"attribute[desa]": "32.17.01.9999"},
                                  {"attribute[kecamatan]": ""}, {"description": "pendek"}, {"lat": "utara"},
                                  {"email": "bukan-email"},
                                  # rahasia (a sensitive category) needs a reachable reporter
                                  {"service_code": "bansos", "first_name": "", "last_name": "", "email": ""}])
def test_a_bad_submission_is_a_400_and_stores_nothing(client: Any, partner_key: str, over: dict[str, str]) -> None:
    from chalicelib.data.models import Report

    r = post(client, "json", form(partner_key, **over))
    assert r.status_code == 400, r.body
    assert as_json(r)[0]["code"] == 400 and as_json(r)[0]["description"]
    assert Report.count() == 0


def test_a_retry_with_the_same_idempotency_key_creates_nothing(client: Any, partner_key: str) -> None:
    from chalicelib.data.models import Report

    headers = {"Idempotency-Key": "partner-retry-0001"}
    first, again = (post(client, "json", form(partner_key), headers) for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert as_json(first) == as_json(again) and Report.count() == 1


def test_chalices_own_refusals_take_the_spec_shape(client: Any, partner_key: str) -> None:
    r = client.http.post(f"{V2}/requests.xml", body=urlencode(form(partner_key)), headers={"Content-Type": "text/plain"})
    root = as_xml(r)
    assert r.status_code == 415 and root.tag == "errors" and root[0].findtext("code") == "415"


def test_revoked_keys_stop_working(client: Any, partner_key: str) -> None:
    from chalicelib.services import open311

    assert open311.revoke_keys("Mitra Uji") == 1
    assert post(client, "json", form(partner_key)).status_code == 403


def test_xml_and_json_answers_parse_with_a_third_party_parser(client: Any, api: Api) -> None:
    """xmltodict is the parser of the GeoReport client on PyPI (georeport, tests/e2e/test_open311_e2e.py)."""
    created = submit(api)
    parsed = xmltodict.parse(get(client, "requests.xml").body)["service_requests"]["request"]
    assert parsed["service_request_id"] == created["tracking_id"]
    services = xmltodict.parse(get(client, "services.xml").body)["services"]["service"]
    assert any(s["service_code"] == "jalan_rusak" for s in services)


# ---- bounded reads ------------------------------------------------------------------------------

def test_lists_are_index_queries_reading_one_item_per_request(client: Any, api: Api) -> None:
    from bench.reads import metered

    for _ in range(6):
        submit(api)
    submit(api, "rahasia")
    with metered() as meter:
        rows = as_json(get(client, "requests.json", page_size=4))
    assert len(rows) == 4
    assert meter.calls["Scan"] == 0 and meter.calls["Query"] >= 1
    reports_table = next(t for t in meter.items if "reports" in t)
    assert meter.items[reports_table] == 4, meter.items
