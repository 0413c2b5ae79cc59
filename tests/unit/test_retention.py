"""The retention rules, pure: the policy file, the cutoff, the retention clock, what erasing changes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain import retention
from chalicelib.domain.retention import ERASED_TEXT

REPORTER = {"name": "Siti Aminah", "email": "siti@example.org", "phone": "+6281234567890"}


def test_the_shipped_policy_loads() -> None:
    policy = retention.load_policy()
    assert policy.erase_after_months == 24 and policy.closed_statuses == {"selesai", "ditolak"}


@pytest.mark.parametrize("change", [
    {"erase_after_months": 0}, {"erase_after_months": "24"}, {"closed_statuses": ["diproses"]},
    {"closed_statuses": []}, {"coordinate_decimals": 6}, {"policy": " "}, {"unknown": 1},
])
def test_a_bad_policy_is_refused(change: dict[str, Any]) -> None:
    data = {"policy": "p", "erase_after_months": 24, "closed_statuses": ["selesai"], **change}
    with pytest.raises(retention.InvalidRetentionPolicy):
        retention.policy_from_dict(data)


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2028, 12, 4, 10, tzinfo=UTC), 24, datetime(2026, 12, 4, 10, tzinfo=UTC)),
    (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2028, 1, 15, tzinfo=UTC), 13, datetime(2026, 12, 15, tzinfo=UTC)),
])
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert retention.months_before(moment, months) == expected


def test_the_retention_clock() -> None:
    closed = frozenset({"selesai", "ditolak"})
    assert retention.closure_fields("selesai", "T1", None, None, closed) == {"closed_at": "T1", "retention_due": "yes"}
    # A later write of a closed report keeps the first closing time.
    assert retention.closure_fields("selesai", "T2", "T1", None, closed)["closed_at"] == "T1"
    assert retention.closure_fields("diproses", "T2", "T1", None, closed) == {"closed_at": None, "retention_due": None}
    # Erased: never due again.
    assert retention.closure_fields("selesai", "T3", "T1", "T2", closed)["retention_due"] is None


def test_anonymising_a_report_and_again() -> None:
    values = {"title": "Jalan rusak depan rumah Siti Aminah", "description": "Hubungi 0812-3456-7890",
              "reporter": REPORTER, "nik_ciphertext": b"x", "attachments": ["att_1"], "phone_hash": "h",
              "email_hash": None, "location": {"kecamatan": "lembang", "desa": "Jayagiri", "address": "Jl. X 1",
                                               "lat": -6.812345, "lon": 107.61}}
    changes, fields = retention.anonymised_report(values, 2)
    assert fields == ["attachments", "description", "location", "nik_ciphertext", "phone_hash", "reporter", "title"]
    assert changes["title"] == "Jalan rusak depan rumah [nama dihapus]" and changes["description"] == ERASED_TEXT
    assert changes["location"] == {"kecamatan": "lembang", "desa": "Jayagiri", "address": None, "lat": -6.81,
                                   "lon": 107.61}
    after = {**values, **changes}
    assert retention.anonymised_report(after, 2) == ({}, [])


def test_scrubbing_events() -> None:
    reply = {"actor": "pelapor", "action": "reply", "message": "Saya Siti, 0812-3456-7890", "data": {}}
    changes, fields = retention.scrubbed_event(reply, REPORTER)
    assert changes == {"message": ERASED_TEXT} and fields == ["message"]
    staff = {"actor": "admin", "action": "reject", "message": "Ibu Siti Aminah, laporan ganda.",
             "data": {"reason": "sudah dilaporkan siti@example.org", "opd_code": "DPUPR"}}
    changes, fields = retention.scrubbed_event(staff, REPORTER)
    assert changes["message"] == "Ibu [nama dihapus], laporan ganda."
    assert changes["data"] == {"reason": "sudah dilaporkan [email dihapus]", "opd_code": "DPUPR"}
    assert fields == ["data.reason", "message"]
    # The system's own texts and the submit event are left alone; a scrubbed event stays as it is.
    submit = {"actor": "pelapor", "action": "submit", "message": "Laporan diterima dan menunggu verifikasi."}
    assert retention.scrubbed_event(submit, REPORTER) == ({}, [])
    assert retention.scrubbed_event({**staff, **changes}, {}) == ({}, [])
    assert retention.scrubbed_event({**reply, "message": ERASED_TEXT}, REPORTER) == ({}, [])


def test_contact_hashes_are_keyed_and_normalised() -> None:
    import hashlib
    import hmac

    from chalicelib.domain import identity

    key = b"k" * 32
    hashes = identity.contact_hashes(key, "+6281234567890", " Siti@Example.ORG ")
    assert hashes["phone_hash"] == hmac.new(key, b"phone:+6281234567890", hashlib.sha256).hexdigest()
    assert hashes["email_hash"] == identity.contact_hash(key, "email", "siti@example.org")
    assert identity.contact_hashes(b"other" * 8, "+6281234567890", None)["phone_hash"] != hashes["phone_hash"]
    assert identity.contact_hashes(key, None, None) == {"phone_hash": None, "email_hash": None}
    with pytest.raises(ValueError):
        identity.contact_hash(key, "nik", "3217014508900001")
