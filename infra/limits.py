"""Limits on resource use and the API stage's own settings, added to the overlay by infra/package.py.

- infra/stages.yaml (per stage) becomes the defaults of template parameters: API stage throttling,
  the API function's reserved concurrency, the WAF rate limit, the SMS spend limit and Cognito
  threat protection. Packaging the `local` stage, or any stage without an entry, is refused.
- The API stage (chalice's `RestAPI`, an AWS::Serverless::Api): default method throttling, X-Ray
  tracing, an access log (JSON, no query strings or bodies) in a log group of its own, encrypted,
  with retention; API Gateway's account-level CloudWatch role, without which it writes no log.
- A regional WAFv2 web ACL on the API stage: a rate-based rule per IP address and AWS's known-bad-
  inputs rule group. The web client's CloudFront distribution gets none: see README, Security.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STAGES = Path(__file__).resolve().parent / "stages.yaml"
Json = dict[str, Any]

# What one access log line holds: who (source IP), what (method, resource path, status), how long.
# Never the query string (filters may carry a name) nor a body; $context.path is the path asked for,
# whose only variable part is a tracking id.
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"resourcePath":"$context.resourcePath","path":"$context.path","status":"$context.status",'
    '"responseLength":"$context.responseLength","latencyMs":"$context.responseLatency",'
    '"wafStatus":"$context.waf.status","userAgent":"$context.identity.userAgent"}'
)


def stage_limits(stage: str) -> Json:
    """The stage's entry of infra/stages.yaml; SystemExit for `local` or an unknown stage."""
    if stage == "local":
        raise SystemExit("refusing to package the local stage: it signs staff tokens with a local key and "
                         "has no Cognito; package dev or prod (make package STAGE=dev)")
    stages = yaml.safe_load(STAGES.read_text()) or {}
    if stage not in stages:
        raise SystemExit(f"stage {stage!r} has no limits in infra/stages.yaml (known: {sorted(stages)})")
    limits = dict(stages[stage])
    needed = {"api_throttle", "api_reserved_concurrency", "waf_requests_per_5min", "sms_monthly_spend_usd",
              "cognito_threat_protection"}
    missing = needed - set(limits)
    if missing:
        raise SystemExit(f"infra/stages.yaml, {stage}: missing {sorted(missing)}")
    return limits


def parameters(limits: Json) -> Json:
    return {
        "ApiThrottleBurst": {"Type": "Number", "Default": int(limits["api_throttle"]["burst"]),
                             "Description": "API stage: requests at once before 429 (infra/stages.yaml)"},
        "ApiThrottleRate": {"Type": "Number", "Default": float(limits["api_throttle"]["rate"]),
                            "Description": "API stage: steady requests per second before 429 (infra/stages.yaml)"},
        "ApiReservedConcurrency": {"Type": "Number", "Default": int(limits["api_reserved_concurrency"]),
                                   "Description": "Concurrency reserved for, and capping, the API function"},
        "WafRequestsPer5Min": {"Type": "Number", "Default": int(limits["waf_requests_per_5min"]), "MinValue": 10,
                               "Description": "Requests one IP address may send the API in 5 minutes"},
        "SmsMonthlySpendUsd": {"Type": "Number", "Default": float(limits["sms_monthly_spend_usd"]),
                               "Description": "SNS SMS monthly spend limit (set by infra/deploy.sh) and alarm scale"},
        "SmsAlarmUsd": {"Type": "Number", "Default": round(0.8 * float(limits["sms_monthly_spend_usd"]), 2),
                        "Description": "SMS spend this month that raises the alarm (80% of the limit)"},
    }


def apply(overlay: Any, limits: Json) -> None:
    """Patch the overlay (an infra/package.py Overlay) with the limits and the API stage settings."""
    template, resources = overlay.template, overlay.resources
    template["Parameters"].update(parameters(limits))
    threat = template["Parameters"].get("CognitoThreatProtection")
    if threat is not None:
        threat["Default"] = "true" if limits["cognito_threat_protection"] else "false"
    if "APIHandler" not in overlay.generated["Resources"]:
        return
    api_fn = resources.setdefault("APIHandler", {"Properties": {}})
    api_fn["Properties"]["ReservedConcurrentExecutions"] = {"Ref": "ApiReservedConcurrency"}
    retention = overlay.log_retention_days
    resources["ApiAccessLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/apigateway/lapor-kbb-${Stage}-access"},
            "RetentionInDays": retention,
            "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
        },
    }
    # API Gateway writes logs only through the region's account-level role (one per account and
    # region: a second stack in the account would share it; README, Operations).
    resources["ApiGatewayLogsRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "API Gateway writes the API's access log (account-level setting)",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            # Access logs only (no execution logging: it would log request bodies).
            "Policies": [{"PolicyName": "ApiGatewayLogs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                 "Resource": [{"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}]},
                {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
                 "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}]},
            ]}}],
        },
    }
    resources["ApiGatewayAccount"] = {
        "Type": "AWS::ApiGateway::Account",
        "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}},
    }
    rest_api = resources.setdefault("RestAPI", {})
    rest_api["DependsOn"] = ["ApiGatewayAccount"]
    rest_api.setdefault("Properties", {}).update({
        "TracingEnabled": True,
        "MethodSettings": [{
            "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
        }],
        "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                             "Format": ACCESS_LOG_FORMAT},
    })
    web_acl(resources)


def web_acl(resources: Json) -> None:
    """A regional web ACL on the API stage (WAF evaluates before API Gateway's throttling)."""
    def visibility(name: str) -> Json:
        return {"CloudWatchMetricsEnabled": True, "SampledRequestsEnabled": True,
                "MetricName": {"Fn::Sub": f"lapor-kbb-${{Stage}}-{name}"}}

    resources["ApiWebAcl"] = {
        "Type": "AWS::WAFv2::WebACL",
        "Properties": {
            "Name": {"Fn::Sub": "lapor-kbb-${Stage}-api"},
            "Description": "Lapor KBB API: per-IP rate limit and known bad inputs",
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "VisibilityConfig": visibility("api-acl"),
            "Rules": [
                {"Name": "RatePerIp", "Priority": 0, "Action": {"Block": {}},
                 "Statement": {"RateBasedStatement": {"Limit": {"Ref": "WafRequestsPer5Min"},
                                                      "AggregateKeyType": "IP"}},
                 "VisibilityConfig": visibility("rate-per-ip")},
                {"Name": "KnownBadInputs", "Priority": 1, "OverrideAction": {"None": {}},
                 "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS",
                                                             "Name": "AWSManagedRulesKnownBadInputsRuleSet"}},
                 "VisibilityConfig": visibility("known-bad-inputs")},
            ],
        },
    }
    resources["ApiWebAclAssociation"] = {
        "Type": "AWS::WAFv2::WebACLAssociation",
        "Properties": {
            # ${RestAPI.Stage}: SAM's reference to the stage it generates (and a dependency on it).
            "ResourceArn": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}"
                                       "/stages/${RestAPI.Stage}"},
            "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
        },
    }
