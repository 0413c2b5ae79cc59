"""Where a report is, as people type it: a kecamatan named with typos, case, spaces or a
"kec."/"kecamatan" in front (the SMS and WhatsApp channels), or a shared point on the map. One
rule for every channel."""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

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


# ---- a shared point -> its kecamatan ----------------------------------------------------------
# The regency has supplied no boundaries yet, only approximate centres of each kecamatan's settled
# area and of the neighbours across the border (chalicelib/config/kecamatan_geo.json, the same
# file as the web client's web/data/kecamatan.json). So the rule is the web client's
# (web/js/geo.js): the nearest KBB centre, unless the point is outside the regency's bounding box,
# more than MAX_KM from every KBB centre, or nearer a neighbour's centre (Kota Cimahi, the enclave
# between Ngamprah and Batujajar). Nearest centre is a point-in-polygon test on the Voronoi cells.
MAX_KM = 12.0
EARTH_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    d_lat, d_lon = p2 - p1, math.radians(lon2 - lon1)
    s = math.sin(d_lat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, s)))


def locate(lat: float, lon: float, geo: Mapping[str, Any]) -> str | None:
    """The code of the kecamatan the point (WGS84) lies in, or None when it is not in the regency
    (or not a point on Earth). `geo`: {"bounds": [[s, w], [n, e]], "kecamatan": [{code, lat, lon}],
    "neighbours": [{lat, lon}]}."""
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    (south, west), (north, east) = geo["bounds"]
    if not (south <= lat <= north and west <= lon <= east):
        return None
    best_km, best = min(((distance_km(lat, lon, float(k["lat"]), float(k["lon"])), str(k["code"]))
                         for k in geo["kecamatan"]), default=(math.inf, ""))
    neighbour_km = min((distance_km(lat, lon, float(n["lat"]), float(n["lon"])) for n in geo.get("neighbours") or []),
                       default=math.inf)
    if not best or best_km > MAX_KM or neighbour_km <= best_km:
        return None
    return best
