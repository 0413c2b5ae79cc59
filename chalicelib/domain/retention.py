"""Personal-data retention: what erasing a report's personal data changes, and when it is due.

Pure (no AWS). The numbers live in config/retention.json; the reasons in docs/PRIVACY.md.
chalicelib/services/erasure.py applies these rules to stored reports and events, for the daily
retention run and for a data subject's erasure request alike.
"""
from __future__ import annotations

import calendar
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib.domain.redaction import redact_text

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "config" / "retention.json"
# What a blanked text reads afterwards: staff opening an old report see why it is empty.
ERASED_TEXT = "[dihapus: data pribadi]"
# Free texts that staff write into an event's data (kept, redacted) or the reporter writes
# (blanked). Any other data key holds codes, ids or numbers, never personal data.
_DATA_TEXTS = ("note", "reason", "comment", "message")


class InvalidRetentionPolicy(ValueError):
    """config/retention.json does not describe a usable policy."""


class RetentionPolicy(NamedTuple):
    policy: str
    erase_after_months: int
    closed_statuses: frozenset[str]
    coordinate_decimals: int
    max_reports_per_run: int

    def cutoff(self, now: datetime) -> datetime:
        """Reports closed before this instant are due for erasure at `now`."""
        return months_before(now, self.erase_after_months)


def policy_from_dict(data: Mapping[str, Any]) -> RetentionPolicy:
    known = {"_comment", "policy", "erase_after_months", "closed_statuses", "coordinate_decimals",
             "max_reports_per_run"}
    unknown = set(data) - known
    if unknown:
        raise InvalidRetentionPolicy(f"unknown keys {sorted(unknown)}")
    months = data.get("erase_after_months")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
        raise InvalidRetentionPolicy("erase_after_months must be a whole number of months, 1 to 120")
    statuses = data.get("closed_statuses")
    if not isinstance(statuses, list) or not statuses or not set(statuses) <= {"selesai", "ditolak"}:
        raise InvalidRetentionPolicy("closed_statuses must list selesai and/or ditolak "
                                     "(only closed reports are erased)")
    decimals = data.get("coordinate_decimals", 2)
    if not isinstance(decimals, int) or not 0 <= decimals <= 3:
        raise InvalidRetentionPolicy("coordinate_decimals must be 0 to 3 (3 decimals is about 100 m)")
    limit = data.get("max_reports_per_run", 2000)
    if not isinstance(limit, int) or limit < 1:
        raise InvalidRetentionPolicy("max_reports_per_run must be a positive number")
    name = data.get("policy")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRetentionPolicy("policy must name the version of these rules")
    return RetentionPolicy(policy=name.strip(), erase_after_months=months, closed_statuses=frozenset(statuses),
                           coordinate_decimals=decimals, max_reports_per_run=limit)


def load_policy(path: str | Path | None = None) -> RetentionPolicy:
    return policy_from_dict(json.loads(Path(path or DEFAULT_POLICY_PATH).read_text(encoding="utf-8")))


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st falls back to the month's last day)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def closure_fields(status: str, updated_at: str, closed_at: str | None, erased_at: str | None,
                   closed_statuses: frozenset[str]) -> dict[str, Any]:
    """The retention bookkeeping of a report written with `status` at `updated_at`: a report that
    enters a closed status starts its retention clock and joins the sparse by_retention index; one
    that leaves it (a reopening) stops the clock. An erased report never rejoins."""
    if status in closed_statuses:
        since = closed_at or updated_at
        return {"closed_at": since, "retention_due": None if erased_at else "yes"}
    return {"closed_at": None, "retention_due": None}


def anonymised_report(values: Mapping[str, Any], coordinate_decimals: int) -> tuple[dict[str, Any], list[str]]:
    """The changes that erase a report's personal data, and the names of the fields they touch.

    `values` holds the report's title, description, reporter (a mapping or None), nik_ciphertext,
    attachments, location, phone_hash and email_hash. An already anonymised report gives no
    changes (idempotent)."""
    reporter = dict(values.get("reporter") or {})
    changes: dict[str, Any] = {}
    if any(reporter.values()):
        changes["reporter"] = None
    for name in ("nik_ciphertext", "phone_hash", "email_hash"):
        if values.get(name):
            changes[name] = None
    if values.get("attachments"):
        changes["attachments"] = []
    title = str(values.get("title") or "")
    redacted = redact_text(title, reporter)
    if redacted != title:
        changes["title"] = redacted
    if values.get("description") not in (None, "", ERASED_TEXT):
        changes["description"] = ERASED_TEXT
    location = dict(values.get("location") or {})
    moved = dict(location)
    if location.get("address"):
        moved["address"] = None
    for axis in ("lat", "lon"):
        if location.get(axis) is not None:
            moved[axis] = round(float(location[axis]), coordinate_decimals)
            if moved[axis] == float(location[axis]):
                moved[axis] = location[axis]
    if moved != location:
        changes["location"] = moved
    fields = sorted(changes)
    return changes, fields


def scrubbed_event(values: Mapping[str, Any], reporter: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The changes that blank the personal data of one stored event: `message` and the free texts
    of `data`. The reporter's own words (a reply, a feedback comment) are blanked; staff texts are
    kept with the reporter's identity and any contact or identity number redacted (they are the
    regency's record of what it did). Codes, statuses and dates are never touched. An event
    already scrubbed gives no changes."""
    by_reporter = values.get("actor") == "pelapor" and values.get("action") != "submit"
    changes: dict[str, Any] = {}

    def clean(text: str) -> str:
        if by_reporter:
            return ERASED_TEXT if text else text
        return redact_text(text, reporter)

    message = values.get("message")
    if isinstance(message, str) and message and clean(message) != message:
        changes["message"] = clean(message)
    data = dict(values.get("data") or {})
    new_data = dict(data)
    touched = []
    for key in _DATA_TEXTS:
        text = data.get(key)
        if isinstance(text, str) and text and clean(text) != text:
            new_data[key] = clean(text)
            touched.append(f"data.{key}")
    if touched:
        changes["data"] = new_data
    return changes, sorted([*(["message"] if "message" in changes else []), *touched])
