"""`make package`, checked offline: the generated template and the zip, as CloudFormation gets them.

The packaging runs once per session (chalice package twice, the layer, compileall: about a minute
with a warm cache; the first run downloads the Lambda wheels from PyPI). Every check iterates what
the template holds (functions, queues, tables, roles), so handlers, queues and tables that others
add are covered without touching this file.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import bundle  # noqa: E402 (found through the sys.path entry above)
import package as packaging  # noqa: E402

pytestmark = pytest.mark.xdist_group("package")
Json = dict[str, Any]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A directory of this run's own: a `make package` or a second test run meanwhile cannot
    # overwrite what is being checked (a shared build/test-package once lost its sam.json).
    out = tmp_path_factory.mktemp("package")
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--stage", "dev", "--out", str(out)],
                            cwd=ROOT, check=False, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return out


@pytest.fixture(scope="session")
def template(built: Path) -> Json:
    return json.loads((built / "sam.json").read_text())


def resources(template: Json, cfn_type: str) -> dict[str, Json]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def functions(template: Json) -> dict[str, Json]:
    return resources(template, "AWS::Serverless::Function")


def events(template: Json, kind: str) -> Iterator[tuple[str, str, Json]]:
    for name, fn in functions(template).items():
        for event_id, event in (fn["Properties"].get("Events") or {}).items():
            if event["Type"] == kind:
                yield name, event_id, event["Properties"]


def dead_letter_queues(template: Json) -> set[str]:
    targets = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
               for q in resources(template, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]}
    on_failure = {p["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                  for _, _, p in events(template, "DynamoDB")}
    async_failures = {fn["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"][
        "Fn::GetAtt"][0] for fn in functions(template).values() if "EventInvokeConfig" in fn["Properties"]}
    return targets | on_failure | async_failures


# -- 1. cfn-lint ----------------------------------------------------------------------------------
def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(lint), str(path)], check=False, capture_output=True, text=True, timeout=300)


def test_cfn_lint_passes_on_the_generated_template(built: Path) -> None:
    result = cfn_lint(built / "sam.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_passes_on_resources_yaml() -> None:
    # (infra/operations.yaml is a fragment that refers to resources.yaml: linted merged, above.)
    result = cfn_lint(ROOT / "infra" / "resources.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


# -- 2. the template ------------------------------------------------------------------------------
def test_there_are_functions_and_each_is_chalice_generated(template: Json) -> None:
    fns = functions(template)
    assert "APIHandler" in fns and len(fns) >= 2
    for fn in fns.values():
        assert fn["Properties"]["CodeUri"] == "./deployment.zip"
        assert fn["Properties"]["Runtime"] == "python3.11"


def test_every_sqs_trigger_reports_batch_item_failures_and_names_a_template_queue(template: Json) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    found = list(events(template, "SQS"))
    if not found:
        pytest.skip("no SQS consumer in app.py yet")
    for fn, event_id, props in found:
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], (fn, event_id)
        ref = props["Queue"]
        assert set(ref) == {"Fn::Sub"}, (fn, ref)  # chalice's own key, replaced, not merged beside
        queue = re.fullmatch(r"\$\{(\w+)\.Arn\}", ref["Fn::Sub"])
        assert queue and queue.group(1) in queues, (fn, ref)
        assert 0 < props["MaximumBatchingWindowInSeconds"] <= 300


def test_every_stream_trigger_is_bounded_and_keeps_what_fails(template: Json) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    queues = resources(template, "AWS::SQS::Queue")
    found = list(events(template, "DynamoDB"))
    if not found:
        pytest.skip("no stream consumer (the events dispatcher) in app.py yet")
    for fn, _, props in found:
        assert props["Stream"]["Fn::GetAtt"][0] in tables and props["Stream"]["Fn::GetAtt"][1] == "StreamArn"
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 0 <= props["MaximumRetryAttempts"] <= 10_000 and props["BisectBatchOnFunctionError"] is True
        assert props["StartingPosition"] == "TRIM_HORIZON"
        assert props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0] in queues, fn


def test_every_queue_has_a_dead_letter_queue_and_outlasts_its_consumer(template: Json) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    dlqs = dead_letter_queues(template)
    timeout_of = {}
    for fn, _, props in events(template, "SQS"):
        timeout_of[re.fullmatch(r"\$\{(\w+)\.Arn\}", props["Queue"]["Fn::Sub"]).group(1)] = (  # type: ignore[union-attr]
            fn, functions(template)[fn]["Properties"]["Timeout"])
    for name, queue in queues.items():
        if name in dlqs:
            assert queue["Properties"].get("MessageRetentionPeriod", 0) >= 7 * 86400, f"{name}: keep dead letters a week"
            continue
        redrive = queue["Properties"].get("RedrivePolicy")
        assert redrive, f"{name} has no dead-letter queue"
        assert int(redrive["maxReceiveCount"]) >= 5, name
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in queues
        if name in timeout_of:
            fn, timeout = timeout_of[name]
            assert int(queue["Properties"].get("VisibilityTimeout", 30)) >= 6 * int(timeout), (name, fn, timeout)


def test_every_queue_and_topic_is_encrypted(template: Json) -> None:
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("KmsMasterKeyId") or props.get("SqsManagedSseEnabled") is True, name
    for name, topic in resources(template, "AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId"), name


def test_every_table_has_point_in_time_recovery_and_kms(template: Json) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert {"ReportsTable", "EventsTable", "IdempotencyTable", "ReferenceTable"} <= set(tables)
    for name, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        sse = props["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS", name
        assert sse["KMSMasterKeyId"]["Ref"] in resources(template, "AWS::KMS::Key"), name


def test_every_table_bucket_and_log_group_outlives_its_stack_and_a_replacement(template: Json) -> None:
    """Deleting the stack, or a change that makes CloudFormation replace the resource, keeps the data."""
    kept = {**resources(template, "AWS::DynamoDB::Table"), **resources(template, "AWS::S3::Bucket"),
            **resources(template, "AWS::Logs::LogGroup")}
    assert {"ReportsTable", "IdempotencyTable", "AttachmentsBucket", "QuarantineBucket", "APIHandlerLogGroup"} <= set(kept)
    for name, res in kept.items():
        assert res.get("DeletionPolicy") == "Retain", name
        assert res.get("UpdateReplacePolicy") == "Retain", name


def test_buckets_private_tls_only_with_lifecycle(template: Json) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                for p in resources(template, "AWS::S3::BucketPolicy").values()}
    assert {"AttachmentsBucket", "QuarantineBucket"} <= set(buckets)
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"][k] is True for k in
                   ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")), name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert props["LifecycleConfiguration"]["Rules"], name
        deny = [s for s in policies[name]["Statement"] if s["Effect"] == "Deny"
                and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
        assert deny and deny[0]["Principal"] == "*", f"{name} accepts plain HTTP"


def _statements(policy_document: Json) -> list[Json]:
    statements = policy_document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def identity_statements(template: Json) -> Iterator[tuple[str, Json]]:
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                yield name, statement
        assert not role["Properties"].get("ManagedPolicyArns"), f"{name}: managed policies are not least privilege"
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, policy in resources(template, kind).items():
            for statement in _statements(policy["Properties"]["PolicyDocument"]):
                yield name, statement


def test_no_iam_statement_has_a_wildcard_action(template: Json) -> None:
    seen = 0
    for name, statement in identity_statements(template):
        seen += 1
        assert "NotAction" not in statement, name
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert isinstance(action, str) and "*" not in action and ":" in action, (name, action)
    assert seen > 0
    # Resource policies: a wildcard only in a Deny, or in the key policies' delegation of a key to
    # the account's IAM (the statement `AccountAdministers`, without which no role could use it).
    for kind, key in (("AWS::S3::BucketPolicy", "PolicyDocument"), ("AWS::SQS::QueuePolicy", "PolicyDocument"),
                      ("AWS::KMS::Key", "KeyPolicy")):
        for name, res in resources(template, kind).items():
            for statement in _statements(res["Properties"][key]):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any("*" in a for a in actions) and statement["Effect"] == "Allow":
                    assert kind == "AWS::KMS::Key" and statement["Sid"] == "AccountAdministers", (name, statement)
                    assert "root" in json.dumps(statement["Principal"]), name


def test_resource_star_only_where_iam_has_no_resource(template: Json) -> None:
    unscoped = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData", "dynamodb:ListStreams"}
    for name, statement in identity_statements(template):
        if statement.get("Resource") == "*":
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert set(actions) <= unscoped, (name, statement)
            if "cloudwatch:PutMetricData" in actions:
                assert statement["Condition"]["StringEquals"]["cloudwatch:namespace"] == "LaporKBB"


def test_one_distinct_role_per_function(template: Json) -> None:
    fns = functions(template)
    roles = resources(template, "AWS::IAM::Role")
    used = []
    for name, fn in fns.items():
        role = fn["Properties"]["Role"]
        assert isinstance(role, dict) and role["Fn::GetAtt"][1] == "Arn", (name, role)
        assert role["Fn::GetAtt"][0] in roles, name
        used.append(role["Fn::GetAtt"][0])
        logs = [s for s in _statements(roles[role["Fn::GetAtt"][0]]["Properties"]["Policies"][0]["PolicyDocument"])
                if any(str(a).startswith("logs:") for a in s["Action"])]
        assert logs == [{"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                         "Resource": [{"Fn::GetAtt": [f"{name}LogGroup", "Arn"]}]}], name
    assert len(set(used)) == len(used) == len(fns)


def test_only_the_api_may_use_the_nik_key(template: Json) -> None:
    for name, statement in identity_statements(template):
        if "NikKey" in json.dumps(statement.get("Resource")):
            assert name == "APIHandlerRole", name


def test_the_retention_function_runs_daily_and_may_blank_events_and_delete_files(template: Json) -> None:
    fn = functions(template).get("Retention")
    assert fn is not None, "app.py's @app.schedule(name='retention') is packaged"
    [(_, _, schedule)] = [e for e in events(template, "Schedule") if e[0] == "Retention"]
    assert schedule["Schedule"] == "cron(30 20 * * ? *)"
    granted = [s for name, s in identity_statements(template) if name == fn["Properties"]["Role"]["Fn::GetAtt"][0]]
    on = {json.dumps(r) for s in granted for r in s.get("Resource", [])}
    assert json.dumps({"Fn::GetAtt": ["EventsTable", "Arn"]}) in on
    assert any("dynamodb:UpdateItem" in s["Action"] and {"Fn::GetAtt": ["EventsTable", "Arn"]} in s["Resource"]
               for s in granted)
    assert any("s3:DeleteObject" in s["Action"] and "AttachmentsBucket" in json.dumps(s["Resource"]) for s in granted)
    assert any("by_retention" in json.dumps(s.get("Resource")) for s in granted)
    assert not any("NikKey" in json.dumps(s.get("Resource")) for s in granted)  # it never reads a NIK


def test_every_function_gets_the_template_outputs_as_environment(template: Json) -> None:
    outputs = {packaging.env_name(k) for k in template["Outputs"]} & {
        packaging.env_name(k) for k in {**packaging.load_cfn(packaging.RESOURCES)["Outputs"],
                                         **packaging.load_cfn(packaging.OPERATIONS)["Outputs"]}}
    config = (ROOT / "chalicelib" / "config.py").read_text()
    # The variables that name an AWS resource (a local default there would point at nothing);
    # the others are tuning knobs with defaults (rate limits, body size) or set by Lambda.
    read_by_config = {name for name in re.findall(r'_env\("([A-Z0-9_]+)"', config)
                      if re.search(r"_(TABLE|BUCKET|KEY_ID|ARN|URL|POOL_ID|CLIENT_ID)$", name) or name == "STAGE"}
    tuning = {"AWS_ENDPOINT_URL"}  # local stack only
    for name, fn in functions(template).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert outputs <= set(env), (name, outputs - set(env))
        assert {"SP4N_SECRET_ID", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "STAGE"} <= set(env), name
        missing = read_by_config - set(env) - tuning
        assert not missing, f"{name}: chalicelib/config.py reads {sorted(missing)}, the template does not set them"
        assert "Ref" in json.dumps(env["REPORTS_TABLE"])  # wired to the resource, not a literal name


ALARM_TOPIC = {"Ref": "AlarmTopic"}


def alarms(template: Json) -> dict[str, Json]:
    found = resources(template, "AWS::CloudWatch::Alarm")
    for name, alarm in found.items():
        assert alarm["Properties"]["AlarmActions"] == [ALARM_TOPIC], name
    return found


def test_alarms_dead_letters_consumer_errors_api_5xx(template: Json) -> None:
    found = alarms(template)
    by_metric: dict[tuple[str, str], list[Json]] = {}
    for alarm in found.values():
        p = alarm["Properties"]
        by_metric.setdefault((p["Namespace"], p["MetricName"]), []).append(p)
    dlq_alarmed = {json.dumps(d["Value"]) for p in by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
                   for d in p["Dimensions"] if d["Name"] == "QueueName" and p["Threshold"] <= 1}
    for dlq in dead_letter_queues(template):
        assert json.dumps({"Fn::GetAtt": [dlq, "QueueName"]}) in dlq_alarmed, f"no alarm on {dlq}"
    errored = {json.dumps(d["Value"]) for p in by_metric[("AWS/Lambda", "Errors")] for d in p["Dimensions"]}
    for fn in functions(template):
        assert json.dumps({"Ref": fn}) in errored, f"no errors alarm for {fn}"
    assert by_metric[("AWS/ApiGateway", "5XXError")]


def test_alarms_sp4n_failing_and_lagging_sla_breaches(template: Json) -> None:
    by_metric = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]): a["Properties"]
                 for a in alarms(template).values()}
    failing = by_metric[("LaporKBB", "Sp4nFailed")]
    assert failing["Dimensions"] == [{"Name": "service", "Value": "lapor-kbb"}]  # what observability.count emits
    if "SyncQueue" in template["Resources"]:  # the SP4N sync consumer's queue
        lagging = by_metric[("AWS/SQS", "ApproximateAgeOfOldestMessage")]
        assert lagging["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncQueue", "QueueName"]}}]
    breaches = by_metric[("LaporKBB", "SlaBreaches")]
    assert breaches["Threshold"] == {"Ref": "SlaBreachThreshold"}
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Properties"]["KmsMasterKeyId"]


def test_dashboard_shows_reports_open_work_breaches_dead_letters_and_sp4n_lag(template: Json) -> None:
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1
    body = next(iter(dashboards.values()))["Properties"]["DashboardBody"]["Fn::Sub"]
    text, subs = (body[0], body[1]) if isinstance(body, list) else (body, {})
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "X", text))["widgets"]
    titles = " | ".join(w["properties"]["title"] for w in widgets)
    for needed in ("Reports per hour", "Open reports by status", "SLA breaches", "Dead-letter", "SP4N lag"):
        assert needed in titles, titles
    for metric in ("ReportsSubmitted", "OpenReports", "SlaBreaches", "ApproximateNumberOfMessagesVisible",
                   "ApproximateAgeOfOldestMessage"):
        assert metric in text
    for dlq in dead_letter_queues(template):
        assert {"Fn::GetAtt": [dlq, "QueueName"]} in subs.values(), dlq


def test_cognito_pool_groups_attribute_and_client(template: Json) -> None:
    r = template["Resources"]
    pool = r["UserPool"]["Properties"]
    assert {"Name": "opd_code", "AttributeDataType": "String", "Mutable": True}.items() <= pool["Schema"][0].items()
    groups = {g["Properties"]["GroupName"] for g in resources(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "opd", "opd_admin", "pimpinan"}
    assert r["UserPoolWebClient"]["Properties"]["GenerateSecret"] is False
    assert {"CognitoUserPoolId", "CognitoClientId", "CognitoDomain"} <= set(template["Outputs"])


def test_staff_sign_in_goes_through_the_hosted_ui_back_to_the_web_client(template: Json) -> None:
    """Without a domain, OAuth flows and the CloudFront callback the web client cannot sign anyone in."""
    r = template["Resources"]
    assert r["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    client = r["UserPoolWebClient"]["Properties"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True and client["AllowedOAuthFlows"] == ["code"]
    assert "openid" in client["AllowedOAuthScopes"] and client["SupportedIdentityProviders"] == ["COGNITO"]
    web_root = {"Fn::Sub": "https://${WebDistribution.DomainName}/"}
    assert web_root in client["CallbackURLs"] and web_root in client["LogoutURLs"]
    assert "${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com" in template["Outputs"]["CognitoDomain"]["Value"][
        "Fn::Sub"]


def test_the_web_client_address_is_an_allowed_origin_of_the_api_and_the_upload_bucket(template: Json) -> None:
    stage_origins = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"][
        "environment_variables"]["WEB_ORIGINS"]
    assert template["Parameters"]["WebOrigins"]["Default"] == stage_origins
    cors = template["Resources"]["QuarantineBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    assert "https://${WebDistribution.DomainName}" in json.dumps(cors["AllowedOrigins"])
    assert {"Ref": "WebOrigins"} in cors["AllowedOrigins"]["Fn::Split"][1]["Fn::Join"][1][0]["Fn::Join"]
    for name, fn in functions(template).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["WEB_URL"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}, name


# -- 3. the zip -----------------------------------------------------------------------------------
def test_zip_at_most_20_mb_and_compiled_with_unchecked_hash(built: Path) -> None:
    path = built / "deployment.zip"
    assert path.stat().st_size <= 20_000_000, path.stat().st_size
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        sources = [n for n in names if n.endswith(".py")]
        assert "app.py" in names and any(n.startswith("chalicelib/") for n in sources)
        tag = sys.implementation.cache_tag
        assert tag == "cpython-311", "compile with the runtime's Python (3.11)"
        for source in sources:
            folder, _, file = source.rpartition("/")
            pyc = (folder + "/" if folder else "") + f"__pycache__/{file[:-3]}.{tag}.pyc"
            assert pyc in names, f"{source} has no bytecode"
        for pyc in [n for n in names if n.endswith(".pyc")][:: max(1, len(names) // 400)] + ["__pycache__/app.cpython-311.pyc"]:
            header = zf.read(pyc)[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER, pyc
            assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc}: not unchecked-hash"
        assert not any(n.startswith("chalicelib/local/") for n in names), "the local stack is never deployed"


def test_the_zips_rapidfuzz_scores_with_its_cpp_build(built: Path, tmp_path: Path) -> None:
    """The duplicate suggestions' library, as trimmed by bundle.excluded: fuzz and utils keep
    their C++ build, what was left out falls back to rapidfuzz's own Python modules."""
    with zipfile.ZipFile(built / "deployment.zip") as zf:
        zf.extractall(tmp_path, [n for n in zf.namelist() if n.startswith("rapidfuzz/")])
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import rapidfuzz.fuzz as f, rapidfuzz.utils as u, "
             "rapidfuzz.process, rapidfuzz.distance; print(f.token_set_ratio.__module__, u.default_process.__module__, "
             "f.token_set_ratio('jalan rusak', 'rusak jalan'))")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONNOUSERSITE": "1"}, cwd=tmp_path).stdout.split()
    assert out == ["rapidfuzz.fuzz_cpp", "rapidfuzz.utils_cpp", "100.0"]


def test_native_code_loads_on_lambda_and_nothing_installed_is_missing(built: Path) -> None:
    archives = [(built / "deployment.zip", "")] + [(p, "python/") for p in built.glob("layer-*.zip")]
    for archive, prefix in archives:
        assert bundle.incompatible_binaries(archive, prefix) == [], archive.name
        assert bundle.missing_files(archive, prefix) == [], archive.name


def test_layers_hold_compiled_packages_and_serve_only_declared_functions(template: Json, built: Path) -> None:
    layers = resources(template, "AWS::Serverless::LayerVersion")
    declared = packaging.yaml.safe_load(packaging.PERMISSIONS.read_text()).get("layers") or {}
    for layer in layers.values():
        path = built / layer["Properties"]["ContentUri"]
        with zipfile.ZipFile(path) as zf:
            pycs = [n for n in zf.namelist() if n.endswith(".pyc")]
            assert pycs and all(n.startswith("python/") for n in zf.namelist())
            assert int.from_bytes(zf.read(pycs[0])[4:8], "little") == 0b01
    for fn_name, fn in functions(template).items():
        for ref in fn["Properties"].get("Layers", []):
            spec = next(s for n, s in declared.items() if packaging.to_cfn(n) + "Layer" == ref["Ref"])
            assert fn_name in {"APIHandler" if f == "api" else packaging.to_cfn(f) for f in spec["functions"]}


def test_the_packaged_app_imports_with_only_the_runtime_sdk(built: Path, tmp_path: Path) -> None:
    """What Lambda does at a cold start: import app from the zip (+ layers at /opt/python), with
    the runtime's boto3 and nothing else from this machine's site-packages."""
    code, opt, sdk = tmp_path / "task", tmp_path / "opt", tmp_path / "sdk"
    with zipfile.ZipFile(built / "deployment.zip") as zf:
        zf.extractall(code)
    for layer in built.glob("layer-*.zip"):
        with zipfile.ZipFile(layer) as zf:
            zf.extractall(opt)
    sdk.mkdir()
    import boto3
    import botocore
    import s3transfer

    for module in (boto3, botocore, s3transfer):
        (sdk / module.__name__).symlink_to(Path(module.__file__).parent)
    probe = ("import sys; sys.path[:0] = [{code!r}, {opt!r}, {sdk!r}]; import app; "
             "assert 'site-packages' not in app.__file__; "
             "import PIL.Image, phonenumbers, cryptography.hazmat.primitives.ciphers.aead; "
             "assert app.app.routes").format(
        code=str(code), opt=str(opt / "python"), sdk=str(sdk))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update({"STAGE": "dev", "AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_LAMBDA_FUNCTION_NAME": "probe"})
    result = subprocess.run([sys.executable, "-S", "-c", probe], check=False, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]


def test_sp4n_reconcile_runs_daily_and_divergence_raises_an_alarm(template: Json) -> None:
    schedules = {name: e["Schedule"] for name, _, e in events(template, "Schedule")}
    reconcile = [n for n in schedules if "reconcile" in n.lower()]
    assert len(reconcile) == 1 and schedules[reconcile[0]] == "cron(0 22 * * ? *)"
    role = template["Resources"][functions(template)[reconcile[0]]["Properties"]["Role"]["Fn::GetAtt"][0]]
    assert "by_sp4n_watch" in json.dumps(role)  # the sparse index, not a Scan of the reports
    by_metric = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]): a["Properties"]
                 for a in alarms(template).values()}
    diverged = by_metric[("LaporKBB", "Sp4nDiverged")]
    assert diverged["Dimensions"] == [{"Name": "service", "Value": "lapor-kbb"}] and diverged["Threshold"] == 1


# -- 4. security controls (limits, staff accounts, audit, secrets, service principals) ------------
STAGE_LIMITS = packaging.yaml.safe_load((ROOT / "infra" / "stages.yaml").read_text())


def role_statements(template: Json, fn: str) -> list[Json]:
    role = template["Resources"][fn]["Properties"]["Role"]["Fn::GetAtt"][0]
    return _statements(template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"])


def grants_on(template: Json, fn: str, logical_id: str) -> set[str]:
    """The actions a function's role allows on a resource of the template (named by Ref/GetAtt/Sub)."""
    actions: set[str] = set()
    for statement in role_statements(template, fn):
        text = json.dumps(statement.get("Resource"))
        if re.search(rf'"{logical_id}"|\$\{{{logical_id}[.}}]', text):
            actions |= set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    return actions


def test_packaging_refuses_the_local_stage(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--stage", "local", "--out",
                             str(tmp_path)], cwd=ROOT, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "refusing to package the local stage" in result.stderr
    assert not (tmp_path / "sam.json").exists()


def test_api_stage_is_throttled_traced_and_access_logged_from_stage_config(template: Json) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    [default] = api["MethodSettings"]
    assert default["ResourcePath"] == "/*" and default["HttpMethod"] == "*"
    assert default["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
    assert default["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
    params = template["Parameters"]
    assert params["ApiThrottleBurst"]["Default"] == STAGE_LIMITS["dev"]["api_throttle"]["burst"]
    assert params["ApiThrottleRate"]["Default"] == STAGE_LIMITS["dev"]["api_throttle"]["rate"]
    log = api["AccessLogSetting"]
    assert log["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(log["Format"])
    assert {"requestId", "ip", "status", "resourcePath"} <= set(fields)
    assert not any("querystring" in v.lower() or "body" in v.lower() for v in fields.values())
    group = template["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] > 0 and group["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    account = template["Resources"]["ApiGatewayAccount"]["Properties"]
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}


def test_the_api_function_has_reserved_concurrency_and_the_others_do_not(template: Json) -> None:
    assert template["Resources"]["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": "ApiReservedConcurrency"}
    assert template["Parameters"]["ApiReservedConcurrency"]["Default"] == STAGE_LIMITS["dev"]["api_reserved_concurrency"]
    for name, fn in functions(template).items():
        if name != "APIHandler":  # the rest of the pool stays theirs (SQS pollers must not be throttled)
            assert "ReservedConcurrentExecutions" not in fn["Properties"], name


def test_a_regional_web_acl_with_a_per_ip_rate_rule_guards_the_api_stage(template: Json) -> None:
    acl = template["Resources"]["ApiWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": {"Ref": "WafRequestsPer5Min"}, "AggregateKeyType": "IP"}
    assert template["Parameters"]["WafRequestsPer5Min"]["Default"] == STAGE_LIMITS["dev"]["waf_requests_per_5min"]
    association = template["Resources"]["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestAPI}/stages/${RestAPI.Stage}")


def test_scheduled_functions_send_what_fails_to_an_alarmed_queue(template: Json) -> None:
    scheduled = {fn for fn, _, _ in events(template, "Schedule")}
    assert {"SlaSweep", "PurgeUploads"} <= scheduled
    queue = {"Fn::GetAtt": ["ScheduleFailures", "Arn"]}
    for fn in scheduled:
        props = functions(template)[fn]["Properties"]
        config = props["EventInvokeConfig"]
        assert config["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": queue}, fn
        assert 0 <= config["MaximumRetryAttempts"] <= 2
        for event in props["Events"].values():
            assert event["Properties"]["DeadLetterConfig"] == {"Arn": queue}, fn
        assert "sqs:SendMessage" in grants_on(template, fn, "ScheduleFailures"), fn
    for fn in set(functions(template)) - scheduled:
        assert "sqs:SendMessage" not in grants_on(template, fn, "ScheduleFailures"), fn
    policy = template["Resources"]["ScheduleFailuresPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"}
    assert policy["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert "ScheduleFailures" in dead_letter_queues(template)  # so the DLQ alarm test covers it


def test_sms_spend_alarm_and_the_spend_limit_is_a_deploy_step(template: Json, built: Path) -> None:
    alarm = next(a["Properties"] for a in alarms(template).values()
                 if a["Properties"]["MetricName"] == "SMSMonthToDateSpentUSD")
    assert alarm["Namespace"] == "AWS/SNS" and alarm["Threshold"] == {"Ref": "SmsAlarmUsd"}
    limit = STAGE_LIMITS["dev"]["sms_monthly_spend_usd"]
    assert template["Parameters"]["SmsAlarmUsd"]["Default"] == pytest.approx(0.8 * limit)
    env = {**os.environ, "STAGE": "dev", "DRY_RUN": "1", "SKIP_WEB": "1", "DEPLOY_BUCKET": "artifacts",
           "BUILD_DIR": str(built)}
    result = subprocess.run(["bash", str(ROOT / "infra" / "deploy.sh")], cwd=ROOT, env=env, check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "set-sms-attributes" in x)
    assert f"MonthlySpendLimit={int(limit)}," in line.replace("\\", "")  # printf %q escapes the comma


def test_staff_accounts_require_totp_verify_email_changes_and_have_explicit_token_lifetimes(template: Json) -> None:
    r = template["Resources"]
    pool = r["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == {"Fn::If": ["HasThreatProtection", "ENFORCED", "OFF"]}
    assert pool["UserPoolTier"] == {"Fn::If": ["HasThreatProtection", "PLUS", "ESSENTIALS"]}
    assert template["Parameters"]["CognitoThreatProtection"]["Default"] == (
        "true" if STAGE_LIMITS["dev"]["cognito_threat_protection"] else "false")
    client = r["UserPoolWebClient"]["Properties"]
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"}
    assert client["AccessTokenValidity"] <= 60 and client["IdTokenValidity"] <= 60
    assert client["RefreshTokenValidity"] <= 12 and client["EnableTokenRevocation"] is True
    assert 3 <= client["AuthSessionValidity"] <= 15


def test_the_events_table_is_append_only_for_every_function(template: Json) -> None:
    writers = set()
    for fn in functions(template):
        actions = grants_on(template, fn, "EventsTable")
        if fn == "Retention":  # the one exception: the retention eraser blanks personal fields in place
            assert not actions & {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, (fn, actions)
            continue
        assert not actions & {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, (fn, actions)
        if "dynamodb:PutItem" in actions:
            writers.add(fn)
    assert {"APIHandler", "SlaSweep", "Sync"} <= writers
    assert "Dispatch" not in writers and "Notify" not in writers


def test_the_cursor_key_is_read_at_run_time_by_the_api_alone(template: Json) -> None:
    for name, fn in functions(template).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert "resolve:secretsmanager" not in json.dumps(env), name
        assert "CURSOR_SECRET" not in env, name
        assert ("CURSOR_SECRET_ID" in env) == (name == "APIHandler"), name
        assert ("secretsmanager:GetSecretValue" in grants_on(template, name, "CursorSecret")) == (name == "APIHandler")
    assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["CURSOR_SECRET_ID"] == {
        "Ref": "CursorSecret"}


def test_citizen_file_buckets_use_the_data_key_and_their_users_may_use_it(template: Json) -> None:
    for bucket in ("QuarantineBucket", "AttachmentsBucket"):
        [rule] = template["Resources"][bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                         "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}}
        assert rule["BucketKeyEnabled"] is True
    # Who puts an object needs GenerateDataKey, who reads one Decrypt, through S3 only.
    for fn, bucket, needed in (("APIHandler", "QuarantineBucket", "kms:GenerateDataKey"),
                               ("APIHandler", "AttachmentsBucket", "kms:Decrypt"),
                               ("ScanUpload", "QuarantineBucket", "kms:Decrypt"),
                               ("ScanUpload", "AttachmentsBucket", "kms:GenerateDataKey")):
        assert grants_on(template, fn, bucket), (fn, bucket)
        via_s3 = [s for s in role_statements(template, fn) if needed in s["Action"]
                  and "s3.${AWS::Region}" in json.dumps(s.get("Condition"))]
        assert via_s3 and via_s3[0]["Resource"] == [{"Fn::GetAtt": ["DataKey", "Arn"]}], (fn, needed)


def test_service_principals_are_bound_to_this_account(template: Json) -> None:
    seen = 0
    for name, res in resources(template, "AWS::SQS::QueuePolicy").items():
        for statement in _statements(res["Properties"]["PolicyDocument"]):
            if statement["Effect"] == "Allow" and "Service" in statement.get("Principal", {}):
                seen += 1
                condition = json.dumps(statement.get("Condition", {}))
                assert '"aws:SourceAccount"' in condition and '"aws:SourceArn"' in condition, (name, statement)
    assert seen >= 3
    for name, permission in resources(template, "AWS::Lambda::Permission").items():
        assert permission["Properties"].get("SourceArn"), name
    # Key policies: a service principal acts for this account only (EventBridge's KMS requests
    # carry no source account: its grant is bound by the queue policy above instead).
    for name, key in resources(template, "AWS::KMS::Key").items():
        for statement in _statements(key["Properties"]["KeyPolicy"]):
            services = statement.get("Principal", {}).get("Service")
            if not services or statement["Sid"] == "EventBridgeUsesTheKey":
                continue
            condition = json.dumps(statement.get("Condition", {}))
            assert '"aws:SourceAccount"' in condition or "kms:EncryptionContext:aws:logs:arn" in condition, (name, statement)
    eventbridge = next(s for s in _statements(template["Resources"]["DataKey"]["Properties"]["KeyPolicy"])
                       if s["Sid"] == "EventBridgeUsesTheKey")
    assert eventbridge["Principal"] == {"Service": "events.amazonaws.com"}


def test_log_groups_are_encrypted_and_named_as_their_function(template: Json) -> None:
    for name, fn in functions(template).items():
        group = template["Resources"][f"{name}LogGroup"]
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, name
        assert group["Properties"]["LogGroupName"]["Fn::Sub"] == "/aws/lambda/" + fn["Properties"]["FunctionName"][
            "Fn::Sub"], name
        assert f"{name}LogGroup" in fn["DependsOn"], name


def test_every_accepted_scanner_finding_carries_its_reason_in_the_template(template: Json) -> None:
    table = packaging.yaml.safe_load((ROOT / "infra" / "scanners.yaml").read_text())
    reasons = {(e["id"], e["reason"].strip()) for e in table["checkov"]}
    skipped = 0
    for name, res in template["Resources"].items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skipped += 1
            assert (skip["id"], skip["comment"]) in reasons, (name, skip)
            assert len(skip["comment"]) > 40, (name, skip)
    assert skipped >= len(reasons)
    assert "no VPC" in json.dumps(template["Resources"]["APIHandler"]["Metadata"])
    assert template["Resources"]["NotifyDlq"]["Metadata"]["cfn-lint"]["config"]["ignore_checks"] == ["ES6000"]


# -- 5. least privilege that is also enough (the calls recorded by tests/aws_calls.py) ------------
def _function_names(template: Json) -> dict[str, str]:
    """Chalice function name -> logical id, for the functions of the template."""
    names = {name: "APIHandler" if name == "api" else packaging.to_cfn(name)
             for name in packaging.yaml.safe_load(packaging.PERMISSIONS.read_text())["functions"]}
    return {name: logical for name, logical in names.items() if logical in functions(template)}


def recorded_calls() -> list[dict[str, str]]:
    from tests import aws_calls

    records = aws_calls.load_records()
    if records is None:
        pytest.skip("no complete record of AWS calls: `make test` records them in the parallel suite, then runs this")
    assert records, "the suite ran but recorded no AWS call: is RECORD_AWS_CALLS reaching the workers?"
    return records


def test_every_function_has_an_entry_point_the_recorder_knows(template: Json) -> None:
    from tests import aws_calls

    known = set(aws_calls.ENTRY_POINTS.values()) | {"api"}
    names = _function_names(template)
    assert set(names.values()) == set(functions(template)), "a function without an infra/permissions.yaml entry"
    assert set(names) <= known, f"tests/aws_calls.py ENTRY_POINTS lacks {sorted(set(names) - known)}"


def test_every_recorded_aws_call_is_allowed_by_its_functions_policy(template: Json) -> None:
    """A call the policy does not allow would be an AccessDenied in AWS (moto enforces no IAM here)."""
    from tests import aws_calls

    records = recorded_calls()
    names = aws_calls.logical_names(template)
    by_name = _function_names(template)
    denied = [call for call in records
              if not aws_calls.allowed(role_statements(template, by_name[call["function"]]), call, names)]
    assert not denied, "\n".join(json.dumps(c) for c in denied)
    assert {c["function"] for c in records} >= {"api", "sla_sweep", "notify", "sync", "scan_upload", "dispatch"}


def test_the_policy_check_refuses_what_a_role_does_not_grant(template: Json) -> None:
    """The check above can fail: calls no role of these functions may make."""
    from tests import aws_calls

    names = aws_calls.logical_names(template)
    for fn, call in (("Dispatch", {"action": "dynamodb:PutItem", "kind": "table", "name": "lapor-kbb-test-events"}),
                     ("APIHandler", {"action": "dynamodb:UpdateItem", "kind": "table", "name": "lapor-kbb-test-events"}),
                     ("Notify", {"action": "dynamodb:Query", "kind": "index", "name": "lapor-kbb-test-reports/index/by_opd"}),
                     ("Sync", {"action": "kms:Decrypt", "kind": "key", "name": "alias/lapor-kbb-test-nik"}),
                     ("ScanUpload", {"action": "s3:GetObject", "kind": "bucket",
                                     "name": "lapor-kbb-test-attachments-123456789012"})):
        assert not aws_calls.allowed(role_statements(template, fn), call, names), (fn, call)
    assert aws_calls.allowed(role_statements(template, "APIHandler"),
                             {"action": "kms:Decrypt", "kind": "key", "name": "alias/lapor-kbb-test-nik"}, names)


def test_no_function_is_granted_what_no_recorded_call_uses(template: Json) -> None:
    """Over-grant: every grant of infra/permissions.yaml is used by a recorded call of its function,
    or says on its own line (`unused_in_tests`) why the tests cannot use it."""
    from tests import aws_calls

    records = recorded_calls()
    names = aws_calls.logical_names(template)
    by_name = _function_names(template)
    problems = []
    for fn, grants in packaging.yaml.safe_load(packaging.PERMISSIONS.read_text())["functions"].items():
        if fn not in by_name:
            continue
        used = aws_calls.used(records, fn, names)
        if not used:
            problems.append(f"{fn}: no recorded call (no test drives it)")
            continue
        for g in grants:
            if "unused_in_tests" in g:
                assert len(str(g["unused_in_tests"])) > 20, (fn, g)
        checked = [g for g in grants if "unused_in_tests" not in g]
        problems += [f"{fn}: {line}" for line in aws_calls.unused_grants(checked, used)]
    assert not problems, "\n".join(problems)
