"""NIK envelope encryption (chalicelib/adapters/kms.py) against moto's KMS."""
from __future__ import annotations

from typing import Any

import pytest

NIK = "3217014508900001"


@pytest.fixture
def kms(aws: dict[str, str]) -> Any:
    from chalicelib.adapters import kms

    kms.forget_data_key()
    return kms


def test_round_trip_and_the_record_holds_no_plain_nik(kms: Any) -> None:
    blob = kms.encrypt_nik(NIK, "KBB-AAAA-BBBB")
    assert blob.startswith(kms.MAGIC) and NIK.encode() not in blob
    assert kms.decrypt_nik(blob, "KBB-AAAA-BBBB") == NIK


def test_a_ciphertext_copied_onto_another_report_does_not_decrypt(kms: Any) -> None:
    from cryptography.exceptions import InvalidTag

    blob = kms.encrypt_nik(NIK, "KBB-AAAA-BBBB")
    with pytest.raises(InvalidTag):
        kms.decrypt_nik(blob, "KBB-CCCC-DDDD")


def test_a_tampered_ciphertext_does_not_decrypt(kms: Any) -> None:
    from cryptography.exceptions import InvalidTag

    blob = bytearray(kms.encrypt_nik(NIK, "KBB-AAAA-BBBB"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        kms.decrypt_nik(bytes(blob), "KBB-AAAA-BBBB")


def test_one_data_key_serves_many_nik_then_is_renewed(kms: Any, aws_calls: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kms, "MAX_USES", 3)
    blobs = [kms.encrypt_nik(NIK, f"KBB-AAAA-000{i}") for i in range(4)]
    assert aws_calls["kms.GenerateDataKey"] == 2  # uses 1-3 on the first key, the 4th on a new one
    assert not aws_calls["kms.Encrypt"]
    assert blobs[0][:60] == blobs[2][:60] != blobs[3][:60]  # the encrypted data key heads the record
    assert len({b[-28:] for b in blobs}) == 4  # a fresh nonce each time
    assert [kms.decrypt_nik(b, f"KBB-AAAA-000{i}") for i, b in enumerate(blobs)] == [NIK] * 4


def test_the_data_key_ages_out(kms: Any, aws_calls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    kms.encrypt_nik(NIK, "KBB-AAAA-0001")
    monkeypatch.setattr(kms, "MAX_AGE_SECONDS", -1.0)
    kms.encrypt_nik(NIK, "KBB-AAAA-0002")
    assert aws_calls["kms.GenerateDataKey"] == 2


def test_showing_a_nik_asks_kms_every_time(kms: Any, aws_calls: Any) -> None:
    """Decryption is not cached: each NIK shown is a KMS Decrypt, in CloudTrail."""
    blob = kms.encrypt_nik(NIK, "KBB-AAAA-BBBB")
    kms.decrypt_nik(blob, "KBB-AAAA-BBBB")
    kms.decrypt_nik(blob, "KBB-AAAA-BBBB")
    assert aws_calls["kms.Decrypt"] == 2


def test_a_record_from_before_envelope_encryption_still_decrypts(kms: Any) -> None:
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.config import settings

    old = aws_clients.client("kms").encrypt(KeyId=settings().nik_key_id, Plaintext=NIK.encode(),
                                            EncryptionContext={"purpose": "nik", "tracking_id": "KBB-AAAA-BBBB"})
    blob = bytes(old["CiphertextBlob"])
    assert not blob.startswith(kms.MAGIC)
    assert kms.decrypt_nik(blob, "KBB-AAAA-BBBB") == NIK
