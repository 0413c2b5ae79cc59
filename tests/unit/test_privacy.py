"""chalicelib.domain.privacy: who sees the reporter's identity, and redaction of free texts."""
from __future__ import annotations

import pytest

from chalicelib.domain import privacy

REPORTER = {"name": "Kanari Waluyo", "email": "kanari@example.net", "phone": "+6281398765432"}
NIK = "3217061203850007"


@pytest.mark.parametrize("privacy_mode", ["publik", "rahasia"])
def test_admin_sees_contact_of_named_reports_without_audit(privacy_mode: str) -> None:
    access = privacy.identity_access("admin", privacy_mode, has_nik=True)
    assert access.contact and not access.nik and not access.audited and not access.hidden_for_admin
    shown = privacy.staff_reporter("admin", access, REPORTER, None, has_nik=True)
    assert shown == {**REPORTER, "nik": None, "nik_on_file": True}


def test_admin_anonim_identity_hidden_until_revealed_and_then_audited() -> None:
    hidden = privacy.identity_access("admin", "anonim")
    assert not hidden.contact and hidden.hidden_for_admin and not hidden.audited
    assert privacy.staff_reporter("admin", hidden, REPORTER, None, has_nik=False) is None
    revealed = privacy.identity_access("admin", "anonim", {"identity"})
    assert revealed.contact and revealed.audited == ("identity",)
    # an anonymous reporter who left no contact: nothing is disclosed, nothing to audit
    empty = privacy.identity_access("admin", "anonim", {"identity"}, has_contact=False)
    assert empty.audited == ()


def test_admin_nik_only_on_explicit_reveal_and_always_audited() -> None:
    access = privacy.identity_access("admin", "publik", {"nik"}, has_nik=True)
    assert access.nik and access.audited == ("nik",)
    assert privacy.staff_reporter("admin", access, REPORTER, NIK, has_nik=True)["nik"] == NIK
    # the NIK of an anonymous reporter reveals the person as well: both are recorded
    anon = privacy.identity_access("admin", "anonim", {"nik"}, has_nik=True)
    assert anon.contact and anon.audited == ("identity", "nik")


def test_opd_never_sees_nik_and_no_identity_of_anonim() -> None:
    named = privacy.identity_access("opd", "publik", has_nik=True)
    shown = privacy.staff_reporter("opd", named, REPORTER, NIK, has_nik=True)
    assert shown == REPORTER  # no nik key at all, not even nik_on_file
    anon = privacy.identity_access("opd", "anonim", has_nik=True)
    assert privacy.staff_reporter("opd", anon, REPORTER, NIK, has_nik=True) is None
    assert anon.redact_texts


@pytest.mark.parametrize("privacy_mode", ["publik", "anonim", "rahasia"])
def test_pimpinan_never_see_a_reporter_contact(privacy_mode: str) -> None:
    access = privacy.identity_access("pimpinan", privacy_mode, has_nik=True)
    assert not access.contact and not access.nik and access.redact_texts
    assert privacy.staff_reporter("pimpinan", access, REPORTER, NIK, has_nik=True) is None
    assert privacy.text_for(access, "pimpinan", "Saya Kanari, 0813 9876 5432", REPORTER, None) == \
        "Saya [nama disembunyikan], [nomor disembunyikan]"


@pytest.mark.parametrize("role", ["opd", "pimpinan"])
def test_only_admin_may_reveal(role: str) -> None:
    for what in ({"identity"}, {"nik"}):
        with pytest.raises(privacy.RevealRefused):
            privacy.identity_access(role, "publik", what)


@pytest.mark.parametrize(("role", "privacy_mode", "assigned", "may"), [
    ("admin", "rahasia", False, True), ("admin", "anonim", False, True), ("admin", "publik", False, True),
    ("opd", "rahasia", True, True), ("opd", "rahasia", False, False), ("opd", "publik", False, False),
    ("opd", "anonim", True, True),
    ("pimpinan", "rahasia", False, False), ("pimpinan", "rahasia", True, False),
    ("pimpinan", "anonim", False, True), ("pimpinan", "publik", False, True),
    ("pelapor", "publik", False, False),
])
def test_may_read(role: str, privacy_mode: str, assigned: bool, may: bool) -> None:
    assert privacy.may_read(role, privacy_mode, assigned=assigned) is may
    assert (privacy_mode in privacy.unreadable_privacies(role)) is (role == "pimpinan" and privacy_mode == "rahasia")


def test_redact_cuts_every_spelling_of_the_reporter() -> None:
    text = ("Saya Kanari Waluyo (kanari waluyo), hubungi 0813-9876-5432 atau +62 813 9876 5432 atau "
            "6281398765432, email KANARI@example.net, NIK 3217 0612 0385 0007. Salam, Kanari.")
    out = privacy.redact(text, REPORTER, NIK)
    for leak in ("Kanari", "kanari", "Waluyo", "9876", "example.net", "3217", "0007"):
        assert leak not in out, (leak, out)
    assert privacy.REDACTED_NAME in out and privacy.REDACTED_PHONE in out and privacy.REDACTED_EMAIL in out


def test_nik_like_numbers_cut_even_without_identity_redaction() -> None:
    out = privacy.redact("NIK tetangga 3217014508900001, RT 05", None, None, identity=False)
    assert "3217014508900001" not in out and "RT 05" in out


def test_text_for_admin_is_verbatim_and_for_opd_redacted() -> None:
    text = "Kanari Waluyo melapor, NIK 3217061203850007"
    anon_opd = privacy.identity_access("opd", "anonim")
    assert privacy.text_for(anon_opd, "opd", text, REPORTER, None) == (
        f"{privacy.REDACTED_NAME} melapor, NIK {privacy.REDACTED_ID}")
    named_opd = privacy.identity_access("opd", "publik")
    assert privacy.text_for(named_opd, "opd", text, REPORTER, None) == f"Kanari Waluyo melapor, NIK {privacy.REDACTED_ID}"
    admin = privacy.identity_access("admin", "anonim")
    assert privacy.text_for(admin, "admin", text, REPORTER, None) == text


def test_redact_data_walks_nested_values() -> None:
    access = privacy.identity_access("opd", "anonim")
    data = {"reason": "dari Kanari", "nested": [{"x": "kanari@example.net"}], "n": 3}
    out = privacy.redact_data(data, access, "opd", REPORTER, None)
    assert out == {"reason": f"dari {privacy.REDACTED_NAME}", "nested": [{"x": privacy.REDACTED_EMAIL}], "n": 3}
