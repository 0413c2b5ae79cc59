"""A domain event as it travels on the events topic (docs/DESIGN.md, "Events on the topic").

Pure: parses and renders the JSON that the dispatcher publishes and the consumers read. The
consumers' idempotency key is (tracking_id, seq), never a transport id.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Events under this partition-key prefix are audit records that belong to no report (calendar
# override changes, chalicelib/data/audit.py): never published, never a report event.
AUDIT_PREFIX = "audit#"
FIELDS = ("tracking_id", "seq", "action", "from_status", "to_status", "at", "actor", "public", "message", "data")


class MalformedEvent(ValueError):
    """The message is not an event we can act on. Never fixed by retrying: it ends in the DLQ."""


@dataclass(frozen=True)
class DomainEvent:
    tracking_id: str
    seq: int
    action: str
    at: str
    actor: str
    from_status: str | None = None
    to_status: str | None = None
    public: bool = False
    message: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.tracking_id}#{self.seq}"

    @property
    def changes_status(self) -> bool:
        return bool(self.to_status) and self.to_status != self.from_status

    def as_dict(self) -> dict[str, Any]:
        return {
            "tracking_id": self.tracking_id, "seq": self.seq, "action": self.action,
            "from_status": self.from_status, "to_status": self.to_status, "at": self.at,
            "actor": self.actor, "public": self.public, "message": self.message, "data": dict(self.data),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"), default=_plain)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> DomainEvent:
        """From the topic JSON or a deserialised events-table image (numbers may be Decimal,
        `data` may still be the JSON string PynamoDB's JSONAttribute stores)."""
        if not isinstance(raw, Mapping):
            raise MalformedEvent("an event is a JSON object")
        missing = [k for k in ("tracking_id", "seq", "action") if raw.get(k) in (None, "")]
        if missing:
            raise MalformedEvent(f"event lacks {', '.join(missing)}")
        data = raw.get("data") or {}
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise MalformedEvent("event data is not JSON") from None
        if not isinstance(data, Mapping):
            raise MalformedEvent("event data is not an object")
        try:
            seq = int(raw["seq"])
        except (TypeError, ValueError):
            raise MalformedEvent("event seq is not a number") from None
        if seq < 1:
            raise MalformedEvent("event seq starts at 1")
        return cls(
            tracking_id=str(raw["tracking_id"]), seq=seq, action=str(raw["action"]),
            at=str(raw.get("at") or ""), actor=str(raw.get("actor") or ""),
            from_status=_opt(raw.get("from_status")), to_status=_opt(raw.get("to_status")),
            public=bool(raw.get("public", False)), message=_opt(raw.get("message")),
            data=json.loads(json.dumps(data, default=_plain)),
        )

    @classmethod
    def from_json(cls, text: str) -> DomainEvent:
        try:
            raw = json.loads(text)
        except (TypeError, ValueError):
            raise MalformedEvent("event is not JSON") from None
        return cls.from_mapping(raw)


def from_sns_envelope(body: str) -> DomainEvent:
    """The event inside an SQS message body written by an SNS subscription (no raw delivery)."""
    try:
        envelope = json.loads(body)
    except (TypeError, ValueError):
        raise MalformedEvent("message body is not JSON") from None
    if isinstance(envelope, Mapping) and envelope.get("Type") == "Notification" and "Message" in envelope:
        return DomainEvent.from_json(envelope["Message"])
    # A raw-delivered event (or one re-sent by hand) is accepted as is.
    return DomainEvent.from_mapping(envelope)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
