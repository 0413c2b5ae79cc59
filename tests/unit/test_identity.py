"""chalicelib/domain/identity.py: phone numbers and NIKs.

normalise_phone answers Indonesian mobiles without libphonenumber (the hot path of a submission);
these tests hold that shortcut to the library's own answer, on every prefix and length of the
mobile range, around its edges, and on arbitrary input.
"""
from __future__ import annotations

import itertools

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import identity
from chalicelib.domain.identity import nik_problem, normalise_phone


def library(raw: str) -> str | None:
    """What libphonenumber alone says of `raw`, after the same clean-up: E.164 or None (invalid)."""
    cleaned = identity._SEPARATORS.sub("", raw)
    if cleaned.startswith("62"):
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def ours(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except ValueError:
        return None


def test_the_shortcut_pattern_is_the_library_s_own_for_indonesian_mobiles() -> None:
    mobile = phonenumbers.PhoneMetadata.metadata_for_region("ID").mobile
    assert identity._ID_MOBILE.pattern == r"(?:0|\+62)(" + mobile.national_number_pattern + ")"


@pytest.mark.parametrize(("second", "length"), list(itertools.product("0123456789", range(7, 14))))
def test_every_mobile_prefix_and_length_agrees_with_the_library(second: str, length: int) -> None:
    # 8, then the operator digit, then `length` digits: inside and just outside 8[1-35-9]\d{7,10}.
    for fill in ("0" * length, "9" * length, ("1234567890" * 2)[:length]):
        national = "8" + second + fill
        shortcut = identity._ID_MOBILE.fullmatch("0" + national) is not None
        for written in (f"0{national}", f"+62{national}", f"62{national}", f"+62 {national[:3]}-{national[3:]}"):
            assert ours(written) == library(written), written
            if shortcut:
                assert ours(written) == "+62" + national


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"\A(?:0|\+62|62)?[ -]?8[0-9]{0,2}[ -]?[0-9]{4,11}\Z"))
def test_mobile_like_input_agrees_with_the_library(raw: str) -> None:
    expected = library(raw)
    if expected is None:
        with pytest.raises(ValueError):
            normalise_phone(raw)
    else:
        assert normalise_phone(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("(022) 6867-1234", "+622268671234"),  # a Bandung landline: the library's path
])
def test_numbers_as_people_write_them(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected == library(raw)


@pytest.mark.parametrize("raw", ["+1 202 555 0100", "+44 7911 123456", "+65 8123 4567", "+234 803 123 4567"])
def test_foreign_numbers_are_refused_in_indonesian(raw: str) -> None:
    assert library(raw) is not None and not library(raw).startswith("+62")  # valid numbers, abroad
    with pytest.raises(ValueError, match="nomor Indonesia"):
        normalise_phone(raw)


@pytest.mark.parametrize(("e164", "mobile"), [
    ("+6281234567890", True), ("+628120000388", True), ("+6285712345678", True),
    ("+622268671234", False), ("+62215551234", False), ("+6280012345678", False),
    ("+12025550100", False), ("081234567890", False), (None, False), ("", False),
])
def test_is_mobile(e164: str | None, mobile: bool) -> None:
    assert identity.is_mobile(e164) is mobile


@pytest.mark.parametrize("raw", ["0812", "12-ab", "0840-1234-5678", "+1 202 555 0100x", "08123456789012345"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


@pytest.mark.parametrize(("nik", "problem"), [
    ("3217014508900001", None),  # a woman born 5 Aug 1990 (day + 40)
    ("3217010508900001", None),
    ("0217014508900001", "tidak diawali 0"),
    ("321701450890000", "16 angka"),
    ("3217013213900001", "bulan lahir"),
    ("3217013202900001", "tanggal lahir"),  # 32 Feb
    ("3217012902010001", "tanggal lahir"),  # 29 Feb 2001: no leap year either way
    ("3217012902000001", None),  # 29 Feb 2000
    ("3217014508900000", "nomor urut"),
])
def test_nik_problems(nik: str, problem: str | None) -> None:
    got = nik_problem(nik)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got
        assert nik not in got  # a message never echoes the value
