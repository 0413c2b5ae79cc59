"""The HMAC key of the contact index (the reports' `phone_hash` / `email_hash`).

A phone number has too little entropy for a plain hash to hide it: anyone holding the table could
hash every Indonesian mobile number in an afternoon. The index therefore holds HMAC-SHA256 under a
key that lives in Secrets Manager (`ContactIndexSecret`, read once per container, id in
CONTACT_INDEX_SECRET_ID). The local stack and the tests use a fixed development key, so the API,
the pump and the CLI agree without sharing anything. Rotating the key needs
`python -m chalicelib.cli migrate contact-index --rehash` afterwards (docs/PRIVACY.md).
"""
from __future__ import annotations

import json
import os
import threading

from chalicelib.adapters import aws
from chalicelib.config import settings

_LOCAL_KEY = b"lapor-kbb-local-contact-index-key"  # local stack and tests only
_lock = threading.Lock()
_cache: dict[str, bytes] = {}


def key() -> bytes:
    value = os.environ.get("CONTACT_INDEX_SECRET", "").strip()
    if value:
        return value.encode()
    secret_id = os.environ.get("CONTACT_INDEX_SECRET_ID", "").strip()
    if not secret_id:
        if settings().stage in ("local", "test"):
            return _LOCAL_KEY
        raise RuntimeError("CONTACT_INDEX_SECRET_ID must be set outside the local stack")
    with _lock:
        if secret_id not in _cache:
            raw = str(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            material = parsed.get("value") if isinstance(parsed, dict) else parsed
            if not material:
                raise RuntimeError("the contact index secret is empty")
            _cache[secret_id] = str(material).encode()
        return _cache[secret_id]


def forget() -> None:
    with _lock:
        _cache.clear()
