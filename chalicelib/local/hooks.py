"""Local-only set-up run by LocalStack.start() after provisioning (docs/DESIGN.md, "Local-only
set-up hooks"). Each hook returns environment variables for every process of the stack."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from chalicelib.local import tokens


def make_local_jwt_key(stack: Any) -> dict[str, str]:
    """A fresh RS256 key pair per stack start: the private half stays in the state dir for
    `python -m chalicelib.cli token`; the API gets only the public half."""
    private, public = tokens.generate_pair()
    tokens.write_private_key(stack.state_dir, private)
    return {"LOCAL_JWT_PUBLIC_KEY": public, "JWT_ISSUER": tokens.ISSUER, "JWT_AUDIENCE": tokens.AUDIENCE}


def make_cursor_secret(stack: Any) -> dict[str, str]:
    """The HMAC key of the staff lists' cursors (in AWS: from SSM, see chalicelib/services/staff_list.py)."""
    return {"CURSOR_SECRET": secrets.token_hex(32)}


def make_sms_gateway(stack: Any) -> dict[str, str]:
    """The SMS gateway's signing secret and callback URL, as an operator sets them at the gateway:
    `python -m chalicelib.cli sms-in` signs with them like the gateway would."""
    return {"SMS_GATEWAY_SECRET": secrets.token_hex(20), "SMS_WEBHOOK_URL": f"{stack.api_url}/channels/sms"}


PREPARE: list[Callable[[Any], dict[str, str]]] = [make_local_jwt_key, make_cursor_secret, make_sms_gateway]
