"""Per-client abuse limits in the application, counted in DynamoDB (moto).

Sequential behaviour goes through the Chalice test client. Concurrency is shown twice: here by 20
threads driving the service and data layers against moto (the Chalice test client keeps one
current request per app, so it cannot take concurrent requests), and over HTTP against the local
stack in tests/e2e/test_abuse_stack.py.
"""
from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from typing import Any

import pytest

from tests.conftest import VALID_REPORT

LIMITS = {"REPORTS": "3/600", "ATTACHMENTS": "2/600", "LOOKUPS": "5/600"}
T0 = 1_800_000_100.0  # 100 s into a 600 s window


@pytest.fixture
def limits(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib import config
    from chalicelib.services import rate_limits

    for scope, value in LIMITS.items():
        monkeypatch.setenv(f"RATE_LIMIT_{scope}", value)
    config.reset()
    rate_limits.forget()
    now = {"t": T0}
    monkeypatch.setattr(rate_limits, "clock", lambda: now["t"])
    yield now
    rate_limits.forget()
    config.reset()


def post(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})})


def report(i: int) -> dict[str, Any]:
    body = copy.deepcopy(VALID_REPORT)
    body["title"] = f"Jalan berlubang nomor {i}"
    return body


def assert_429(r: Any, retry_after: int) -> None:
    assert r.status_code == 429, r.body
    assert r.json_body["error"]["code"] == "rate_limited"
    assert set(r.json_body["error"]) == {"code", "message", "details"}
    assert r.headers["Retry-After"] == str(retry_after)


def rate_items() -> list[Any]:
    from chalicelib.data.models import LedgerItem

    return [i for i in LedgerItem.scan() if i.key.startswith("rl#")]


def test_past_the_submission_limit_429_with_retry_after_and_nothing_stored(client: Any, limits: Any) -> None:
    from chalicelib.data.models import Report, ReportEvent

    for i in range(3):
        assert post(client, "/reports", report(i)).status_code == 201
    refused = post(client, "/reports", report(3))
    assert_429(refused, 500)  # the window ends 500 s after T0
    assert refused.json_body["error"]["details"] == [{"limit": 3, "window_seconds": 600, "retry_after": 500}]
    assert Report.count() == 3 and ReportEvent.count() == 3
    # later in the window: still refused, with a shorter wait
    limits["t"] = T0 + 450
    assert_429(post(client, "/reports", report(4)), 50)
    # the next window admits the client again
    limits["t"] = T0 + 500
    assert post(client, "/reports", report(5)).status_code == 201
    assert Report.count() == 4


def test_the_counter_is_one_item_per_client_and_window_without_the_address(client: Any, limits: Any) -> None:
    from chalicelib.domain.ratelimit import client_digest

    for i in range(2):
        post(client, "/reports", report(i))
    [item] = rate_items()
    # chalice's test client and chalice local both report sourceIp 127.0.0.1, as API Gateway would the caller's
    assert item.key == f"rl#reports#{int(T0) // 600 * 600}#{client_digest('127.0.0.1')}"
    assert item.hits == 2 and item.expires_at > T0 + 500
    assert "127.0.0.1" not in json.dumps(item.attribute_values, default=str)


def test_a_refused_client_costs_no_aws_call_until_the_window_ends(client: Any, limits: Any, aws_calls: Counter[str]) -> None:
    for i in range(3):
        post(client, "/reports", report(i))
    assert post(client, "/reports", report(3)).status_code == 429  # learnt from the failed transaction
    aws_calls.clear()
    assert_429(post(client, "/reports", report(4)), 500)
    assert sum(aws_calls.values()) == 0, aws_calls  # no KMS encrypt, no transaction


def test_the_limit_rides_in_the_submission_transaction(client: Any, limits: Any, aws_calls: Counter[str]) -> None:
    post(client, "/reports", report(0))  # warm the reference cache
    aws_calls.clear()
    assert post(client, "/reports", report(1), {"Idempotency-Key": "abuse-0123456789"}).status_code == 201
    assert sum(aws_calls.values()) <= 3 and aws_calls["dynamodb.TransactWriteItems"] == 1, aws_calls
    assert aws_calls["dynamodb.UpdateItem"] == 0
    assert rate_items()[0].hits == 2


def test_a_retry_of_an_accepted_submission_replays_even_past_the_limit(client: Any, limits: Any) -> None:
    key = {"Idempotency-Key": "abuse-retry-0123456789"}
    first = post(client, "/reports", report(0), key)
    for i in range(1, 3):
        post(client, "/reports", report(i))
    assert post(client, "/reports", report(9)).status_code == 429
    from chalicelib.services import rate_limits

    rate_limits.forget()  # another container, which has not refused this client yet
    again = post(client, "/reports", report(0), key)
    assert again.status_code == 201 and again.json_body == first.json_body


def test_invalid_submissions_do_not_use_the_allowance(client: Any, limits: Any) -> None:
    for _ in range(5):
        assert post(client, "/reports", {"type": "pengaduan"}).status_code == 400
    for i in range(3):
        assert post(client, "/reports", report(i)).status_code == 201


def test_token_lookups_share_one_allowance_whatever_the_route_or_token(client: Any, limits: Any) -> None:
    created = post(client, "/reports", report(0)).json_body
    tid, good = created["tracking_id"], {"X-Access-Token": created["access_token"]}
    assert client.http.get(f"/reports/{tid}", headers=good).status_code == 200
    assert client.http.get(f"/reports/{tid}", headers={"X-Access-Token": "guess" * 8}).status_code == 404
    assert client.http.get("/reports/KBB-0000-0000", headers=good).status_code == 404
    assert post(client, f"/reports/{tid}/replies", {"message": "tambahan"}, {"X-Access-Token": "guess" * 8}).status_code == 404
    assert post(client, f"/reports/{tid}/feedback", {"resolved": True}, {"X-Access-Token": "guess" * 8}).status_code == 404
    # five lookups spent: even the right token now waits (guessing must stay slow for everyone)
    assert_429(client.http.get(f"/reports/{tid}", headers=good), 500)
    assert_429(post(client, f"/reports/{tid}/feedback", {"resolved": True}, good), 500)


def test_upload_slots_are_limited(client: Any, limits: Any) -> None:
    slot = {"content_type": "image/jpeg", "size": 1000}
    assert post(client, "/attachments", slot).status_code == 201
    assert post(client, "/attachments", slot).status_code == 201
    assert_429(post(client, "/attachments", slot), 500)


def test_clients_are_counted_apart_behind_a_trusted_header(client: Any, limits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import config

    monkeypatch.setenv("CLIENT_IP_HEADER", "CloudFront-Viewer-Address")
    config.reset()
    a = {"CloudFront-Viewer-Address": "198.51.100.7:50123"}
    b = {"CloudFront-Viewer-Address": "[2001:db8::5]:443"}
    for i in range(3):
        assert post(client, "/reports", report(i), a).status_code == 201
    assert post(client, "/reports", report(3), a).status_code == 429
    assert post(client, "/reports", report(4), b).status_code == 201
    # the same address from another port is the same client
    assert post(client, "/reports", report(5), {"CloudFront-Viewer-Address": "198.51.100.7:61000"}).status_code == 429


def test_client_identity() -> None:
    from chalicelib import config
    from chalicelib.services.rate_limits import client_of

    ctx = {"identity": {"sourceIp": "203.0.113.9"}}
    assert client_of(ctx, {}) == "203.0.113.9"
    assert client_of({}, {}) is None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLIENT_IP_HEADER", "X-Forwarded-For")
        config.reset()
        assert client_of(ctx, {"x-forwarded-for": "198.51.100.1, 10.0.0.1"}) == "198.51.100.1"
        assert client_of(ctx, {"x-forwarded-for": "2001:db8::1"}) == "2001:db8::1"
        assert client_of(ctx, {}) == "203.0.113.9"  # header missing: the connection's address
    config.reset()


def _race(n: int, fn: Any) -> Counter[str]:
    """Run fn n times at once (all threads released together) and count the outcomes."""
    barrier = threading.Barrier(n)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            fn()
            result = "ok"
        except Exception as exc:  # noqa: BLE001 (the outcome is what is counted)
            result = getattr(exc, "code", type(exc).__name__)
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def atomic_moto(limits: Any) -> None:
    # DynamoDB applies each request atomically; in-process moto needs the same lock the local
    # stack's moto server has (chalicelib/local/moto_server.py) to stand in for it under threads.
    from chalicelib.local import moto_server

    moto_server.install()


def test_20_concurrent_submissions_exactly_the_limit_succeed(limits: Any, atomic_moto: None) -> None:
    from chalicelib.data.models import Report
    from chalicelib.services import intake, rate_limits
    from chalicelib.submission import ReportIn

    intake.submit(ReportIn.from_data(report(99)), client="198.51.100.99")  # warm caches
    rate_limits.forget()
    outcomes = _race(20, lambda: intake.submit(ReportIn.from_data(report(0)), client="198.51.100.20"))
    assert outcomes == Counter({"ok": 3, "rate_limited": 17}), outcomes
    assert Report.count() == 4


def test_20_concurrent_lookups_exactly_the_limit_pass(limits: Any, atomic_moto: None) -> None:
    from chalicelib.services import rate_limits

    outcomes = _race(20, lambda: rate_limits.check(rate_limits.LOOKUPS, "198.51.100.21"))
    assert outcomes == Counter({"ok": 5, "rate_limited": 15}), outcomes
    assert [i.hits for i in rate_items()] == [5]
