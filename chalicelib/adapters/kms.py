"""NIK encryption: envelope encryption under the NIK's own KMS key (only the API function may use
it), AES-256-GCM bound to the report's tracking id, with a data key reused for a short while.
The record format and why the data key is cached: docs/PRIVACY.md, "How the NIK is stored".
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import aws
from chalicelib.config import settings

MAGIC = b"LKB\x01"
MAX_AGE_SECONDS = 300.0
MAX_USES = 1000
_KEY_CONTEXT = {"purpose": "nik"}  # binds the data keys to this use of the NIK key


@dataclass
class _DataKey:
    aead: Any  # AESGCM over the plaintext key, built once per key rather than per NIK
    encrypted: bytes
    born: float
    uses: int = 0


_lock = threading.Lock()
_cached: list[_DataKey] = []


def _data_key() -> _DataKey:
    # Imported here: cryptography is a large part of a cold start, and only a submission with a NIK needs it.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    with _lock:
        key = _cached[0] if _cached else None
        if key is None or key.uses >= MAX_USES or time.monotonic() - key.born > MAX_AGE_SECONDS:
            out = aws.client("kms").generate_data_key(KeyId=settings().nik_key_id, KeySpec="AES_256",
                                                      EncryptionContext=_KEY_CONTEXT)
            key = _DataKey(AESGCM(bytes(out["Plaintext"])), bytes(out["CiphertextBlob"]), time.monotonic())
            _cached[:] = [key]
        key.uses += 1
        return key


def forget_data_key() -> None:
    """Drop the cached data key (tests; a key rotation does not need it: the key ages out)."""
    with _lock:
        _cached.clear()


def _aad(tracking_id: str) -> bytes:
    return b"nik|" + tracking_id.encode()


def encrypt_nik(nik: str, tracking_id: str) -> bytes:
    key = _data_key()
    nonce = os.urandom(12)  # 96-bit random nonces: at 1,000 uses per key, collisions are out of reach
    sealed = key.aead.encrypt(nonce, nik.encode("ascii"), _aad(tracking_id))
    return MAGIC + len(key.encrypted).to_bytes(2, "big") + key.encrypted + nonce + sealed


def decrypt_nik(ciphertext: bytes, tracking_id: str) -> str:
    kms = aws.client("kms")
    if not ciphertext.startswith(MAGIC):  # a record from before envelope encryption
        out = kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext={**_KEY_CONTEXT, "tracking_id": tracking_id})
        return bytes(out["Plaintext"]).decode("ascii")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    size = int.from_bytes(ciphertext[4:6], "big")
    encrypted_key, rest = ciphertext[6:6 + size], ciphertext[6 + size:]
    plaintext_key = bytes(kms.decrypt(CiphertextBlob=encrypted_key, EncryptionContext=_KEY_CONTEXT)["Plaintext"])
    return AESGCM(plaintext_key).decrypt(rest[:12], rest[12:], _aad(tracking_id)).decode("ascii")
