"""Static server for the web client (web/) in the local stack.

Serves the folder as it is, except `config.local.js`, which it answers from memory with this
stack's API URL: nothing is written into the working tree, so several stacks (a developer's
`make run` on 8000/8080 and a test's stack on free ports) never overwrite each other's config.

    python -m chalicelib.local.web_server --port 8080 --api http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import functools
import json
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def config_script(api_url: str) -> bytes:
    """The same shape as web/config.js (window.LAPOR_KBB_CONFIG), overlaid on it."""
    overlay = json.dumps({"apiBase": api_url.rstrip("/"), "auth": {"mode": "local"}})
    return (
        "// Served by the local stack (chalicelib/local/web_server.py): its API URL.\n"
        f"window.LAPOR_CONFIG = Object.assign(window.LAPOR_CONFIG || {{}}, {overlay});\n"
    ).encode()


class Handler(SimpleHTTPRequestHandler):
    config: bytes = b""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.local.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--directory", default=str(WEB_DIR))
    args = parser.parse_args(argv)
    handler = type("ConfiguredHandler", (Handler,), {"config": config_script(args.api)})
    server = ThreadingHTTPServer((args.bind, args.port), functools.partial(handler, directory=args.directory))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
