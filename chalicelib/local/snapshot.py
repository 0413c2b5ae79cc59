"""Keep the local stack's data across restarts of `make run`: on stop, copy the tables and the
stored files into `.local/data/`; on start, after provisioning, write them back. What comes
back and what does not: docs/DESIGN.md, "The local stack's data across restarts".
"""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

BATCH = 25  # BatchWriteItem's limit
OWN = ("dynamodb", "s3")  # what `save` writes into the data dir; anything else there is not its own


def _tables(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.endswith("_TABLE") and v}


def _buckets(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.endswith("_BUCKET") and v}


def _encode(value: Any) -> Any:
    """DynamoDB JSON with binary values as base64 text (JSON has no bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b64"}:
            return base64.b64decode(value["$b64"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def save(session: Any, env: dict[str, str], directory: Path) -> dict[str, int]:
    """Copy every table's items and every bucket's objects into `directory` (replaced whole)."""
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    tmp = directory.with_name(directory.name + ".saving")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "dynamodb").mkdir(parents=True)
    counts: dict[str, int] = {}
    for key, table in _tables(env).items():
        items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=table)
                 for item in page.get("Items", [])]
        (tmp / "dynamodb" / f"{key}.json").write_text(json.dumps(_encode(items)))
        counts[key] = len(items)
    for key, bucket in _buckets(env).items():
        root = tmp / "s3" / key
        manifest: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                got = s3.get_object(Bucket=bucket, Key=obj["Key"])
                path = root / "objects" / obj["Key"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(got["Body"].read())
                manifest[obj["Key"]] = {"ContentType": got.get("ContentType", "binary/octet-stream"),
                                        "Metadata": got.get("Metadata", {})}
        root.mkdir(parents=True, exist_ok=True)
        (root / "manifest.json").write_text(json.dumps(manifest))
        counts[key] = len(manifest)
    # What others keep in the data dir (the SP4N-LAPOR! stand-in's own file) moves over as is.
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.name not in OWN:
                entry.replace(tmp / entry.name)
    # Swapped in only once complete: a crash while saving keeps the previous copy.
    shutil.rmtree(directory, ignore_errors=True)
    tmp.replace(directory)
    return counts


def restore(session: Any, env: dict[str, str], directory: Path) -> dict[str, int]:
    """Write a saved copy back into a freshly provisioned stack. Nothing saved: nothing done."""
    if not (directory / "dynamodb").is_dir():
        return {}
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    counts: dict[str, int] = {}
    for key, table in _tables(env).items():
        path = directory / "dynamodb" / f"{key}.json"
        if not path.exists():
            continue
        items = _decode(json.loads(path.read_text()))
        for start in range(0, len(items), BATCH):
            requests: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start:start + BATCH]]}
            while requests:
                requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        counts[key] = len(items)
    for key, bucket in _buckets(env).items():
        root = directory / "s3" / key
        if not (root / "manifest.json").exists():
            continue
        manifest = json.loads((root / "manifest.json").read_text())
        for name, meta in manifest.items():
            s3.put_object(Bucket=bucket, Key=name, Body=(root / "objects" / name).read_bytes(),
                          ContentType=meta["ContentType"], Metadata=meta["Metadata"])
        counts[key] = len(manifest)
    return counts


def mark_stream_read(session: Any, stream_arn: str, checkpoint_file: Path) -> int:
    """Write the pump's checkpoint past every record now in the events stream (the restored
    events: dispatched before the restart). Returns how many records it passed over."""
    from botocore.config import Config

    streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    shards: dict[str, str] = {}
    passed = 0
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("Shards", []):
        it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            records = page.get("Records", [])
            if not records:
                break
            shards[shard["ShardId"]] = records[-1]["dynamodb"]["SequenceNumber"]
            passed += len(records)
            it = page.get("NextShardIterator")
    checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
    checkpoint_file.write_text(json.dumps({"stream_arn": stream_arn, "shards": shards}))
    return passed
