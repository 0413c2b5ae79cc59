"""The server key behind reporters' access codes and recovery codes, and the sealed copies of a
code on its way to the reporter's own contact.

One secret (`AccessCodeSecret`, id in ACCESS_CODE_SECRET_ID; ACCESS_CODE_SECRET locally and in
tests) gives two keys: the HMAC key of the stored code digests, and an AES-256-GCM key that seals
the one copy of a fresh code the notify consumer needs to text or mail it. The seal lives in the
ledger for at most a day (TTL, and notify deletes it once sent); it is bound to its
report and event (associated data), so a sealed copy moved elsewhere does not open.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.adapters import server_keys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LOCAL_KEY = b"lapor-kbb-local-access-code-key"  # local stack and tests only


def key() -> bytes:
    """The HMAC key of access-code and recovery-code digests."""
    return _derived(_root(), b"digest")


@lru_cache(maxsize=8)
def _derived(root: bytes, purpose: bytes) -> bytes:
    return hmac.new(root, purpose, hashlib.sha256).digest()


def _root() -> bytes:
    return server_keys.server_key("ACCESS_CODE_SECRET", local=_LOCAL_KEY)


@lru_cache(maxsize=4)
def _aead(root: bytes) -> AESGCM:
    # Imported here: cryptography costs a cold start, and only a code's delivery needs it.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(_derived(root, b"seal"))


def seal(code: str, bound_to: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aead(_root()).encrypt(nonce, code.encode(), bound_to.encode())).decode()


def unseal(sealed: str, bound_to: str) -> str:
    raw = base64.b64decode(sealed)
    return _aead(_root()).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
