"""Dead-letter queues: look at what failed for good, and send it back once the cause is fixed.

A queue is named by its short name (notify, sync, uploads): the source queue's URL is
`<NAME>_QUEUE_URL` (the template's output), its DLQ is read from the queue's RedrivePolicy, so
any queue declared in infra/resources.yaml with a DLQ works without changes here.
"""
from __future__ import annotations

import json
import os
from typing import Any

from chalicelib.adapters import queue
from chalicelib.observability import mask_text

KNOWN = ("notify", "sync", "uploads")


class UnknownQueue(Exception):
    pass


def urls(name: str) -> tuple[str, str]:
    """(source queue URL, DLQ URL) of a short queue name."""
    source = os.environ.get(f"{name.upper()}_QUEUE_URL")
    if not source:
        raise UnknownQueue(f"{name.upper()}_QUEUE_URL is not set: is the local stack running (or the AWS env loaded)?")
    dlq = os.environ.get(f"{name.upper()}_DLQ_URL") or queue.dead_letter_url(source)
    if not dlq:
        raise UnknownQueue(f"queue {name} has no dead-letter queue")
    return source, dlq


def describe(message: dict[str, Any]) -> dict[str, Any]:
    """What an operator needs to decide: which event, how often tried. Text is masked: a body
    can hold a reporter's reply, and this goes to a terminal."""
    attrs = message.get("Attributes", {})
    out: dict[str, Any] = {"message_id": message["MessageId"],
                           "receive_count": int(attrs.get("ApproximateReceiveCount", 0)),
                           "sent_at": attrs.get("SentTimestamp")}
    body = message.get("Body", "")
    try:
        envelope = json.loads(body)
        event = json.loads(envelope["Message"]) if isinstance(envelope, dict) and "Message" in envelope else envelope
        out.update({k: event.get(k) for k in ("tracking_id", "seq", "action")})
    except (ValueError, TypeError, AttributeError, KeyError):
        out["body"] = mask_text(body[:300])
    return out


def list_messages(name: str, limit: int = 1000) -> list[dict[str, Any]]:
    _, dlq = urls(name)
    return [describe(m) for m in queue.peek(dlq, limit)]


def redrive(name: str, limit: int = 1000) -> int:
    source, dlq = urls(name)
    return queue.move(dlq, source, limit)
