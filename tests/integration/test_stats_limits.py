"""/stats under a flood: only real periods, a per-client limit (IPv6 by /64), and a per-period
per-container cache of a minute, so DynamoDB reads at most once per period per minute."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import clock


@pytest.fixture
def flood(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib import config
    from chalicelib.services import performance, rate_limits

    monkeypatch.setenv("RATE_LIMIT_STATS", "5/60")
    monkeypatch.setenv("CLIENT_IP_HEADER", "x-forwarded-for")
    monkeypatch.setenv("SERVICE_START_MONTH", "2025-01")
    config.reset()
    rate_limits.forget()
    performance.clear_cache()
    now = {"t": 1_800_000_010.0}
    monkeypatch.setattr(rate_limits, "clock", lambda: now["t"])
    yield now
    rate_limits.forget()
    performance.clear_cache()
    config.reset()


def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The DynamoDB read operations made from now on."""
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb" and operation in (
                "Query", "Scan", "GetItem", "BatchGetItem"):
            calls.append(f"{operation} {params.get('TableName')} {params.get('IndexName', '')}".strip())
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def get(client: Any, path: str, ip: str) -> Any:
    return client.http.get(path, headers={"X-Forwarded-For": ip})


def test_only_real_periods(client: Any, flood: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    current = clock.month_wib(clock.now())
    year, month = int(current[:4]), int(current[5:])
    following = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    calls = reads(monkeypatch)
    for i, period in enumerate(("2024-12", following, "2099-01", "1999-12")):
        r = get(client, f"/stats?period={period}", f"198.51.100.{i}")
        assert r.status_code == 400, (period, r.body)
        error = r.json_body["error"]
        assert error["code"] == "validation_error" and error["details"][0]["field"] == "period"
        if period != "1999-12":  # not even a month the service could have (the format check says so)
            assert "periode harus antara 2025-01 dan" in error["details"][0]["message"].lower()
    assert calls == []  # refused before any read
    for i, period in enumerate(("2025-01", current)):
        assert get(client, f"/stats?period={period}", f"198.51.100.{10 + i}").status_code == 200, period


def test_a_flood_reads_once_per_period_per_minute(client: Any, flood: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.data import reference
    from chalicelib.services import performance

    reference.opds()  # reference data has its own per-container cache: warm it, count the statistics
    current = clock.month_wib(clock.now())
    monotonic = {"t": 1000.0}
    monkeypatch.setattr(performance.time, "monotonic", lambda: monotonic["t"])
    calls = reads(monkeypatch)
    for i in range(40):  # 40 clients, 4 each (under the limit of 5): 160 requests, 2 periods
        for period in (current, "2025-06") * 2:
            assert get(client, f"/stats?period={period}", f"203.0.113.{i}").status_code == 200
    # the month's reports (by_month), its performance record, and its closing (status, objections)
    per_miss = 4
    assert len(calls) == 2 * per_miss, calls
    monotonic["t"] += 59
    assert get(client, f"/stats?period={current}", "203.0.113.200").status_code == 200
    assert len(calls) == 2 * per_miss
    monotonic["t"] += 2  # past the minute: the next request reads that period again, once
    for i in range(3):
        assert get(client, f"/stats?period={current}", f"203.0.113.{210 + i}").status_code == 200
    assert len(calls) == 3 * per_miss


def test_stats_are_rate_limited_per_client_and_ipv6_by_its_64(client: Any, flood: Any) -> None:
    for _ in range(5):
        assert get(client, "/stats", "192.0.2.7").status_code == 200
    r = get(client, "/stats", "192.0.2.7")
    assert r.status_code == 429 and r.json_body["error"]["code"] == "rate_limited" and "Retry-After" in r.headers
    assert get(client, "/stats", "192.0.2.8").status_code == 200  # another IPv4 client
    # One IPv6 host rotating addresses inside its /64 is one client...
    for i in range(5):
        assert get(client, "/stats", f"2001:db8:1:2::{i + 1:x}").status_code == 200
    assert get(client, "/stats", "2001:db8:1:2:ffff:ffff:ffff:fffe").status_code == 429
    # ...another /64 is another client
    assert get(client, "/stats", "2001:db8:1:3::1").status_code == 200
