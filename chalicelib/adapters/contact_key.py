"""The HMAC key of the contact index (the reports' `phone_hash` / `email_hash`).

A phone number has too little entropy for a plain hash to hide it: anyone holding the table could
hash every Indonesian mobile number in an afternoon. The index therefore holds HMAC-SHA256 under a
key that lives in Secrets Manager (`ContactIndexSecret`, read once per container, id in
CONTACT_INDEX_SECRET_ID). The local stack and the tests use a fixed development key, so the API,
the pump and the CLI agree without sharing anything. Rotating the key needs
`python -m chalicelib.cli migrate contact-index --rehash` afterwards (docs/PRIVACY.md).
"""
from __future__ import annotations

from chalicelib.adapters import server_keys

_LOCAL_KEY = b"lapor-kbb-local-contact-index-key"  # local stack and tests only


def key() -> bytes:
    return server_keys.server_key("CONTACT_INDEX_SECRET", local=_LOCAL_KEY)


def forget() -> None:
    server_keys.forget()
