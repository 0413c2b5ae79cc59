"""What the local stack "sent": the emails and SMS that moto's SES and SNS kept (never deployed).

moto in server mode exposes every object it holds at /moto-api/data.json, including SES
`Message` and SNS `SMS`; in-process (tests under mock_aws) the same objects are read directly.
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
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
    return _moto_dump(endpoint) + whatsapp_sent()


def _moto_dump(endpoint: str) -> list[dict[str, Any]]:
    # moto builds this dump from live objects without a lock: a write at the same moment can make
    # it answer 500 once. The next read sees a consistent state.
    for attempt in range(5):
        try:
            with urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/data.json", timeout=30) as resp:
                return _from_model_data(json.loads(resp.read()))
        except urllib.error.HTTPError as err:
            if err.code != 500 or attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    return []


def whatsapp_sent(graph_url: str | None = None) -> list[dict[str, Any]]:
    """The WhatsApp messages the local Graph API stand-in was asked to send."""
    graph_url = graph_url if graph_url is not None else os.environ.get("WHATSAPP_GRAPH_URL", "")
    if not graph_url.startswith("http://127.0.0.1"):  # only the local stand-in keeps a list
        return []
    with urllib.request.urlopen(graph_url.rstrip("/") + "/_standin/sent", timeout=30) as resp:
        return [{"channel": "whatsapp", "id": m.get("id"), "to": [m.get("to")], "subject": None,
                 "body": _whatsapp_text(m), "message": m} for m in json.loads(resp.read())]


def _whatsapp_text(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str((message.get("text") or {}).get("body", ""))
    if message.get("type") == "template":
        return _template_text(message.get("template") or {})
    part = message.get("interactive") or {}
    body = str((part.get("body") or {}).get("text", ""))
    action = part.get("action") or {}
    options = [b["reply"]["title"] for b in action.get("buttons", [])]
    options += [r["title"] for s in action.get("sections", []) for r in s.get("rows", [])]
    return body + ("\n[" + " | ".join(options) + "]" if options else "")


def render(items: list[dict[str, Any]]) -> str:
    if not items:
        return "Nothing sent yet."
    lines = []
    for n, item in enumerate(items, 1):
        to = ", ".join(t for t in item["to"] if t)
        if item["channel"] == "email":
            lines.append(f"#{n} EMAIL to {to}\n   Subject: {item['subject']}")
            lines.extend("   " + line for line in str(item["body"] or "").splitlines())
        elif item["channel"] == "whatsapp":
            lines.append(f"#{n} WHATSAPP to {to}")
            lines.extend("   " + line for line in str(item["body"] or "").splitlines())
        else:
            lines.append(f"#{n} SMS to {to} ({len(item['body'] or '')} chars)\n   {item['body']}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _template_text(template: dict[str, Any]) -> str:
    """A template message as the citizen reads it: the registered body (from the config) filled
    with the parameters sent, under a line naming the template."""
    import re

    from chalicelib.services import whatsapp_outbound

    name = str(template.get("name", ""))
    language = str((template.get("language") or {}).get("code", ""))
    params = [str(p.get("text", "")) for c in template.get("components") or [] if c.get("type") == "body"
              for p in c.get("parameters") or []]
    body = next((str(spec["template"]["body"]) for spec in whatsapp_outbound.config().values()
                 if spec["template"]["name"] == name), None)
    if body is None:
        text = " | ".join(params)
    else:
        text = re.sub(r"\{\{(\d+)\}\}", lambda m: params[int(m.group(1)) - 1] if int(m.group(1)) <= len(params)
                      else m.group(0), body)
    return f"[template {name} ({language})]\n{text}"
