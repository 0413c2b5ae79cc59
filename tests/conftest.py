"""Shared fixtures.

- tests/unit: the pure core, no AWS at all.
- tests/integration: moto in-process, provisioned from infra/resources.yaml exactly as the local
  stack is; `app` is imported inside the fixture so every client is created under the mock.
- tests/e2e: the real local stack in subprocesses (see tests/e2e/conftest.py).
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-3")
_SESSION: Any = None


def pytest_configure(config: pytest.Config) -> None:
    # Every AWS call a Lambda function's code makes, for the least-privilege check (tests/aws_calls.py);
    # `make test` sets RECORD_AWS_CALLS for the whole suite.
    if os.environ.get("RECORD_AWS_CALLS"):
        from tests import aws_calls

        aws_calls.install()
    # Every answer of the API through chalice's test client against its route's declared model.
    from tests import response_models

    response_models.install()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh moto account with the stack from infra/resources.yaml and the seed loaded."""
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-3")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-3")
    # Abuse limits stay on (a submission still counts inside its transaction) but out of the way of
    # tests that seed many reports from one client; tests/integration/test_abuse.py sets its own.
    for scope in ("REPORTS", "ATTACHMENTS", "LOOKUPS", "STATS"):
        monkeypatch.setenv(f"RATE_LIMIT_{scope}", "100000/600")
    # chalice.test.Client runs requests as the `dev` stage of .chalice/config.json, where the
    # contact-index key must come from somewhere: here, as in a deployed function, from outside.
    monkeypatch.setenv("CONTACT_INDEX_SECRET", "test-contact-index-key-0123456789")
    monkeypatch.setenv("ACCESS_CODE_SECRET", "test-access-code-key-0123456789")
    monkeypatch.setenv("RATE_LIMIT_RECOVERY", "100000/600")
    from moto import mock_aws

    with mock_aws():
        import boto3

        from chalicelib.adapters import aws as aws_clients
        from chalicelib.adapters import kms
        from chalicelib.data import reference
        from chalicelib.local import moto_server, provision

        moto_server.install()  # DynamoDB's atomicity, as the local stack's moto server has it

        aws_clients.reset()
        kms.forget_data_key()  # it belongs to the previous test's KMS key
        reference.clear_cache()
        global _SESSION
        # One session for the whole run: a new one re-parses botocore's service models (~0.2 s).
        _SESSION = _SESSION or boto3.Session(region_name="ap-southeast-3")
        env = provision.provision(_SESSION, "test", monkeypatch.setenv)
        yield env
        aws_clients.reset()
        kms.forget_data_key()
        reference.clear_cache()


@pytest.fixture
def app(aws: dict[str, str]) -> Any:
    import app as app_module

    return app_module.app


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app) as c:
        yield c


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every AWS API call made through botocore (boto3 and PynamoDB alike)."""
    import botocore.client

    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        calls[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


VALID_REPORT: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Jalan berlubang di Jl. Raya Lembang",
    "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
    "category": "jalan_rusak",
    "incident_date": "2026-01-05",
    "location": {"kecamatan": "Lembang", "desa": "Jayagiri", "address": "Jl. Raya Lembang 12", "lat": -6.81, "lon": 107.61},
    "privacy": "publik",
    "reporter": {"name": "Siti Aminah", "email": "siti@example.org", "phone": "0812-3456-7890", "nik": "3217014508900001"},
}


@pytest.fixture
def valid_report() -> dict[str, Any]:
    import copy

    return copy.deepcopy(VALID_REPORT)
