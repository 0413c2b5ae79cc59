"""Partial batch responses: each record of an SQS or DynamoDB-stream event handled on its own, the
failed ones named in `{"batchItemFailures": [{"itemIdentifier": ...}]}` so that only they come
back (the functions' event source mappings set ReportBatchItemFailures, infra/package.py).

What Powertools' BatchProcessor does for these two sources, in a loop: importing that utility
loads asyncio and Powertools' event data classes, a cold-start cost every consumer paid for a
loop. A batch that failed entirely is answered the same way, never raised, so the pump and the
tests have one path. Records are the event's plain dicts.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)


def sqs_id(record: Mapping[str, Any]) -> str:
    return str(record["messageId"])


def stream_id(record: Mapping[str, Any]) -> str:
    # A stream retries from the first failed sequence number on.
    return str(record["dynamodb"]["SequenceNumber"])


def process(event: Mapping[str, Any], handler: Callable[[dict[str, Any]], Any],
            identifier: Callable[[Mapping[str, Any]], str] = sqs_id) -> dict[str, Any]:
    """Run `handler` on each record; a record whose handler raised is reported as failed."""
    failures = []
    for record in event.get("Records") or []:
        try:
            handler(record)
        except Exception as exc:  # noqa: BLE001 the record is reported failed and comes back
            log.debug("record failed: %s", type(exc).__name__)
            failures.append({"itemIdentifier": identifier(record)})
    return {"batchItemFailures": failures}
