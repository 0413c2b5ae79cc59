"""Abuse limits per client, in the application: submissions, upload slots, tracking-token
lookups, the public statistics and the other scopes of Settings.rate_limit_*. Counters live in
DynamoDB (chalicelib/data/rate_limits.py); past the limit a 429 `rate_limited` with Retry-After.
Who counts as a client and why a refusal is remembered: docs/DESIGN.md, "Abuse limits per client".
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from chalicelib.config import settings
from chalicelib.data import rate_limits
from chalicelib.domain import ratelimit
from chalicelib.domain.errors import RateLimited
from chalicelib.domain.ratelimit import Policy, Window

REPORTS = "reports"
ATTACHMENTS = "attachments"
LOOKUPS = "lookups"
STATS = "stats"
SMS = "sms"  # inbound SMS per sending number (chalicelib/services/sms_inbound.py)
WHATSAPP = "whatsapp"  # inbound WhatsApp messages per number (chalicelib/services/whatsapp_chat.py)
RECOVERY = "recovery"  # per client: "lupa kode akses" requests and confirmations
RECOVERY_SENDS = "recovery_sends"  # per report: recovery codes sent (counted by the service)

_MEMO_SIZE = 10_000  # clients remembered as blocked per container (LRU); ~1 MB at most
_blocked: OrderedDict[str, int] = OrderedDict()  # window key -> window end (epoch seconds)
_policies: dict[tuple[str, str], Policy] = {}
clock = time.time  # tests move time through this, not through the time module every library shares


def policy(scope: str) -> Policy:
    s = settings()
    text = {REPORTS: s.rate_limit_reports, ATTACHMENTS: s.rate_limit_attachments, LOOKUPS: s.rate_limit_lookups,
            STATS: s.rate_limit_stats, SMS: s.rate_limit_sms, WHATSAPP: s.rate_limit_whatsapp,
            RECOVERY: s.rate_limit_recovery, RECOVERY_SENDS: s.rate_limit_recovery_sends}[scope]
    cached = _policies.get((scope, text))
    if cached is None:
        cached = _policies[(scope, text)] = ratelimit.parse_policy(scope, text)
    return cached


def client_of(context: dict[str, Any] | None, headers: Any) -> str | None:
    """The client's address. With CLIENT_IP_HEADER set, the header's value (CloudFront's
    `CloudFront-Viewer-Address` is `ip:port`; `X-Forwarded-For` lists the client first)."""
    name = settings().client_ip_header
    if name:
        value = str(headers.get(name) or "").split(",")[0].strip()
        if value.count(":") == 1:  # IPv4 with port; an IPv6 address has several colons
            value = value.split(":")[0]
        elif value.startswith("[") and "]" in value:  # [IPv6]:port
            value = value[1:value.index("]")]
        if value:
            return value
    identity = (context or {}).get("identity") or {}
    source = identity.get("sourceIp")
    return str(source) if source else None


def window(scope: str, client: str | None, now: float | None = None) -> Window | None:
    """The counter this request counts against, or None when the scope is off or the client is
    unknown (no source address: only a direct Lambda invocation, never API Gateway)."""
    p = policy(scope)
    if not p.enabled or not client:
        return None
    return ratelimit.window(p, client, clock() if now is None else now)


def limited(win: Window, now: float | None = None) -> RateLimited:
    """The 429 in the contract's shape, and remember the client until the window ends."""
    _blocked[win.key] = win.end
    _blocked.move_to_end(win.key)
    while len(_blocked) > _MEMO_SIZE:
        _blocked.popitem(last=False)
    seconds = win.retry_after(clock() if now is None else now)
    return RateLimited(f"Terlalu banyak permintaan dari perangkat ini; coba lagi dalam {seconds} detik.",
                       [{"limit": win.policy.limit, "window_seconds": win.policy.window, "retry_after": seconds}],
                       retry_after=seconds)


def refuse_if_known(win: Window | None, now: float | None = None) -> None:
    """429 without an AWS call when this container already refused the client in this window."""
    if win is not None and win.key in _blocked:
        at = clock() if now is None else now
        if _blocked[win.key] > at:
            raise limited(win, at)
        del _blocked[win.key]


def known_refused(scope: str, client: str | None) -> bool:
    """True when this container already refused `client` in the current window of `scope` (a
    channel that answers a refusal answers it once)."""
    now = clock()
    win = window(scope, client, now)
    return win is not None and _blocked.get(win.key, 0) > now


def check(scope: str, client: str | None) -> None:
    """Count one request of `scope` (one conditional UpdateItem); 429 past the limit."""
    now = clock()
    win = window(scope, client, now)
    if win is None:
        return
    refuse_if_known(win, now)
    try:
        rate_limits.hit(win)
    except rate_limits.Exceeded:
        raise limited(win, now) from None


def forget() -> None:
    """Tests: drop what this process remembers."""
    _blocked.clear()
    _policies.clear()
