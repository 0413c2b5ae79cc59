"""Which attachment ids a report may reference."""
from __future__ import annotations

import re
from typing import Any

ATTACHMENT_ID = re.compile(r"^att_[0-9a-f]{32}$")


def problems(ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, value in enumerate(ids):
        if not ATTACHMENT_ID.match(value):
            out.append({"field": f"attachments.{i}", "type": "format", "message": "not an attachment id from POST /attachments"})
    if len(set(ids)) != len(ids):
        out.append({"field": "attachments", "type": "duplicate", "message": "an attachment is listed twice"})
    return out
