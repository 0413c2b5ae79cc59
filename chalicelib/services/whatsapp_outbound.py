"""WhatsApp messages to a reporter outside a chat turn: the notifier's status changes,
`request_info` questions and the OPD's answers, for reports filed through the WhatsApp chat.

WhatsApp allows a free-form message only within 24 hours of the citizen's last message to us;
after that only a template message approved by Meta. Both forms of each message are configured
in chalicelib/config/whatsapp_templates.json (the free text, and the template's name, language
and parameter order), so a template renamed or re-registered at Meta is a config change. The
window is read when the message goes out (the chat's item, chalicelib/data/whatsapp_chats.py),
not when it was planned: a retry an hour later decides again.
"""
from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.adapters.mail import Outgoing

CONFIG_FILE = Path(__file__).resolve().parents[1] / "config" / "whatsapp_templates.json"


@cache
def config() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return {name: spec for name, spec in data.items() if not name.startswith("_")}


def phone_number_id() -> str:
    """The business number's id (Meta's phone number id). Unset: WhatsApp sends nothing and the
    reporter is told by SMS, as before the channel was connected."""
    return os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "").strip()


def outgoing(template: str, phone: str, values: dict[str, Any]) -> Outgoing | None:
    """The WhatsApp message for notification `template`, or None when none is configured."""
    from chalicelib.services import templates

    spec = config().get(template)
    if spec is None or not phone_number_id():
        return None
    approved = spec["template"]
    parameters = tuple(str(values.get(name) or "-") for name in approved["parameters"])
    return Outgoing("whatsapp", phone, templates.fill(spec["text"], values),
                    template=(str(approved["name"]), str(approved["language"]), parameters))


class WhatsappSender:
    channel = "whatsapp"

    def send(self, message: Outgoing) -> str:
        from chalicelib.adapters import contact_key
        from chalicelib.adapters import whatsapp as graph
        from chalicelib.data import whatsapp_chats
        from chalicelib.domain import identity

        number = "+" + message.to.lstrip("+")
        if whatsapp_chats.window_open(identity.contact_hash(contact_key.key(), "phone", number)):
            payload = graph.message_payload(number[1:], message.body)
        elif message.template is not None:
            name, language, parameters = message.template
            payload = graph.template_payload(number[1:], name, language, list(parameters))
        else:
            raise ValueError("a WhatsApp message outside the 24-hour window needs a template")
        return graph.send(phone_number_id(), payload)
