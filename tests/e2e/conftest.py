"""The real local stack (moto server, chalice local, stand-in, pump) in subprocesses, on free ports."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import LocalStack
from tests.e2e.support import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Limits on but high: every test here is one client (chalice local says 127.0.0.1).
    # tests/e2e/test_abuse_stack.py starts a stack of its own with low limits.
    with running_stack(tmp_path_factory.mktemp("stack"), Path("test-artifacts/stack-logs"), "100000/600") as s:
        yield s


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read()
                return resp.status, json.loads(text) if text else None, dict(resp.headers)
        except urllib.error.HTTPError as err:
            text = err.read()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.decode(errors="replace")
            return err.code, parsed, dict(err.headers)


@pytest.fixture(scope="session")
def http(stack: LocalStack) -> Http:
    return Http(stack.api_url)
