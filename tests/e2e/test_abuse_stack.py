"""Over HTTP: 20 concurrent clients against the real local stack (threaded chalice
local, moto server). Exactly `limit` requests pass, every other one is a 429 with Retry-After.

The stack is its own (low limits; the shared one runs with high limits for the other tests), in
its own xdist group so it may start while the other worker runs the shared stack's tests.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import LocalStack, Ports

pytestmark = pytest.mark.xdist_group("abuse_stack")

EXAMPLE = json.loads((Path(__file__).parents[2] / "docs" / "example-report.json").read_text())
WINDOW = 3600
LIMITS = {"REPORTS": 5, "ATTACHMENTS": 4, "LOOKUPS": 8}
CLIENTS = 20


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    s = LocalStack(ports=Ports.free(), state_dir=tmp_path_factory.mktemp("abuse-stack"),
                   log_dir=Path("test-artifacts/abuse-stack-logs"), sla_interval=3600, with_web=False)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for scope, limit in LIMITS.items():
                mp.setenv(f"RATE_LIMIT_{scope}", f"{limit}/{WINDOW}")
            s.start()
        yield s
    finally:
        s.stop()


def call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read()), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers


def burst(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> list[tuple[int, Any, Any]]:
    """CLIENTS requests released at the same instant, each on its own connection."""
    # Fixed windows: a burst that straddled a window's end could rightly pass twice the limit.
    left = WINDOW - time.time() % WINDOW
    if left < 30:
        time.sleep(left + 1)
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[int, Any, Any]] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        result = call(base, method, path, body, headers)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def check(results: list[tuple[int, Any, Any]], ok: int, limit: int) -> None:
    statuses = Counter(status for status, _, _ in results)
    assert statuses == Counter({ok: limit, 429: CLIENTS - limit}), statuses
    for status, body, headers in results:
        if status == 429:
            assert body["error"]["code"] == "rate_limited" and set(body["error"]) == {"code", "message", "details"}
            assert 1 <= int(headers["Retry-After"]) <= WINDOW


def test_20_concurrent_submissions(limited_stack: LocalStack) -> None:
    results = burst(limited_stack.api_url, "POST", "/reports", EXAMPLE)
    check(results, 201, LIMITS["REPORTS"])
    created = [body for status, body, _ in results if status == 201]
    assert len({c["tracking_id"] for c in created}) == LIMITS["REPORTS"]
    # each accepted report is really stored (read straight from moto: a lookup would spend the
    # lookups' allowance, which test_20_concurrent_token_guesses counts exactly)
    import boto3

    env = limited_stack.env
    db = boto3.client("dynamodb", endpoint_url=limited_stack.moto_url, region_name=env["AWS_REGION"],
                      aws_access_key_id="local", aws_secret_access_key="local")
    for c in created:
        item = db.get_item(TableName=env["REPORTS_TABLE"], Key={"tracking_id": {"S": c["tracking_id"]}})
        assert item["Item"]["title"]["S"] == EXAMPLE["title"]


def test_20_concurrent_upload_slots(limited_stack: LocalStack) -> None:
    check(burst(limited_stack.api_url, "POST", "/attachments", {"content_type": "application/pdf", "size": 2048}),
          201, LIMITS["ATTACHMENTS"])


def test_20_concurrent_token_guesses(limited_stack: LocalStack) -> None:
    results = burst(limited_stack.api_url, "GET", "/reports/KBB-0000-0000", headers={"X-Access-Token": "y" * 40})
    check(results, 404, LIMITS["LOOKUPS"])
