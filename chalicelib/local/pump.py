"""The local pump: for `make run` (never deployed), it feeds the app's stream, queue and schedule
handlers as Lambda's event sources do in AWS, each source in its own thread.
Run: python -m chalicelib.local.pump --interval 0.5 --sla-interval 60 [--pull-interval 30];
tests drive `Pump(...).drain()` in process. How it mimics Lambda: docs/DESIGN.md, "The local pump".
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from chalicelib.observability import PersonalDataFilter, mask_text

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("lapor.pump")
log.addFilter(PersonalDataFilter())


def state_dir() -> Path:
    return Path(os.environ.get("LAPOR_STATE_DIR") or ROOT / ".local")


def load_env(path: Path | None = None) -> dict[str, str]:
    """The local stack's environment (stack.env.json); the process's own variables win."""
    path = path or state_dir() / "stack.env.json"
    values: dict[str, str] = {}
    if path.exists():
        values = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        for key, value in values.items():
            os.environ.setdefault(key, value)
    return values


def env_name(logical_id: str) -> str:
    from chalicelib.local.provision import env_name as to_env

    return to_env(logical_id)


class _Context:
    """Enough of a LambdaContext for Powertools and the handlers."""

    def __init__(self, name: str, timeout_s: float = 60.0) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_lambda_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """A Lambda SQS event built from `receive_message` output (each record its own messageId)."""
    records = []
    for m in messages:
        attrs = m.get("Attributes", {})
        records.append({
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {k: attrs[k] for k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                                 "ApproximateFirstReceiveTimestamp") if k in attrs},
            "messageAttributes": {
                name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
                       "stringListValues": a.get("StringListValues", []),
                       "binaryListValues": a.get("BinaryListValues", []), "dataType": a["DataType"]}
                for name, a in (m.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    return {"Records": records}


def stream_lambda_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    """A Lambda DynamoDB Streams event from `get_records` output."""
    out = []
    for r in records:
        ddb = dict(r["dynamodb"])
        created = ddb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            ddb["ApproximateCreationDateTime"] = created.timestamp()
        elif created is None:
            ddb["ApproximateCreationDateTime"] = time.time()
        out.append({**r, "awsRegion": region, "eventSourceARN": stream_arn, "dynamodb": ddb})
    return {"Records": out}


@dataclass
class QueueSource:
    logical_id: str
    url: str
    arn: str
    handler: Callable[..., Any]
    batch_size: int


@dataclass
class Pump:
    """Feeds the app's stream and queue handlers. `visibility_timeout` overrides the queues' own
    on receive (tests use 0 to replay redelivery without waiting)."""

    app_module: ModuleType
    state_path: Path = field(default_factory=state_dir)
    wait_seconds: int = 1
    visibility_timeout: int | None = None
    region: str = field(default_factory=lambda: os.environ.get("AWS_REGION", "ap-southeast-3"))
    _iterators: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        import boto3
        from botocore.config import Config

        self.sqs = boto3.client("sqs", region_name=self.region)
        # Botocore sends stream calls to an account-specific endpoint that moto does not serve.
        self.streams = boto3.client("dynamodbstreams", region_name=self.region,
                                    config=Config(account_id_endpoint_mode="disabled"))
        self.stream_arn = os.environ.get("EVENTS_TABLE_STREAM_ARN", "")
        self.stream_handler: Callable[..., Any] | None = None
        self.queues: list[QueueSource] = []
        self._discover()
        self.checkpoint_file = self.state_path / "pump-stream.json"

    # -- discovery -------------------------------------------------------------------------
    def _handler(self, handler_string: str) -> Callable[..., Any]:
        return getattr(self.app_module, handler_string.rsplit(".", 1)[-1])  # type: ignore[no-any-return]

    def _discover(self) -> None:
        from chalice.app import DynamoDBEventConfig, SQSEventConfig

        for source in self.app_module.app.event_sources:
            if isinstance(source, DynamoDBEventConfig):
                self.stream_handler = self._handler(source.handler_string)
                # app.py names the stream by its template output (`EventsTableStreamArn`).
                arn = source.stream_arn
                if not arn.startswith("arn:"):
                    arn = os.environ.get(env_name(arn), "")
                self.stream_arn = arn or self.stream_arn
            elif isinstance(source, SQSEventConfig):
                logical = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
                url = os.environ.get(f"{env_name(logical)}_URL")
                if not url:
                    log.warning("no %s_URL in the environment: %s is not pumped", env_name(logical), source.name)
                    continue
                arn = os.environ.get(f"{env_name(logical)}_ARN") or self.sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.queues.append(QueueSource(logical, url, arn, self._handler(source.handler_string),
                                               min(10, int(source.batch_size or 10))))

    # -- the stream ------------------------------------------------------------------------
    def _load_checkpoints(self) -> dict[str, str]:
        try:
            saved = json.loads(self.checkpoint_file.read_text())
        except (OSError, ValueError):
            return {}
        if saved.get("stream_arn") != self.stream_arn:
            return {}  # another stack (a fresh moto): start from its beginning
        return {str(k): str(v) for k, v in saved.get("shards", {}).items()}

    def _save_checkpoint(self, shard_id: str, sequence_number: str) -> None:
        with self._lock:
            shards = self._load_checkpoints()
            shards[shard_id] = sequence_number
            self.state_path.mkdir(parents=True, exist_ok=True)
            tmp = self.checkpoint_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"stream_arn": self.stream_arn, "shards": shards}))
            tmp.replace(self.checkpoint_file)  # atomic: a crash leaves the old or the new one

    def _iterator(self, shard_id: str) -> str:
        if shard_id in self._iterators:
            return self._iterators[shard_id]
        after = self._load_checkpoints().get(shard_id)
        kwargs: dict[str, Any] = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                                  if after else {"ShardIteratorType": "TRIM_HORIZON"})
        it = str(self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                                 **kwargs)["ShardIterator"])
        self._iterators[shard_id] = it
        return it

    def pump_stream(self) -> int:
        """One read of every shard; returns the number of records handled successfully."""
        if not self.stream_arn or self.stream_handler is None:
            return 0
        handled = 0
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            shard_id = shard["ShardId"]
            try:
                page = self.streams.get_records(ShardIterator=self._iterator(shard_id), Limit=100)
            except Exception:
                self._iterators.pop(shard_id, None)  # expired or unknown: rebuild from the checkpoint
                raise
            records = page.get("Records", [])
            if not records:
                if page.get("NextShardIterator"):
                    self._iterators[shard_id] = page["NextShardIterator"]
                continue
            event = stream_lambda_event(records, self.stream_arn, self.region)
            try:
                result = self.stream_handler(event, _Context("dispatch_events")) or {}
                failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            except Exception as exc:  # noqa: BLE001 as Lambda: a raising handler fails the whole batch
                log.error("dispatcher raised: %s", mask_text(f"{type(exc).__name__}: {exc}"))
                failed = [records[0]["dynamodb"]["SequenceNumber"]]
            seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
            if failed:
                # As Lambda does: resume from the first failed record (later ones are re-sent too;
                # the consumers are idempotent).
                first = min(failed, key=int)
                done = [s for s in seqs if int(s) < int(first)]
                if done:
                    self._save_checkpoint(shard_id, done[-1])
                self._iterators.pop(shard_id, None)
                handled += len(done)
            else:
                self._save_checkpoint(shard_id, seqs[-1])
                self._iterators[shard_id] = page["NextShardIterator"]
                handled += len(records)
        return handled

    # -- the queues ------------------------------------------------------------------------
    def pump_queue(self, source: QueueSource, wait_seconds: int | None = None) -> int:
        """One receive from one queue; returns the number of messages handled successfully."""
        kwargs: dict[str, Any] = {"QueueUrl": source.url, "MaxNumberOfMessages": source.batch_size,
                                  "WaitTimeSeconds": self.wait_seconds if wait_seconds is None else wait_seconds,
                                  "AttributeNames": ["All"], "MessageAttributeNames": ["All"]}
        if self.visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self.visibility_timeout
        messages = self.sqs.receive_message(**kwargs).get("Messages", [])
        if not messages:
            return 0
        event = sqs_lambda_event(messages, source.arn, self.region)
        try:
            result = source.handler(event, _Context(source.logical_id)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception as exc:  # noqa: BLE001 as Lambda: every message comes back
            log.error("%s handler raised: %s", source.logical_id, mask_text(f"{type(exc).__name__}: {exc}"))
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=source.url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i:i + 10])])
        return len(done)

    # -- driving ---------------------------------------------------------------------------
    def run_once(self, wait_seconds: int = 0) -> int:
        """Stream, then each queue once. Returns how many records were handled."""
        n = self.pump_stream()
        for source in self.queues:
            n += self.pump_queue(source, wait_seconds)
        return n

    def drain(self, timeout: float = 30.0, idle_rounds: int = 2) -> int:
        """Run until `idle_rounds` rounds in a row handle nothing (tests)."""
        total, idle, deadline = 0, 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.run_once()
            total += n
            idle = idle + 1 if n == 0 else 0
            if idle >= idle_rounds:
                return total
        return total

    def queue(self, logical_id: str) -> QueueSource:
        return next(q for q in self.queues if q.logical_id == logical_id)


def _loop(name: str, step: Callable[[], Any], pause: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            step()
        except Exception as exc:  # noqa: BLE001 one bad round must not stop the local stack
            log.error("%s round failed: %s", name, mask_text(f"{type(exc).__name__}: {exc}"))
            stop.wait(max(pause, 1.0))
            continue
        stop.wait(pause)


def _every(seconds: float, action: Callable[[], Any]) -> Callable[[], None]:
    last = [0.0]

    def step() -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action()

    return step


def _sla_step() -> Callable[[], Any] | None:
    try:
        from chalicelib.services import sla_sweep
    except ImportError:
        log.warning("chalicelib.services.sla_sweep is not there: no local SLA check")
        return None
    return lambda: sla_sweep.run_scheduled()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feed the Chalice app's stream, queue and schedule handlers locally.")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between stream polls")
    parser.add_argument("--sla-interval", type=float, default=60.0, help="seconds between SLA checks")
    parser.add_argument("--pull-interval", type=float,
                        default=float(os.environ.get("LAPOR_SP4N_PULL_INTERVAL", "30")),
                        help="seconds between SP4N-LAPOR! pulls (3 hours in AWS)")
    parser.add_argument("--purge-interval", type=float, default=3600.0,
                        help="seconds between purges of unclaimed uploads (daily in AWS)")
    parser.add_argument("--retention-interval", type=float, default=3600.0,
                        help="seconds between personal-data retention runs (daily in AWS)")
    parser.add_argument("--reconcile-interval", type=float, default=3600.0,
                        help="seconds between SP4N-LAPOR! reconciliations (daily in AWS)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(PersonalDataFilter())
        # The app's Powertools logger already writes its own JSON lines: not twice.
        handler.addFilter(lambda record: record.name != "lapor-kbb")
    load_env()
    # Locally a failed item is retried within seconds, not after the AWS backoff of minutes.
    os.environ.setdefault("RETRY_BASE_SECONDS", "1")
    os.environ.setdefault("RETRY_CAP_SECONDS", "10")
    os.environ.setdefault("BUSY_RETRY_SECONDS", "2")
    from chalicelib import config
    from chalicelib.adapters import aws
    from chalicelib.data import models

    config.reset()
    aws.reset()
    models.bind()
    sys.path.insert(0, str(ROOT))
    app_module = importlib.import_module("app")
    pump = Pump(app_module)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    loops: list[tuple[str, Callable[[], Any], float]] = [("stream", pump.pump_stream, args.interval)]
    for source in pump.queues:
        loops.append((source.logical_id, functools.partial(pump.pump_queue, source), 0.0))
    sla = _sla_step()
    if sla is not None:
        loops.append(("sla", _every(args.sla_interval, sla), 0.5))

    def pull() -> None:
        from chalicelib.services import sync

        sync.pull()

    loops.append(("sp4n-pull", _every(args.pull_interval, pull), 0.5))

    def purge() -> None:
        from chalicelib.services import attachments

        attachments.purge_unclaimed()

    loops.append(("purge-uploads", _every(args.purge_interval, purge), 0.5))

    def retention() -> None:
        from chalicelib.services import erasure

        erasure.run_retention()

    loops.append(("retention", _every(args.retention_interval, retention), 0.5))
    def reconcile() -> None:
        from chalicelib.services import sync_reconcile

        sync_reconcile.run()

    loops.append(("sp4n-reconcile", _every(args.reconcile_interval, reconcile), 0.5))
    threads = [threading.Thread(target=_loop, args=(name, step, pause, stop), name=name, daemon=True)
               for name, step, pause in loops]
    for t in threads:
        t.start()
    log.info("pump running: stream %s, queues %s", "on" if pump.stream_handler else "off",
             ", ".join(q.logical_id for q in pump.queues) or "none")
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join(timeout=5)
    log.info("pump stopped at %s", datetime.now(UTC).isoformat())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
