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
