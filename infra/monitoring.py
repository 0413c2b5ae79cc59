"""Monitoring added to the template: alarms and the operations dashboard.

Derived from the template, never listed by hand: an errors alarm for every function, a lag alarm
for every stream consumer, a not-empty alarm for every dead-letter queue (a queue some other queue
redrives to, a stream's failure queue, the schedules' failure queue); the SP4N-LAPOR! lag alarm
when the sync queue exists. Every alarm notifies the AlarmTopic of infra/operations.yaml.
"""
from __future__ import annotations

import json
from typing import Any

import destinations
from cfn import APP, METRICS_NAMESPACE, kebab

Json = dict[str, Any]


def dead_letter_queues(overlay: Any) -> list[str]:
    dlqs = []
    for name in overlay.of_type("AWS::SQS::Queue"):
        target = (overlay.resources[name].get("Properties", {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            dlqs.append(target["Fn::GetAtt"][0])
    failure = [n for n in overlay.of_type("AWS::SQS::Queue") if n.endswith(("StreamFailures", destinations.QUEUE))]
    return sorted(set(dlqs) | set(failure))


def alarm(overlay: Any, logical_id: str, name: str, description: str, metric: Json) -> None:
    overlay.resources[logical_id] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": {"Fn::Sub": f"{APP}-${{Stage}}-{name}"},
        "AlarmDescription": description,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopic"}],
        "OKActions": [{"Ref": "AlarmTopic"}],
        **metric,
    }}


def alarms(overlay: Any, functions: dict[str, Json]) -> None:
    for fn, spec in functions.items():
        alarm(overlay, f"{fn}ErrorsAlarm", f"{kebab(fn)}-errors",
                   f"The {kebab(fn)} function failed (uncaught errors or timeouts). See its log group.",
                   {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300,
                    "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]})
        for event in (spec["Properties"].get("Events") or {}).values():
            if event.get("Type") == "DynamoDB":
                alarm(overlay, f"{fn}IteratorAgeAlarm", f"{kebab(fn)}-stream-lag",
                           f"The {kebab(fn)} function is more than 5 minutes behind its stream.",
                           {"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Statistic": "Maximum",
                            "Period": 300, "EvaluationPeriods": 2, "Threshold": 300000,
                            "ComparisonOperator": "GreaterThanThreshold",
                            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]})
    if "SyncQueue" in overlay.resources:  # SP4N-LAPOR! lagging: the sync queue's oldest message
        alarm(overlay, "Sp4nSyncLaggingAlarm", "sp4n-lagging",
                   "The oldest message on the SP4N sync queue is older than Sp4nLagSeconds.",
                   {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Statistic": "Maximum",
                    "Period": 300, "EvaluationPeriods": 2, "Threshold": {"Ref": "Sp4nLagSeconds"},
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncQueue", "QueueName"]}}]})
    for dlq in dead_letter_queues(overlay):
        alarm(overlay, f"{dlq}NotEmptyAlarm", f"{kebab(dlq)}-not-empty",
                   f"A message reached the dead-letter queue {dlq}: read it, fix the cause, redrive "
                   "(README, Operations).",
                   {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]})


def dashboard(overlay: Any, functions: dict[str, Json]) -> None:
    subs: Json = {}

    def ref(expr: Any) -> str:
        key = f"V{len(subs)}"
        subs[key] = expr
        return "${" + key + "}"

    service = ["service", APP]
    region = "${AWS::Region}"

    def metric_widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum",
                      period: int = 3600, view: str = "timeSeries", w: int = 12) -> Json:
        return {"type": "metric", "x": x, "y": y, "width": w, "height": 6, "properties": {
            "title": title, "region": region, "stat": stat, "period": period, "view": view, "metrics": metrics}}

    dlqs = dead_letter_queues(overlay)
    sync_queue = "SyncQueue" if "SyncQueue" in overlay.resources else None
    widgets = [
        metric_widget("Reports per hour", [
            [METRICS_NAMESPACE, "ReportsSubmitted", *service, {"label": "submitted"}],
            [METRICS_NAMESPACE, "ReportsForwarded", *service, {"label": "forwarded"}],
            [METRICS_NAMESPACE, "ReportsAnswered", *service, {"label": "answered"}]], 0, 0),
        {"type": "metric", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
            "title": "Open reports by status", "region": region, "view": "timeSeries", "stacked": True,
            "period": 900, "stat": "Maximum",
            "metrics": [[{"expression": f"SEARCH('{{{METRICS_NAMESPACE},service,status}} "
                                        "MetricName=\"OpenReports\"', 'Maximum', 900)",
                          "id": "open", "label": ""}]]}},
        metric_widget("SLA breaches per hour", [[METRICS_NAMESPACE, "SlaBreaches", *service]], 0, 6),
        metric_widget("Dead-letter queues: messages waiting", [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", ref({"Fn::GetAtt": [q, "QueueName"]}),
             {"label": q}] for q in dlqs] or [[METRICS_NAMESPACE, "NoDeadLetterQueues"]], 12, 6,
            stat="Maximum", period=300),
        metric_widget("SP4N-LAPOR! sync", [
            [METRICS_NAMESPACE, "Sp4nSynced", *service, {"label": "synced"}],
            [METRICS_NAMESPACE, "Sp4nFailed", *service, {"label": "failed"}],
            [METRICS_NAMESPACE, "Sp4nDiverged", *service, {"label": "diverged"}]], 0, 12, period=900),
        metric_widget("SP4N lag: age of the oldest sync message (s)", [
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName",
             ref({"Fn::GetAtt": [sync_queue, "QueueName"]}) if sync_queue else "none"]], 12, 12,
            stat="Maximum", period=300),
        metric_widget("Function errors", [
            ["AWS/Lambda", "Errors", "FunctionName", ref({"Ref": fn}), {"label": kebab(fn)}] for fn in functions],
            0, 18, period=300),
        metric_widget("API: 4xx, 5xx, latency p90", [
            ["AWS/ApiGateway", "5XXError", "ApiName", APP, "Stage", "api", {"label": "5xx"}],
            ["AWS/ApiGateway", "4XXError", "ApiName", APP, "Stage", "api", {"label": "4xx"}],
            ["AWS/ApiGateway", "Latency", "ApiName", APP, "Stage", "api",
             {"label": "latency p90 (ms)", "stat": "p90", "yAxis": "right"}]], 12, 18, period=300),
        metric_widget("Notifications sent per hour", [[METRICS_NAMESPACE, "NotificationsSent", *service]], 0, 24),
    ]
    sources = " | ".join(f"SOURCE '/aws/lambda/{APP}-${{Stage}}-{kebab(fn)}'" for fn in functions)
    widgets.append({"type": "log", "x": 12, "y": 24, "width": 12, "height": 6, "properties": {
        "title": "Recent errors (all functions)", "region": region, "view": "table",
        "query": f"{sources} | filter level = 'ERROR' | fields @timestamp, function_name, correlation_id, message"
                 " | sort @timestamp desc | limit 50"}})
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    overlay.resources["Dashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": {"Fn::Sub": f"{APP}-${{Stage}}"},
        "DashboardBody": {"Fn::Sub": [body, subs]} if subs else {"Fn::Sub": body}}}

