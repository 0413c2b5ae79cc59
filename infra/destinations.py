"""Where a failed asynchronous invocation goes: scheduled functions (EventBridge invokes them
asynchronously) get an on-failure destination, which chalice cannot emit.

One queue, `ScheduleFailures`, takes both kinds of failure:
- the function ran and failed after Lambda's retries: the function's EventInvokeConfig sends the
  invocation record (request, error, function ARN) there; its role may send to that queue only;
- EventBridge could not invoke the function at all (throttled, deleted): the rule target's
  dead-letter config sends the event there (queue policy: events.amazonaws.com, this account's
  rules of this stack only).
infra/package.py alarms on it like on every dead-letter queue.
"""
from __future__ import annotations

from typing import Any

Json = dict[str, Any]
QUEUE = "ScheduleFailures"
ASYNC_EVENTS = ("Schedule", "CloudWatchEvent", "EventBridgeRule")
# Lambda's own retries of a failed asynchronous invocation (0-2) and how old an event may get.
RETRIES = 2
MAX_EVENT_AGE_SECONDS = 3600


def is_async(event: Json) -> bool:
    return event.get("Type") in ASYNC_EVENTS


def ensure_queue(overlay: Any) -> None:
    resources = overlay.resources
    if QUEUE in resources:
        return
    resources[QUEUE] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": {"Fn::Sub": "lapor-kbb-${Stage}-schedule-failures"},
        "MessageRetentionPeriod": 1209600,
        "KmsMasterKeyId": {"Ref": "DataKey"},
    }}
    resources[f"{QUEUE}Policy"] = {"Type": "AWS::SQS::QueuePolicy", "Properties": {
        "Queues": [{"Ref": QUEUE}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "ScheduleRulesOfThisStackSend", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                # SAM names the rules it generates <stack>-<Function><Event>-<suffix>.
                "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}"
                                                         ":${AWS::AccountId}:rule/${AWS::StackName}-*"}}}}]},
    }}


def event_patch() -> Json:
    """Merged into a schedule event's Properties: the rule target's dead-letter queue."""
    return {"DeadLetterConfig": {"Arn": {"Fn::GetAtt": [QUEUE, "Arn"]}}}


def function_patch() -> Json:
    """Merged into the function's Properties: SAM writes the AWS::Lambda::EventInvokeConfig."""
    return {"EventInvokeConfig": {
        "MaximumRetryAttempts": RETRIES,
        "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": [QUEUE, "Arn"]}}},
    }}


def statements(overlay: Any) -> list[Json]:
    """What the function's role needs to send its failure record."""
    return ([{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [{"Fn::GetAtt": [QUEUE, "Arn"]}]}]
            + overlay.kms(QUEUE, "sqs", ["kms:GenerateDataKey", "kms:Decrypt"]))
