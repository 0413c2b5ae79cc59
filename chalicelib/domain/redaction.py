"""Personal data in texts that leave the regency: SP4N-LAPOR!'s national record and the messages
to OPDs. Pure (no AWS, no HTTP), so the notify function need not load the SP4N-LAPOR! client to
use it. (chalicelib/domain/privacy.py redacts what staff read inside the service.)"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Between the digits of a written number: spaces (any, incl. no-break), dots, dashes, slashes,
# underscores; up to three in a row ("3217 - 0612 ...").
DIGIT_GAP = r"[\s.\-_/\u2010-\u2015]{0,3}"
# A NIK-like number: 16 digits, the first not 0, written with any such separators.
NIK_LIKE = re.compile(rf"(?<!\d)[1-9](?:{DIGIT_GAP}\d){{15}}(?!\d)")


def normalise(text: str) -> str:
    """What a reader sees, in one spelling: NFKC (full-width and styled digits and letters become
    plain ones) and no invisible characters (zero-width spaces and joiners, soft hyphens, BOMs,
    bidi marks: Unicode category Cf), which would otherwise split a NIK or a name past every
    pattern below."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")

# Emails, Indonesian mobile numbers (08.., 628.., +62 8..) and long digit runs: the last covers
# NIK and KK (16 digits), BPJS (13) and typos of them. None belongs in a national public record.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+.])(?:(?:\+\s?62|62)[\s\-]?|0)8(?:[\s.\-]?\d){7,11}(?!\d)")
_ID_NUMBER = re.compile(rf"(?<!\d)\d(?:{DIGIT_GAP}\d){{12,17}}(?!\d)")
REDACTED_EMAIL = "[email dihapus]"
REDACTED_PHONE = "[nomor telepon dihapus]"
REDACTED_ID = "[nomor identitas dihapus]"
REDACTED_NAME = "[nama dihapus]"
# Honorifics and titles are not the name: redacting "Bapak" everywhere would garble the text.
_NAME_STOPWORDS = frozenset({
    "bapak", "pak", "ibu", "bu", "sdr", "sdri", "saudara", "saudari", "haji", "hajjah", "hj",
    "mas", "mbak", "teh", "kang", "aa", "neng", "dr", "drs", "dra", "ir", "prof", "spd", "skom",
    "st", "se", "sh", "mm", "binti", "bin", "van", "der", "dan",
})


def personal_data_found(text: str) -> list[str]:
    """Kinds of personal data the text seems to contain (email, phone, id_number)."""
    text = normalise(text)
    kinds = [k for k, rx in (("email", _EMAIL), ("phone", _PHONE), ("id_number", _ID_NUMBER)) if rx.search(text)]
    return kinds


def _loose_digits(digits: str) -> str:
    return r"[\s.\-]?".join(re.escape(d) for d in digits)


def redact_text(text: str, reporter: Mapping[str, Any] | None = None, *, contacts: bool = True) -> str:
    """The text without the reporter's identity, numbers that look like an identity number and,
    when ``contacts`` is true, any email or mobile number. The text is normalised first."""
    out = normalise(text)
    if contacts:
        out = _EMAIL.sub(REDACTED_EMAIL, out)
        out = _PHONE.sub(REDACTED_PHONE, out)
    out = _ID_NUMBER.sub(REDACTED_ID, out)
    for key in ("nik", "phone"):
        value = str((reporter or {}).get(key) or "")
        digits = re.sub(r"\D", "", value)
        national = digits[2:] if key == "phone" and digits.startswith("62") else digits.lstrip("0")
        # Every way the same phone is written: 62812..., 0812..., 812...
        variants = {digits, national, "0" + national, "62" + national} if key == "phone" else {digits}
        for variant in sorted(variants, key=len, reverse=True):
            if len(variant) >= 6:
                out = re.sub(rf"(?<!\d){_loose_digits(variant)}(?!\d)",
                             REDACTED_PHONE if key == "phone" else REDACTED_ID, out)
    email = str((reporter or {}).get("email") or "").strip()
    if email:
        out = re.sub(re.escape(email), REDACTED_EMAIL, out, flags=re.IGNORECASE)
    name = " ".join(str((reporter or {}).get("name") or "").split())
    if name:
        out = re.sub(r"(?<!\w)" + r"\s+".join(re.escape(p) for p in name.split()) + r"(?!\w)",
                     REDACTED_NAME, out, flags=re.IGNORECASE)
        # Parts of the name as well ("Budi" of "Budi Santoso"): an anonymous reporter who signs
        # with a first name is still identifiable in a small desa.
        for part in {p.strip(".,") for p in name.split()}:
            if len(part) >= 3 and re.sub(r"\W", "", part).lower() not in _NAME_STOPWORDS:
                out = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", REDACTED_NAME, out, flags=re.IGNORECASE)
    return out
