"""How a report reached us. Stored on the report as `source` (its attribute since the first
release); shown and filtered as `channel`."""
from __future__ import annotations

CHANNELS = ("web", "whatsapp", "sms", "walk_in", "phone", "letter", "social_media", "sp4n", "open311")
