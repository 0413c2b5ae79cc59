"""What an inbound SMS asks for, in the style of LAPOR!'s 1708 line: `LAPOR#<kecamatan>#<isi>` files
a report, `CEK#<nomor laporan>` asks for its status; anything else gets the help text.

People type on small keypads, so the reading is forgiving: case, spaces around separators, `*`
`;` or `|` instead of `#` (or a plain space after the keyword), "kec."/"kecamatan" before the
name, and a misspelt kecamatan (difflib's closest match above a similarity cut-off). A name too
far from every kecamatan is not guessed: the sender is asked again rather than filed in the
wrong place.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.places import KEC_PREFIX, match_kecamatan
from chalicelib.domain.tracking import is_tracking_id, normalise_tracking_id

SEPARATORS = "#*;|"
MIN_TEXT = 20  # the web form's minimum for a description
MAX_TEXT = 4000
TITLE_MAX = 80

_KEYWORD = re.compile(r"^\s*(lapor|cek)\b\s*[#*;|]?\s*", re.IGNORECASE)
_SPLIT = re.compile(r"\s*[#*;|]\s*")


@dataclass(frozen=True)
class File:
    """LAPOR#...: a new report."""
    kecamatan: str  # a code of the reference data
    text: str

    @property
    def title(self) -> str:
        """The first words of the text, cut at a word, for the staff list."""
        first = re.split(r"(?<=[.!?])\s", self.text, maxsplit=1)[0]
        if len(first) <= TITLE_MAX:
            return first
        cut = first[:TITLE_MAX].rsplit(" ", 1)[0]
        return (cut if len(cut) >= 5 else first[:TITLE_MAX]) + "..."


@dataclass(frozen=True)
class Check:
    """CEK#...: the status of a report sent from this number."""
    tracking_id: str


@dataclass(frozen=True)
class Unreadable:
    """Anything else: answered with the help text. `reason` says which part was wrong."""
    reason: str  # "format" | "kecamatan" | "short" | "long" | "tracking_id"
    given: str = ""


Command = File | Check | Unreadable


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse(message: str, kecamatan_names: Mapping[str, str]) -> Command:
    text = _clean(message)
    head = _KEYWORD.match(text)
    if head is None:
        return Unreadable("format")
    rest = text[head.end():]
    if head.group(1).lower() == "cek":
        typed = _SPLIT.split(rest, maxsplit=1)[0].strip()
        if not is_tracking_id(typed):
            return Unreadable("tracking_id", typed[:20])
        return Check(normalise_tracking_id(typed))
    parts = _SPLIT.split(rest, maxsplit=1)
    if len(parts) == 2:
        typed, body = parts
    else:  # "LAPOR lembang jalan rusak ...": every kecamatan of the regency is one word
        typed, _, body = rest.partition(" ")
    typed = KEC_PREFIX.sub("", typed)
    if KEC_PREFIX.match(parts[0]) and len(parts) == 1:
        typed, _, body = body.partition(" ")
    code = match_kecamatan(typed, kecamatan_names)
    if code is None:
        return Unreadable("kecamatan", typed[:30])
    body = body.strip()
    if len(body) < MIN_TEXT:
        return Unreadable("short")
    if len(body) > MAX_TEXT:
        return Unreadable("long")
    return File(code, body)
