"""Static server for the web client (web/) in the local stack: `config.local.js` is answered from
memory with this stack's API URL, and every answer carries the same Content-Security-Policy as
CloudFront's, built from this stack's hosts (docs: web/README.md).

    python -m chalicelib.local.web_server --port 8080 --api http://127.0.0.1:8000 \
        --upload http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import email.utils
import functools
import gzip
import json
import os
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
# The map tiles' host; web/js/settings.js has the same default tile URL.
DEFAULT_TILES = "https://tile.openstreetmap.org"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(api: str, uploads: list[str], cognito: str | None = None,
                            tiles: str = DEFAULT_TILES) -> str:
    """The web client's policy: its own files only, no inline script or style; it talks to the API,
    the upload storage (presigned POST) and Cognito's token endpoint; images from itself, blob:
    (photo previews), the tiles and the storage's download links; never framed."""
    hosts = [_origin(u) for u in uploads]
    connect = ["'self'", _origin(api), *hosts] + ([_origin(cognito)] if cognito else [])
    img = ["'self'", "blob:", _origin(tiles), *hosts]
    directives = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        f"img-src {' '.join(dict.fromkeys(img))}", f"connect-src {' '.join(dict.fromkeys(connect))}",
        "font-src 'self'", "manifest-src 'self'", "worker-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json", "image/svg+xml")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}


def config_script(api_url: str) -> bytes:
    """The same shape as web/config.js (window.LAPOR_KBB_CONFIG), overlaid on it."""
    overlay = json.dumps({"apiBase": api_url.rstrip("/"), "auth": {"mode": "local"}})
    return (
        "// Served by the local stack (chalicelib/local/web_server.py): its API URL.\n"
        f"window.LAPOR_CONFIG = Object.assign(window.LAPOR_CONFIG || {{}}, {overlay});\n"
    ).encode()


class Handler(SimpleHTTPRequestHandler):
    config: bytes = b""
    csp: str = ""
    extensions_map = {  # noqa: RUF012 (the base class declares it a plain class attribute)
        **SimpleHTTPRequestHandler.extensions_map,
        ".webmanifest": "application/manifest+json", ".js": "text/javascript", ".mjs": "text/javascript"}

    def end_headers(self) -> None:
        # Revalidated on every use (a 304 when unchanged): an edit shows at the next reload, and the
        # service worker's copy of an unchanged file costs no second download.
        self.send_header("Cache-Control", "no-cache")
        if self.csp:
            self.send_header("Content-Security-Policy", self.csp)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.local.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            self.wfile.write(self.config)
            return
        if self._send_compressed():
            return
        super().do_GET()

    def _send_compressed(self) -> bool:
        """Text files gzip-compressed when the browser accepts it, as CloudFront (Compress: true)
        sends them, so the browser tests measure what a phone downloads."""
        if "gzip" not in self.headers.get("Accept-Encoding", ""):
            return False
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        ctype = self.guess_type(path)
        if not os.path.isfile(path) or not ctype.startswith(COMPRESSIBLE):
            return False
        mtime = int(os.path.getmtime(path))
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                if int(email.utils.parsedate_to_datetime(since).timestamp()) >= mtime:
                    self.send_response(304)
                    self.end_headers()
                    return True
            except (TypeError, ValueError):
                pass
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Last-Modified", self.date_time_string(mtime))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--upload", action="append", default=[],
                        help="origin of the presigned upload/download URLs (repeatable; default: the API's)")
    parser.add_argument("--cognito", default=None, help="Cognito hosted-UI domain, when staff sign in there")
    parser.add_argument("--tiles", default=DEFAULT_TILES, help="origin of the map tiles")
    parser.add_argument("--directory", default=str(WEB_DIR))
    args = parser.parse_args(argv)
    csp = content_security_policy(args.api, args.upload or [args.api], args.cognito, args.tiles)
    handler = type("ConfiguredHandler", (Handler,), {"config": config_script(args.api), "csp": csp})
    server = ThreadingHTTPServer((args.bind, args.port), functools.partial(handler, directory=args.directory))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
