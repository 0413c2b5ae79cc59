"""An OPD's officers: the list an `opd_admin` assigns from (GET /staff/officers) and its sync
from Cognito (`python -m chalicelib.cli officers-sync`). Who may list them, why the phone is
masked and who the sync leaves out: docs/DESIGN.md, "Tables" (Reference, kind `officer`).
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib.auth import Principal
from chalicelib.data import officers, reference
from chalicelib.domain.errors import forbidden, validation_error

OFFICER_GROUP = "opd"
_OPD_CODE = re.compile(r"^[A-Z0-9_]{2,40}$")


def mask_phone(phone: str | None) -> str | None:
    """+6281234565678 -> +62812****5678: enough to recognise, not to call."""
    if not phone:
        return None
    digits = str(phone)
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}" if len(digits) > 10 else \
        f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def view(officer: dict[str, Any]) -> dict[str, Any]:
    return {"id": officer["sub"], "name": officer.get("name") or officer.get("email") or officer["sub"],
            "email": officer.get("email"), "phone": mask_phone(officer.get("phone")),
            "opd_code": officer["opd_code"]}


def scope(principal: Principal, opd: str | None) -> str:
    """The OPD whose officers `principal` may list: its own for an opd_admin, `opd` for an admin."""
    wanted = (opd or "").strip().upper() or None
    if principal.is_admin:
        if wanted is None:
            raise validation_error([{"field": "opd", "type": "missing", "message": "sebutkan kode OPD (?opd=)"}])
        if wanted not in reference.opds():
            raise validation_error([{"field": "opd", "type": "unknown",
                                     "message": "OPD tidak dikenal (lihat GET /opds)"}])
        return wanted
    if not principal.opd_admin or not principal.opd_code:
        raise forbidden()
    if wanted not in (None, principal.opd_code):
        raise forbidden("Hanya petugas OPD Anda sendiri yang dapat dilihat.")
    return principal.opd_code


def list_for(principal: Principal, opd: str | None) -> dict[str, Any]:
    code = scope(principal, opd)
    return {"opd_code": code, "items": [view(o) for o in officers.for_opd(code)]}


def name_of(opd_code: str | None, sub: str | None) -> str | None:
    """The officer's name for a view (None when unknown: an officer removed since)."""
    if not opd_code or not sub:
        return None
    found = officers.get(opd_code, sub)
    return (found.get("name") or found.get("email") or sub) if found else None


# -- the sync from Cognito ---------------------------------------------------------------------

def _attributes(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}


def from_cognito(cognito: Any, pool_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(officers, skipped usernames with the reason) of the pool's `opd` group."""
    known = set(reference.opds())
    found: list[dict[str, Any]] = []
    skipped: list[str] = []
    others: set[str] = set()
    for group in ("admin", "pimpinan", "opd_admin"):
        for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=group):
            others.update(u["Username"] for u in page.get("Users", []))
    for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=OFFICER_GROUP):
        for user in page.get("Users", []):
            attrs = _attributes(user)
            username = user["Username"]
            code = attrs.get("custom:opd_code", "").strip()
            if not user.get("Enabled", True):
                skipped.append(f"{username}: disabled")
            elif username in others:
                skipped.append(f"{username}: in another staff group too")
            elif not _OPD_CODE.match(code) or code not in known:
                skipped.append(f"{username}: no known custom:opd_code")
            else:
                found.append({"sub": attrs.get("sub") or username, "opd_code": code,
                              "name": attrs.get("name") or None, "email": attrs.get("email") or None,
                              "phone": attrs.get("phone_number") or None})
    return found, skipped


def sync(cognito: Any, pool_id: str) -> dict[str, Any]:
    """Replace the officers table by the pool's `opd` group."""
    found, skipped = from_cognito(cognito, pool_id)
    written, removed = officers.replace(found)
    by_opd: dict[str, int] = {}
    for o in found:
        by_opd[o["opd_code"]] = by_opd.get(o["opd_code"], 0) + 1
    return {"officers": written, "removed": removed, "by_opd": dict(sorted(by_opd.items())), "skipped": skipped}
