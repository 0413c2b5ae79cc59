"""Provision an AWS (moto, in-process or server) from infra/resources.yaml and load the seed.

Tests and `make run` both call this, so the local tables, indexes and queues are the template's.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "resources.yaml"
SEED = ROOT / "chalicelib" / "seed" / "reference.json"
STACK_NAME = "lapor-kbb-{stage}"
SENDER = "noreply@lapor.bandungbaratkab.go.id"


def env_name(output_key: str) -> str:
    """`ReportsTable` -> `REPORTS_TABLE`: outputs of the template become environment variables."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output_key).upper()


def create_stack(cloudformation: Any, stage: str, template: Path = TEMPLATE) -> dict[str, str]:
    name = STACK_NAME.format(stage=stage)
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    for _ in range(600):
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") or status.endswith("_FAILED"):
            break
        time.sleep(0.1)
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {name} ended in {status}: {stack.get('StackStatusReason')}")
    return {env_name(o["OutputKey"]): o["OutputValue"] for o in stack.get("Outputs", [])}


def load_seed(path: Path = SEED) -> dict[str, Any]:
    """Write the editable seed file into the reference table (idempotent: puts overwrite)."""
    from chalicelib.data import reference

    seed = json.loads(path.read_text())
    reference.load(seed)
    return seed


# The local and test stacks' officers, per OPD of the seed: what `officers-sync` would bring from
# Cognito. The first one's id is what `cli token --role opd --opd CODE` signs by default, so that
# token is an officer an opd_admin can assign to. Reserved example addresses and numbers only.
LOCAL_OFFICERS = (("Petugas Satu", ""), ("Petugas Dua", "-2"), ("Petugas Tiga", "-3"))


def local_officers(seed: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, opd in enumerate(seed["opds"]):
        code = str(opd["code"])
        for n, (name, suffix) in enumerate(LOCAL_OFFICERS, start=1):
            out.append({"sub": f"local-opd-{code.lower()}{suffix}", "opd_code": code, "name": f"{name} {code}",
                        "email": f"petugas{n}.{code.lower()}@example.org",
                        "phone": f"+628110{i:03d}{n:04d}"})
    return out


def seed_officers(seed: dict[str, Any]) -> None:
    from chalicelib.data import officers

    officers.put(local_officers(seed))


def verify_sender(ses: Any) -> None:
    """SES (and moto's SES) only sends from a verified identity."""
    ses.verify_email_identity(EmailAddress=SENDER)


# What infra/resources.yaml declares on QuarantineBucket but moto's CloudFormation ignores
# (moto 5.2: its FakeBucket.create_from_cloudformation_json reads only BucketEncryption and Tags).
UPLOAD_EVENTS = ["s3:ObjectCreated:*"]
UPLOAD_PREFIX = "incoming/"


def configure_quarantine_bucket(s3: Any, env: dict[str, str]) -> None:
    """Local step: the S3 -> UploadsQueue notification (and the upload CORS rule) through the API.

    moto then delivers ObjectCreated events to the queue, in-process and in server mode alike.
    Like S3, moto posts an `s3:TestEvent` message when the notification is set; the scanner
    skips it.
    """
    bucket = env["QUARANTINE_BUCKET"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{
            "QueueArn": env["UPLOADS_QUEUE_ARN"],
            "Events": UPLOAD_EVENTS,
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}},
        }],
    })
    origins = [o.strip() for o in os.environ.get("WEB_ORIGINS", "").split(",") if o.strip()]
    if origins:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["POST"], "AllowedOrigins": origins, "AllowedHeaders": ["*"], "MaxAgeSeconds": 600},
        ]})


def provision(session: Any, stage: str, setenv: Callable[[str, str], None] | None = None) -> dict[str, str]:
    """Create the stack, bind the models to it, load the seed. Returns the environment to use,
    which is also set in this process through `setenv` (tests pass monkeypatch.setenv, so the
    names leave with the test; the default writes os.environ)."""
    import os

    from chalicelib import config
    from chalicelib.data import models

    env = create_stack(session.client("cloudformation"), stage)
    configure_quarantine_bucket(session.client("s3"), env)
    env["STAGE"] = stage
    env["MAIL_SENDER"] = SENDER
    for key, value in env.items():
        (setenv or os.environ.__setitem__)(key, value)
    config.reset()
    models.bind()
    verify_sender(session.client("ses"))
    seed_officers(load_seed())
    return env
