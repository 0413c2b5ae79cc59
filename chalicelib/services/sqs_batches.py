"""What every SQS consumer of the events topic shares: unwrap the SNS envelope, handle each
record on its own, answer with a partial batch response (services/batch.py), and schedule the retry of a
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

from chalicelib.adapters import queue
from chalicelib.data.claims import Busy
from chalicelib.domain.events import MalformedEvent, from_sns_envelope
from chalicelib.observability import logger, mask_text, metrics
from chalicelib.services import batch

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


def process(event: dict[str, Any], context: Any, handler: Callable[[Any, Delivery], Any], consumer: str,
            parse: Callable[[str], Any] = from_sns_envelope) -> dict[str, Any]:
    """Run `handler` on each record of an SQS Lambda event; return {"batchItemFailures": [...]}.
    `parse` reads a record's body: the events topic's SNS envelope, unless the queue says otherwise."""
    shared: dict[str, Any] = {}

    def record_handler(record: dict[str, Any]) -> Any:
        count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        try:
            return handler(parse(record["body"]), Delivery(count, record["messageId"], shared))
        except Exception as exc:
            _log_failure(consumer, record, count, exc)
            try:
                queue.delay_redelivery(record["eventSourceARN"], record["receiptHandle"],
                                       _retry_delay(exc, count, consumer))
            except Exception as inner:  # noqa: BLE001 the queue's own visibility timeout still brings it back
                logger.warning("could not set retry delay", extra={"consumer": consumer,
                                                                    "error": type(inner).__name__})
            raise

    try:
        return batch.process(event, record_handler)
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


def _log_failure(consumer: str, record: dict[str, Any], count: int, exc: Exception) -> None:
    level = "error" if count >= MAX_RECEIVES or isinstance(exc, MalformedEvent) else "warning"
    getattr(logger, level)(
        "record failed; SQS redelivers it" + (" and then dead-letters it" if count >= MAX_RECEIVES else ""),
        extra={"consumer": consumer, "message_id": record.get("messageId"), "receive_count": count,
               "error": type(exc).__name__, "detail": mask_text(str(exc))[:300]},
    )
