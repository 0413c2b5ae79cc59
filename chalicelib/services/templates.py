"""Notification texts from chalicelib/config/templates/*.json (configuration, not code).

Each template file holds `subject` and `body` (email) and `sms` (or null for email only), with
`{placeholders}` filled from the values notify.py computes. An SMS is transliterated to GSM-7 and
its variable parts shortened so it always fits two segments (306 septets), or one (160) where the
template says `"sms_segments": 1`.
"""
from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from chalicelib.domain import gsm7

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "config" / "templates"
# Variables that may be shortened in an SMS, the first ones first when equally long. The
# tracking number, dates and links are never cut: they are what the recipient acts on.
SHRINKABLE = ("pesan", "judul", "alasan", "rincian_singkat", "opd_nama", "kategori", "kecamatan",
              "tahap", "status", "bulan", "minggu")


_DOUBLE_SPACE = re.compile(r" {2,}")


class _Missing(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "-"


@cache
def load(name: str) -> dict[str, Any]:
    path = TEMPLATE_DIR / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return load("_labels")


def names() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.json") if not p.stem.startswith("_"))


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _fill(text: str, values: Mapping[str, Any]) -> str:
    return text.format_map(_Missing({k: "" if v is None else str(v) for k, v in values.items()}))


def fill(text: str, values: Mapping[str, Any]) -> str:
    """`text` with its {placeholders} filled (a missing one reads "-"), no blank runs left by an
    empty one (the WhatsApp texts, chalicelib/services/whatsapp_outbound.py)."""
    return re.sub(r"\n{3,}", "\n\n", _DOUBLE_SPACE.sub(" ", _fill(text, values))).strip()


def render_email(name: str, values: Mapping[str, Any]) -> tuple[str, str]:
    t = load(name)
    subject = " ".join(_fill(t["subject"], values).split())[:200]
    return subject, _fill(t["body"], values)


def render_sms(name: str, values: Mapping[str, Any]) -> str | None:
    t = load(name)
    if not t.get("sms"):
        return None
    text: str = t["sms"]
    used = placeholders(text)
    # A placeholder left empty must not leave a double space behind in a paid segment.
    given = {k: "" if v is None else str(v) for k, v in values.items() if k in used}
    # A template may ask for one segment (the reporter's own texts: cheaper, and never split).
    limit = gsm7.SINGLE_SEGMENT if t.get("sms_segments") == 1 else gsm7.MAX_SEPTETS
    return gsm7.fit(lambda v: _DOUBLE_SPACE.sub(" ", _fill(text, v)), given, [k for k in SHRINKABLE if k in used],
                    limit)
