"""The local moto's DynamoDB behaves as DynamoDB does where the code relies on it
(chalicelib/local/moto_server.py): a cancelled transaction leaves no stream record, and a stream
reader keeps seeing what is written after it."""
from __future__ import annotations

from typing import Any

import pytest


def _reader(aws: dict[str, str]) -> tuple[Any, str]:
    import boto3
    from botocore.config import Config

    # As the pump does: botocore's account-specific stream endpoint is not one moto serves.
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = aws["EVENTS_TABLE_STREAM_ARN"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    return streams, iterator


def _read(streams: Any, iterator: str) -> tuple[list[str], str]:
    out = streams.get_records(ShardIterator=iterator)
    return [r["dynamodb"]["Keys"]["tracking_id"]["S"] for r in out["Records"]], out["NextShardIterator"]


def test_a_cancelled_transaction_leaves_no_stream_record_and_the_reader_goes_on(aws: dict[str, str]) -> None:
    from chalicelib.data import items
    from chalicelib.data.models import LedgerItem, ReportEvent

    LedgerItem("taken").save()
    streams, iterator = _reader(aws)
    phantom = ReportEvent("KBB-PHAN-TOM1", 1, at="2026-01-05T01:00:00+00:00", actor="pelapor", action="submit")
    with pytest.raises(items.Cancelled) as cancelled:
        items.transact_write(ReportEvent, [items.put_new(phantom), items.put_new(LedgerItem("taken"))])
    assert cancelled.value.reasons == [None, "ConditionalCheckFailed"]
    real = ReportEvent("KBB-REAL-0001", 1, at="2026-01-05T01:00:00+00:00", actor="pelapor", action="submit")
    items.transact_write(ReportEvent, [items.put_new(real)])
    seen, _ = _read(streams, iterator)
    assert seen == ["KBB-REAL-0001"]
