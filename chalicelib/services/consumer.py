"""What every SQS consumer of the events topic shares: unwrap the SNS envelope, handle each
record on its own, answer with Powertools' partial batch response, and schedule the retry of a
failed record.

Only failed records are retried. A failed record comes back after a backoff that the handler
sets with ChangeMessageVisibility (exponential with jitter on the receive count), not after the
queue's full visibility timeout; after 5 receives SQS moves it to the dead-letter queue. The
same code runs in Lambda and in the local pump, which deletes only what this reports as done.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.adapters import queue
from chalicelib.data.claims import Busy
from chalicelib.domain.events import MalformedEvent, from_sns_envelope
from chalicelib.observability import logger, mask_text, metrics

# The queues' maxReceiveCount (infra/resources.yaml): the attempt that knows it is the last.
MAX_RECEIVES = int(os.environ.get("MAX_RECEIVES", "5"))


@dataclass
class Delivery:
    """One SQS record as the handler sees it."""

    receive_count: int
    message_id: str
    batch: dict[str, Any] = field(default_factory=dict)  # shared by the records of one batch

    @property
    def last_attempt(self) -> bool:
        return self.receive_count >= MAX_RECEIVES


Handler = Callable[[Any, Delivery], Any]  # a DomainEvent, or what `parse` gives


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _retry_delay(exc: Exception, receive_count: int, consumer: str) -> int:
    if isinstance(exc, Busy):
        # A duplicate being handled right now by someone else: look again soon.
        return int(_seconds("BUSY_RETRY_SECONDS", 10))
    prefix = consumer.upper()
    base = _seconds(f"{prefix}_RETRY_BASE_SECONDS", _seconds("RETRY_BASE_SECONDS", 30))
    cap = _seconds(f"{prefix}_RETRY_CAP_SECONDS", _seconds("RETRY_CAP_SECONDS", 900))
    return queue.backoff_seconds(receive_count, base, cap)


def process(event: dict[str, Any], context: Any, handler: Handler, consumer: str,
            parse: Callable[[str], Any] = from_sns_envelope) -> dict[str, Any]:
    """Run `handler` on each record of an SQS Lambda event; return {"batchItemFailures": [...]}.

    `parse` turns a record's body into what the handler takes: a domain event from the events
    topic's SNS envelope, or another queue's own body (the WhatsApp webhook's updates)."""
    shared: dict[str, Any] = {}

    def record_handler(record: SQSRecord) -> Any:
        count = int(record.attributes.approximate_receive_count or 1)
        try:
            domain_event = parse(record.body)
            return handler(domain_event, Delivery(count, record.message_id, shared))
        except Exception as exc:
            _log_failure(consumer, record, count, exc)
            try:
                queue.delay_redelivery(record.event_source_arn, record.receipt_handle,
                                       _retry_delay(exc, count, consumer))
            except Exception as inner:  # noqa: BLE001 the queue's own visibility timeout still brings it back
                logger.warning("could not set retry delay", extra={"consumer": consumer,
                                                                    "error": type(inner).__name__})
            raise

    # Never raise for a batch that failed entirely: answering with every item failed is the same
    # for SQS, and keeps one code path for the pump and the tests.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                             context=context))
    finally:
        flush_metrics()


def count(name: str, value: float = 1) -> None:
    """A CloudWatch metric (EMF, namespace LaporKBB, dimension service) for dashboards and alarms."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    try:
        metrics.flush_metrics(raise_on_empty_metrics=False)
    except Exception as exc:  # noqa: BLE001 metrics must never fail a batch
        logger.warning("metrics not flushed", extra={"error": type(exc).__name__})


def _log_failure(consumer: str, record: SQSRecord, count: int, exc: Exception) -> None:
    level = "error" if count >= MAX_RECEIVES or isinstance(exc, MalformedEvent) else "warning"
    getattr(logger, level)(
        "record failed; SQS redelivers it" + (" and then dead-letters it" if count >= MAX_RECEIVES else ""),
        extra={"consumer": consumer, "message_id": record.message_id, "receive_count": count,
               "error": type(exc).__name__, "detail": mask_text(str(exc))[:300]},
    )
