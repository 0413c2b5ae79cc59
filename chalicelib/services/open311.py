"""Open311 GeoReport v2: our categories as services and our public reports as service requests
(docs/OPEN311.md). Speaks the domain and returns plain values; chalicelib/api/open311.py renders
them as JSON or XML.

Privacy holds here, not in the renderer: a `rahasia` report is never read for a list (the feed's
index, `by_updated_month`, does not hold it; the date-range query filters it out and every row is
checked again) and is a 404 by id; no request carries the reporter's name, contact or NIK; every
free text goes through the redaction of texts that leave the regency. Nothing is cached: a report
erased or made rahasia is gone from the next answer.
"""
from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.data import partner_keys, reference, report_queries, reports
from chalicelib.domain import clock
from chalicelib.domain.errors import Forbidden, Invalid, NotFound
from chalicelib.domain.redaction import redact_text
from chalicelib.domain.tracking import normalise_tracking_id
from chalicelib.domain.workflow import CLOSED_STATUSES

if TYPE_CHECKING:
    from chalicelib.data.models import Report

VERIFIER = "DISKOMINFOTIK"  # answers for a report until it is forwarded to an OPD
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default (and largest) date range
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 2000  # (page - 1) * page_size: offset paging reads what it skips
MAX_IDS = 50
READ_BUDGET = 3000  # items one list request may read, whatever its filters

# Our status -> (Open311 status, status_notes). The one table of docs/OPEN311.md.
STATUS_MAP: dict[str, tuple[str, str]] = {
    "diajukan": ("open", "Diajukan: menunggu verifikasi Diskominfotik."),
    "perlu_kelengkapan": ("open", "Perlu kelengkapan: menunggu keterangan tambahan dari pelapor."),
    "didisposisikan": ("open", "Didisposisikan: diteruskan ke OPD yang berwenang."),
    "diproses": ("open", "Diproses: OPD sedang menindaklanjuti."),
    "dikembalikan": ("open", "Dikembalikan: OPD menyatakan bukan wewenangnya; Diskominfotik meneruskan ulang."),
    "ditindaklanjuti": ("open", "Ditindaklanjuti: OPD telah menjawab; menunggu konfirmasi pelapor."),
    "ditolak": ("closed", "Ditolak: laporan tidak memenuhi syarat."),
    "selesai": ("closed", "Selesai."),
}
if {s for s, (o, _) in STATUS_MAP.items() if o == "closed"} != {str(s) for s in CLOSED_STATUSES}:
    raise RuntimeError("STATUS_MAP and the workflow disagree on which statuses are closed")


@dataclass(frozen=True)
class RequestQuery:
    """GET requests: the spec's filters and the common extensions, already validated."""

    ids: tuple[str, ...] = ()
    service_codes: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()  # open, closed
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    near: tuple[float, float, float] | None = None  # lat, long, radius in metres
    bbox: tuple[float, float, float, float] | None = None  # min_long, min_lat, max_long, max_lat
    now: datetime = field(default_factory=clock.now)


# ---- services --------------------------------------------------------------------------------

def services() -> list[dict[str, Any]]:
    opds = reference.opds()
    out = []
    for code, cat in sorted(reference.categories().items()):
        opd = opds.get(str(cat.get("opd_code") or ""), {})
        out.append({
            "service_code": code,
            "service_name": str(cat["name"]),
            "description": str(cat.get("description") or cat["name"]),
            "metadata": True,  # the kecamatan attribute is required
            "type": "realtime",
            "keywords": str(cat.get("keywords") or ""),
            "group": str(opd.get("name") or "Lainnya"),
        })
    return out


def service_definition(code: str) -> dict[str, Any]:
    if code not in reference.categories():
        raise NotFound(f"Layanan '{code}' tidak dikenal.")
    kecamatan = sorted(reference.kecamatan().items(), key=lambda kv: str(kv[1]["name"]))
    # GeoReport v2 has no list that depends on another attribute: the desa are one list of the
    # regency's 165, keyed by Kemendagri code, each named with its kecamatan; a desa outside the
    # chosen kecamatan is refused on POST like on the web form.
    desa = sorted((str(d["code"]), f"{d['name']} (Kec. {k['name']})") for _, k in kecamatan for d in k.get("desa", ()))
    attributes = [{
        "variable": True, "code": "kecamatan", "datatype": "singlevaluelist", "required": True,
        "datatype_description": "Kode kecamatan (lihat GET /kecamatan)", "order": 1,
        "description": "Kecamatan lokasi laporan",
        "values": [{"key": c, "name": str(k["name"])} for c, k in kecamatan],
    }, {
        "variable": True, "code": "desa", "datatype": "singlevaluelist", "required": False,
        "datatype_description": "Kode Kemendagri desa/kelurahan di kecamatan yang dipilih (32.17.xx.xxxx)",
        "order": 2, "description": "Desa/kelurahan lokasi laporan",
        "values": [{"key": key, "name": name} for key, name in desa],
    }]
    return {"service_code": code, "attributes": attributes}


# ---- requests --------------------------------------------------------------------------------

def _iso(value: str | None) -> str | None:
    return clock.iso(clock.parse(value)) if value else None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _reporter(report: Report) -> dict[str, Any]:
    rep = report.reporter
    return {"name": rep.name, "email": rep.email, "phone": rep.phone} if rep is not None else {}


def request_view(report: Report, media_url: str | None = None) -> dict[str, Any]:
    """One report as an Open311 service request. Never called for a rahasia report."""
    if report.privacy == "rahasia":
        raise ValueError("a rahasia report is never an Open311 request")
    status, notes = STATUS_MAP[report.status]
    categories = reference.categories()
    code = report.category or "lainnya"
    opd = reference.opds().get(report.opd_code or VERIFIER, {})
    reporter = _reporter(report)
    text = f"{report.title}\n\n{report.description}"
    loc = report.location
    desa = reference.desa_names().get(loc.desa, loc.desa) if loc.desa else None
    address = ", ".join(p for p in (loc.address, f"Desa {desa}" if desa else None,
                                    f"Kec. {_kecamatan_name(report.kecamatan)}") if p)
    return {
        "service_request_id": report.tracking_id,
        "status": status,
        "status_notes": notes,
        "service_name": str(categories.get(code, {}).get("name", code)),
        "service_code": code,
        "description": redact_text(text, reporter),
        "agency_responsible": str(opd.get("name") or report.opd_code or VERIFIER),
        "service_notice": "",
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": _iso(report.due_at) if status == "open" else None,
        "address": redact_text(address, reporter),
        "address_id": loc.desa,  # the desa's Kemendagri code: the regency's own area id
        "zipcode": None,
        "lat": _float(loc.lat),
        "long": _float(loc.lon),
        "media_url": media_url,
    }


def _kecamatan_name(code: str) -> str:
    return str(reference.kecamatan().get(code, {}).get("name", code))


def _media_url(report: Report) -> str | None:
    """A 5-minute link to the first clean file. A report lists only files it claimed, and only a
    clean file can be claimed, so no attachment record is read (the list stays one read per row)."""
    if not report.attachments:
        return None
    from chalicelib.services import attachments

    return attachments.clean_link(str(report.attachments[0]))


_MAX_ID = 64  # longer cannot be a tracking id (and DynamoDB refuses keys over 2 KB)


def _ids(values: Iterator[str] | tuple[str, ...]) -> list[str]:
    """Distinct plausible tracking ids: BatchGetItem refuses a list with duplicates."""
    return [i for i in dict.fromkeys(normalise_tracking_id(v) for v in values) if 0 < len(i) <= _MAX_ID]


def get_request(service_request_id: str) -> dict[str, Any]:
    ids = _ids((service_request_id,))
    report = reports.get(ids[0], consistent=False) if ids else None
    if report is None or report.privacy == "rahasia":  # the same 404: a rahasia id is not confirmed
        raise NotFound(f"Permintaan layanan '{service_request_id}' tidak ditemukan.")
    return request_view(report, _media_url(report))


def list_requests(q: RequestQuery) -> list[dict[str, Any]]:
    if q.ids:
        rows: Iterator[Report] = iter(sorted(report_queries.by_ids(_ids(q.ids)), key=lambda r: r.created_at,
                                             reverse=True))
    elif q.start is not None or q.end is not None:
        rows = _by_created(q)
    else:
        rows = _by_updated(q)
    offset = (q.page - 1) * q.page_size
    out: list[dict[str, Any]] = []
    for report in rows:
        if not _matches(report, q):
            continue
        if offset:
            offset -= 1
            continue
        out.append(request_view(report, _media_url(report)))
        if len(out) == q.page_size:
            break
    return out


def _matches(report: Report, q: RequestQuery) -> bool:
    if report.privacy == "rahasia":
        return False
    if q.ids:  # the spec: a list of ids overrides every other filter
        return True
    if q.service_codes and (report.category or "lainnya") not in q.service_codes:
        return False
    if q.statuses and STATUS_MAP[report.status][0] not in q.statuses:
        return False
    lat, lon = _float(report.location.lat), _float(report.location.lon)
    if q.bbox is not None:
        if lat is None or lon is None:
            return False
        min_lon, min_lat, max_lon, max_lat = q.bbox
        if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
            return False
    return q.near is None or (lat is not None and lon is not None
                               and distance_m(q.near[0], q.near[1], lat, lon) <= q.near[2])


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _months_back(newest: datetime, oldest: datetime) -> Iterator[str]:
    month = clock.to_wib(newest).replace(day=1)
    last = clock.month_wib(oldest)
    while True:
        name = month.strftime("%Y-%m")
        yield name
        if name <= last:
            return
        month = (month - timedelta(days=1)).replace(day=1)


def _wanted(q: RequestQuery) -> int:
    return (q.page - 1) * q.page_size + q.page_size


def _filtered(q: RequestQuery) -> bool:
    return bool(q.service_codes or q.statuses or q.near or q.bbox)


def _pages(read: Callable[[int, dict[str, Any] | None], report_queries.RawPage | None], q: RequestQuery,
           budget: list[int]) -> Iterator[Report]:
    """One month of an index, newest first, within the request's read budget (`budget[0]`: items
    it may still read; `budget[1]`: rows still wanted). Unfiltered, a page asks for just the rows
    still wanted, so the list reads one item per request it returns."""
    filtered = _filtered(q)  # checked here, row by row: the rows still wanted say nothing of the reads
    start: dict[str, Any] | None = None
    while budget[0] > 0 and (filtered or budget[1] > 0):
        size = max(1, min(budget[0], max(3 * budget[1], 25) if filtered else budget[1], 500))
        page = read(size, start)
        if page is None:
            return
        budget[0] -= page.read
        for report in page.items:
            budget[1] -= 1
            yield report
        start = page.resume
        if start is None:
            return


def _by_updated(q: RequestQuery) -> Iterator[Report]:
    """Unfiltered and `updated_after`: the sparse `by_updated_month` index, newest change first,
    month by month back to the bound (default: 90 days)."""
    bound = q.updated_after or (q.now - DEFAULT_WINDOW)
    budget = [READ_BUDGET, _wanted(q)]
    after = clock.iso_utc(bound)
    for month in _months_back(q.now, bound):
        yield from _pages(functools.partial(report_queries.changed_page, month, after), q, budget)
        if budget[0] <= 0:
            return


def _by_created(q: RequestQuery) -> Iterator[Report]:
    """start_date/end_date: `by_month` (requested_datetime), newest first. That index holds rahasia
    reports too: they are filtered out in the query and again in _matches."""
    end = q.end or min(q.now, (q.start or q.now) + DEFAULT_WINDOW)
    start = q.start or (end - DEFAULT_WINDOW)
    budget = [READ_BUDGET, _wanted(q)]
    first, last = clock.iso_utc(start), clock.iso_utc(end)
    for month in _months_back(end, start):
        yield from _pages(functools.partial(report_queries.created_page, month, first, last), q, budget)
        if budget[0] <= 0:
            return


# ---- partner keys and submission -------------------------------------------------------------

def _key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_key(partner: str) -> str:
    """A new api_key for `partner`, shown once: only its SHA-256 is stored (reference table)."""
    partner = partner.strip()
    if not partner:
        raise ValueError("the partner needs a name")
    api_key = "o311_" + secrets.token_urlsafe(32)
    partner_keys.add(_key_hash(api_key), partner, clock.iso(clock.now()))
    return api_key


def revoke_keys(partner: str) -> int:
    return partner_keys.remove_partner(partner)


def partner_of(api_key: str | None) -> str:
    """The partner an api_key belongs to; a 403 (the spec's code) for a missing or unknown key."""
    partner = partner_keys.partner(_key_hash(api_key)) if api_key else None
    if partner is not None:
        return partner
    raise Forbidden("api_key tidak dikenal: minta kunci ke Diskominfotik KBB.")


def submit(form: dict[str, str], idempotency_key: str | None, client: str | None) -> dict[str, Any]:
    """POST requests: a partner's submission lands in the same intake as the web form (source
    `open311`). Synchronous, so the answer carries the service_request_id (no token)."""
    from pydantic_core import ValidationError

    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    partner_of(form.get("api_key"))
    code = (form.get("service_code") or "").strip()
    category = reference.categories().get(code)
    if category is None:
        raise Invalid(f"service_code '{code}' tidak dikenal (lihat services.json).")
    name = " ".join(p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p)
    email, phone = form.get("email") or None, form.get("phone") or None
    anonymous = not (name and (email or phone)) and not category.get("sensitive")
    kecamatan = form.get("attribute[kecamatan]") or ""
    description = (form.get("description") or "").strip()
    body = {
        "type": "pengaduan",
        "title": f"{category['name']} di {_kecamatan_name(kecamatan) if kecamatan else 'KBB'}"[:150],
        "description": description,
        "category": code,
        "location": {"kecamatan": kecamatan, "desa": form.get("attribute[desa]") or None,
                     "address": form.get("address_string") or None,
                     "lat": _number(form, "lat"), "lon": _number(form, "long")},
        "privacy": "anonim" if anonymous else None,
        "reporter": {} if anonymous else {"name": name or None, "email": email, "phone": phone},
    }
    try:
        report = ReportIn.from_data(body)
    except ValidationError as exc:
        raise Invalid("; ".join(_field_message(e) for e in exc.errors())) from None
    answer = intake.submit(report, idempotency_key, source="open311", client=client)
    return {"service_request_id": answer["tracking_id"],
            "service_notice": "Laporan diterima dan menunggu verifikasi Diskominfotik KBB.",
            "account_id": None}


_FORM_NAMES = {"location.kecamatan": "attribute[kecamatan]", "location.desa": "attribute[desa]",
               "location.address": "address_string", "location.lat": "lat", "location.lon": "long",
               "reporter.name": "first_name", "reporter.email": "email", "reporter.phone": "phone"}


def _field_message(error: Any) -> str:
    name = ".".join(str(p) for p in error.get("loc", ()))
    return f"{_FORM_NAMES.get(name, name)}: {error.get('msg', 'tidak valid')}"


def _number(form: dict[str, str], name: str) -> float | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} harus berupa angka.") from None
    if not math.isfinite(number):
        raise Invalid(f"{name} harus berupa angka.")
    return number
