"""The list cursors' HMAC key in AWS: read at run time from Secrets Manager (env CURSOR_SECRET_ID
names the secret; the key itself is never in a function's environment), once per container."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def staff_list(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from chalicelib.adapters import server_keys
    from chalicelib.services import staff_list as module

    monkeypatch.delenv("CURSOR_SECRET", raising=False)
    server_keys.forget()
    yield module
    server_keys.forget()


def test_the_key_comes_from_the_secret_named_in_the_environment_and_is_read_once(
        staff_list: Any, monkeypatch: pytest.MonkeyPatch, aws_calls: Any) -> None:
    from chalicelib.adapters import aws as clients

    secret = clients.client("secretsmanager").create_secret(
        Name="lapor-kbb/test/cursor", SecretString=json.dumps({"value": "k" * 48}))
    monkeypatch.setenv("CURSOR_SECRET_ID", secret["ARN"])
    aws_calls.clear()
    assert staff_list.cursor_key() == b"k" * 48
    assert staff_list.cursor_key() == b"k" * 48
    assert aws_calls["secretsmanager.GetSecretValue"] == 1


def test_outside_the_local_stack_a_missing_key_is_an_error_not_a_random_key(
        staff_list: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config

    monkeypatch.delenv("CURSOR_SECRET_ID", raising=False)
    monkeypatch.setenv("STAGE", "prod")
    config.settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="CURSOR_SECRET_ID"):
            staff_list.cursor_key()
    finally:
        monkeypatch.setenv("STAGE", "test")
        config.settings.cache_clear()
