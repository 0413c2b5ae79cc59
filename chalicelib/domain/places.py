"""Where a report is, as people type it: a kecamatan named with typos, case, spaces or a
"kec."/"kecamatan" in front (the SMS and WhatsApp channels). One rule for every channel."""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

SIMILARITY = 0.75  # difflib ratio: "lembeng", "ngampra", "cisarwa" match; "bandung" does not
KEC_PREFIX = re.compile(r"^(kecamatan|kec\.?)\s*", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", KEC_PREFIX.sub("", name.strip()).lower())


def match_kecamatan(typed: str, names: Mapping[str, str]) -> str | None:
    """The code of the kecamatan `typed` names (codes and names of `names`: code -> name)."""
    key = _key(typed)
    if not key:
        return None
    by_key = {_key(name): code for code, name in names.items()} | {_key(code): code for code in names}
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=SIMILARITY)
    return by_key[close[0]] if close else None
