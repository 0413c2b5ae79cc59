"""NIK encryption with a KMS key of its own (only the API function may use it)."""
from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.config import settings


# Binds each ciphertext to its report: a ciphertext copied onto another report will not decrypt.
def _context(tracking_id: str) -> dict[str, str]:
    return {"purpose": "nik", "tracking_id": tracking_id}


def encrypt_nik(nik: str, tracking_id: str) -> bytes:
    out = aws.client("kms").encrypt(
        KeyId=settings().nik_key_id, Plaintext=nik.encode("ascii"), EncryptionContext=_context(tracking_id)
    )
    return bytes(out["CiphertextBlob"])


def decrypt_nik(ciphertext: bytes, tracking_id: str) -> str:
    out = aws.client("kms").decrypt(CiphertextBlob=ciphertext, EncryptionContext=_context(tracking_id))
    return bytes(out["Plaintext"]).decode("ascii")
