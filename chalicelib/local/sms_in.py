"""The SMS gateway's stand-in (never deployed): `python -m chalicelib.cli sms-in` delivers one
inbound SMS to the running local stack as the gateway would (a form POST to SMS_WEBHOOK_URL,
signed with SMS_GATEWAY_SECRET) and prints the reply SMS from the outbox."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

SMS_IN_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--from"], {"dest": "sender", "required": True, "help": "the sender's number (08.., +62..)"}),
    (["--text"], {"required": True, "help": 'the message, e.g. "LAPOR#Lembang#Jalan berlubang di depan SDN 1"'}),
    (["--to"], {"default": "1708", "help": "the number the citizen texted (default 1708)"}),
    (["--wait"], {"type": float, "default": 20.0, "help": "seconds to wait for the reply SMS (0: do not wait)"}),
]


def sms_in(args: argparse.Namespace) -> int:
    from chalicelib.adapters.sms_gateway import SECRET, twilio_signature
    from chalicelib.domain import identity
    from chalicelib.local import outbox

    url = os.environ.get("SMS_WEBHOOK_URL")
    secret = os.environ.get(SECRET)
    if not url or not secret:
        print("SMS_WEBHOOK_URL / SMS_GATEWAY_SECRET unknown: is the local stack running (make run)?", file=sys.stderr)
        return 1
    try:
        sender = identity.normalise_phone(args.sender)
    except ValueError as exc:
        print(f"--from: {exc}", file=sys.stderr)
        return 2
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": args.to, "Body": args.text}
    body = urllib.parse.urlencode(params).encode()
    if not url.startswith(("http://", "https://")):
        print(f"SMS_WEBHOOK_URL is not an HTTP URL: {url}", file=sys.stderr)
        return 1
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(secret.encode(), url, params)})
    before = len(outbox.sent())
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            print(f"delivered: HTTP {resp.status} ({params['MessageSid']})")
    except urllib.error.HTTPError as err:
        print(f"refused: HTTP {err.code} {err.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + max(0.0, args.wait)
    while time.monotonic() < deadline:
        replies = [m for m in outbox.sent()[before:] if m["channel"] == "sms" and sender in m["to"]]
        if replies:
            print(json.dumps(replies[-1], ensure_ascii=False, indent=1))
            return 0
        time.sleep(0.5)
    if args.wait:
        print("no reply yet (the local pump runs the sms_inbound consumer): see `python -m chalicelib.cli outbox`",
              file=sys.stderr)
    return 0
