"""Fixtures shared by the integration tests of the fan-out and the SP4N-LAPOR! sync: the stand-in
as a real HTTP server on a free port, and the app with the local pump over moto."""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from chalicelib.local.sp4n_standin import start_standin
    from chalicelib.services import sync

    handle = start_standin(port=0)
    monkeypatch.setenv("SP4N_BASE_URL", handle.url)
    monkeypatch.setenv("SP4N_API_KEY", "local-key")
    monkeypatch.setenv("SP4N_API_TOKEN", "local-token")
    monkeypatch.setenv("SP4N_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("SP4N_LIST_ENDPOINT", "on")  # the stand-in has it; the lost-answer search uses it
    sync.reset_clients()
    yield handle
    handle.stop()
    sync.reset_clients()


@pytest.fixture
def fan(aws: dict[str, str], standin: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Any]:
    # Retries at once (tests replay redelivery with VisibilityTimeout 0 instead of waiting).
    monkeypatch.setenv("RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("BUSY_RETRY_SECONDS", "0")
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # no running stack's env for the CLI
    import boto3
    from chalice.test import Client

    import app as app_module
    from chalicelib.local.pump import Pump
    from chalicelib.services import notify

    notify.set_senders(None)
    pump = Pump(app_module, state_path=tmp_path, visibility_timeout=0, wait_seconds=0)
    with Client(app_module.app) as client:
        yield SimpleNamespace(pump=pump, app=app_module, client=client, standin=standin, env=aws,
                              sqs=boto3.client("sqs", region_name="ap-southeast-3"), tmp=tmp_path)
    notify.set_senders(None)
