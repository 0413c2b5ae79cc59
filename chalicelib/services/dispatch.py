"""The dispatcher: every event stored in the events table goes to the events topic.

The events table's stream is the outbox. A report change and its event are one transaction, so
an event exists exactly when the change does; the stream then delivers it here at least once,
even if the process that wrote it died right after the write. This function publishes each new
event to SNS with the message attribute `action` (and `public`); a failed publish fails that
stream record, and Lambda retries from it (partial batch response). A retry can publish an event
twice: the consumers are idempotent on (tracking_id, seq).
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.domain.events import AUDIT_PREFIX, DomainEvent
from chalicelib.observability import logger
from chalicelib.services import batch, sqs_batches


def publish(event: DomainEvent) -> str:
    out = aws.client("sns").publish(
        TopicArn=settings().events_topic_arn,
        Message=event.to_json(),
        MessageAttributes={
            "action": {"DataType": "String", "StringValue": event.action},
            "public": {"DataType": "String", "StringValue": "true" if event.public else "false"},
        },
    )
    return str(out["MessageId"])


def _record_handler(record: dict[str, Any]) -> str | None:
    # Events are immutable: only an INSERT is a new event. A MODIFY or REMOVE (a repair by an
    # operator, a TTL) must not notify anyone again.
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage")
    if not image:
        raise ValueError("stream record without NEW_IMAGE: the events stream must be NEW_IMAGE")
    event = DomainEvent.from_mapping(_deserialise(image))
    if event.tracking_id.startswith(AUDIT_PREFIX):
        return None  # an audit record (chalicelib/data/audit.py): no report, no one to tell
    message_id = publish(event)
    logger.info("event dispatched", extra={"tracking_id": event.tracking_id, "seq": event.seq,
                                           "action": event.action})
    return message_id


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for the events stream: {"batchItemFailures": [{"itemIdentifier": seq}]}."""
    result = batch.process(event, _record_handler, batch.stream_id)
    failed = len(result.get("batchItemFailures", []))
    sqs_batches.count("EventsDispatched", len(event.get("Records", [])) - failed)
    if failed:
        sqs_batches.count("EventsDispatchFailed", failed)
    sqs_batches.flush_metrics()
    return dict(result)


def _deserialise(image: dict[str, Any]) -> dict[str, Any]:
    """A stream image's typed attributes ({"S": ...}, {"N": ...}) as plain values (numbers Decimal)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialiser = TypeDeserializer()
    return {key: deserialiser.deserialize(value) for key, value in image.items()}
