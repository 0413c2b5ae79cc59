"""Email through SES. One small interface shared with SMS (see `Sender`), so a channel can be
swapped (another provider, a test double) without touching who-is-told-what."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from chalicelib.adapters import aws


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient on one channel (`subject` is None for SMS)."""

    channel: str  # "email" | "sms" | "whatsapp"
    to: str
    body: str
    subject: str | None = None
    # WhatsApp: the approved template (name, language, body parameters in order) that goes
    # instead of the free-form `body` outside the 24 hours after the recipient's last message.
    template: tuple[str, str, tuple[str, ...]] | None = None


class Sender(Protocol):
    channel: str

    def send(self, message: Outgoing) -> str:
        """Hand the message to the provider; return the provider's message id. Raise on failure."""
        ...


class SesSender:
    channel = "email"

    def __init__(self, source: str | None = None) -> None:
        # A verified SES identity (provisioned locally by chalicelib.local.provision).
        self.source = source or os.environ.get("MAIL_SENDER", "noreply@lapor.bandungbaratkab.go.id")

    def send(self, message: Outgoing) -> str:
        out = aws.client("ses").send_email(
            Source=self.source,
            Destination={"ToAddresses": [message.to]},
            Message={
                "Subject": {"Data": message.subject or "", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
            },
        )
        return str(out["MessageId"])
