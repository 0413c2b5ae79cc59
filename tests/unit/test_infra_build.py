"""The packager's pieces that need no `chalice package` run (tests/integration/test_package.py
checks the whole generated template)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

import package as packaging  # noqa: E402 (found through the sys.path entry above)
import triggers  # noqa: E402
from cfn import load_cfn  # noqa: E402


def test_short_form_tags_load_as_their_long_form() -> None:
    resources = load_cfn(packaging.RESOURCES)
    assert resources["Outputs"]["EventsTableStreamArn"]["Value"] == {"Fn::GetAtt": ["EventsTable", "StreamArn"]}
    assert resources["Outputs"]["ReportsTable"]["Value"] == {"Ref": "ReportsTable"}
    assert type(resources["Outputs"]) is dict  # plain data, not cfn-lint's marked nodes


def test_every_table_and_bucket_of_both_templates_is_retained() -> None:
    for path in (packaging.RESOURCES, packaging.OPERATIONS):
        for name, res in load_cfn(path)["Resources"].items():
            if res["Type"] in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
                assert res.get("DeletionPolicy") == "Retain", (path.name, name)
                assert res.get("UpdateReplacePolicy") == "Retain", (path.name, name)


def _overlay(generated: dict[str, Any]) -> Any:
    stage_limits = {"api_throttle": {"burst": 1, "rate": 1}, "api_reserved_concurrency": 1,
                    "waf_requests_per_5min": 100, "sms_monthly_spend_usd": 1, "cognito_threat_protection": False}
    return packaging.Overlay(generated, "dev", {"functions": {}}, stage_limits=stage_limits)


def test_an_sqs_trigger_without_a_batching_window_is_refused() -> None:
    event = {"Type": "SQS", "Properties": {
        "Queue": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:NotifyQueue"},
        "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}}
    overlay = _overlay({"Resources": {}})
    with pytest.raises(SystemExit, match="maximum_batching_window_in_seconds"):
        triggers.event_source(overlay, "Notify", event)
    event["Properties"]["MaximumBatchingWindowInSeconds"] = 5
    patch, _ = triggers.event_source(overlay, "Notify", event)
    assert patch["Properties"] == {"Queue": {"Fn::Sub": "${NotifyQueue.Arn}"},
                                   "FunctionResponseTypes": ["ReportBatchItemFailures"]}


def test_a_log_group_chalice_emitted_is_patched_and_a_missing_one_is_added_whole() -> None:
    overlay = _overlay({"Resources": {"NotifyLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::Sub": "/aws/lambda/${Notify}"}, "RetentionInDays": 90}}}})
    overlay.log_group("Notify")
    overlay.log_group("APIHandler")
    notify, api = overlay.resources["NotifyLogGroup"], overlay.resources["APIHandlerLogGroup"]
    assert "Type" not in notify and "RetentionInDays" not in notify["Properties"]  # chalice's, merged over
    assert notify["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/lapor-kbb-${Stage}-notify"}
    assert api["Type"] == "AWS::Logs::LogGroup" and api["Properties"]["RetentionInDays"] == overlay.log_retention_days
    for group in (notify, api):
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}


def test_every_handler_of_app_py_is_an_entry_point_of_the_call_recorder() -> None:
    from tests import aws_calls

    derived = {handler: name for (module, handler), name in aws_calls.ENTRY_POINTS.items() if module == "app"}
    assert derived["dispatch_events"] == "dispatch"          # name= given
    assert derived["sla_sweep_schedule"] == "sla_sweep"
    assert derived["performance_monthly_digest"] == "performance_digest"
    assert "preflight_view" not in derived and len(derived) == (ROOT / "app.py").read_text().count("\n@app.")
