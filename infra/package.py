"""`make package`: one CloudFormation template and one zip, ready for `make deploy`.

    python infra/package.py [--stage dev] [--out build] [--strict]

1. Stages a copy of the app (app.py, chalicelib/ without chalicelib/local/, requirements.txt,
   .chalice/config.json with `manage_iam_role: false`: roles come from step 3).
2. `chalice package --stage S` once, to learn which functions and event sources the app has.
3. Builds the overlay (build/overlay.json) from infra/resources.yaml + infra/operations.yaml and,
   for EVERY generated function (so new handlers are covered without touching this file):
   a role of its own from infra/permissions.yaml, a log group, its environment (every Output of
   both files as UPPER_SNAKE), event source patches (queue/stream ARN from the template,
   ReportBatchItemFailures on every SQS and stream mapping, batching window, retries, bisect,
   an on-failure queue per stream), an errors alarm; an alarm per dead-letter queue; the dashboard.
4. `chalice package --stage S --merge-template build/overlay.json build/`.
5. Recompiles deployment.zip with `compileall --invalidation-mode unchecked-hash` (chalice ships
   no .pyc: every cold start would compile) and checks the result.

Writes build/sam.json and build/deployment.zip. `--strict` (used by `make deploy`) fails when a
function has no entry in infra/permissions.yaml instead of warning.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import destinations  # infra/ modules, one per concern
import limits
import scanners

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
RESOURCES = INFRA / "resources.yaml"
OPERATIONS = INFRA / "operations.yaml"
PERMISSIONS = INFRA / "permissions.yaml"
PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-infra-package"
APP = "lapor-kbb"
METRICS_NAMESPACE = "LaporKBB"
MAX_ZIP_BYTES = 20 * 1024 * 1024
ENV_LIMIT_BYTES = 4096  # Lambda's limit on one function's environment

Json = dict[str, Any]


# -- CloudFormation YAML (short-form tags) -> plain JSON ----------------------------------------
class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Json:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}
    return construct


for _short, _long in [("Ref", "Ref"), ("Condition", "Condition")] + [
        (f, f"Fn::{f}") for f in ("Sub", "GetAtt", "Join", "If", "Equals", "Not", "And", "Or", "Select",
                                  "Split", "FindInMap", "Base64", "Cidr", "GetAZs", "ImportValue", "Length",
                                  "ToJsonString")]:
    _CfnLoader.add_constructor(f"!{_short}", _tag(_long))


def load_cfn(path: Path) -> Json:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 (a SafeLoader with the CFN tags)


def env_name(output_key: str) -> str:
    """`ReportsTable` -> `REPORTS_TABLE` (the same rule as chalicelib.local.provision)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output_key).upper()


def to_cfn(name: str) -> str:
    """A Chalice function name as chalice names its resource: `sla_sweep` -> `SlaSweep`."""
    from chalice.utils import to_cfn_resource_name

    return str(to_cfn_resource_name(name))


def kebab(logical_id: str) -> str:
    if logical_id == "APIHandler":
        return "api"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


# -- staging and chalice --------------------------------------------------------------------------
def stage_app(dest: Path) -> None:
    """A copy of what Lambda runs. Kept between runs: chalice caches the dependencies there."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in ("app.py", "chalicelib", "requirements.txt"):
        target = dest / old
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.copy2(ROOT / "app.py", dest / "app.py")
    shutil.copy2(ROOT / "requirements.txt", dest / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", dest / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "local"))
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["manage_iam_role"] = False
    config["iam_role_arn"] = PLACEHOLDER_ROLE
    config.pop("autogen_policy", None)
    (dest / ".chalice").mkdir(exist_ok=True)
    (dest / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))


def chalice_package(src: Path, stage: str, out: Path, merge: Path | None = None) -> Json:
    chalice = Path(sys.executable).with_name("chalice")
    args = [str(chalice) if chalice.exists() else "chalice", "package", "--stage", stage]
    if merge is not None:
        args += ["--merge-template", str(merge)]
    args.append(str(out))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-3")}
    subprocess.run(args, cwd=src, env=env, check=True)
    return json.loads((out / "sam.json").read_text())


# -- the overlay ----------------------------------------------------------------------------------
class Overlay:
    """Everything merged over the template that `chalice package` generates."""

    def __init__(self, generated: Json, stage: str, permissions: Json, strict: bool = False,
                 stage_limits: Json | None = None) -> None:
        self.generated = generated
        self.stage = stage
        self.limits = stage_limits if stage_limits is not None else limits.stage_limits(stage)
        self.permissions = permissions
        self.strict = strict
        self.warnings: list[str] = []
        resources, operations = load_cfn(RESOURCES), load_cfn(OPERATIONS)
        metadata = operations.pop("Metadata", {}) or {}
        self.extra_env = metadata.pop("LaporKBBEnvironment", {})
        self.function_env = {("APIHandler" if name == "api" else to_cfn(name)): env
                             for name, env in (metadata.pop("LaporKBBFunctionEnvironment", {}) or {}).items()}
        self.template: Json = {"Parameters": {}, "Conditions": {}, "Resources": {}, "Outputs": {}}
        for part in (resources, operations):
            for section in ("Parameters", "Conditions", "Resources", "Outputs"):
                for key, value in (part.get(section) or {}).items():
                    if key in self.template[section]:
                        raise SystemExit(f"{section}.{key} is defined twice (resources.yaml, operations.yaml)")
                    self.template[section][key] = value
        self.template["Parameters"]["Stage"]["Default"] = stage
        self.infra_outputs = dict(self.template["Outputs"])
        self.resources: Json = self.template["Resources"]
        self.web_origins()

    def web_origins(self) -> None:
        """Browsers upload to the quarantine bucket from the web client: its CORS admits the
        stage's WEB_ORIGINS (.chalice/config.json) and the web client's own CloudFront address
        (the API admits that one through the WEB_URL output, chalicelib/config.py)."""
        stages = json.loads((ROOT / ".chalice" / "config.json").read_text()).get("stages", {})
        origins = ((stages.get(self.stage) or {}).get("environment_variables") or {}).get("WEB_ORIGINS", "")
        if origins:
            self.template["Parameters"]["WebOrigins"]["Default"] = origins
        bucket = self.resources.get("QuarantineBucket")  # browsers POST into quarantine
        if bucket is None or "WebDistribution" not in self.resources:
            return
        for rule in bucket["Properties"].get("CorsConfiguration", {}).get("CorsRules", []):
            rule["AllowedOrigins"] = {"Fn::Split": [",", {"Fn::Join": [",", [
                {"Fn::Join": [",", {"Ref": "WebOrigins"}]},
                {"Fn::Sub": "https://${WebDistribution.DomainName}"}]]}]}

    # helpers over the known resources
    def of_type(self, cfn_type: str) -> list[str]:
        return [k for k, v in self.resources.items() if v.get("Type") == cfn_type]

    def require(self, logical_id: str, cfn_type: str, who: str) -> Json:
        res = self.resources.get(logical_id)
        if res is None or res.get("Type") != cfn_type:
            known = ", ".join(sorted(self.of_type(cfn_type))) or "none"
            raise SystemExit(f"{who}: {logical_id!r} is not a {cfn_type} of the template (known: {known})")
        return res

    def key_of(self, logical_id: str) -> str | None:
        """The KMS key (logical id) that encrypts a resource, if it is a key of the template."""
        props = self.resources[logical_id].get("Properties", {})
        bucket_rule = (props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration") or [{}])[0]
        ref = (props.get("SSESpecification", {}).get("KMSMasterKeyId") or props.get("KmsMasterKeyId")
               or props.get("KmsKeyId") or bucket_rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID"))
        if isinstance(ref, dict):
            name = ref.get("Ref") or (ref.get("Fn::GetAtt") or [None])[0]
            if name in self.resources and self.resources[name]["Type"] == "AWS::KMS::Key":
                return str(name)
        return None

    def dead_letter_queues(self) -> list[str]:
        dlqs = []
        for name in self.of_type("AWS::SQS::Queue"):
            target = (self.resources[name].get("Properties", {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
            if isinstance(target, dict) and "Fn::GetAtt" in target:
                dlqs.append(target["Fn::GetAtt"][0])
        failure = [n for n in self.of_type("AWS::SQS::Queue") if n.endswith(("StreamFailures", destinations.QUEUE))]
        return sorted(set(dlqs) | set(failure))

    # -- per function ---------------------------------------------------------------------------
    def functions(self) -> dict[str, Json]:
        return {k: v for k, v in self.generated["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}

    def grants_for(self, logical_id: str) -> list[Json]:
        from chalice.utils import to_cfn_resource_name

        by_logical = {("APIHandler" if name == "api" else to_cfn_resource_name(name)): grants
                      for name, grants in (self.permissions.get("functions") or {}).items()}
        if logical_id not in by_logical:
            message = (f"function {logical_id} has no entry in infra/permissions.yaml: it gets only its logs, "
                       "metrics and its trigger")
            if self.strict:
                raise SystemExit(message)
            self.warnings.append(message)
        return list(by_logical.get(logical_id) or [])

    def layer_names(self, logical_id: str) -> list[str]:
        from chalice.utils import to_cfn_resource_name

        return [to_cfn_resource_name(name) + "Layer" for name, spec in (self.permissions.get("layers") or {}).items()
                if logical_id in {"APIHandler" if f == "api" else to_cfn_resource_name(f) for f in spec["functions"]}]

    def used_layers(self) -> dict[str, list[str]]:
        """Layer name -> its packages, for the layers that a generated function uses."""
        from chalice.utils import to_cfn_resource_name

        used = {name for fn in self.functions() for name in self.layer_names(fn)}
        return {name: list(spec["packages"]) for name, spec in (self.permissions.get("layers") or {}).items()
                if to_cfn_resource_name(name) + "Layer" in used}

    def build(self) -> Json:
        functions = self.functions()
        if not functions:
            raise SystemExit("chalice package generated no function")
        from chalice.utils import to_cfn_resource_name

        for name in self.used_layers():
            self.resources[to_cfn_resource_name(name) + "Layer"] = {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {
                    "LayerName": {"Fn::Sub": f"{APP}-${{Stage}}-{name}"},
                    "Description": f"{', '.join(self.used_layers()[name])} (infra/permissions.yaml, layers)",
                    "ContentUri": f"./layer-{name}.zip",
                    "CompatibleRuntimes": ["python3.11"],
                    "CompatibleArchitectures": ["x86_64"],
                    "RetentionPolicy": "Retain",  # an older function version (roll back) keeps its layer
                },
            }
        for logical_id, fn in functions.items():
            self.function(logical_id, fn)
        limits.apply(self, self.limits)
        self.alarms(functions)
        self.dashboard(functions)
        if "SyncQueue" not in self.resources:
            self.template["Parameters"].pop("Sp4nLagSeconds", None)  # its alarm needs the sync queue
        self.template["Resources"] = self.resources
        scanners.annotate(self.template, self.generated)
        return self.template

    def environment(self) -> Json:
        env: Json = {}
        for key, output in self.template["Outputs"].items():
            value = output["Value"]
            if "Condition" in output:
                value = {"Fn::If": [output["Condition"], value, {"Ref": "AWS::NoValue"}]}
            env[env_name(key)] = value
        env.update(self.extra_env)
        return env

    def function(self, logical_id: str, fn: Json) -> None:
        props = fn["Properties"]
        name = {"Fn::Sub": f"{APP}-${{Stage}}-{kebab(logical_id)}"}
        log_group = f"{logical_id}LogGroup"
        self.resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/{APP}-${{Stage}}-{kebab(logical_id)}"},
                "RetentionInDays": int(self.permissions.get("defaults", {}).get("log_retention_days", 90)),
                "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},  # logs may hold what a bug let through
            },
        }
        statements = self.base_statements(log_group)
        events: Json = {}
        invoked_async = False
        for event_id, event in (props.get("Events") or {}).items():
            patch, more = self.event_source(logical_id, event)
            if destinations.is_async(event):
                destinations.ensure_queue(self)
                patch, more, invoked_async = {"Properties": destinations.event_patch()}, [], True
            if patch:
                events[event_id] = patch
            statements += more
        if invoked_async:
            statements += destinations.statements(self)
        for grant in self.grants_for(logical_id):
            kinds = ("table", "queue", "topic", "bucket", "key", "secret")
            target = next((grant[k] for k in kinds if k in grant), None)
            if target is not None and target not in self.resources and not self.strict:
                self.warnings.append(f"{logical_id}: {target} is not in the template (yet): grant skipped")
                continue
            statements += self.grant(logical_id, grant)
        role = f"{logical_id}Role"
        self.resources[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": {"Fn::Sub": f"{APP}-${{Stage}} {logical_id}: least privilege (infra/permissions.yaml)"},
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}],
                },
                "Policies": [{"PolicyName": f"{logical_id}Access",
                              "PolicyDocument": {"Version": "2012-10-17", "Statement": merge_statements(statements)}}],
            },
        }
        overlay: Json = {
            "DependsOn": [log_group],
            "Properties": {
                "FunctionName": name,
                "Role": {"Fn::GetAtt": [role, "Arn"]},
                "Tracing": "Active",
                "Environment": {"Variables": {**self.environment(), **self.function_env.get(logical_id, {})}},
            },
        }
        if events:
            overlay["Properties"]["Events"] = events
        if invoked_async:
            overlay["Properties"].update(destinations.function_patch())
        if self.layer_names(logical_id):
            overlay["Properties"]["Layers"] = [{"Ref": layer} for layer in self.layer_names(logical_id)]
        self.resources[logical_id] = overlay

    def base_statements(self, log_group: str) -> list[Json]:
        return [
            {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [{"Fn::GetAtt": [log_group, "Arn"]}]},
            # X-Ray and PutMetricData cannot be scoped to a resource (IAM has none for them).
            {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
             "Resource": "*"},
            {"Sid": "Metrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}},
        ]

    # -- event sources -------------------------------------------------------------------------
    def event_source(self, fn: str, event: Json) -> tuple[Json, list[Json]]:
        kind, props = event.get("Type"), event.get("Properties", {})
        defaults = self.permissions.get("defaults", {})
        if kind == "SQS":
            queue = self.queue_logical_id(fn, props.get("Queue"))
            self.require(queue, "AWS::SQS::Queue", fn)
            window = props.get("MaximumBatchingWindowInSeconds") or int(defaults.get("sqs_batching_window_seconds", 5))
            patch = {"Properties": {
                "Queue": {"Fn::Sub": f"${{{queue}.Arn}}"},  # same key as chalice's Fn::Sub: a deep merge replaces it
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumBatchingWindowInSeconds": window,
            }}
            statements = [{"Effect": "Allow", "Resource": [{"Fn::GetAtt": [queue, "Arn"]}],
                           "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                      "sqs:ChangeMessageVisibility"]}]
            statements += self.kms(queue, "sqs", ["kms:Decrypt"])
            return patch, statements
        if kind == "DynamoDB":
            table = self.stream_table(fn, props.get("Stream"))
            stream_arn = {"Fn::GetAtt": [table, "StreamArn"]}
            failures = f"{fn}StreamFailures"
            failure_queue: Json = {"QueueName": {"Fn::Sub": f"{APP}-${{Stage}}-{kebab(fn)}-stream-failures"},
                                   "MessageRetentionPeriod": 1209600}
            key = self.key_of(table)
            if key:
                failure_queue["KmsMasterKeyId"] = {"Ref": key}
            else:
                failure_queue["SqsManagedSseEnabled"] = True
            self.resources[failures] = {"Type": "AWS::SQS::Queue", "Properties": failure_queue}
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
            statements += self.kms(table, "dynamodb", ["kms:Decrypt", "kms:DescribeKey"])
            statements += self.kms(failures, "sqs", ["kms:GenerateDataKey", "kms:Decrypt"])
            return patch, statements
        if kind in ("Schedule", "CloudWatchEvent", "EventBridgeRule", None):
            return {}, []
        raise SystemExit(f"{fn}: event source type {kind!r} is not handled by infra/package.py yet")

    def queue_logical_id(self, fn: str, queue: Any) -> str:
        """Chalice emits `{"Fn::Sub": "arn:...:<name>"}` for `queue=<name>`, or the ARN given."""
        text = queue.get("Fn::Sub") if isinstance(queue, dict) else queue
        if not isinstance(text, str):
            raise SystemExit(f"{fn}: cannot read the queue of its SQS event source: {queue!r}")
        return text.rsplit(":", 1)[-1]

    def stream_table(self, fn: str, stream: Any) -> str:
        """Which table's stream a `@app.on_dynamodb_record(stream_arn=...)` means: an Output of the
        template (`"EventsTableStreamArn"`), a table's logical id, or an ARN naming the table
        (`.../table/lapor-kbb-events/stream/...`, the stage left out or not); else the one table
        of the template that has a stream."""
        streamed = {k: v for k, v in self.resources.items()
                    if v.get("Type") == "AWS::DynamoDB::Table" and v["Properties"].get("StreamSpecification")}
        if isinstance(stream, str):
            candidates = [stream]
            if stream.startswith("arn:") and "/stream/" in stream:
                candidates.append(stream.split(":table/", 1)[-1].split("/stream/", 1)[0])
            for name in candidates:
                output = self.template["Outputs"].get(name)
                if output and isinstance(output["Value"], dict) and "Fn::GetAtt" in output["Value"]:
                    name = output["Value"]["Fn::GetAtt"][0]
                if name in streamed:
                    return name
                for logical, table in streamed.items():
                    pattern = table["Properties"].get("TableName", {})
                    pattern = pattern.get("Fn::Sub", "") if isinstance(pattern, dict) else str(pattern)
                    if name in (pattern.replace("${Stage}", self.stage), pattern.replace("-${Stage}", "")):
                        return logical
        if len(streamed) == 1:
            return next(iter(streamed))
        raise SystemExit(f"{fn}: the stream {stream!r} is not the stream of a table of the template "
                         f"(streams: {sorted(streamed)}; use stream_arn=\"<Table>StreamArn\")")

    # -- grants --------------------------------------------------------------------------------
    def kms(self, resource: str, service: str, actions: list[str]) -> list[Json]:
        key = self.key_of(resource)
        if key is None:
            return []
        return [{"Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": [key, "Arn"]}],
                 "Condition": {"StringEquals": {
                     "kms:ViaService": {"Fn::Sub": f"{service}.${{AWS::Region}}.amazonaws.com"}}}}]

    def grant(self, fn: str, g: Json) -> list[Json]:
        if "table" in g:
            table = g["table"]
            res = self.require(table, "AWS::DynamoDB::Table", fn)
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
            return statements + self.kms(table, "dynamodb", kms_actions)
        if "queue" in g:
            self.require(g["queue"], "AWS::SQS::Queue", fn)
            actions = list(g["actions"])
            kms = (["kms:GenerateDataKey", "kms:Decrypt"] if "sqs:SendMessage" in actions
                   else ["kms:Decrypt"] if "sqs:ReceiveMessage" in actions else [])
            return ([{"Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": [g["queue"], "Arn"]}]}]
                    + (self.kms(g["queue"], "sqs", kms) if kms else []))
        if "topic" in g:
            self.require(g["topic"], "AWS::SNS::Topic", fn)
            return ([{"Effect": "Allow", "Action": list(g["actions"]), "Resource": [{"Ref": g["topic"]}]}]
                    + self.kms(g["topic"], "sns", ["kms:GenerateDataKey", "kms:Decrypt"]))
        if "bucket" in g:
            self.require(g["bucket"], "AWS::S3::Bucket", fn)
            prefix = g.get("prefix", "")
            return [{"Effect": "Allow", "Action": list(g["actions"]),
                     "Resource": [{"Fn::Sub": f"${{{g['bucket']}.Arn}}/{prefix}*"}]}] + self.kms(
                g["bucket"], "s3", ["kms:GenerateDataKey", "kms:Decrypt"])
        if "key" in g:
            self.require(g["key"], "AWS::KMS::Key", fn)
            return [{"Effect": "Allow", "Action": list(g["actions"]), "Resource": [{"Fn::GetAtt": [g["key"], "Arn"]}]}]
        if "secret" in g:
            self.require(g["secret"], "AWS::SecretsManager::Secret", fn)
            return ([{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": [{"Ref": g["secret"]}]}]
                    + self.kms(g["secret"], "secretsmanager", ["kms:Decrypt"]))
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

    # -- alarms and dashboard ------------------------------------------------------------------
    def alarm(self, logical_id: str, name: str, description: str, metric: Json) -> None:
        self.resources[logical_id] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": f"{APP}-${{Stage}}-{name}"},
            "AlarmDescription": description,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **metric,
        }}

    def alarms(self, functions: dict[str, Json]) -> None:
        for fn, spec in functions.items():
            self.alarm(f"{fn}ErrorsAlarm", f"{kebab(fn)}-errors",
                       f"The {kebab(fn)} function failed (uncaught errors or timeouts). See its log group.",
                       {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300,
                        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]})
            for event in (spec["Properties"].get("Events") or {}).values():
                if event.get("Type") == "DynamoDB":
                    self.alarm(f"{fn}IteratorAgeAlarm", f"{kebab(fn)}-stream-lag",
                               f"The {kebab(fn)} function is more than 5 minutes behind its stream.",
                               {"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Statistic": "Maximum",
                                "Period": 300, "EvaluationPeriods": 2, "Threshold": 300000,
                                "ComparisonOperator": "GreaterThanThreshold",
                                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]})
        if "SyncQueue" in self.resources:  # SP4N-LAPOR! lagging: the sync queue's oldest message
            self.alarm("Sp4nSyncLaggingAlarm", "sp4n-lagging",
                       "The oldest message on the SP4N sync queue is older than Sp4nLagSeconds.",
                       {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Statistic": "Maximum",
                        "Period": 300, "EvaluationPeriods": 2, "Threshold": {"Ref": "Sp4nLagSeconds"},
                        "ComparisonOperator": "GreaterThanThreshold",
                        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncQueue", "QueueName"]}}]})
        for dlq in self.dead_letter_queues():
            self.alarm(f"{dlq}NotEmptyAlarm", f"{kebab(dlq)}-not-empty",
                       f"A message reached the dead-letter queue {dlq}: read it, fix the cause, redrive "
                       "(README, Operations).",
                       {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                        "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
                        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]})

    def dashboard(self, functions: dict[str, Json]) -> None:
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

        dlqs = self.dead_letter_queues()
        sync_queue = "SyncQueue" if "SyncQueue" in self.resources else None
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
        self.resources["Dashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": {"Fn::Sub": f"{APP}-${{Stage}}"},
            "DashboardBody": {"Fn::Sub": [body, subs]} if subs else {"Fn::Sub": body}}}


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


# -- the zip ----------------------------------------------------------------------------------------
# Left out of deployment.zip, each for a reason (tests/integration/test_package.py imports the app
# from the zip without them):
# - the AWS SDK (boto3, botocore, s3transfer): the python3.11 Lambda runtime provides it, and
#   botocore's service models alone are 16 MB zipped. The pinned version is what tests run on.
# - phonenumbers' geocoder, carrier and time zone data (6.5 MB zipped): the app only parses and
#   validates numbers (chalicelib.domain.identity); the three modules that read that data go too,
#   so using them fails at import, not with a half-present package.
EXCLUDED = (
    "boto3/", "boto3-", "botocore/", "botocore-", "s3transfer/", "s3transfer-",
    "phonenumbers/geodata/", "phonenumbers/carrierdata/", "phonenumbers/tzdata/",
    "phonenumbers/geocoder.py", "phonenumbers/carrier.py", "phonenumbers/timezone.py",
    # Powertools' Swagger UI assets serve its own API resolver; this app's API is Chalice.
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/",
)
# Lambda python3.11 runs on Amazon Linux 2, glibc 2.26: native wheels must be manylinux <= 2.26.
MAX_GLIBC = (2, 26)
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def excluded(name: str) -> bool:
    return any(name.startswith(prefix) if prefix.endswith(("/", ".py"))
               else name.startswith(prefix) and ".dist-info/" in name for prefix in EXCLUDED)


def dist_files(zf: zipfile.ZipFile, package: str) -> set[str]:
    """Every path of an installed distribution (from its RECORD), by package name."""
    norm = re.sub(r"[-_.]+", "_", package).lower()
    for name in zf.namelist():
        if name.endswith(".dist-info/RECORD") and name.count("/") == 1:
            dist = name.split("/")[0].removesuffix(".dist-info").rsplit("-", 1)[0]
            if re.sub(r"[-_.]+", "_", dist).lower() == norm:
                paths = {line.split(",")[0] for line in zf.read(name).decode().splitlines() if line}
                return paths | {name.rsplit("/", 1)[0] + "/"}
    return set()


def write_tree(tree: Path, dest: Path, modes: dict[str, int] | None = None) -> None:
    """Compile (unchecked-hash: valid whatever the file times, never re-checked) and zip."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                    "unchecked-hash", str(tree)], check=True)
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            rel = path.relative_to(tree).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (modes or {}).get(rel, (0o755 if os.access(path, os.X_OK) else 0o644) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    shutil.move(str(tmp), dest)


def recompile(zip_path: Path, moved: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Drop EXCLUDED and what went to a layer, add .pyc."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        with zipfile.ZipFile(zip_path) as zf:
            gone = set(moved)
            for package in moved:
                gone |= dist_files(zf, package)
            infos = [i for i in zf.infolist() if not excluded(i.filename)
                     and i.filename not in gone and not any(i.filename.startswith(g) for g in gone if g.endswith("/"))]
            zf.extractall(tree, members=infos)
        write_tree(tree, zip_path, {i.filename: i.external_attr for i in infos})


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = re.split(r"[=<>\[ ;]", line.strip(), maxsplit=1)[0]
        if name and re.sub(r"[-_.]+", "_", name).lower() == re.sub(r"[-_.]+", "_", package).lower():
            return line.split("#", 1)[0].strip()
    raise SystemExit(f"layer package {package!r} is not pinned in requirements.txt")


def build_layer(name: str, packages: list[str], out: Path) -> Path:
    """A layer from Lambda-compatible wheels of the pinned versions (never a local build)."""
    wheels = out / ".wheels"
    requirements = [re.sub(r"\[.*?\]", "", pinned(p)) for p in packages]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
                    "-d", str(wheels), *requirements], check=True)
    tree = out / ".layers" / name
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "python").mkdir(parents=True)
    for req in requirements:
        dist, version = req.split("==")
        norm = re.sub(r"[-_.]+", "_", dist).lower()
        found = [w for w in wheels.glob("*.whl")
                 if re.sub(r"[-_.]+", "_", w.name.split("-")[0]).lower() == norm and w.name.split("-")[1] == version]
        if not found:
            raise SystemExit(f"no Lambda-compatible wheel downloaded for {req}")
        with zipfile.ZipFile(found[0]) as zf:
            zf.extractall(tree / "python")
    dest = out / f"layer-{name}.zip"
    write_tree(tree, dest)
    return dest


def incompatible_binaries(zip_path: Path, prefix: str = "") -> list[str]:
    """Distributions with native code whose wheel tag will not load on Lambda python3.11."""
    bad = []
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        for wheel in (n for n in names if n.endswith(".dist-info/WHEEL") and n.count("/") == prefix.count("/") + 1):
            dist = wheel[len(prefix):].split("/")[0]
            files = {line.split(",")[0] for line in zf.read(wheel.replace("/WHEEL", "/RECORD")).decode().splitlines()
                     if line} if wheel.replace("/WHEEL", "/RECORD") in names else set()
            if not any(".so" in f for f in files):
                continue
            tags = [line.split(":", 1)[1].strip() for line in zf.read(wheel).decode().splitlines()
                    if line.startswith("Tag:")]
            if not any(compatible_tag(t) for t in tags):
                bad.append(f"{dist} ({', '.join(tags)})")
    return bad


def compatible_tag(tag: str) -> bool:
    platform = tag.rsplit("-", 1)[-1]
    for legacy, glibc in LEGACY_MANYLINUX.items():
        if platform == f"{legacy}_x86_64":
            return glibc <= MAX_GLIBC
    m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
    return m is not None and (int(m.group(1)), int(m.group(2))) <= MAX_GLIBC


def missing_files(zip_path: Path, prefix: str = "") -> list[str]:
    """Files a distribution's RECORD lists that the zip lacks (chalice drops some `*.libs/`)."""
    missing = []
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        for record in (n for n in names if n.endswith(".dist-info/RECORD")):
            for line in zf.read(record).decode().splitlines():
                path = line.split(",")[0]
                if (path and not path.startswith("..") and "__pycache__" not in path and not path.endswith(".pyc")
                        and not excluded(path) and prefix + path not in names):
                    missing.append(prefix + path)
    return missing


def check(template: Json, zip_path: Path, layers: dict[str, Path] | None = None) -> list[str]:
    problems = []
    for archive, prefix in [(zip_path, "")] + [(path, "python/") for path in (layers or {}).values()]:
        for dist in incompatible_binaries(archive, prefix):
            problems.append(f"{archive.name}: {dist} has native code built for another glibc than Lambda's "
                            f"{MAX_GLIBC[0]}.{MAX_GLIBC[1]}: pin a version with a manylinux2014 wheel")
        lost = missing_files(archive, prefix)
        if lost:
            problems.append(f"{archive.name}: {len(lost)} files of installed packages are missing, e.g. {lost[:3]}")
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function" and res["Properties"].get("Role") == PLACEHOLDER_ROLE:
            problems.append(f"{name} kept the placeholder role")
    size = zip_path.stat().st_size
    if size > MAX_ZIP_BYTES:
        problems.append(f"deployment.zip is {size / 1e6:.1f} MB, above {MAX_ZIP_BYTES / 1e6:.0f} MB")
    return problems


def resolved_length(value: Any) -> int:
    """About how long a value is once CloudFormation resolves it (a queue URL or an ARN ~90)."""
    if isinstance(value, str):
        return len(value)
    text = json.dumps(value)
    if "resolve:secretsmanager" in text:
        return 48
    if '"Fn::GetAtt"' in text or "Url" in text or "Arn" in text:
        return 90
    return 40  # a Ref: a table or bucket name, a key alias, a pool id


def estimate_env(template: Json) -> dict[str, int]:
    """Rough size of each function's environment once resolved (Lambda allows 4 KB)."""
    sizes = {}
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            env = res["Properties"].get("Environment", {}).get("Variables", {})
            sizes[name] = sum(len(k) + resolved_length(v) for k, v in env.items())
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--strict", action="store_true", help="fail when a function has no permissions entry")
    args = parser.parse_args(argv)
    stage_limits = limits.stage_limits(args.stage)  # refuses the local stage
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text()).get("stages", {})
    if args.stage not in stages:
        raise SystemExit(f"unknown stage {args.stage!r}: .chalice/config.json has {sorted(stages)}")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    src, discover = out / ".stage", out / ".discover"
    stage_app(src)
    shutil.rmtree(discover, ignore_errors=True)
    generated = chalice_package(src, args.stage, discover)
    permissions = yaml.safe_load(PERMISSIONS.read_text()) or {}
    overlay = Overlay(copy.deepcopy(generated), args.stage, permissions, strict=args.strict, stage_limits=stage_limits)
    overlay_path = out / "overlay.json"
    overlay_path.write_text(json.dumps(overlay.build(), indent=1))
    for stale in ("sam.json", "deployment.zip"):
        (out / stale).unlink(missing_ok=True)
    template = chalice_package(src, args.stage, out, merge=overlay_path)
    zip_path = out / "deployment.zip"
    for stale_layer in out.glob("layer-*.zip"):
        stale_layer.unlink()
    layers = {name: build_layer(name, packages, out) for name, packages in overlay.used_layers().items()}
    recompile(zip_path, {p for spec in (permissions.get("layers") or {}).values() for p in spec["packages"]})
    for w in overlay.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for fn, size in estimate_env(template).items():
        if size > ENV_LIMIT_BYTES * 0.85:
            print(f"warning: {fn}'s environment is about {size} bytes (Lambda allows {ENV_LIMIT_BYTES})",
                  file=sys.stderr)
    problems = check(template, zip_path, layers)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    functions = sorted(overlay.functions())
    print(f"stage {args.stage}: {len(functions)} functions ({', '.join(functions)}), "
          f"deployment.zip {zip_path.stat().st_size / 1e6:.2f} MB"
          + "".join(f", layer-{n}.zip {p.stat().st_size / 1e6:.2f} MB" for n, p in layers.items())
          + f" -> {out / 'sam.json'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
