"""Server-side keys (HMAC keys of list cursors and of the contact index): one way to get them.

`NAME` in the environment holds the key itself (the local stack, tests); in AWS `NAME_ID` names a
Secrets Manager secret (JSON `{"value": ...}` or plain text) read at run time, once per container,
so the key is never in a function's environment. Outside the local stages a missing key is an
error, never a random one: a per-process key would break every cursor or index across containers.
"""
from __future__ import annotations

import json
import os
import secrets
import threading

from chalicelib.adapters import aws
from chalicelib.config import LOCAL_STAGES, settings

_lock = threading.Lock()
_cache: dict[str, bytes] = {}


def server_key(name: str, *, local: bytes | None = None) -> bytes:
    """The key `name`. In the local stages without one: `local`, or else a per-process key."""
    value = os.environ.get(name, "").strip()
    if value:
        return value.encode()
    secret_id = os.environ.get(f"{name}_ID", "").strip()
    with _lock:
        if secret_id:
            if secret_id not in _cache:
                _cache[secret_id] = _read(secret_id)
            return _cache[secret_id]
        if settings().stage not in LOCAL_STAGES:
            raise RuntimeError(f"{name} or {name}_ID must be set outside the local stack")
        if local is not None:
            return local
        return _cache.setdefault(f"ephemeral:{name}", secrets.token_bytes(32))


def _read(secret_id: str) -> bytes:
    raw = str(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    material = parsed.get("value") if isinstance(parsed, dict) else parsed
    if not material:
        raise RuntimeError(f"the secret {secret_id} is empty")
    return str(material).encode()


def forget() -> None:
    with _lock:
        _cache.clear()
