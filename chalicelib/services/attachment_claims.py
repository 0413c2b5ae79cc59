"""Which attachment ids a report may reference: well-formed, known, checked clean, and not
referenced by another report.

A submission or a response claims its attachments inside its own transaction
(`claim_items`: an Update whose condition is "clean and unclaimed"), so checking costs no AWS
call of its own and two reports cannot both take one file. Only when that condition fails does
`problems` read the records (one BatchGetItem) to tell the client which file and why.
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.errors import validation_error

ATTACHMENT_ID = re.compile(r"^att_[0-9a-f]{32}$")
_NOT_CLEAN = {
    "pending": "berkas masih diperiksa; coba lagi sebentar lagi",
    "rejected": "berkas ditolak",
    "purging": "masa unggah habis: berkas tidak dilampirkan ke laporan dalam 7 hari",
}


def shape_problems(ids: list[str]) -> list[dict[str, Any]]:
    """What can be said without reading anything: the format of each id, and duplicates."""
    out: list[dict[str, Any]] = []
    for i, value in enumerate(ids):
        if not ATTACHMENT_ID.match(value):
            out.append({"field": f"attachments.{i}", "type": "format",
                        "message": "bukan id lampiran dari POST /attachments"})
    if len(set(ids)) != len(ids):
        out.append({"field": "attachments", "type": "duplicate", "message": "lampiran yang sama disebut dua kali"})
    return out


def problems(ids: list[str], tracking_id: str | None = None) -> list[dict[str, Any]]:
    """Every reason the ids cannot be attached to report `tracking_id` (None: a new report)."""
    out = shape_problems(ids)
    records = _records([v for v in set(ids) if ATTACHMENT_ID.match(v)])
    for i, value in enumerate(ids):
        if not ATTACHMENT_ID.match(value):
            continue
        state, reason, owner = records.get(value, (None, None, None))
        if state is None:
            out.append({"field": f"attachments.{i}", "type": "unknown",
                        "message": "lampiran tidak ada (belum dibuat, atau masa unggahnya habis)"})
        elif state != "clean":
            message = _NOT_CLEAN.get(state, "berkas tidak dapat dipakai")
            out.append({"field": f"attachments.{i}", "type": f"attachment_{state}",
                        "message": message + (f" ({reason})" if reason else "")})
        elif owner is not None and owner != tracking_id:
            out.append({"field": f"attachments.{i}", "type": "attachment_in_use",
                        "message": "berkas ini sudah melekat pada laporan lain; unggah ulang"})
    return out


def explain_refused_claim(conflict: Any, ids: list[str], tracking_id: str | None = None) -> None:
    """After a write's Conflict (chalicelib/data/reports.py): if it was a claim on these files
    that failed, a 400 naming each file and why; otherwise nothing (the caller handles the rest)."""
    if conflict.failed("attachment") and (found := problems(ids, tracking_id)):
        raise validation_error(found) from None


def claim_items(ids: list[str], tracking_id: str) -> list[dict[str, Any]]:
    """One transaction Update per id: the file becomes report `tracking_id`'s, and leaves the
    purge's index. Fails (ConditionalCheckFailed) unless it is clean and no other report's."""
    from chalicelib.data import attachments

    return attachments.claim_items(ids, tracking_id)


def _records(ids: list[str]) -> dict[str, tuple[str, str | None, str | None]]:
    """attachment id -> (state, reason, report_id), one BatchGetItem. Unknown ids are absent."""
    from chalicelib.data import attachments

    return attachments.states(ids)
