"""The reporter's access code and the one-time recovery code, as pure arithmetic (no key store).

An access code is 16 characters of an alphabet without look-alikes (Crockford's base32 less
0/1/I/L/O/U: 30 symbols), shown and sent in four groups of four (`XXXX-XXXX-XXXX-XXXX`, 19
characters): 16 x log2(30) = 78.5 bits, argued against the attempt limits in docs/PRIVACY.md.
People may type it in any case, with spaces or dashes anywhere.

Stored is only `ac1:` + HMAC-SHA256 under a server key, never a plain hash: the digest alone
cannot be tried offline without the key. Codes issued before (32 URL-safe characters, stored as
their SHA-256) keep opening their report until a recovery replaces them.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
GROUP = 4
PREFIX = "ac1:"
OTP_DIGITS = 6
OTP_TTL_SECONDS = 15 * 60
OTP_MAX_TRIES = 5
MAX_TYPED_LENGTH = 64  # a code with generous spaces; anything longer is no code of ours


def new_code() -> str:
    """A fresh code, grouped as it is shown. One read of 96 random bits, taken 16 times modulo
    30: 2^96 is 180,000 times 30^16, so no code is likelier than another by more than that part."""
    n = int.from_bytes(secrets.token_bytes(12))
    chars = []
    for _ in range(LENGTH):
        n, i = divmod(n, 30)
        chars.append(ALPHABET[i])
    return group("".join(chars))


def group(canonical: str) -> str:
    return "-".join(canonical[i:i + GROUP] for i in range(0, len(canonical), GROUP))


def canonical(typed: str | None) -> str | None:
    """The code as typed, reduced to its 16 symbols (upper case, no spaces or dashes), or None
    when it is no code of this form."""
    if not typed or len(typed) > MAX_TYPED_LENGTH:
        return None
    s = "".join(typed.split()).replace("-", "").upper()
    if len(s) != LENGTH or any(c not in ALPHABET for c in s):
        return None
    return s


def digest(key: bytes, code: str) -> str:
    """What the report stores for `code` (any typed form of it)."""
    s = canonical(code)
    if s is None:
        raise ValueError("not an access code")
    return PREFIX + hmac.new(key, b"access-code\x00" + s.encode(), hashlib.sha256).hexdigest()


def matches(key: bytes, typed: str | None, stored: str | None) -> bool:
    """Whether `typed` opens a report that stores `stored` (either form), in constant time."""
    if not typed or not stored:
        return False
    if stored.startswith(PREFIX):
        s = canonical(typed)
        if s is None:
            return False
        return hmac.compare_digest(digest(key, s), stored)
    # A code issued before this form: SHA-256 of the exact token.
    legacy = hashlib.sha256(typed.strip().encode("utf-8")).hexdigest()
    return hmac.compare_digest(legacy, stored)


def new_otp() -> str:
    return f"{secrets.randbelow(10 ** OTP_DIGITS):0{OTP_DIGITS}d}"


def otp_digest(key: bytes, tracking_id: str, otp: str) -> str:
    """The recovery code's stored form, bound to its report (a digest copied to another report's
    record opens nothing)."""
    return hmac.new(key, f"recovery\x00{tracking_id}\x00{otp}".encode(), hashlib.sha256).hexdigest()


def clean_otp(typed: str | None) -> str | None:
    if not typed or len(typed) > 32:
        return None
    s = "".join(typed.split()).replace("-", "")
    return s if len(s) == OTP_DIGITS and s.isascii() and s.isdigit() else None
