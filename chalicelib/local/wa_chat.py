"""`wa-chat`: play a citizen's WhatsApp chat against the local stack, as Meta would deliver it:
each message a signed webhook POST to /channels/whatsapp (X-Hub-Signature-256 with the stack's
WHATSAPP_APP_SECRET), the replies read back from the Graph API stand-in."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request
import uuid
from typing import Any

DEMO_STORY = "Jalan di depan Pasar Lembang berlubang besar sejak minggu lalu, sudah dua motor jatuh."


def _update(sender: str, message: dict[str, Any]) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "6222000000",
                          "phone_number_id": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")},
             "contacts": [{"wa_id": sender, "profile": {"name": "Warga Demo"}}],
             "messages": [{"from": sender, "id": f"wamid.cli.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                           **message}]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}]}).encode()


def _replies_to(sender: str) -> list[dict[str, Any]]:
    from chalicelib.local import outbox

    return [m for m in outbox.whatsapp_sent() if m["to"] == [sender]]


def send(sender: str, message: dict[str, Any], wait: float = 30.0) -> list[str]:
    """POST one message, signed, and wait for the chat's replies; return their texts."""
    from chalicelib.services.whatsapp_webhook import sign

    before = len(_replies_to(sender))
    raw = _update(sender, message)
    api = os.environ.get("LAPOR_API_URL", "http://127.0.0.1:8000").rstrip("/")
    request = urllib.request.Request(f"{api}/channels/whatsapp", data=raw, method="POST", headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(raw, os.environ.get("WHATSAPP_APP_SECRET", "").encode())})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        replies = _replies_to(sender)
        if len(replies) > before:
            time.sleep(0.3)  # a step may answer with two messages
            return [str(m["body"]) for m in _replies_to(sender)[before:]]
        time.sleep(0.2)
    raise TimeoutError("no reply from the chat: is the local stack (its pump) running?")


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def button(reply_id: str, title: str) -> dict[str, Any]:
    return {"type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}}


def demo_photo() -> bytes:
    """A JPEG as a phone takes it, with EXIF (maker, GPS) that the scan strips."""
    import io

    from PIL import Image

    image = Image.new("RGB", (320, 240), (120, 110, 100))
    image.paste((40, 40, 40), (100, 90, 220, 160))  # the hole in the road
    exif = Image.Exif()
    exif[0x010F] = "DemoPhone"
    exif[0x8825] = {1: "S", 2: (6.0, 48.0, 44.0), 3: "E", 4: (107.0, 37.0, 4.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def upload_media(data: bytes, mime: str) -> str:
    """Put a file on the Graph API stand-in as a citizen's phone does before sending it; its id."""
    import requests

    graph = os.environ.get("WHATSAPP_GRAPH_URL", "").rstrip("/")
    number = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
    token = os.environ.get("WHATSAPP_ACCESS_TOKEN", "local-access-token")
    answer = requests.post(f"{graph}/{number}/media", headers={"Authorization": f"Bearer {token}"},
                           files={"file": ("foto.jpg", data, mime)}, data={"messaging_product": "whatsapp"},
                           timeout=30)
    answer.raise_for_status()
    return str(answer.json()["id"])


def demo(sender: str, echo: Any = print) -> str:
    """A whole chat: type, story, kecamatan typed with a typo, a shared location, a photo,
    privacy, kirim."""
    photo = {"type": "image", "image": {"id": upload_media(demo_photo(), "image/jpeg"), "mime_type": "image/jpeg",
                                        "caption": "Lubangnya"}}
    steps = [text("halo"), button("pengaduan", "Pengaduan"), text(DEMO_STORY), text("lembng"),
             {"type": "location", "location": {"latitude": -6.8123, "longitude": 107.6178, "name": "Pasar Lembang"}},
             photo, button("lanjut", "Lanjut"), button("publik", "Publik"), text("kirim")]
    replies: list[str] = []
    for message in steps:
        echo(f"> {json.dumps(message, ensure_ascii=False)}")
        replies = send(sender, message)
        for reply in replies:
            echo("< " + reply.replace("\n", "\n  "))
    found = re.search(r"Nomor laporan: \*(KBB-[A-Z0-9]{4}-[A-Z0-9]{4})\*", "\n".join(replies))
    if not found:
        raise RuntimeError("the chat ended without a tracking id")
    return found.group(1)
