"""GET /staff/reports: staff lists through the GSIs, with opaque tamper-proof cursors, and the CSV
export.

Which index answers which filter, the cursor's key and binding, and what a list may show:
docs/DESIGN.md ("Staff lists and their cursors").
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import server_keys
from chalicelib.auth import Principal
from chalicelib.config import settings
from chalicelib.data import officers, reference, report_queries
from chalicelib.domain import clock, cursor, privacy
from chalicelib.domain import workflow as wf
from chalicelib.domain.channels import CHANNELS
from chalicelib.domain.errors import validation_error
from chalicelib.observability import access
from chalicelib.services import sla_fields, views

if TYPE_CHECKING:
    from chalicelib.data.models import Report

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EXPORT_MAX = 5000
# Months the `by_month` walk may query in one request (empty months cost one small query each).
MONTHS_PER_REQUEST = 24
LIST_FIELDS = ("tracking_id", "type", "title", "category", "status", "privacy", "opd_code", "kecamatan",
               "desa", "desa_name", "channel", "created_at", "updated_at", "due_at", "sla_stage", "sla_breached")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

def cursor_key() -> bytes:
    """The HMAC key of list cursors (see the module docstring)."""
    return server_keys.server_key("CURSOR_SECRET")


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    opd_code: str | None = None
    kecamatan: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    channel: str | None = None
    # "me": only the reports an opd_admin assigned to the caller (an OPD officer's own work).
    assigned: str | None = None


def parse_filters(query: dict[str, str]) -> Filters:
    """The query string, checked: a 400 names each bad parameter."""
    problems: list[dict[str, Any]] = []
    allowed = {"status", "opd_code", "kecamatan", "channel", "limit", "cursor", "format", "assigned"}
    for name in sorted(set(query) - allowed):
        problems.append({"field": name, "type": "extra_forbidden", "message": "parameter tidak dikenal"})
    status = (query.get("status") or "").strip() or None
    if status is not None and status not in {s.value for s in wf.Status}:
        problems.append({"field": "status", "type": "enum",
                         "message": "salah satu dari " + ", ".join(s.value for s in wf.Status)})
    opd_code = (query.get("opd_code") or "").strip().upper() or None
    if opd_code is not None and opd_code not in reference.opds():
        problems.append({"field": "opd_code", "type": "unknown", "message": "OPD tidak dikenal (lihat GET /opds)"})
    kecamatan = None
    if (query.get("kecamatan") or "").strip():
        kecamatan = reference.find_kecamatan(query["kecamatan"])
        if kecamatan is None:
            problems.append({"field": "kecamatan", "type": "unknown",
                             "message": "kecamatan tidak dikenal (lihat GET /kecamatan)"})
    channel = (query.get("channel") or "").strip().lower() or None
    if channel is not None and channel not in CHANNELS:
        problems.append({"field": "channel", "type": "enum", "message": "salah satu dari " + ", ".join(CHANNELS)})
    limit = DEFAULT_LIMIT
    raw_limit = (query.get("limit") or "").strip()
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            problems.append({"field": "limit", "type": "range", "message": f"bilangan 1 sampai {MAX_LIMIT}"})
        else:
            limit = int(raw_limit)
    assigned = (query.get("assigned") or "").strip().lower() or None
    if assigned not in (None, "me"):
        problems.append({"field": "assigned", "type": "enum", "message": "hanya me (laporan yang ditugaskan ke Anda)"})
    fmt = (query.get("format") or "json").strip()
    if fmt not in ("json", "csv"):
        problems.append({"field": "format", "type": "enum", "message": "json atau csv"})
    if problems:
        raise validation_error(problems)
    return Filters(status, opd_code, kecamatan, limit, (query.get("cursor") or "").strip() or None, channel,
                   assigned)


def _months_back(now: datetime, first: str) -> list[str]:
    year, month = map(int, clock.month_wib(now).split("-"))
    out: list[str] = []
    while f"{year:04d}-{month:02d}" >= first:
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out


def _first_month() -> str:
    value = settings().service_start.strip()
    return value if len(value) == 7 and value[4] == "-" else "2025-01"


def _bad_cursor() -> Exception:
    return validation_error([{"field": "cursor", "type": "cursor",
                              "message": "bukan kursor dari daftar ini; mulai lagi tanpa kursor"}])


def list_reports(principal: Principal, filters: Filters, now: datetime | None = None,
                 limit: int | None = None) -> tuple[list[Report], str | None]:
    """The reports `principal` may list under `filters`, and the cursor of the next page."""
    limit = limit or filters.limit
    scope_opd = principal.opd_code if principal.role == "opd" else None
    query = {"role": principal.role, "scope": scope_opd, "status": filters.status, "opd": filters.opd_code,
             "kec": filters.kecamatan, "ch": filters.channel}
    if filters.assigned:
        query["as"] = principal.sub
    position: dict[str, Any] = {}
    if filters.cursor:
        try:
            position = cursor.decode(filters.cursor, query, cursor_key())
        except cursor.InvalidCursor:
            raise _bad_cursor() from None
    start = position.get("k")
    if start is not None and not isinstance(start, dict):
        raise _bad_cursor()
    condition = report_queries.matching(
        kecamatan=filters.kecamatan, source=filters.channel, assigned_to=principal.sub if filters.assigned else None,
        hidden_privacies=tuple(sorted(privacy.unreadable_privacies(principal.role))))

    if scope_opd is not None and filters.opd_code not in (None, scope_opd):
        return [], None  # another OPD's reports do not exist for this user
    opd = scope_opd or filters.opd_code
    if opd is not None or filters.status is not None:
        if opd is not None:
            index, hash_value, prefix = "by_opd", opd, f"{filters.status}#" if filters.status else None
        else:
            index, hash_value, prefix = "by_status", str(filters.status), None
        got = report_queries.page(index, hash_value, range_prefix=prefix, filter_condition=condition,
                                  start=start, limit=limit)
        nxt = cursor.encode({"k": got.resume}, query, cursor_key()) if got.resume else None
        return got.items, nxt

    months = _months_back(now or clock.now(), _first_month())
    month = position.get("m")
    if month is not None:
        if month not in months:
            raise _bad_cursor()
        months = months[months.index(month):]
    items: list[Report] = []
    for i, month in enumerate(months[:MONTHS_PER_REQUEST]):
        got = report_queries.page("by_month", month, filter_condition=condition, start=start,
                                  limit=limit - len(items))
        items.extend(got.items)
        start = None
        if got.resume is not None:
            return items, cursor.encode({"m": month, "k": got.resume}, query, cursor_key())
        if len(items) >= limit or i == MONTHS_PER_REQUEST - 1:
            rest = months[i + 1:]
            return items, cursor.encode({"m": rest[0], "k": None}, query, cursor_key()) if rest else None
    return items, None


def officer_names(rows: list[Report]) -> dict[tuple[str, str], str]:
    """(OPD, officer id) -> name for the assigned rows of a page: one Query per OPD that has an
    assigned row, none for a page without assignments."""
    names: dict[tuple[str, str], str] = {}
    for opd in sorted({str(r.opd_code) for r in rows if r.assigned_to and r.opd_code}):
        for o in officers.for_opd(opd):
            names[(opd, o["sub"])] = str(o.get("name") or o.get("email") or o["sub"])
    return names


def assignee(report: Report, names: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    if not report.assigned_to:
        return None
    return {"id": report.assigned_to, "name": names.get((str(report.opd_code), str(report.assigned_to)))}


def list_item(report: Report, principal: Principal, names: dict[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """One row of a list: no identity of the reporter, whatever the role."""
    access = privacy.identity_access(principal.role, report.privacy)
    title = privacy.text_for(access, principal.role, report.title,
                             {"name": report.reporter.name, "email": report.reporter.email,
                              "phone": report.reporter.phone} if report.reporter else None, None)
    sla = sla_fields.staff_view(report)
    return {
        "tracking_id": report.tracking_id,
        "type": report.type,
        "title": title,
        "category": report.category,
        "status": report.status,
        "privacy": report.privacy,
        "opd_code": report.opd_code,
        "kecamatan": report.kecamatan,
        "channel": report.source or "web",
        **views.desa_fields(report),
        "created_at": clock.iso(clock.parse(report.created_at)),
        "updated_at": clock.iso(clock.parse(report.updated_at)),
        "due_at": sla["due_at"],
        "sla": {"stage": sla["stage"], "due_at": sla["due_at"], "breached": sla["breached"]},
        "version": int(report.version),
        "assigned_to": assignee(report, names or {}),
        "merged_into": report.merged_into,  # a duplicate: the desk sees it is not work of its own
    }


def readable(principal: Principal, report: Report) -> bool:
    """The read rule once more per row (chalicelib.domain.privacy.may_read through
    workflow.visible_to): the query already filtered, but no index or filter mistake may list a
    report the caller may not read."""
    from chalicelib.services.workflow import visible_to

    return visible_to(principal, report)


def list_view(principal: Principal, filters: Filters) -> dict[str, Any]:
    reports_, nxt = list_reports(principal, filters)
    rows = [r for r in reports_ if readable(principal, r)]
    names = officer_names(rows)
    return {"items": [list_item(r, principal, names) for r in rows], "next_cursor": nxt}


def export_csv(principal: Principal, filters: Filters) -> str:
    """The same list as CSV (every page, up to EXPORT_MAX rows), same scope and privacy."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LIST_FIELDS)
    rows = 0
    current = filters
    while True:
        batch, nxt = list_reports(principal, current, limit=MAX_LIMIT)
        for r in batch:
            if not readable(principal, r):
                continue
            item = list_item(r, principal)
            writer.writerow([_cell(item, name) for name in LIST_FIELDS])
            rows += 1
        if not nxt or rows >= EXPORT_MAX:
            break
        current = replace(filters, cursor=nxt)
    access("export_csv", sub=principal.sub, role=principal.role, rows=rows,
           filters={"status": filters.status, "opd_code": filters.opd_code, "kecamatan": filters.kecamatan,
                    "channel": filters.channel,
                    "cursor": filters.cursor})
    return out.getvalue()


def _cell(item: dict[str, Any], name: str) -> Any:
    if name == "sla_stage":
        return item["sla"]["stage"] or ""
    if name == "sla_breached":
        return "ya" if item["sla"]["breached"] else "tidak"
    value = item.get(name)
    text = "" if value is None else str(value)
    # CSV injection: a cell starting with = + - @ is a formula in spreadsheets, and a leading tab
    # or carriage return hides one from the eye (and from some spreadsheets' own guard).
    return "'" + text if text[:1] in FORMULA_STARTS else text
