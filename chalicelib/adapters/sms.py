"""SMS through SNS (publish to a phone number). Same `Sender` interface as email."""
from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.adapters.mail import Outgoing


class SnsSmsSender:
    channel = "sms"

    def send(self, message: Outgoing) -> str:
        out = aws.client("sns").publish(
            PhoneNumber=message.to,
            Message=message.body,
            MessageAttributes={
                # Transactional: delivery priority over cost; these are service notices, not ads.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
        return str(out["MessageId"])
