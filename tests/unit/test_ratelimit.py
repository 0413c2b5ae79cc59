"""The arithmetic of the abuse limits (pure, no AWS)."""
from __future__ import annotations

import pytest

from chalicelib.domain import ratelimit


def test_policy_text() -> None:
    assert ratelimit.parse_policy("reports", "10/600") == ratelimit.Policy("reports", 10, 600)
    assert ratelimit.parse_policy("reports", " 120/600 ").limit == 120
    assert not ratelimit.parse_policy("reports", "off").enabled
    assert not ratelimit.parse_policy("reports", "0").enabled


@pytest.mark.parametrize("text", ["", "10", "10/", "/600", "ten/600", "-1/600", "0/600", "10/0", "10/600/1", "1e3/600"])
def test_a_typo_fails_loudly_rather_than_switching_the_limit_off(text: str) -> None:
    with pytest.raises(ValueError):
        ratelimit.parse_policy("reports", text)


def test_fixed_windows_and_retry_after() -> None:
    p = ratelimit.Policy("reports", 10, 600)
    w = ratelimit.window(p, "203.0.113.7", 1_800_000_123.4)
    assert w.start == 1_800_000_000 and w.end == 1_800_000_600
    assert w.retry_after(1_800_000_123.4) == 477  # rounded up: never invite a retry before the end
    assert w.retry_after(1_800_000_599.9) == 1
    assert w.retry_after(1_800_000_600.0) == 1  # never 0
    assert w.expires_at() > w.end
    # the same client in the same window shares a counter; the next window starts afresh
    assert ratelimit.window(p, "203.0.113.7", 1_800_000_599).key == w.key
    assert ratelimit.window(p, "203.0.113.7", 1_800_000_600).key != w.key
    # other clients and other scopes count apart
    assert ratelimit.window(p, "203.0.113.8", 1_800_000_123).key != w.key
    assert ratelimit.window(ratelimit.Policy("lookups", 10, 600), "203.0.113.7", 1_800_000_123).key != w.key


def test_the_key_does_not_hold_the_address() -> None:
    w = ratelimit.window(ratelimit.Policy("reports", 10, 600), "203.0.113.7", 0)
    assert "203.0.113.7" not in w.key and w.key.startswith("rl#reports#0#")


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::/64"),
    ("2001:0db8:0001:0002:ffff::1", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("not-an-ip", "not-an-ip"),
])
def test_client_key_counts_ipv6_by_its_64(address: str, key: str) -> None:
    from chalicelib.domain import ratelimit

    assert ratelimit.client_key(address) == key


def test_two_addresses_of_one_64_share_a_window() -> None:
    from chalicelib.domain import ratelimit

    p = ratelimit.Policy("stats", 5, 60)
    a = ratelimit.window(p, "2001:db8:1:2::1", 1000.0)
    b = ratelimit.window(p, "2001:db8:1:2:dead:beef:0:1", 1000.0)
    c = ratelimit.window(p, "2001:db8:1:3::1", 1000.0)
    assert a.key == b.key != c.key
