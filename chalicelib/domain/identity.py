"""Personal identifiers: the NIK (national ID number) and phone numbers.

Validation only; nothing here stores or logs a value.
"""
from __future__ import annotations

import calendar
import hmac
import re

_NIK = re.compile(r"^[1-9]\d{15}$")
_SEPARATORS = re.compile(r"[\s\-().]")
# Indonesian mobile numbers, the form nearly every report carries: libphonenumber's own pattern
# for ID mobiles (8[1-35-9]\d{7,10}), after the trunk 0 or +62. A match is valid there by
# definition, so it skips the library (~5% of a submission's CPU); everything else goes to
# it. tests/unit/test_identity.py holds the two to the same answers.
_ID_MOBILE = re.compile(r"(?:0|\+62)(8[1-35-9]\d{7,10})")
_E164_MOBILE = re.compile(r"\+62(8[1-35-9]\d{7,10})")
INDONESIA = "+62"


def nik_problem(nik: str) -> str | None:
    """Why `nik` is not a well-formed NIK (`PPKKCCDDMMYYSSSS`), or None when it is.

    The messages never echo the value: they end up in API responses and logs.
    """
    if not _NIK.match(nik):
        return "NIK harus 16 angka dan tidak diawali 0"
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:  # women: day of birth + 40
        day -= 40
    if not 1 <= month <= 12:
        return "bulan lahir pada NIK tidak mungkin"
    # The two-digit year cannot tell 1900s from 2000s; a leap year admits 29 Feb either way.
    if not 1 <= day <= calendar.monthrange(2000 + year, month)[1]:
        return "tanggal lahir pada NIK tidak mungkin"
    if nik[12:] == "0000":
        return "nomor urut NIK tidak boleh 0000"
    return None


def normalise_phone(raw: str) -> str:
    """Indonesian numbers as people write them (08xx, 62xx, +62xx, with dashes or spaces) -> E.164.

    Raises ValueError when the number is not a valid number, or not an Indonesian one (+62).
    """
    cleaned = _SEPARATORS.sub("", raw)
    if cleaned.startswith("62"):
        cleaned = "+" + cleaned
    mobile = _ID_MOBILE.fullmatch(cleaned)
    if mobile:
        return "+62" + mobile.group(1)
    if not re.fullmatch(r"\+?\d+", cleaned):
        raise ValueError("nomor telepon hanya boleh berisi angka, spasi, tanda hubung dan + di depan")
    if not 8 <= len(cleaned.lstrip("+")) <= 15:
        raise ValueError("nomor telepon harus 8 sampai 15 angka")
    import phonenumbers  # here: an import an API cold start need not pay before it is used

    try:
        number = phonenumbers.parse(cleaned, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("nomor telepon tidak terbaca") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("nomor telepon tidak valid")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not e164.startswith(INDONESIA):
        # An open form that texts any number in the world is an SMS-pumping (toll fraud) target.
        raise ValueError("nomor telepon harus nomor Indonesia (+62 atau 08..)")
    return e164


def is_mobile(e164: str | None) -> bool:
    """Whether an E.164 number can take an SMS: an Indonesian mobile (+628..). A landline stays a
    contact for calls and is never texted."""
    return bool(e164) and _E164_MOBILE.fullmatch(str(e164)) is not None


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def contact_hash(key: bytes, kind: str, value: str) -> str:
    """The keyed hash under which a contact is indexed: `kind` "phone" (E.164) or "email"
    (lower-cased). The kind is part of the message, so a phone never matches an email."""
    if kind not in ("phone", "email"):
        raise ValueError(f"unknown contact kind {kind!r}")
    return hmac.digest(key, f"{kind}:{value}".encode(), "sha256").hex()


def contact_hashes(key: bytes, phone: str | None, email: str | None) -> dict[str, str | None]:
    """`phone_hash` and `email_hash` of a reporter's stored (already normalised) contacts."""
    return {"phone_hash": contact_hash(key, "phone", phone) if phone else None,
            "email_hash": contact_hash(key, "email", normalise_email(email)) if email else None}
