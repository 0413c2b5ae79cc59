"""IAM for the Lambda functions: every function's role is built from infra/permissions.yaml.

`grant` turns one line of permissions.yaml (`{table: X, access: read}`, `{bucket: X, ...}`...) into
IAM statements on the logical ids of the template, each with the KMS grants for the key that
encrypts the resource (limited by kms:ViaService to the service that holds it). `base_statements`
is what every function gets without a line: its own log group, X-Ray, metrics in our namespace.
"""
from __future__ import annotations

import json
from typing import Any

from cfn import METRICS_NAMESPACE

Json = dict[str, Any]


def key_of(overlay: Any, logical_id: str) -> str | None:
    """The KMS key (logical id) that encrypts a resource, if it is a key of the template."""
    props = overlay.resources[logical_id].get("Properties", {})
    bucket_rule = (props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration") or [{}])[0]
    ref = (props.get("SSESpecification", {}).get("KMSMasterKeyId") or props.get("KmsMasterKeyId")
           or props.get("KmsKeyId") or bucket_rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID"))
    if isinstance(ref, dict):
        name = ref.get("Ref") or (ref.get("Fn::GetAtt") or [None])[0]
        if name in overlay.resources and overlay.resources[name]["Type"] == "AWS::KMS::Key":
            return str(name)
    return None


def kms(overlay: Any, resource: str, service: str, actions: list[str]) -> list[Json]:
    key = key_of(overlay, resource)
    if key is None:
        return []
    return [{"Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": [key, "Arn"]}],
             "Condition": {"StringEquals": {
                 "kms:ViaService": {"Fn::Sub": f"{service}.${{AWS::Region}}.amazonaws.com"}}}}]


def grant(overlay: Any, fn: str, g: Json) -> list[Json]:
    if "table" in g:
        table = g["table"]
        res = overlay.require(table, "AWS::DynamoDB::Table", fn)
        access = g.get("access", "read")
        actions = []
        if "read" in access:
            actions += ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                        "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
        if "write" in access:
            actions += ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
        elif "append" in access:
            # Append-only (the audit trail): new items only, written by a transaction's Put or
            # PutItem; a transaction's Put needs dynamodb:PutItem, an Update would need UpdateItem.
            actions += ["dynamodb:PutItem"]
        if not actions:
            raise SystemExit(f"{fn}: access of {table} must be read, write, append, read-write or read-append")
        resources: list[Any] = [{"Fn::GetAtt": [table, "Arn"]}]
        known = {i["IndexName"] for i in res["Properties"].get("GlobalSecondaryIndexes", [])}
        statements = [{"Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}]
        indexes = g.get("indexes") or []
        for index in indexes:
            if index not in known:
                raise SystemExit(f"{fn}: {table} has no index {index!r} (known: {sorted(known)})")
        if indexes:
            statements.append({"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": [
                {"Fn::Sub": f"${{{table}.Arn}}/index/{index}"} for index in indexes]})
        kms_actions = ["kms:Decrypt", "kms:DescribeKey"]
        if "write" in access or "append" in access:
            kms_actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        return statements + kms(overlay, table, "dynamodb", kms_actions)
    if "queue" in g:
        overlay.require(g["queue"], "AWS::SQS::Queue", fn)
        actions = list(g["actions"])
        queue_kms = (["kms:GenerateDataKey", "kms:Decrypt"] if "sqs:SendMessage" in actions
                     else ["kms:Decrypt"] if "sqs:ReceiveMessage" in actions else [])
        return ([{"Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": [g["queue"], "Arn"]}]}]
                + (kms(overlay, g["queue"], "sqs", queue_kms) if queue_kms else []))
    if "topic" in g:
        overlay.require(g["topic"], "AWS::SNS::Topic", fn)
        return ([{"Effect": "Allow", "Action": list(g["actions"]), "Resource": [{"Ref": g["topic"]}]}]
                + kms(overlay, g["topic"], "sns", ["kms:GenerateDataKey", "kms:Decrypt"]))
    if "bucket" in g:
        overlay.require(g["bucket"], "AWS::S3::Bucket", fn)
        prefix = g.get("prefix", "")
        return [{"Effect": "Allow", "Action": list(g["actions"]),
                 "Resource": [{"Fn::Sub": f"${{{g['bucket']}.Arn}}/{prefix}*"}]}] + kms(
            overlay, g["bucket"], "s3", ["kms:GenerateDataKey", "kms:Decrypt"])
    if "key" in g:
        overlay.require(g["key"], "AWS::KMS::Key", fn)
        return [{"Effect": "Allow", "Action": list(g["actions"]), "Resource": [{"Fn::GetAtt": [g["key"], "Arn"]}]}]
    if "secret" in g:
        overlay.require(g["secret"], "AWS::SecretsManager::Secret", fn)
        return ([{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                  "Resource": [{"Ref": g["secret"]}]}]
                + kms(overlay, g["secret"], "secretsmanager", ["kms:Decrypt"]))
    if "parameters" in g:
        path = str(g["parameters"]).strip("/")
        return [{"Effect": "Allow", "Action": ["ssm:GetParametersByPath", "ssm:GetParameter"], "Resource": [
            {"Fn::Sub": f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{path}"},
            {"Fn::Sub": f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{path}/*"}]}]
    if "email" in g:
        identity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
        domain = {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "MailSender"}]}]}
        return [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": [
            {"Fn::Sub": identity + "${MailSender}"},
            {"Fn::Sub": [identity + "${Domain}", {"Domain": domain}]}]}]
    if "sms" in g:
        # Phone numbers have no ARN: allow Publish to anything that is NOT a topic.
        return [{"Effect": "Allow", "Action": ["sns:Publish"], "NotResource": "arn:aws:sns:*:*:*"}]
    if "statement" in g:
        return [dict(g["statement"])]
    raise SystemExit(f"{fn}: unknown grant {g!r} in infra/permissions.yaml")


def base_statements(overlay: Any, log_group: str) -> list[Json]:
    return [
        {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [{"Fn::GetAtt": [log_group, "Arn"]}]},
        # X-Ray and PutMetricData cannot be scoped to a resource (IAM has none for them).
        {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
         "Resource": "*"},
        {"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}},
    ]


def merge_statements(statements: list[Json]) -> list[Json]:
    """Drop exact duplicates (two grants on one key), keep order."""
    out: list[Json] = []
    seen: set[str] = set()
    for s in statements:
        key = json.dumps(s, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out

