"""Event sources: what chalice cannot emit on a function's triggers, patched into the template.

- SQS: the queue is the template's (`queue="NotifyQueue"` -> `${NotifyQueue.Arn}`) and the mapping
  reports partial batch failures (`ReportBatchItemFailures`); the batching window comes from the
  decorator (`maximum_batching_window_in_seconds`), and a trigger without one is refused.
- DynamoDB streams: the stream of a template table, partial batch failures, bounded retries and
  age, bisect on error, and an on-failure queue of its own (infra/permissions.yaml `defaults`).
Each returns the patch and the IAM statements the trigger needs (its queue or stream, their keys).
"""
from __future__ import annotations

from typing import Any

import iam
from cfn import APP, kebab

Json = dict[str, Any]


def event_source(overlay: Any, fn: str, event: Json) -> tuple[Json, list[Json]]:
    kind, props = event.get("Type"), event.get("Properties", {})
    defaults = overlay.permissions.get("defaults", {})
    if kind == "SQS":
        queue = queue_logical_id(fn, props.get("Queue"))
        overlay.require(queue, "AWS::SQS::Queue", fn)
        if not props.get("MaximumBatchingWindowInSeconds"):
            raise SystemExit(f"{fn}: its @app.on_sqs_message needs maximum_batching_window_in_seconds "
                             "(a batch filled for a few seconds, not one message an invocation)")
        patch: Json = {"Properties": {
            "Queue": {"Fn::Sub": f"${{{queue}.Arn}}"},  # same key as chalice's Fn::Sub: a deep merge replaces it
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }}
        statements = [{"Effect": "Allow", "Resource": [{"Fn::GetAtt": [queue, "Arn"]}],
                       "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                  "sqs:ChangeMessageVisibility"]}]
        statements += iam.kms(overlay, queue, "sqs", ["kms:Decrypt"])
        return patch, statements
    if kind == "DynamoDB":
        table = stream_table(overlay, fn, props.get("Stream"))
        stream_arn = {"Fn::GetAtt": [table, "StreamArn"]}
        failures = f"{fn}StreamFailures"
        failure_queue: Json = {"QueueName": {"Fn::Sub": f"{APP}-${{Stage}}-{kebab(fn)}-stream-failures"},
                               "MessageRetentionPeriod": 1209600}
        key = iam.key_of(overlay, table)
        if key:
            failure_queue["KmsMasterKeyId"] = {"Ref": key}
        else:
            failure_queue["SqsManagedSseEnabled"] = True
        overlay.resources[failures] = {"Type": "AWS::SQS::Queue", "Properties": failure_queue}
        stream = defaults.get("stream", {})
        patch = {"Properties": {
            "Stream": stream_arn,
            "StartingPosition": stream.get("starting_position", "TRIM_HORIZON"),
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "MaximumRetryAttempts": int(stream.get("maximum_retry_attempts", 10)),
            "BisectBatchOnFunctionError": bool(stream.get("bisect_batch_on_function_error", True)),
            "MaximumRecordAgeInSeconds": int(stream.get("maximum_record_age_in_seconds", 86400)),
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": [failures, "Arn"]}}},
        }}
        statements = [
            {"Effect": "Allow", "Resource": [stream_arn],
             "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]},
            # ListStreams has no resource type in IAM: it names streams, reads nothing.
            {"Effect": "Allow", "Resource": "*", "Action": ["dynamodb:ListStreams"]},
            {"Effect": "Allow", "Resource": [{"Fn::GetAtt": [failures, "Arn"]}], "Action": ["sqs:SendMessage"]},
        ]
        statements += iam.kms(overlay, table, "dynamodb", ["kms:Decrypt", "kms:DescribeKey"])
        statements += iam.kms(overlay, failures, "sqs", ["kms:GenerateDataKey", "kms:Decrypt"])
        return patch, statements
    if kind in ("Schedule", "CloudWatchEvent", "EventBridgeRule", None):
        return {}, []
    raise SystemExit(f"{fn}: event source type {kind!r} is not handled by infra/package.py yet")


def queue_logical_id(fn: str, queue: Any) -> str:
    """Chalice emits `{"Fn::Sub": "arn:...:<name>"}` for `queue=<name>`, or the ARN given."""
    text = queue.get("Fn::Sub") if isinstance(queue, dict) else queue
    if not isinstance(text, str):
        raise SystemExit(f"{fn}: cannot read the queue of its SQS event source: {queue!r}")
    return text.rsplit(":", 1)[-1]


def stream_table(overlay: Any, fn: str, stream: Any) -> str:
    """Which table's stream a `@app.on_dynamodb_record(stream_arn=...)` means: an Output of the
    template (`"EventsTableStreamArn"`), a table's logical id, or an ARN naming the table
    (`.../table/lapor-kbb-events/stream/...`, the stage left out or not); else the one table
    of the template that has a stream."""
    streamed = {k: v for k, v in overlay.resources.items()
                if v.get("Type") == "AWS::DynamoDB::Table" and v["Properties"].get("StreamSpecification")}
    if isinstance(stream, str):
        candidates = [stream]
        if stream.startswith("arn:") and "/stream/" in stream:
            candidates.append(stream.split(":table/", 1)[-1].split("/stream/", 1)[0])
        for name in candidates:
            output = overlay.template["Outputs"].get(name)
            if output and isinstance(output["Value"], dict) and "Fn::GetAtt" in output["Value"]:
                name = output["Value"]["Fn::GetAtt"][0]
            if name in streamed:
                return name
            for logical, table in streamed.items():
                pattern = table["Properties"].get("TableName", {})
                pattern = pattern.get("Fn::Sub", "") if isinstance(pattern, dict) else str(pattern)
                if name in (pattern.replace("${Stage}", overlay.stage), pattern.replace("-${Stage}", "")):
                    return logical
    if len(streamed) == 1:
        return next(iter(streamed))
    raise SystemExit(f"{fn}: the stream {stream!r} is not the stream of a table of the template "
                     f"(streams: {sorted(streamed)}; use stream_arn=\"<Table>StreamArn\")")
