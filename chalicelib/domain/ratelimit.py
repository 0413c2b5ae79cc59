"""Per-client abuse limits as pure arithmetic: fixed windows, counter keys, Retry-After.

A fixed window (e.g. 10 submissions per 600 s, the clock cut at multiples of 600 s) needs ONE
counter item per client and window, updated atomically by the storage (an ADD with the condition
`hits < limit`), so the check holds under concurrent requests without any read-then-write. The
price of fixed windows: a client may spend a full allowance at the end of one window and another
at the start of the next (at most 2x the limit within any 600 s). That is acceptable for abuse
limits, which bound cost and spam, not fairness; a sliding window would need a read per request.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
from typing import NamedTuple

# What every window key starts with: the rate-limit counters kind of chalicelib/data/ledger.py.
KEY_PREFIX = "rl#"


class Policy(NamedTuple):
    """`limit` requests per `window` seconds for one scope (reports, attachments, lookups)."""

    scope: str
    limit: int
    window: int

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window > 0


def parse_policy(scope: str, text: str) -> Policy:
    """`"10/600"` = 10 requests per 600 s; `"off"` (or `"0"`) switches the scope's limit off.

    A typo in a deployment's configuration must not silently remove protection: anything else
    raises ValueError, which fails the function at start-up, visibly.
    """
    value = text.strip().lower()
    if value in ("off", "0"):
        return Policy(scope, 0, 0)
    count, sep, seconds = value.partition("/")
    if not sep or not count.isdigit() or not seconds.isdigit() or int(count) < 1 or int(seconds) < 1:
        raise ValueError(f"rate limit for {scope!r} must look like '10/600' (requests/seconds) or 'off', not {text!r}")
    return Policy(scope, int(count), int(seconds))


class Window(NamedTuple):
    """The window that `now` falls in, for one client under one policy."""

    policy: Policy
    start: int  # epoch seconds, a multiple of policy.window
    key: str  # the counter's item key

    @property
    def end(self) -> int:
        return self.start + self.policy.window

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1: `Retry-After: 0` invites a hot loop)."""
        return max(1, math.ceil(self.end - now))

    def expires_at(self) -> int:
        """TTL of the counter: an hour past the window. DynamoDB's TTL deletes lazily (up to days
        later), which does no harm: the window start is part of the key, so an old counter is never
        read again."""
        return self.end + 3600


IPV6_PREFIX = 64


def client_key(address: str) -> str:
    """Who counts as one client. An IPv6 host usually holds a whole /64 (SLAAC, privacy
    addresses) and can change address per request; counted per address, it would never meet a
    limit. So IPv6 counts per /64; IPv4 (also IPv4-mapped IPv6) per address. Anything that is no
    address is counted as given."""
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def client_digest(client: str) -> str:
    """What the table stores instead of the address. An IPv4 hash can be reversed by trying all
    2^32 addresses, so this is pseudonymisation, not anonymity: it keeps addresses out of console
    views and backups, and the TTL removes the item soon after the window."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]


def window(policy: Policy, client: str, now: float) -> Window:
    start = int(now) // policy.window * policy.window
    return Window(policy, start, f"{KEY_PREFIX}{policy.scope}#{start}#{client_digest(client_key(client))}")
