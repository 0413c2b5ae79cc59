"""Lambda SQS events built from REAL `receive_message` output, for tests of SQS handlers.

A hand-written event tends to drift from what Lambda sends (a missing `attributes`, a body that
was never through SQS). These helpers take the messages that a queue actually returned and give
them the shape of Lambda's SQS event source:

    event, messages = receive_event(sqs, queue_url)
    result = client.lambda_.invoke("scan_upload", event).payload
    delete_succeeded(sqs, queue_url, messages, result)   # what Lambda/the pump would do

Lambda's record fields: messageId, receiptHandle, body, attributes (ApproximateReceiveCount...),
messageAttributes (camelCase values: stringValue, binaryValue base64, dataType), md5OfBody,
md5OfMessageAttributes, eventSource "aws:sqs", eventSourceARN, awsRegion.
"""
from __future__ import annotations

import base64
from typing import Any


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


def queue_arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def lambda_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    """One message from receive_message(..., AttributeNames=["All"], MessageAttributeNames=["All"])."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {k: _attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def lambda_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    return {"Records": [lambda_record(m, arn) for m in messages]}


def sqs_lambda_event(messages: list[dict[str, Any]], queue_arn: str, region: str | None = None) -> dict[str, Any]:
    """The same, with chalicelib.local.pump's signature (the region is also in the ARN)."""
    event = lambda_event(messages, queue_arn)
    if region:
        for record in event["Records"]:
            record["awsRegion"] = region
    return event


def receive_event(sqs: Any, queue_url: str, max_messages: int = 10,
                  visibility_timeout: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Receive up to `max_messages` (no wait) and return (Lambda event, the raw messages)."""
    kwargs: dict[str, Any] = {"QueueUrl": queue_url, "MaxNumberOfMessages": max_messages, "WaitTimeSeconds": 0,
                              "AttributeNames": ["All"], "MessageAttributeNames": ["All"]}
    if visibility_timeout is not None:
        kwargs["VisibilityTimeout"] = visibility_timeout
    messages = sqs.receive_message(**kwargs).get("Messages", [])
    return lambda_event(messages, queue_arn(sqs, queue_url)), messages


def failed_ids(result: dict[str, Any] | None) -> set[str]:
    return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}


def delete_succeeded(sqs: Any, queue_url: str, messages: list[dict[str, Any]], result: dict[str, Any] | None) -> int:
    """Delete the messages that the handler did not report as failed (Lambda's partial batch
    response); the failed ones come back after their visibility timeout."""
    failed = failed_ids(result)
    done = [m for m in messages if m["MessageId"] not in failed]
    for i in range(0, len(done), 10):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i:i + 10])])
    return len(done)
