"""The access code's form and the stored digests (pure: chalicelib/domain/access_code.py)."""
from __future__ import annotations

import hashlib
import math
import re

from chalicelib.domain import access_code

KEY = b"unit-test-key"


def test_a_code_is_16_symbols_without_look_alikes_in_four_groups() -> None:
    codes = {access_code.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code) and len(code) == 19
        assert not set(code) & set("01ILOU")
    assert set("".join(codes).replace("-", "")) == set(access_code.ALPHABET)  # every symbol is used
    assert access_code.LENGTH * math.log2(len(access_code.ALPHABET)) > 78


def test_typing_is_forgiving_about_case_spaces_and_dashes_only() -> None:
    code = "ABCD-EFGH-JKMN-PQ23"
    stored = access_code.digest(KEY, code)
    for typed in ("abcd-efgh-jkmn-pq23", "ABCDEFGHJKMNPQ23", " abcd efgh jkmn pq23 ", "AB-CD EF-GH JKMN-PQ 23"):
        assert access_code.matches(KEY, typed, stored), typed
    for typed in ("ABCD-EFGH-JKMN-PQ24", "ABCD-EFGH-JKMN-PQ2", "", None, "X" * 500):
        assert not access_code.matches(KEY, typed, stored)
    assert not access_code.matches(b"another key", code, stored)
    assert stored.startswith("ac1:") and "ABCD" not in stored.upper().replace("AC1:", "")


def test_a_code_of_the_former_form_is_checked_as_before() -> None:
    token = "Zk3_lI0O-9xYwVb2QmTnRpLs4uHjEe8A"
    stored = hashlib.sha256(token.encode()).hexdigest()
    assert access_code.matches(KEY, token, stored)
    assert not access_code.matches(KEY, token.lower(), stored)


def test_recovery_codes_are_six_digits_bound_to_their_report() -> None:
    otp = access_code.new_otp()
    assert re.fullmatch(r"\d{6}", otp)
    assert access_code.otp_digest(KEY, "KBB-AAAA-BBBB", otp) != access_code.otp_digest(KEY, "KBB-AAAA-BBBC", otp)
    assert access_code.clean_otp(" 123 456 ") == "123456"
    assert access_code.clean_otp("12345") is None and access_code.clean_otp("12345a") is None
    assert access_code.clean_otp("١٢٣٤٥٦") is None  # digits of other scripts are no code of ours
