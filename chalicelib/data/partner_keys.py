"""Open311 partners' api keys, in the reference table under kind `open311_key`: the range key is
the SHA-256 of the key (the key itself is shown once and never stored), the item names the partner.
"""
from __future__ import annotations

from chalicelib.data.models import ReferenceItem

KIND = "open311_key"


def add(key_hash: str, partner: str, created_at: str) -> None:
    ReferenceItem(KIND, key_hash, data={"partner": partner, "created_at": created_at}).save()


def partner(key_hash: str) -> str | None:
    """The partner holding the key of this hash; None for an unknown key."""
    try:
        item = ReferenceItem.get(KIND, key_hash)
    except ReferenceItem.DoesNotExist:
        return None
    return str(dict(item.data)["partner"])


def remove_partner(partner_name: str) -> int:
    """Delete every key of `partner_name`; how many went."""
    gone = 0
    for item in ReferenceItem.query(KIND):
        if dict(item.data).get("partner") == partner_name:
            item.delete()
            gone += 1
    return gone
