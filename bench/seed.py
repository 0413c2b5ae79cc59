"""Filling a moto table for the read-count benches: one batched writer, and a real report to copy.

`template_item(tracking_id)` takes a report the intake service stored (so every attribute is one
the code writes) out of the table as the item the benches copy; `write_items(table, items)` puts
any number of items through BatchWriteItem, 25 at a time, resending what DynamoDB left
unprocessed. Each bench only says what its items look like.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.reads import REGION


def _client() -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=REGION)


def template_item(table: str, tracking_id: str) -> dict[str, Any]:
    """The stored report `tracking_id` as a raw item, removed from the table."""
    client = _client()
    key = {"tracking_id": {"S": tracking_id}}
    item: dict[str, Any] = client.get_item(TableName=table, Key=key)["Item"]
    client.delete_item(TableName=table, Key=key)
    return item


def write_items(table: str, items: Iterable[dict[str, Any]]) -> int:
    """Put every item (raw DynamoDB form); returns how many."""
    client = _client()
    pending: list[dict[str, Any]] = []
    written = 0

    def flush() -> None:
        while pending:
            batch: dict[str, Any] = {table: pending[:25]}
            del pending[:25]
            while batch:
                batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    for item in items:
        pending.append({"PutRequest": {"Item": item}})
        written += 1
        if len(pending) >= 500:
            flush()
    flush()
    return written
