"""`make package`: one CloudFormation template and the zips, ready for `make deploy`.

    python infra/package.py [--stage dev] [--out build] [--strict]

`--strict` (used by `make deploy`) fails when a function has no entry in infra/permissions.yaml.
The steps, what it writes, which module does what, and how to add a function: docs/INFRA.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle  # infra/ modules, one per concern
import destinations
import iam
import limits
import monitoring
import scanners
import triggers
from bundle import ENV_LIMIT_BYTES, PLACEHOLDER_ROLE
from cfn import APP, env_name, kebab, load_cfn, to_cfn

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
RESOURCES = INFRA / "resources.yaml"
OPERATIONS = INFRA / "operations.yaml"
PERMISSIONS = INFRA / "permissions.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

Json = dict[str, Any]
__all__ = ["OPERATIONS", "RESOURCES", "env_name", "load_cfn", "main"]


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
    config = json.loads(CHALICE_CONFIG.read_text())
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
        self.function_env = {to_cfn(name): env
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
        # chalice emits every function's log group with this retention (.chalice/config.json);
        # the API stage's access log group (limits.py) keeps its logs as long.
        self.log_retention_days = int(json.loads(CHALICE_CONFIG.read_text())["log_retention_in_days"])
        self.resources: Json = self.template["Resources"]
        self.web_origins()

    def web_origins(self) -> None:
        """Browsers upload to the quarantine bucket from the web client: its CORS admits the
        stage's WEB_ORIGINS (.chalice/config.json) and the web client's own CloudFront address
        (the API admits that one through the WEB_URL output, chalicelib/config.py)."""
        stages = json.loads(CHALICE_CONFIG.read_text()).get("stages", {})
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

    def kms(self, resource: str, service: str, actions: list[str]) -> list[Json]:
        return iam.kms(self, resource, service, actions)

    # -- per function ---------------------------------------------------------------------------
    def functions(self) -> dict[str, Json]:
        return {k: v for k, v in self.generated["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}

    def grants_for(self, logical_id: str) -> list[Json]:
        by_logical = {to_cfn(name): grants
                      for name, grants in (self.permissions.get("functions") or {}).items()}
        if logical_id not in by_logical:
            message = (f"function {logical_id} has no entry in infra/permissions.yaml: it gets only its logs, "
                       "metrics and its trigger")
            if self.strict:
                raise SystemExit(message)
            self.warnings.append(message)
        return list(by_logical.get(logical_id) or [])

    def layer_names(self, logical_id: str) -> list[str]:
        return [to_cfn(name) + "Layer" for name, spec in (self.permissions.get("layers") or {}).items()
                if logical_id in {to_cfn(f) for f in spec["functions"]}]

    def used_layers(self) -> dict[str, list[str]]:
        """Layer name -> its packages, for the layers that a generated function uses."""
        used = {name for fn in self.functions() for name in self.layer_names(fn)}
        return {name: list(spec["packages"]) for name, spec in (self.permissions.get("layers") or {}).items()
                if to_cfn(name) + "Layer" in used}

    def build(self) -> Json:
        functions = self.functions()
        if not functions:
            raise SystemExit("chalice package generated no function")
        for name in self.used_layers():
            self.resources[to_cfn(name) + "Layer"] = {
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
        monitoring.alarms(self, functions)
        monitoring.dashboard(self, functions)
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
        log_group = self.log_group(logical_id)
        statements = iam.base_statements(self, log_group)
        events: Json = {}
        invoked_async = False
        for event_id, event in (props.get("Events") or {}).items():
            patch, more = triggers.event_source(self, logical_id, event)
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
            statements += iam.grant(self, logical_id, grant)
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
                "Policies": [{"PolicyName": f"{logical_id}Access", "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": iam.merge_statements(statements)}}],
            },
        }
        overlay: Json = {
            "DependsOn": [log_group],
            "Properties": {
                "FunctionName": name,
                "Role": {"Fn::GetAtt": [role, "Arn"]},
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

    def log_group(self, logical_id: str) -> str:
        """Chalice emits `<Function>LogGroup` with the retention of .chalice/config.json, named after
        `${<Function>}`: the overlay names it as the function is named (a Ref to the function would
        make a cycle with the function's DependsOn), encrypts it and keeps it on delete. The API's is
        turned off in .chalice/config.json (chalice names it ApiHandlerLogGroup but refers to a
        `${ApiHandler}` that does not exist): the overlay adds it whole, with the same retention."""
        log_group = f"{logical_id}LogGroup"
        patch: Json = {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/{APP}-${{Stage}}-{kebab(logical_id)}"},
                "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},  # logs may hold what a bug let through
            },
        }
        if log_group not in self.generated["Resources"]:
            patch["Type"] = "AWS::Logs::LogGroup"
            patch["Properties"]["RetentionInDays"] = self.log_retention_days
        self.resources[log_group] = patch
        return log_group


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--strict", action="store_true", help="fail when a function has no permissions entry")
    args = parser.parse_args(argv)
    stage_limits = limits.stage_limits(args.stage)  # refuses the local stage
    stages = json.loads(CHALICE_CONFIG.read_text()).get("stages", {})
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
    layers = {name: bundle.build_layer(name, packages, out) for name, packages in overlay.used_layers().items()}
    bundle.recompile(zip_path, {p for spec in (permissions.get("layers") or {}).values() for p in spec["packages"]})
    for w in overlay.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for fn, size in bundle.estimate_env(template).items():
        if size > ENV_LIMIT_BYTES * 0.85:
            print(f"warning: {fn}'s environment is about {size} bytes (Lambda allows {ENV_LIMIT_BYTES})",
                  file=sys.stderr)
    problems = bundle.check(template, zip_path, layers)
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
