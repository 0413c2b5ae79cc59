"""SQS helpers shared by the consumers, the local pump and the DLQ command."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from chalicelib.adapters import aws


def arn_to_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


@lru_cache(maxsize=32)
def url_for_arn(arn: str) -> str:
    parts = arn.split(":")
    return str(aws.client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])


def backoff_seconds(receive_count: int, base: float, cap: float) -> int:
    """Exponential backoff with full jitter for the next delivery of a failed message."""
    if base <= 0:
        return 0
    ceiling = min(cap, base * (2 ** max(0, receive_count - 1)))
    return int(random.uniform(ceiling / 2, ceiling))  # noqa: S311 (jitter, not a secret)


def delay_redelivery(queue_arn: str, receipt_handle: str, seconds: int) -> None:
    """Make a failed message visible again after `seconds` instead of the queue's full
    visibility timeout (6x the function timeout): a retry soon, but not in a tight loop."""
    aws.client("sqs").change_message_visibility(
        QueueUrl=url_for_arn(queue_arn), ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, 43200)))


def dead_letter_url(source_url: str) -> str | None:
    """The DLQ of a source queue, from its RedrivePolicy (works for any queue in the template)."""
    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=source_url, AttributeNames=["RedrivePolicy"])
    policy = attrs.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        return None
    return url_for_arn(json.loads(policy)["deadLetterTargetArn"])


def peek(queue_url: str, limit: int = 1000, hide_seconds: int = 30) -> list[dict[str, Any]]:
    """Messages of a queue without consuming them: each is received (hidden for a moment so the
    next receive returns others), then made visible again at once. Nothing is deleted."""
    sqs = aws.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                        VisibilityTimeout=hide_seconds, AttributeNames=["All"],
                                        MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                break
            for m in batch:
                handles.append(m["ReceiptHandle"])
                seen.setdefault(m["MessageId"], m)
    finally:
        for chunk in _chunks(handles, 10):
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)])
    return list(seen.values())[:limit]


def move(source_url: str, target_url: str, limit: int = 1000) -> int:
    """Move messages from one queue to another (a DLQ redrive): send a copy, then delete the
    original only once the copy is accepted. A crash in between duplicates, never loses; the
    consumers are idempotent on (tracking_id, seq)."""
    sqs = aws.client("sqs")
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=min(10, limit - moved),
                                    WaitTimeSeconds=0, VisibilityTimeout=60,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        entries = []
        for i, m in enumerate(batch):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch) if str(i) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=source_url, Entries=done)
        moved += len(done)
        if len(done) < len(batch):
            break  # the rest stays in the DLQ (visible again after 60 s); say so rather than spin
    return moved


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
