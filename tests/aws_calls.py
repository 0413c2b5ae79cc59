"""Every AWS call the code makes during the tests, attributed to the Lambda function that makes it.

With RECORD_AWS_CALLS set (`make test` sets it), tests/conftest.py installs `install()` for the
whole session: a wrapper of botocore's one call path
(`BaseClient._make_api_call`, shared by boto3 and PynamoDB) and of the two presigners (a presigned
POST or GET is a call made later with the signer's rights). Each call is attributed by the
innermost entry point on the stack (ENTRY_POINTS: a Lambda function's handler, or the service
function the tests drive in its place; any frame of chalicelib/api is the API function). Calls
outside every entry point (provisioning, seeding, assertions) are not recorded.

Records go to build/aws-calls/<worker>.jsonl (one line per distinct call); `make test` clears the
directory before the parallel suite and marks it `complete` after it, and
tests/integration/test_package.py (run next) checks each recorded call against that function's
policy in the packaged template (and skips those checks without a complete record).
"""
from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "build" / "aws-calls"


def _app_handlers() -> dict[tuple[str, str], str]:
    """("app", handler) -> its Chalice function name, read from app.py's decorators (the `name=`
    given, else the handler's own), so a new handler in app.py is an entry point without a line here."""
    found: dict[tuple[str, str], str] = {}
    for node in ast.parse((ROOT / "app.py").read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr != "route"
                    and isinstance(dec.func.value, ast.Name) and dec.func.value.id == "app"):
                name = next((k.value.value for k in dec.keywords
                             if k.arg == "name" and isinstance(k.value, ast.Constant)), node.name)
                found[("app", node.name)] = str(name)
    return found


# (module, function) -> Chalice function name (infra/permissions.yaml): app.py's handlers, and the
# service functions tests drive in a handler's place (a line here for each of those).
ENTRY_POINTS: dict[tuple[str, str], str] = {
    **_app_handlers(),
    ("chalicelib.services.dispatch", "handle"): "dispatch",
    ("chalicelib.services.dispatch", "publish"): "dispatch",
    ("chalicelib.services.notify", "handle"): "notify",
    ("chalicelib.services.notify", "handle_event"): "notify",
    ("chalicelib.services.sync", "handle"): "sync",
    ("chalicelib.services.sync", "handle_event"): "sync",
    ("chalicelib.services.sync", "pull"): "sp4n_pull",
    ("chalicelib.services.attachments", "scan_records"): "scan_upload",
    ("chalicelib.services.attachments", "purge_unclaimed"): "purge_uploads",
    ("chalicelib.services.open_work", "publish"): "open_work_metrics",
    ("chalicelib.services.sla_sweep", "run_scheduled"): "sla_sweep",
    ("chalicelib.services.sla_sweep", "sweep"): "sla_sweep",
    ("chalicelib.services.sla_sweep", "weekly_digest"): "sla_weekly_digest",
    ("chalicelib.services.performance", "handle"): "performance",
    ("chalicelib.services.performance", "handle_event"): "performance",
    ("chalicelib.services.erasure", "run_retention"): "retention",
    ("chalicelib.services.sync_reconcile", "run"): "sp4n_reconcile",
    ("chalicelib.services.performance", "monthly_digest"): "performance_digest",
    ("chalicelib.services.sms_inbound", "handle"): "sms_inbound",
    ("chalicelib.services.sms_inbound", "handle_message"): "sms_inbound",
    ("chalicelib.services.whatsapp_webhook", "handle"): "whatsapp",
    ("chalicelib.services.whatsapp_webhook", "handle_update"): "whatsapp",
}
_API_DIR = str(ROOT / "chalicelib" / "api") + os.sep
_seen: set[str] = set()
_installed = False


def attribute() -> str | None:
    """The function whose entry point is innermost on the current stack, if any (a test that makes
    the API answer in the middle of a purge attributes the API's calls to the API)."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        name = ENTRY_POINTS.get((frame.f_globals.get("__name__", ""), code.co_name))
        if name is not None:
            return name
        if code.co_filename.startswith(_API_DIR):
            return "api"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _resources(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(action, resource kind, resource name or '') per IAM action the call needs."""
    action = f"{service}:{operation}"
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem"}
            return [(f"dynamodb:{kinds[kind]}", "table", body["TableName"])
                    for item in params.get("TransactItems", []) for kind, body in item.items()]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", "table", item["Get"]["TableName"]) for item in params.get("TransactItems", [])]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, "table", table) for table in params.get("RequestItems", {})]
        table = params.get("TableName", "")
        if params.get("IndexName"):
            return [(action, "index", f"{table}/index/{params['IndexName']}")]
        return [(action, "table", table)]
    if service == "sqs":
        url = params.get("QueueUrl") or params.get("QueueName") or ""
        return [(action, "queue", url.rstrip("/").rsplit("/", 1)[-1])]
    if service == "sns":
        if params.get("PhoneNumber"):
            return [(action, "sms", "")]
        return [(action, "topic", str(params.get("TopicArn") or params.get("TargetArn") or "").rsplit(":", 1)[-1])]
    if service == "s3":
        return [(action, "bucket", params.get("Bucket", ""))]
    if service == "secretsmanager":
        return [(action, "secret", str(params.get("SecretId", "")))]
    if service == "cloudwatch":
        return [(action, "namespace", str(params.get("Namespace", "")))]
    if service == "kms":
        return [(action, "key", str(params.get("KeyId", "")))]
    if service in ("ses", "sesv2"):
        return [(f"ses:{operation}", "email", str(params.get("Source") or params.get("FromEmailAddress") or ""))]
    return [(action, "", "")]


def record(function: str, service: str, operation: str, params: dict[str, Any]) -> None:
    for action, kind, name in _resources(service, operation, params):
        line = json.dumps({"function": function, "action": action, "kind": kind, "name": name}, sort_keys=True)
        if line in _seen:
            continue
        _seen.add(line)
        RECORDS.mkdir(parents=True, exist_ok=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with (RECORDS / f"{worker}.jsonl").open("a") as out:
            out.write(line + "\n")


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import botocore.client
    import botocore.signers

    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        function = attribute()
        if function is not None:
            record(function, self.meta.service_model.service_name, operation_name, dict(api_params or {}))
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording  # type: ignore[method-assign]

    presign_url = botocore.signers.generate_presigned_url
    presign_post = botocore.signers.generate_presigned_post

    def recording_url(self: Any, ClientMethod: str, Params: Any = None, *args: Any, **kwargs: Any) -> Any:
        function = attribute()
        if function is not None:
            operation = self._PY_TO_OP_NAME.get(ClientMethod, ClientMethod)
            record(function, self.meta.service_model.service_name, operation, dict(Params or {}))
        return presign_url(self, ClientMethod, Params, *args, **kwargs)

    def recording_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
        function = attribute()
        if function is not None:
            record(function, "s3", "PutObject", {"Bucket": Bucket, "Key": Key})
        return presign_post(self, Bucket, Key, *args, **kwargs)

    botocore.signers.generate_presigned_url = recording_url
    botocore.signers.generate_presigned_post = recording_post


# -- checking the records against the packaged template -------------------------------------------
TEST_STAGE, TEST_ACCOUNT = "test", "123456789012"  # the moto stack of tests/conftest.py
# The kind of a recorded resource -> its CloudFormation type and the property holding its name.
NAME_PROPERTY = {"table": ("AWS::DynamoDB::Table", "TableName"), "queue": ("AWS::SQS::Queue", "QueueName"),
                 "bucket": ("AWS::S3::Bucket", "BucketName"), "topic": ("AWS::SNS::Topic", "TopicName"),
                 "secret": ("AWS::SecretsManager::Secret", "Name"), "key": ("AWS::KMS::Alias", "AliasName")}


def load_records(directory: Path = RECORDS) -> list[dict[str, str]] | None:
    """The records of the last complete suite run, or None when there is none."""
    if not (directory / "complete").exists():
        return None
    lines = {line for path in sorted(directory.glob("*.jsonl")) for line in path.read_text().splitlines() if line}
    return [json.loads(line) for line in sorted(lines)]


def logical_names(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(kind, concrete name in the test stack) -> logical id (an alias names the key it targets)."""
    out = {}
    for logical, res in template["Resources"].items():
        for kind, (cfn_type, prop) in NAME_PROPERTY.items():
            if res.get("Type") != cfn_type:
                continue
            value = (res.get("Properties") or {}).get(prop)
            pattern = value.get("Fn::Sub") if isinstance(value, dict) else value
            if isinstance(pattern, str):
                name = pattern.replace("${Stage}", TEST_STAGE).replace("${AWS::AccountId}", TEST_ACCOUNT)
                out[(kind, name)] = res["Properties"]["TargetKeyId"]["Ref"] if kind == "key" else logical
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return action if isinstance(action, list) else [action]


def names_resource(statement: dict[str, Any], logical: str, index: str | None = None) -> bool:
    """Whether the statement's Resource names the resource (or that index of the table)."""
    resources = statement.get("Resource")
    for resource in resources if isinstance(resources, list) else [resources]:
        text = json.dumps(resource)
        if index is not None:
            if f"${{{logical}.Arn}}/index/{index}" in text:
                return True
        elif resource in ({"Ref": logical}, {"Fn::GetAtt": [logical, "Arn"]}) or (
                f"${{{logical}.Arn}}" in text and "/index/" not in text):
            return True
    return False


def allowed(statements: list[dict[str, Any]], call: dict[str, str], names: dict[tuple[str, str], str]) -> bool:
    """Whether an Allow statement of the role covers the call (action and resource)."""
    action, kind, name = call["action"], call["kind"], call["name"]
    for s in statements:
        if s.get("Effect") != "Allow" or action not in _actions(s):
            continue
        if kind == "sms":
            if "NotResource" in s:
                return True
            continue
        if s.get("Resource") == "*":
            namespace = s.get("Condition", {}).get("StringEquals", {}).get("cloudwatch:namespace")
            if namespace is None or (kind == "namespace" and name == namespace):
                return True
            continue
        if kind == "email":
            if "identity/" in json.dumps(s.get("Resource")):
                return True
            continue
        if kind == "key" and not name:
            # Decrypt names no key (the ciphertext does): any key this role may use directly.
            if "kms:ViaService" not in json.dumps(s.get("Condition", {})) and "Fn::GetAtt" in json.dumps(s["Resource"]):
                return True
            continue
        table, _, index = name.partition("/index/") if kind == "index" else (name, "", "")
        logical = names.get(("table" if kind == "index" else kind, table))
        if logical is None:
            continue
        if kind == "key" and "kms:ViaService" in json.dumps(s.get("Condition", {})):
            continue  # a key used directly needs a grant without the via-service condition
        if names_resource(s, logical, index or None):
            return True
    return False


# Actions a role holds for Lambda itself, never called by the code: the event source mapping polls
# and deletes (SQS) or reads the stream, and sends what fails to the on-failure destination.
USED_BY_LAMBDA = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "dynamodb:DescribeStream",
                  "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


def _logical_of(resource: Any) -> str | None:
    if isinstance(resource, dict):
        if "Ref" in resource:
            return str(resource["Ref"])
        if "Fn::GetAtt" in resource:
            return str(resource["Fn::GetAtt"][0])
        sub = resource.get("Fn::Sub")
        if isinstance(sub, str) and sub.startswith("${") and ".Arn}" in sub:
            logical, _, rest = sub[2:].partition(".Arn}")
            return logical + (rest if rest.startswith("/index/") else "")
    return None


def granted(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, logical id or `<Table>/index/<name>`) of a role's grants that code would use:
    without logs, tracing, metrics, KMS through a service (the service calls it) and what Lambda
    itself uses (USED_BY_LAMBDA, the failure destinations)."""
    out: set[tuple[str, str]] = set()
    for s in statements:
        if s.get("Effect") != "Allow" or s.get("Sid") in ("OwnLogs", "Tracing", "Metrics"):
            continue
        if "kms:ViaService" in json.dumps(s.get("Condition", {})):
            continue
        if "NotResource" in s:
            out |= {(a, "sms") for a in _actions(s)}
            continue
        resources = s.get("Resource")
        for resource in resources if isinstance(resources, list) else [resources]:
            logical = _logical_of(resource)
            if logical is None:
                if "identity/" in json.dumps(resource):
                    out |= {(a, "email") for a in _actions(s)}
                continue
            for action in _actions(s):
                if action in USED_BY_LAMBDA or (action == "sqs:SendMessage" and logical.endswith("Failures")):
                    continue
                out.add((action, logical))
    return out


def used(records: list[dict[str, str]], function: str, names: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    out = set()
    for call in records:
        if call["function"] != function:
            continue
        kind, name = call["kind"], call["name"]
        if kind in ("sms", "email"):
            out.add((call["action"], kind))
            continue
        if kind == "key" and not name:  # a Decrypt: the key in the ciphertext is the one it encrypted with
            out |= {(call["action"], logical) for (k, _), logical in names.items() if k == "key"}
            continue
        table, _, index = name.partition("/index/") if kind == "index" else (name, "", "")
        logical = names.get(("table" if kind == "index" else kind, table))
        if logical is not None:
            out.add((call["action"], logical + (f"/index/{index}" if index else "")))
    return out


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def unused_grants(grants: list[dict[str, Any]], used_pairs: set[tuple[str, str]]) -> list[str]:
    """The grants of one function (its infra/permissions.yaml list) that no recorded call uses.
    Listed actions (queues, topics, buckets, keys) are checked one by one; a table grant by its
    table, each index it names, and its write part (a `write` access nothing wrote with is a
    `read`; an `append` nothing appended with is a `read`)."""
    out = []
    logicals = {logical for _, logical in used_pairs}
    for g in grants:
        if "table" in g:
            table = g["table"]
            if not any(x == table or x.startswith(f"{table}/index/") for x in logicals):
                out.append(f"table {table}")
                continue
            for index in g.get("indexes") or []:
                if ("dynamodb:Query", f"{table}/index/{index}") not in used_pairs:
                    out.append(f"table {table} index {index}")
            access = str(g.get("access", "read"))
            if ("write" in access or "append" in access) and not any(
                    (action, table) in used_pairs for action in WRITES):
                out.append(f"table {table} {access}: nothing written")
        for kind in ("queue", "topic", "bucket", "key"):
            if kind in g:
                out += [f"{kind} {g[kind]} {a}" for a in g["actions"] if (a, g[kind]) not in used_pairs]
        if "secret" in g and ("secretsmanager:GetSecretValue", g["secret"]) not in used_pairs:
            out.append(f"secret {g['secret']}")
        if "email" in g and not any(logical == "email" for _, logical in used_pairs):
            out.append("email")
        if "sms" in g and ("sns:Publish", "sms") not in used_pairs:
            out.append("sms")
    return out
