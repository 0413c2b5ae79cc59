"""Redaction sees text as a reader does: NFKC, no invisible characters, NIKs with any separator;
the same in the log mask; and the CSV export's formula guard."""
from __future__ import annotations

import pytest

from chalicelib.domain import privacy
from chalicelib.domain.redaction import normalise, redact_text
from chalicelib.observability import mask_text

NIK = "3217014508900001"
SPELLINGS = [
    "3217014508900001",
    "3217 0145 0890 0001",
    "3217.0145.0890.0001",
    "3217-0145-0890-0001",
    "32-17-01-45-08-90-00-01",
    "3217 - 0145 - 0890 - 0001",
    "3217/0145/0890/0001",
    "3217_0145_0890_0001",
    "3217\u200b014508900001",            # zero-width space
    "3217\u00ad0145\u200d0890\u20600001",  # soft hyphen, zero-width joiner, word joiner
    "\uff13\uff12\uff11\uff17\uff10\uff11\uff14\uff15\uff10\uff18\uff19\uff10\uff10\uff10\uff10\uff11",  # full width
    "3217\ufeff0145 0890\u20130001",     # BOM, en dash
]


def test_normalise_folds_width_and_drops_invisible_characters() -> None:
    assert normalise("Ｓｉｔｉ\u200b Aminah\u00ad") == "Siti Aminah"
    assert normalise("plain ascii") == "plain ascii"


@pytest.mark.parametrize("written", SPELLINGS)
def test_every_spelling_of_a_nik_is_cut(written: str) -> None:
    text = f"NIK saya {written}, mohon dibantu."
    assert "0001" not in privacy.redact(text, None, None, identity=False)
    assert "0001" not in redact_text(text)
    assert "0001" not in mask_text(text)
    assert "[NIK]" in mask_text(text)


def test_the_name_with_a_zero_width_space_is_still_the_name() -> None:
    out = privacy.redact("Salam, Kana\u200bri Waluyo", {"name": "Kanari Waluyo"}, None)
    assert "Kanari" not in out and "[nama disembunyikan]" in out
    assert "Kanari" not in redact_text("Salam, Ka\u200cnari", {"name": "Kanari Waluyo"})


def test_short_numbers_and_dates_survive() -> None:
    text = "RT 05/RW 02, tanggal 04-12-2026 pukul 10.30, Rp 50.000"
    assert privacy.redact(text, None, None, identity=False) == text
    assert mask_text(text) == text


@pytest.mark.parametrize("cell", ["=1+1", "+62 811", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_csv_guard_quotes_formula_starts(cell: str) -> None:
    from chalicelib.services.staff_list import _cell

    assert _cell({"title": cell}, "title") == "'" + cell
    assert _cell({"title": "Jalan " + cell}, "title") == "Jalan " + cell
