"""The local stack's web server: web/ as it is, config.local.js from memory (no file written)."""

import json
import re
import threading
import urllib.request
from functools import partial
from http.server import ThreadingHTTPServer

from chalicelib.local import web_server


def test_config_script_has_the_shape_settings_js_reads() -> None:
    body = web_server.config_script("http://127.0.0.1:9123/").decode()
    assert "window.LAPOR_CONFIG = Object.assign(window.LAPOR_CONFIG || {}," in body
    overlay = json.loads(re.search(r"\{\}, (\{.*\})\);", body).group(1))  # type: ignore[union-attr]
    assert overlay == {"apiBase": "http://127.0.0.1:9123", "auth": {"mode": "local"}}


def test_serves_web_and_the_config(tmp_path) -> None:
    (tmp_path / "index.html").write_text("<h1>ok</h1>")
    handler = type("H", (web_server.Handler,), {"config": web_server.config_script("http://api:1")})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/index.html") as r:
            assert r.read() == b"<h1>ok</h1>"
        with urllib.request.urlopen(f"{base}/config.local.js?v=1") as r:
            assert r.headers["Content-Type"].startswith("text/javascript")
            assert b"http://api:1" in r.read()
        assert not (tmp_path / "config.local.js").exists()
    finally:
        server.shutdown()
        server.server_close()
