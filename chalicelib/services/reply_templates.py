"""Canned answers: admin-managed texts per category for `request_info`, `reject` and `respond`,
picked in the staff action form and edited there by the officer before sending. Reference data
(kind `reply_template`), so Diskominfotik changes them without a deploy; every change is one
transaction with its audit event (`audit#reply_templates`, chalicelib/data/audit.py)."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.data import audit, reference
from chalicelib.domain import clock
from chalicelib.domain.errors import not_found, validation_error, version_conflict

KIND = "reply_template"
ACTIONS = ("request_info", "reject", "respond")
SUBJECT = "reply_templates"
_UNKNOWN_CATEGORY = {"field": "category", "type": "unknown",
                     "message": "kategori tidak dikenal (lihat GET /categories)"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,59}$")


def _public(code: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": code, "category": data.get("category"), "action": data["action"], "title": data["title"],
            "text": data["text"], "updated_at": data.get("updated_at")}


def listing(category: str | None, action: str | None) -> list[dict[str, Any]]:
    """The templates for `action` (all actions if None) usable on a report of `category`: those of
    that category and the general ones (no category), the category's own first."""
    problems = []
    if category is not None and category not in reference.categories():
        problems.append(_UNKNOWN_CATEGORY)
    if action is not None and action not in ACTIONS:
        problems.append({"field": "action", "type": "enum", "message": "salah satu dari " + ", ".join(ACTIONS)})
    if problems:
        raise validation_error(problems)
    out = [_public(code, data) for code, data in reference.reply_templates().items()
           if (action is None or data["action"] == action) and data.get("category") in (None, category)]
    return sorted(out, key=lambda t: (t["category"] is None, t["action"], t["title"]))


def put(template_id: str, body: dict[str, Any], actor: str | None) -> dict[str, Any]:
    problems = []
    if not _ID.match(template_id):
        problems.append({"field": "id", "type": "format", "message": "3-60 huruf kecil, angka, - atau _"})
    category = body.get("category")
    if category is not None and category not in reference.categories():
        problems.append(_UNKNOWN_CATEGORY)
    if problems:
        raise validation_error(problems)
    data = {"category": category, "action": body["action"], "title": body["title"].strip(),
            "text": body["text"].strip(), "updated_at": clock.iso(clock.now()), "updated_by": actor}
    _change(template_id, data, actor, "reply_template_set")
    return _public(template_id, data)


def remove(template_id: str, actor: str | None) -> dict[str, Any]:
    old = audit.current(KIND, template_id)
    if old is None:
        raise not_found(f"Tidak ada jawaban siap pakai '{template_id}'.")
    _change(template_id, None, actor, "reply_template_removed", old)
    return _public(template_id, dict(old.data))


def _change(template_id: str, new: dict[str, Any] | None, actor: str | None, action: str, old: Any = None) -> None:
    old = old if old is not None else audit.current(KIND, template_id)
    before = dict(old.data) if old is not None else None
    event = {"at": clock.iso_utc(clock.now()), "actor": "admin", "actor_id": actor, "role": "admin",
             "action": action, "public": False, "message": None,
             "data": {"id": template_id, "old": _text(before), "new": _text(new)}}
    try:
        audit.change_reference(KIND, template_id, old, new, SUBJECT, event)
    except audit.Changed:
        raise version_conflict("Jawaban ini baru saja diubah admin lain; muat ulang lalu coba lagi.") from None
    reference.refresh(KIND)


def _text(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else {k: data.get(k) for k in ("category", "action", "title", "text")}
