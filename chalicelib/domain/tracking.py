"""Tracking ids citizens read over the phone, and the secret access tokens that go with them."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# Crockford's base32 without I, L, O, U: no letter can be misheard as a digit.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_BYTES = 24  # 192 bits of randomness, above the contract's 128


def new_tracking_id() -> str:
    """`KBB-XXXX-XXXX`: 40 random bits, said aloud in two groups of four."""
    bits = int.from_bytes(secrets.token_bytes(5))  # one read of the CSPRNG, 5 bits per character
    chars = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"KBB-{chars[:4]}-{chars[4:]}"


def normalise_tracking_id(raw: str) -> str:
    """Accept what people type: lower case, no dashes, O for 0, I/L for 1."""
    s = raw.strip().upper().replace("-", "").replace(" ", "")
    s = s.translate(str.maketrans("OIL", "011"))
    if s.startswith("KBB"):
        s = s[3:]
    if len(s) != 8 or any(c not in _ALPHABET for c in s):
        return raw  # unknown shape: let the lookup fail as not found
    return f"KBB-{s[:4]}-{s[4:]}"


MAX_TYPED_LENGTH = 40  # "kbb - 0ab1 - cd23" with generous spaces; anything longer is no tracking id
_TRACKING_ID = re.compile(rf"^KBB-[{_ALPHABET}]{{4}}-[{_ALPHABET}]{{4}}$")


def is_tracking_id(raw: str) -> bool:
    """Whether `raw` is a tracking id as people type it (see normalise_tracking_id): routes
    answer 404 to anything else before reading anything."""
    return len(raw) <= MAX_TYPED_LENGTH and bool(_TRACKING_ID.match(normalise_tracking_id(raw)))


def new_access_token() -> str:
    """The access tokens issued before the grouped access codes (chalicelib/domain/access_code.py):
    still made for reports nobody follows here (those created from SP4N-LAPOR!)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)
