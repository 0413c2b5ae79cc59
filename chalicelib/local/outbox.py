"""What the local stack "sent": the emails and SMS that moto's SES and SNS kept (never deployed).

moto in server mode exposes every object it holds at /moto-api/data.json, including SES
`Message` and SNS `SMS`; in-process (tests under mock_aws) the same objects are read directly.
"""
from __future__ import annotations

import json
import os
import urllib.request
from typing import Any


def _from_model_data(data: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in data.get("ses", {}).get("Message", []):
        dest = m.get("destinations") or {}
        to = [*dest.get("ToAddresses", []), *dest.get("CcAddresses", []), *dest.get("BccAddresses", [])]
        out.append({"channel": "email", "id": m.get("id"), "from": m.get("source"), "to": to,
                    "subject": m.get("subject"), "body": m.get("body")})
    for s in data.get("sns", {}).get("SMS", []):
        out.append({"channel": "sms", "id": s.get("message_id"), "to": [s.get("phone_number")],
                    "subject": None, "body": s.get("message")})
    return out


def _in_process() -> dict[str, Any]:
    from moto.core.model_instances import model_data

    wanted = {("ses", "Message"), ("sns", "SMS")}
    data: dict[str, Any] = {}
    for service, models in model_data.items():
        for name, model in models.items():
            if (service, name) not in wanted:
                continue
            rows = []
            for inst in getattr(model, "instances_tracked", []):
                rows.append({k: getattr(inst, k, None) for k in
                             ("id", "source", "destinations", "subject", "body", "message_id",
                              "phone_number", "message")})
            data.setdefault(service, {})[name] = rows
    return data


def sent(endpoint: str | None = None) -> list[dict[str, Any]]:
    """Every email and SMS sent, oldest first: {"channel", "id", "to", "subject", "body"}."""
    endpoint = endpoint if endpoint is not None else os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        return _from_model_data(_in_process())
    with urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/data.json", timeout=30) as resp:
        return _from_model_data(json.loads(resp.read()))


def render(items: list[dict[str, Any]]) -> str:
    if not items:
        return "Nothing sent yet."
    lines = []
    for n, item in enumerate(items, 1):
        to = ", ".join(t for t in item["to"] if t)
        if item["channel"] == "email":
            lines.append(f"#{n} EMAIL to {to}\n   Subject: {item['subject']}")
            lines.extend("   " + line for line in str(item["body"] or "").splitlines())
        else:
            lines.append(f"#{n} SMS to {to} ({len(item['body'] or '')} chars)\n   {item['body']}")
        lines.append("")
    return "\n".join(lines).rstrip()
