"""When two reports look like the same problem: the rules of the duplicate suggestions. Pure.

A candidate is suggested for a report when it is another open report not merged into a third,
of the same kecamatan, of the same desa when both name one, of the same category when both have
one, within MAX_DISTANCE_M when both carry coordinates, and its text is similar: `score` (0-100)
at least MIN_SCORE. The score is rapidfuzz's token-set ratio (word order and repeated words do
not matter) of the titles and of the descriptions, half each, after dropping the words every
Indonesian complaint uses ("di", "yang", "jalan"...), which would make any two texts alike.
The newest MAX_SUGGESTIONS above the threshold are shown, each with its score: the admin
decides, the score only ranks what they look at.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

MAX_SUGGESTIONS = 5
MIN_SCORE = 60.0
MAX_DISTANCE_M = 500.0

# Function words and the words of every complaint: they carry no sign of the same problem.
_STOPWORDS = frozenset({
    "di", "ke", "dari", "yang", "dan", "atau", "dengan", "untuk", "pada", "dalam", "ini", "itu",
    "ada", "tidak", "sudah", "belum", "sangat", "sekali", "juga", "karena", "agar", "sejak",
    "oleh", "para", "kami", "saya", "kita", "mereka", "warga", "mohon", "tolong", "segera", "pak",
    "bu", "bapak", "ibu", "desa", "kampung", "rt", "rw", "kecamatan", "jalan", "jl", "laporan",
    "lapor",
})

_EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Text:
    """What the score compares of a report."""

    title: str
    description: str


@dataclass(frozen=True)
class Place:
    kecamatan: str
    desa: str | None = None
    category: str | None = None
    lat: float | None = None
    lon: float | None = None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _words(text: str) -> str:
    return " ".join(w for w in utils.default_process(text or "").split() if w not in _STOPWORDS)


def score(a: Text, b: Text) -> float:
    """0-100, one decimal: how alike the two reports read."""
    title = fuzz.token_set_ratio(_words(a.title), _words(b.title))
    description = fuzz.token_set_ratio(_words(a.description), _words(b.description))
    return round(0.5 * title + 0.5 * description, 1)


def same_place(report: Place, candidate: Place) -> tuple[bool, float | None]:
    """Whether `candidate` is where `report` is (kecamatan, desa, category and distance as the
    module says), and the distance in metres when both have coordinates."""
    if report.kecamatan != candidate.kecamatan:
        return False, None
    if report.desa and candidate.desa and report.desa != candidate.desa:
        return False, None
    if report.category and candidate.category and report.category != candidate.category:
        return False, None
    if None in (report.lat, report.lon, candidate.lat, candidate.lon):
        return True, None
    metres = distance_m(float(report.lat), float(report.lon),  # type: ignore[arg-type]
                        float(candidate.lat), float(candidate.lon))  # type: ignore[arg-type]
    return metres <= MAX_DISTANCE_M, metres


@dataclass(frozen=True)
class Suggestion:
    tracking_id: str
    score: float
    created_at: str
    distance_m: float | None


def suggest(report: tuple[str, Place, Text],
            candidates: Iterable[tuple[str, str, Place, Text]]) -> list[Suggestion]:
    """The newest MAX_SUGGESTIONS candidates (tracking_id, created_at, place, text) that match
    `report` (tracking_id, place, text) and score at least MIN_SCORE."""
    own_id, own_place, own_text = report
    found: list[Suggestion] = []
    for tracking_id, created_at, place, text in candidates:
        if tracking_id == own_id:
            continue
        near, metres = same_place(own_place, place)
        if not near:
            continue
        value = score(own_text, text)
        if value >= MIN_SCORE:
            found.append(Suggestion(tracking_id, value, created_at,
                                    round(metres, 1) if metres is not None else None))
    found.sort(key=lambda s: s.created_at, reverse=True)
    return found[:MAX_SUGGESTIONS]

