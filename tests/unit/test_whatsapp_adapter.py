"""The Cloud API message bodies (chalicelib/adapters/whatsapp.py) keep WhatsApp's limits."""
from __future__ import annotations

import pytest

from chalicelib.adapters import whatsapp as graph


def test_text_buttons_and_lists_have_the_documented_shape_and_limits() -> None:
    text = graph.message_payload("62811", "halo")
    assert text == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "62811",
                    "type": "text", "text": {"body": "halo", "preview_url": False}}
    buttons = graph.message_payload("62811", "x" * 2000, buttons=[(str(i), "Judul yang sangat panjang sekali") for i in range(5)])
    part = buttons["interactive"]
    assert part["type"] == "button" and len(part["body"]["text"]) == 1024
    assert len(part["action"]["buttons"]) == 3 and all(len(b["reply"]["title"]) <= 20 for b in part["action"]["buttons"])
    rows = graph.message_payload("62811", "pilih", rows=[(f"kec:{i}", "Nama kecamatan yang panjang") for i in range(12)],
                                 button_label="Kecamatan")
    section = rows["interactive"]["action"]["sections"][0]
    assert rows["interactive"]["type"] == "list" and len(section["rows"]) == 10
    assert all(len(r["title"]) <= 24 for r in section["rows"])


def test_only_http_urls_are_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "t")
    with pytest.raises(graph.GraphError):
        graph._call("GET", "file:///etc/passwd")


def test_the_api_function_does_not_load_the_adapter() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, app\nprint('chalicelib.adapters.whatsapp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2],
                         env={"AWS_DEFAULT_REGION": "ap-southeast-3", "STAGE": "test", "PATH": ""})
    assert out.stdout.split()[0] == "False"


def test_a_template_message_has_the_documented_shape() -> None:
    payload = graph.template_payload("62811", "lapor_kbb_status", "id", ["KBB-AAAA-BBBB", "Selesai", "baris\nbaru\tdan   spasi", ""])
    assert payload["type"] == "template" and payload["to"] == "62811"
    assert payload["template"]["name"] == "lapor_kbb_status" and payload["template"]["language"] == {"code": "id"}
    [body] = payload["template"]["components"]
    # The Cloud API refuses newlines, tabs and runs of spaces in a parameter, and an empty one.
    assert [p["text"] for p in body["parameters"]] == ["KBB-AAAA-BBBB", "Selesai", "baris baru dan spasi", "-"]


def test_every_configured_template_is_documented_and_numbered_as_its_parameters() -> None:
    import re
    from pathlib import Path

    from chalicelib.services import templates, whatsapp_outbound

    docs = (Path(__file__).resolve().parents[2] / "docs" / "CHANNELS.md").read_text()
    assert whatsapp_outbound.config()
    for notice, spec in whatsapp_outbound.config().items():
        assert notice in templates.names()
        approved = spec["template"]
        numbers = sorted({int(n) for n in re.findall(r"\{\{(\d+)\}\}", approved["body"])})
        assert numbers == list(range(1, len(approved["parameters"]) + 1)), notice
        assert f"| `{approved['name']}` | {approved['body']} |" in docs
        assert approved["language"] == "id"


def test_media_of_another_type_or_too_large_is_refused_before_the_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    calls: list[str] = []

    def answer(method: str, url: str, payload: object = None, limit: int | None = None) -> bytes:
        calls.append(url)
        return json.dumps({"url": "http://127.0.0.1/x", "mime_type": "image/gif" if "gif" in url else "image/jpeg",
                           "file_size": 11 if "big" in url else 5}).encode()

    monkeypatch.setattr(graph, "_call", answer)
    for media_id, code in (("gif1", "unsupported"), ("big1", "too_large"), ("../x", "unsupported")):
        with pytest.raises(graph.MediaRefused) as refused:
            graph.download_media(media_id, ("image/jpeg",), 10)
        assert refused.value.code == code
    assert not [c for c in calls if c.endswith("/x")]  # nothing downloaded
