"""Reference data (OPDs, categories, kecamatan, holiday overrides, contacts) from the reference table.

Read often, changed rarely: each container caches it for a short while, so a request costs no
extra DynamoDB call in the common case.
"""
from __future__ import annotations

import time
from typing import Any

from chalicelib.data.models import ReferenceItem

KINDS = ("opd", "category", "kecamatan", "holiday", "contacts", "reply_template")
_TTL_SECONDS = 300.0
_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}


def clear_cache() -> None:
    _cache.clear()


def refresh(kind: str) -> None:
    """Forget one kind in this container (the SLA sweep reads holiday overrides fresh each run)."""
    _cache.pop(kind, None)


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    hit = _cache.get(kind)
    if hit and time.monotonic() - hit[0] < _TTL_SECONDS:
        return hit[1]
    items = {item.code: dict(item.data) for item in ReferenceItem.query(kind)}
    _cache[kind] = (time.monotonic(), items)
    return items


def opds() -> dict[str, dict[str, Any]]:
    return _kind("opd")


def categories() -> dict[str, dict[str, Any]]:
    return _kind("category")


def reply_templates() -> dict[str, dict[str, Any]]:
    """Canned answers (chalicelib/services/reply_templates.py), by id."""
    return _kind("reply_template")


def kecamatan() -> dict[str, dict[str, Any]]:
    return _kind("kecamatan")


def holiday_overrides() -> list[dict[str, Any]]:
    return sorted(_kind("holiday").values(), key=lambda h: str(h["date"]))


def contacts(group: str) -> dict[str, Any]:
    """`admin` (Diskominfotik's complaint desk) or `pimpinan` (Bupati, Inspektorat)."""
    return _kind("contacts").get(group, {})


def find_kecamatan(value: str) -> str | None:
    """Accept the code or the name, in any case; return the code."""
    wanted = value.strip().casefold()
    for code, item in kecamatan().items():
        if wanted in (code.casefold(), str(item["name"]).casefold()):
            return code
    return None


def find_desa(kecamatan_code: str, value: str) -> dict[str, str] | None:
    """A desa/kelurahan of that kecamatan by its Kemendagri code or its name, in any case:
    {"code", "name"}; None when the kecamatan has no such desa."""
    wanted = value.strip().casefold()
    for desa in kecamatan().get(kecamatan_code, {}).get("desa", ()):
        if wanted in (str(desa["code"]).casefold(), str(desa["name"]).casefold()):
            return {"code": str(desa["code"]), "name": str(desa["name"])}
    return None


def desa_names() -> dict[str, str]:
    """Kemendagri code -> name, over the whole regency (views that show a stored code)."""
    return {str(d["code"]): str(d["name"]) for k in kecamatan().values() for d in k.get("desa", ())}


def load(seed: dict[str, Any]) -> None:
    with ReferenceItem.batch_write() as batch:
        for opd in seed["opds"]:
            batch.save(ReferenceItem("opd", opd["code"], data=opd))
        for cat in seed["categories"]:
            batch.save(ReferenceItem("category", cat["code"], data=cat))
        for kec in seed["kecamatan"]:
            batch.save(ReferenceItem("kecamatan", kec["code"], data=kec))
        for day in seed.get("holiday_overrides", []):
            batch.save(ReferenceItem("holiday", day["date"], data=day))
        for template in seed.get("reply_templates", []):
            batch.save(ReferenceItem("reply_template", template["id"],
                                     data={k: v for k, v in template.items() if k != "id"}))
        for group in ("admin", "pimpinan"):
            if f"{group}_contacts" in seed:
                batch.save(ReferenceItem("contacts", group, data=seed[f"{group}_contacts"]))
    clear_cache()
