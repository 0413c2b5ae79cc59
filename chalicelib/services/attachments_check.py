"""Which attachment ids a report may reference: well-formed, known, and checked clean.

One BatchGetItem for all ids at most (a report has at most 5): a submission must stay within three
AWS calls (KMS for the NIK, this, and the transaction). The state only moves pending -> clean |
rejected, never back, so a clean answer here cannot be stale by the time the report is written.
"""
from __future__ import annotations

import re
from typing import Any

ATTACHMENT_ID = re.compile(r"^att_[0-9a-f]{32}$")
_NOT_CLEAN = {
    "pending": "the file is still being checked; try again in a moment",
    "rejected": "the file was refused",
}


def problems(ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, value in enumerate(ids):
        if not ATTACHMENT_ID.match(value):
            out.append({"field": f"attachments.{i}", "type": "format",
                        "message": "not an attachment id from POST /attachments"})
    if len(set(ids)) != len(ids):
        out.append({"field": "attachments", "type": "duplicate", "message": "an attachment is listed twice"})
    states = _states([v for v in set(ids) if ATTACHMENT_ID.match(v)])
    for i, value in enumerate(ids):
        if not ATTACHMENT_ID.match(value):
            continue
        state, reason = states.get(value, (None, None))
        if state is None:
            out.append({"field": f"attachments.{i}", "type": "unknown",
                        "message": "no such attachment (never created, or its upload expired)"})
        elif state != "clean":
            message = _NOT_CLEAN.get(state, "the file is not usable")
            out.append({"field": f"attachments.{i}", "type": f"attachment_{state}",
                        "message": message + (f" ({reason})" if reason else "")})
    return out


def _states(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """attachment id -> (state, reason) in ONE BatchGetItem (strongly consistent: a file checked a
    moment ago counts). Unknown ids are absent."""
    if not ids:
        return {}
    from chalicelib.data.models import Attachment

    found = Attachment.batch_get(ids, consistent_read=True, attributes_to_get=["attachment_id", "state", "reason"])
    return {a.attachment_id: (a.state, a.reason) for a in found}
