"""How a report reached us. Stored on the report as `source` (its attribute since the first
release); shown and filtered as `channel`."""
from __future__ import annotations

CHANNELS = ("web", "whatsapp", "sms", "walk_in", "phone", "letter", "social_media", "sp4n", "open311")
# What Diskominfotik's desk enters for a citizen (POST /staff/reports): the channels with no
# intake of their own, and a message that reached an office phone instead of our numbers.
STAFF_CHANNELS = ("walk_in", "phone", "letter", "social_media", "whatsapp", "sms")
