"""The OPDs' officers: who an `opd_admin` may assign a report to (kind `officer` of the reference
table, code `<OPD>#<user id>`, so one Query with begins_with lists an OPD's own).

Filled from Cognito by `python -m chalicelib.cli officers-sync` (Cognito cannot filter users by a
custom attribute, so the sync lists the `opd` group and groups by `custom:opd_code`), and by the
local stack's seed. Read fresh, not through the reference cache: an officer who left must not be
assignable for five more minutes.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.data.models import ReferenceItem

KIND = "officer"
FIELDS = ("sub", "opd_code", "name", "email", "phone")


def _code(opd_code: str, sub: str) -> str:
    return f"{opd_code}#{sub}"


def for_opd(opd_code: str) -> list[dict[str, Any]]:
    """The OPD's officers, by name."""
    items = ReferenceItem.query(KIND, ReferenceItem.code.startswith(f"{opd_code}#"))
    return sorted((dict(i.data) for i in items), key=lambda o: (str(o.get("name") or "").casefold(), o["sub"]))


def get(opd_code: str, sub: str) -> dict[str, Any] | None:
    """One officer of that OPD, or None (another OPD's officer is None here too)."""
    try:
        return dict(ReferenceItem.get(KIND, _code(opd_code, sub)).data)
    except ReferenceItem.DoesNotExist:
        return None


def replace(officers: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Make the table list exactly `officers` (each with FIELDS); (written, removed)."""
    wanted = {_code(o["opd_code"], o["sub"]): {k: o.get(k) for k in FIELDS} for o in officers}
    stored = {i.code for i in ReferenceItem.query(KIND)}
    gone = stored - set(wanted)
    with ReferenceItem.batch_write() as batch:
        for code, data in wanted.items():
            batch.save(ReferenceItem(KIND, code, data=data))
        for code in gone:
            batch.delete(ReferenceItem(KIND, code))
    return len(wanted), len(gone)


def put(officers: Iterable[dict[str, Any]]) -> None:
    """Add or update officers, leaving the others (the local stack's seed)."""
    with ReferenceItem.batch_write() as batch:
        for o in officers:
            batch.save(ReferenceItem(KIND, _code(o["opd_code"], o["sub"]), data={k: o.get(k) for k in FIELDS}))
