"""Open311 GeoReport v2 under /open311/v2/ (docs/OPEN311.md): parse, call
chalicelib/services/open311.py, answer in the format the extension names.

API Gateway path parts are whole parameters: `requests/{request_file}` is one parameter
(`KBB-7K3M-Q9XD.json`) that this module splits into the id and the format. `services.json` and
friends are explicit routes. Errors are the spec's array of {code, description}, in the same
format; the middleware (chalicelib/api/http.py) calls `error_response` for every error on these
paths, Chalice's own included, and opens GETs to every origin (CORS `*`).
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from chalice import Response

from chalicelib.api.http import client_ip, current_request, header, idempotency_key, query, route
from chalicelib.domain import clock
from chalicelib.domain.errors import DomainError, Invalid, NotFound
from chalicelib.services import open311

PREFIX = "/open311/v2"
XML = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORM = "application/x-www-form-urlencoded"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00+07:00"
TAGS = ["open311"]

# Outer element and the element of each item, per document (the spec's XML shapes).
_XML_SHAPES = {"services": ("services", "service"), "requests": ("service_requests", "request"),
               "errors": ("errors", "error")}
_XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


# ---- rendering -------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(tag: str, value: Any) -> ET.Element:
    el = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, sub in value.items():
            el.append(_element(key, sub))
    elif isinstance(value, list):
        for sub in value:
            el.append(_element(_XML_ITEMS.get(tag, "item"), sub))
    else:
        el.text = _text(value)
    return el


def to_xml(document: str, body: Any) -> str:
    """`body` as the spec's XML: a list under its outer element, or one object (`document` is then
    its root element, e.g. service_definition, discovery)."""
    if document in _XML_SHAPES:
        outer, inner = _XML_SHAPES[document]
        root = ET.Element(outer)
        for item in body:
            root.append(_element(inner, item))
    else:
        root = _element(document, body)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def answer(fmt: str, document: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if fmt == "xml":
        text, content_type = to_xml(document, body), XML
    else:
        text, content_type = json.dumps(body, ensure_ascii=False, separators=(",", ":")), JSON_TYPE
    return Response(body=text, status_code=status, headers={"Content-Type": content_type, **(headers or {})})


def error_response(status: int, description: str, fmt: str) -> Response:
    return answer(fmt, "errors", [{"code": status, "description": description}], status)


def describe(exc: DomainError) -> str:
    """A domain error of the services (a validation error names its fields) as one description."""
    parts = [f"{d.get('field')}: {d.get('message')}" for d in exc.details if isinstance(d, Mapping) and d.get("field")]
    return exc.message + (" (" + "; ".join(parts) + ")" if parts else "")


def format_of(path: str, params: Mapping[str, Any] | None) -> str:
    """The format a request on these paths asked for: its extension, on the path or a parameter."""
    for value in [path, *(params or {}).values()]:
        if str(value).endswith(".xml"):
            return "xml"
    return "json"


def _split(file: str) -> tuple[str, str]:
    """`KBB-7K3M-Q9XD.json` -> (id, "json"); any other extension: 404, as an unknown resource."""
    stem, dot, ext = file.rpartition(".")
    if not dot or not stem or ext not in ("json", "xml"):
        raise NotFound(f"'{file}' tidak dikenal: gunakan <id>.json atau <id>.xml.")
    return stem, ext


# ---- OpenAPI ---------------------------------------------------------------------------------

_ERRORS_SCHEMA = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}
_REQUEST_SCHEMA = {"type": "object", "required": ["service_request_id", "status", "service_code"], "properties": {
    "service_request_id": {"type": "string"}, "status": {"enum": ["open", "closed"]},
    "status_notes": {"type": ["string", "null"]}, "service_name": {"type": "string"},
    "service_code": {"type": "string"}, "description": {"type": "string"},
    "agency_responsible": {"type": "string"}, "service_notice": {"type": "string"},
    "requested_datetime": {"type": "string", "format": "date-time"},
    "updated_datetime": {"type": "string", "format": "date-time"},
    "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
    "address": {"type": "string"}, "zipcode": {"type": "null"},
    "address_id": {"type": ["string", "null"], "description": "the desa's Kemendagri code"},
    "lat": {"type": ["number", "null"]}, "long": {"type": ["number", "null"]},
    "media_url": {"type": ["string", "null"]}}}
_SERVICE_SCHEMA = {"type": "object", "required": ["service_code", "service_name"], "properties": {
    "service_code": {"type": "string"}, "service_name": {"type": "string"}, "description": {"type": "string"},
    "metadata": {"type": "boolean"}, "type": {"enum": ["realtime", "batch", "blackbox"]},
    "keywords": {"type": "string"}, "group": {"type": "string"}}}
_DEFINITION_SCHEMA = {"type": "object", "required": ["service_code", "attributes"], "properties": {
    "service_code": {"type": "string"}, "attributes": {"type": "array", "items": {"type": "object"}}}}
_CREATED_SCHEMA = {"type": "array", "items": {"type": "object", "required": ["service_request_id"], "properties": {
    "service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
    "account_id": {"type": "null"}}}}
_DISCOVERY_SCHEMA = {"type": "object", "required": ["endpoints"], "properties": {
    "changeset": {"type": "string"}, "contact": {"type": "string"}, "key_service": {"type": "string"},
    "endpoints": {"type": "array", "items": {"type": "object"}}}}


def _doc(schema: dict[str, Any], fmts: tuple[str, ...], codes: tuple[int, ...], status: int = 200) -> dict[str, Any]:
    def content(s: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "json" in fmts:
            out["application/json"] = {"schema": s}
        if "xml" in fmts:
            out["text/xml"] = {"schema": {"type": "string"}}
        return out

    doc = {str(status): {"description": "OK", "content": content(schema)}}
    for code in codes:
        doc[str(code)] = {"description": "Open311 errors: [{code, description}]", "content": content(_ERRORS_SCHEMA)}
    return doc


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_LIST_PARAMS = [
    _q("service_request_id", {"type": "string"}, "ids, comma separated (at most 50); overrides every other filter"),
    _q("service_code", {"type": "string"}, "service codes, comma separated"),
    _q("start_date", {"type": "string", "format": "date-time"}, "requested_datetime from (ISO 8601 with offset)"),
    _q("end_date", {"type": "string", "format": "date-time"}, "requested_datetime to; a range spans at most 90 days"),
    _q("status", {"type": "string"}, "open, closed or both, comma separated"),
    _q("updated_after", {"type": "string", "format": "date-time"}, "changed after (at most 90 days back)"),
    _q("page", {"type": "integer", "minimum": 1}, "page number, from 1"),
    _q("page_size", {"type": "integer", "minimum": 1, "maximum": open311.MAX_PAGE_SIZE}, "requests per page"),
    _q("lat", {"type": "number", "minimum": -90, "maximum": 90}, "centre latitude (with long)"),
    _q("long", {"type": "number", "minimum": -180, "maximum": 180}, "centre longitude (with lat)"),
    _q("radius", {"type": "number", "exclusiveMinimum": 0, "maximum": 50000}, "metres around lat/long (default 1000)"),
    _q("bbox", {"type": "string"}, "min_long,min_lat,max_long,max_lat"),
]
_FORM_SCHEMA = {"type": "object", "required": ["api_key", "service_code", "description", "attribute[kecamatan]"],
                "properties": {
                    "api_key": {"type": "string"}, "service_code": {"type": "string"},
                    "description": {"type": "string", "minLength": 20, "maxLength": 4000},
                    "attribute[kecamatan]": {"type": "string"}, "attribute[desa]": {"type": "string"},
                    "lat": {"type": "number"}, "long": {"type": "number"}, "address_string": {"type": "string"},
                    "email": {"type": "string"}, "phone": {"type": "string"}, "first_name": {"type": "string"},
                    "last_name": {"type": "string"}, "device_id": {"type": "string"}, "account_id": {"type": "string"},
                    "media_url": {"type": "string"}}}
_POST_BODY = {"required": True, "content": {FORM: {"schema": _FORM_SCHEMA}}}


# ---- routes ----------------------------------------------------------------------------------

def _base_url() -> str:
    request = current_request()
    host = header(request, "host") or "localhost"
    proto = header(request, "x-forwarded-proto") or ("https" if "amazonaws.com" in host else "http")
    stage = (request.context or {}).get("stage") if "execute-api" in host else None
    return f"{proto}://{host}" + (f"/{stage}" if stage else "") + PREFIX


@route(f"{PREFIX}/discovery.json", "GET", summary="Open311 service discovery", tags=TAGS,
       openapi_responses=_doc(_DISCOVERY_SCHEMA, ("json",), ()))
def discovery() -> Any:
    return answer("json", "discovery", {
        "changeset": CHANGESET,
        "contact": "Diskominfotik Kabupaten Bandung Barat, pengaduan@diskominfotik.bandungbaratkab.go.id",
        "key_service": "api_key untuk POST: diterbitkan oleh Diskominfotik KBB (python -m chalicelib.cli open311-key)",
        "endpoints": [{"specification": SPEC, "url": _base_url(), "changeset": CHANGESET,
                       "type": "production" if os.environ.get("STAGE") == "prod" else "test",
                       "formats": ["text/xml", "application/json"]}],
    })


def _services(fmt: str) -> Response:
    return answer(fmt, "services", open311.services())


@route(f"{PREFIX}/services.json", "GET", summary="Open311 services (our categories), JSON", tags=TAGS,
       openapi_responses=_doc({"type": "array", "items": _SERVICE_SCHEMA}, ("json",), ()))
def services_json() -> Any:
    return _services("json")


@route(f"{PREFIX}/services.xml", "GET", summary="Open311 services (our categories), XML", tags=TAGS,
       openapi_responses=_doc({}, ("xml",), ()))
def services_xml() -> Any:
    return _services("xml")


@route(f"{PREFIX}/services/{{service_file}}", "GET", summary="Open311 service definition (<code>.json|.xml)",
       tags=TAGS, openapi_responses=_doc(_DEFINITION_SCHEMA, ("json", "xml"), (404,)))
def service_definition(service_file: str) -> Any:
    code, fmt = _split(service_file)
    return answer(fmt, "service_definition", open311.service_definition(code))


@route(f"{PREFIX}/requests/{{request_file}}", "GET", summary="One Open311 service request (<id>.json|.xml)",
       tags=TAGS, openapi_responses=_doc({"type": "array", "items": _REQUEST_SCHEMA}, ("json", "xml"), (404,)))
def one_request(request_file: str) -> Any:
    request_id, fmt = _split(request_file)
    return answer(fmt, "requests", [open311.get_request(request_id)])


def _list(fmt: str) -> Response:
    return answer(fmt, "requests", open311.list_requests(parse_query(query(current_request()))))


@route(f"{PREFIX}/requests.json", "GET", summary="Open311 service requests, JSON", tags=TAGS,
       parameters=_LIST_PARAMS,
       openapi_responses=_doc({"type": "array", "items": _REQUEST_SCHEMA}, ("json",), (400,)))
def requests_json() -> Any:
    return _list("json")


@route(f"{PREFIX}/requests.xml", "GET", summary="Open311 service requests, XML", tags=TAGS,
       parameters=_LIST_PARAMS, openapi_responses=_doc({}, ("xml",), (400,)))
def requests_xml() -> Any:
    return _list("xml")


_IDEMPOTENCY = [{"name": "Idempotency-Key", "in": "header", "required": False,
                 "schema": {"type": "string", "minLength": 8, "maxLength": 128},
                 "description": "A retry with the same key and form returns the first answer"}]


def _post(fmt: str) -> Response:

    request = current_request()
    raw = request.raw_body or b""
    form = parse_form(raw if isinstance(raw, bytes) else raw.encode(), header(request, "content-type") or "")
    form.setdefault("api_key", query(request).get("api_key", ""))
    key = idempotency_key(request)
    created = open311.submit(form, key, client_ip(request))
    return answer(fmt, "requests", [created], 201)


@route(f"{PREFIX}/requests.json", "POST", summary="Submit an Open311 service request (partner api_key), JSON",
       tags=TAGS, parameters=_IDEMPOTENCY, openapi_request=_POST_BODY,
       openapi_responses=_doc(_CREATED_SCHEMA, ("json",), (400, 403, 409, 413, 415, 429), 201))
def post_json() -> Any:
    return _post("json")


@route(f"{PREFIX}/requests.xml", "POST", summary="Submit an Open311 service request (partner api_key), XML",
       tags=TAGS, parameters=_IDEMPOTENCY, openapi_request=_POST_BODY,
       openapi_responses=_doc({}, ("xml",), (400, 403, 409, 413, 415, 429), 201))
def post_xml() -> Any:
    return _post("xml")


# ---- parsing ---------------------------------------------------------------------------------

def parse_form(raw: bytes, content_type: str) -> dict[str, str]:
    """The spec's form (application/x-www-form-urlencoded); a JSON object is accepted too."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("Isi permintaan harus UTF-8.") from None
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text or "{}")
        except ValueError:
            raise Invalid("JSON tidak valid.") from None
        if not isinstance(data, dict):
            raise Invalid("Isi permintaan harus berupa objek.")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _bad(name: str, why: str) -> Invalid:
    return Invalid(f"{name}: {why}")


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace(" ", "+"))  # a '+' unescaped in a URL is a space
    except ValueError:
        raise _bad(name, "bukan tanggal-waktu ISO 8601 (contoh 2026-11-01T00:00:00+07:00)") from None
    if at.tzinfo is None:
        raise _bad(name, "zona waktu wajib ada (Z atau +07:00)")
    return at


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, "harus bilangan bulat") from None
    if not low <= number <= high:
        raise _bad(name, f"harus antara {low} dan {high}")
    return number


def _float(params: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise _bad(name, "harus angka") from None
    if not (low <= number <= high):  # also refuses nan
        raise _bad(name, f"harus antara {low:g} dan {high:g}")
    return number


def _list_of(params: Mapping[str, str], name: str) -> list[str]:
    return [p.strip() for p in (params.get(name) or "").split(",") if p.strip()]


def parse_query(params: Mapping[str, str]) -> open311.RequestQuery:
    """The query of GET requests, or a 400 naming the bad parameter."""
    from chalicelib.data import reference

    now = clock.now()
    ids = _list_of(params, "service_request_id")
    if len(ids) > open311.MAX_IDS:
        raise _bad("service_request_id", f"paling banyak {open311.MAX_IDS} id")
    codes = _list_of(params, "service_code")
    unknown = sorted(set(codes) - set(reference.categories())) if codes else []
    if unknown:
        raise _bad("service_code", "tidak dikenal: " + ", ".join(unknown))
    statuses = {s.lower() for s in _list_of(params, "status")}
    if statuses - {"open", "closed"}:
        raise _bad("status", "hanya open atau closed")
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start and end and start > end:
        raise _bad("start_date", "setelah end_date")
    if start and end and end - start > open311.DEFAULT_WINDOW:
        raise _bad("end_date", "rentang paling lama 90 hari")
    if start and start > now:
        raise _bad("start_date", "di masa depan")
    updated_after = _date(params, "updated_after")
    if updated_after and (start or end):
        raise _bad("updated_after", "tidak dapat digabung dengan start_date/end_date")
    if updated_after and updated_after < now - open311.DEFAULT_WINDOW:
        raise _bad("updated_after", "paling jauh 90 hari ke belakang")
    page = _int(params, "page", 1, 1, 10_000)
    page_size = _int(params, "page_size", open311.DEFAULT_PAGE_SIZE, 1, open311.MAX_PAGE_SIZE)
    if (page - 1) * page_size > open311.MAX_OFFSET:
        raise _bad("page", f"paling jauh {open311.MAX_OFFSET} permintaan dilewati; persempit rentang tanggal")
    lat, lon = _float(params, "lat", -90, 90), _float(params, "long", -180, 180)
    radius = _float(params, "radius", 1e-9, 50_000)
    if (lat is None) != (lon is None) or (radius is not None and lat is None):
        raise _bad("lat", "lat dan long diberikan bersama (radius opsional)")
    bbox = None
    if params.get("bbox") is not None:
        parts = _list_of(params, "bbox")
        try:
            box = tuple(float(p) for p in parts)
        except ValueError:
            box = ()
        if len(box) != 4 or not (-180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90):
            raise _bad("bbox", "min_long,min_lat,max_long,max_lat")
        bbox = (box[0], box[1], box[2], box[3])
    return open311.RequestQuery(
        ids=tuple(ids), service_codes=frozenset(codes), statuses=frozenset(statuses), start=start, end=end,
        updated_after=updated_after, page=page, page_size=page_size,
        near=(lat, lon, radius or 1000.0) if lat is not None and lon is not None else None, bbox=bbox, now=now)
