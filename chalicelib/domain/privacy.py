"""Which parts of a report each staff audience may see. Pure: no AWS, no storage, no HTTP.

`may_read` decides who may read a report at all (every staff read path asks it, nothing else);
`IdentityAccess` what of the reporter a view shows; the text filters cut a reporter's identity
from what pimpinan, and an OPD of an anonim report, read. The rules: docs/PRIVACY.md ("Who sees
what of a report").
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.redaction import DIGIT_GAP, NIK_LIKE, normalise

ANONIM = "anonim"
RAHASIA = "rahasia"

# From least to most protective. Staff may move a report only up this list (an admin at
# verification); lowering it would publish what the reporter chose to hide, so only they may.
PRIVACY_ORDER: tuple[str, ...] = ("publik", ANONIM, RAHASIA)


def is_raise(current: str, wanted: str) -> bool:
    """Whether `wanted` protects at least as much as `current` (unknown modes: False)."""
    if current not in PRIVACY_ORDER or wanted not in PRIVACY_ORDER:
        return False
    return PRIVACY_ORDER.index(wanted) >= PRIVACY_ORDER.index(current)


ADMIN = "admin"
OPD = "opd"
PIMPINAN = "pimpinan"
STAFF_ROLES = frozenset({ADMIN, OPD, PIMPINAN})

REVEAL_IDENTITY = "identity"
REVEAL_NIK = "nik"
REVEALABLE = (REVEAL_IDENTITY, REVEAL_NIK)
CONTACT_FIELDS = ("name", "email", "phone")

REDACTED_NAME = "[nama disembunyikan]"
REDACTED_EMAIL = "[email disembunyikan]"
REDACTED_PHONE = "[nomor disembunyikan]"
REDACTED_ID = "[nomor identitas disembunyikan]"

# A NIK-like number: 16 digits, first not 0, written with any separators (redaction.NIK_LIKE).
_NIK_LIKE = NIK_LIKE
# Parts of a name too common to cut on their own ("Siti" is a name, "bin" is not).
_NAME_STOPWORDS = frozenset({"bin", "binti", "dan", "di", "ke", "pak", "bu", "ibu", "bapak", "haji", "hj"})


class RevealRefused(Exception):
    """The audience may not reveal what it asked for (a 403 at the edge)."""


@dataclass(frozen=True)
class IdentityAccess:
    """What one audience sees of the reporter of one report."""

    contact: bool          # name, email, phone
    nik: bool              # the decrypted NIK
    redact_texts: bool     # cut the reporter's identity from free texts
    hidden_for_admin: bool  # an admin could reveal the contact but has not asked
    audited: tuple[str, ...]  # what this reading discloses that must leave an audit event


def may_read(role: str, privacy: str | None, *, assigned: bool) -> bool:
    """Whether `role` may read one report as such: its texts, reporter, attachments, its row in a
    list or an export, its id in a drill-down. `assigned`: the report is with the caller's OPD.
    Counts (scoreboard, statistics) include every report and need no such right."""
    if role == ADMIN:
        return True
    if role == OPD:
        return assigned
    if role == PIMPINAN:
        return privacy != RAHASIA
    return False


def unreadable_privacies(role: str) -> frozenset[str]:
    """The privacy modes whose reports `role` may never read whatever their assignment: what a
    list query filters out for that role (see `may_read`)."""
    return frozenset({RAHASIA}) if role == PIMPINAN else frozenset()


def identity_access(role: str, privacy: str, reveal: Iterable[str] = (), *, has_nik: bool = False,
                    has_contact: bool = True) -> IdentityAccess:
    """The identity `role` sees of a report with `privacy`, after asking to `reveal` what it lists.

    Raises RevealRefused when a non-admin asks to reveal anything.
    """
    wanted = frozenset(reveal)
    if role not in STAFF_ROLES:
        raise ValueError(f"not a staff role: {role!r}")
    anonymous = privacy == ANONIM
    if role != ADMIN:
        if wanted:
            raise RevealRefused("hanya admin yang dapat membuka identitas pelapor")
        if role == PIMPINAN:  # read-only oversight: figures and texts, never whom to call
            return IdentityAccess(contact=False, nik=False, redact_texts=True, hidden_for_admin=False, audited=())
        return IdentityAccess(contact=not anonymous, nik=False, redact_texts=anonymous,
                              hidden_for_admin=False, audited=())
    audited: list[str] = []
    # The NIK implies the person: asking for it reveals the contact too.
    contact = not anonymous or bool(wanted & {REVEAL_IDENTITY, REVEAL_NIK})
    if anonymous and contact and has_contact:
        audited.append(REVEAL_IDENTITY)
    nik = REVEAL_NIK in wanted
    if nik and has_nik:
        audited.append(REVEAL_NIK)
    return IdentityAccess(contact=contact, nik=nik, redact_texts=False,
                          hidden_for_admin=anonymous and not contact, audited=tuple(audited))


def staff_reporter(role: str, access: IdentityAccess, reporter: Mapping[str, Any] | None,
                   nik: str | None, *, has_nik: bool) -> dict[str, Any] | None:
    """The `reporter` object of the staff view, or None when `role` sees no identity.

    The `nik` key exists only in an admin's view: null unless revealed, with `nik_on_file`
    telling whether there is one to reveal. An OPD's or pimpinan's view has no NIK key at all.
    """
    if not access.contact:
        return None
    out: dict[str, Any] = {f: (reporter or {}).get(f) for f in CONTACT_FIELDS}
    if role == ADMIN:
        out["nik"] = nik if access.nik else None
        out["nik_on_file"] = has_nik
    return out


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _loose(digits: str) -> str:
    """A regex matching `digits` written with separators between them."""
    return DIGIT_GAP.join(re.escape(d) for d in digits)


def _phone_variants(phone: str) -> set[str]:
    digits = _digits(phone)
    if not digits:
        return set()
    national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
    return {v for v in {digits, national, "0" + national, "62" + national} if len(v) >= 6}


def redact(text: str | None, reporter: Mapping[str, Any] | None = None, nik: str | None = None,
           *, identity: bool = True) -> str | None:
    """`text` without NIK-like numbers and, when `identity`, without the reporter's name (and its
    parts of 3+ letters), email, phone (08.., 62.., +62.., with separators) and NIK."""
    if text is None:
        return None
    out = _NIK_LIKE.sub(REDACTED_ID, normalise(text))
    if not identity:
        return out
    rep = reporter or {}
    if nik:
        out = re.sub(rf"(?<!\d){_loose(_digits(nik))}(?!\d)", REDACTED_ID, out)
    for variant in sorted(_phone_variants(str(rep.get("phone") or "")), key=len, reverse=True):
        out = re.sub(rf"\+?(?<!\d){_loose(variant)}(?!\d)", REDACTED_PHONE, out)
    email = str(rep.get("email") or "").strip()
    if email:
        out = re.sub(re.escape(email), REDACTED_EMAIL, out, flags=re.IGNORECASE)
    name = " ".join(str(rep.get("name") or "").split())
    if name:
        out = re.sub(r"(?<!\w)" + r"\s+".join(re.escape(p) for p in name.split()) + r"(?!\w)",
                     REDACTED_NAME, out, flags=re.IGNORECASE)
        for part in sorted({p.strip(".,") for p in name.split()}, key=len, reverse=True):
            if len(part) >= 3 and part.lower() not in _NAME_STOPWORDS:
                out = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", REDACTED_NAME, out, flags=re.IGNORECASE)
    return out


def text_for(access: IdentityAccess, role: str, text: str | None, reporter: Mapping[str, Any] | None,
             nik: str | None) -> str | None:
    """A free text as `role` may read it: admins read it as written; others never read a NIK-like
    number, and read no identity of an anonymous reporter."""
    if role == ADMIN:
        return text
    return redact(text, reporter, nik, identity=access.redact_texts)


def redact_data(value: Any, access: IdentityAccess, role: str, reporter: Mapping[str, Any] | None,
                nik: str | None) -> Any:
    """`text_for` applied to every string inside an event's `data`."""
    if isinstance(value, str):
        return text_for(access, role, value, reporter, nik)
    if isinstance(value, Mapping):
        return {k: redact_data(v, access, role, reporter, nik) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v, access, role, reporter, nik) for v in value]
    return value
