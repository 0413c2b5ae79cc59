"""SMS text in the GSM 03.38 7-bit alphabet, fitted into at most two segments.

Why: one character outside GSM-7 (a curly quote pasted from a word processor, an emoji in a
report title) switches the whole SMS to UCS-2, where a segment holds 70 characters instead of
160, and a notice silently becomes four or five billed segments. So texts are transliterated
to GSM-7 first, then the variable parts are shortened until the message fits.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€\f")  # two septets each (escape + char)
SINGLE_SEGMENT = 160
MULTI_SEGMENT = 153  # 7 septets of each part go to the concatenation header
MAX_SEGMENTS = 2
MAX_SEPTETS = MULTI_SEGMENT * MAX_SEGMENTS  # 306

_REPLACE = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ", "\u2022": "-",
    "\u00b0": "o", "\u00d7": "x",
}


def is_gsm7(text: str) -> bool:
    return all(c in BASIC or c in EXTENDED for c in text)


def septets(text: str) -> int:
    return sum(2 if c in EXTENDED else 1 for c in text)


def segments(text: str) -> int:
    n = septets(text)
    return 1 if n <= SINGLE_SEGMENT else -(-n // MULTI_SEGMENT)


def to_gsm7(text: str) -> str:
    """Transliterate to GSM-7: typographic punctuation to ASCII, accents dropped where GSM-7
    lacks the letter, anything else (emoji, other scripts) to '?'. Whitespace runs collapse."""
    out: list[str] = []
    for ch in text:
        if ch in BASIC or ch in EXTENDED:
            out.append(ch)
            continue
        if ch in _REPLACE:
            out.append(_REPLACE[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and all(c in BASIC for c in base):
            out.append(base)
        elif unicodedata.category(ch).startswith(("Z", "C")):
            out.append(" ")
        else:
            out.append("?")
    return " ".join("".join(out).replace("\r", " ").replace("\n", " ").split())


def _cut(value: str, septet_budget: int) -> str:
    """`value` shortened to at most `septet_budget` septets, ending in '...' when cut."""
    if septets(value) <= septet_budget:
        return value
    keep = max(0, septet_budget - 3)
    out, used = [], 0
    for ch in value:
        w = 2 if ch in EXTENDED else 1
        if used + w > keep:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip(" ,.;:-") + "..."


def fit(render: Callable[[Mapping[str, str]], str], values: Mapping[str, str],
        shrinkable: Sequence[str], limit: int = MAX_SEPTETS) -> str:
    """Render an SMS from `values`, all transliterated to GSM-7, then shorten the `shrinkable`
    ones to a common cap (the largest that fits: long values give up the most, short ones stay
    whole) so the text is at most `limit` septets. Raises ValueError if even the shortest cut
    overflows (a template too long for an SMS is a configuration error the template tests catch)."""
    clean = {k: to_gsm7(str(v)) for k, v in values.items()}
    names = [k for k in shrinkable if k in clean]

    def attempt(cap: int | None) -> str:
        current = dict(clean) if cap is None else {k: (_cut(v, cap) if k in names else v) for k, v in clean.items()}
        return to_gsm7(render(current))

    text = attempt(None)
    if septets(text) <= limit:
        return text
    low, high = 4, max((septets(clean[k]) for k in names), default=4)
    if septets(attempt(low)) > limit:
        raise ValueError(f"SMS template cannot fit {limit} septets even with its variables cut")
    while low < high:  # the largest cap that fits
        mid = (low + high + 1) // 2
        if septets(attempt(mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    return attempt(low)
