"""The local stack's web server: web/ as it is, config.local.js from memory (no file written)."""

import json
import re
import threading
import urllib.error
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


# ---- Content-Security-Policy -------------------------------------------------------------------

def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_policy_is_strict_and_names_each_host() -> None:
    policy = _directives(web_server.content_security_policy(
        "http://127.0.0.1:8000/", ["http://127.0.0.1:5000/bucket/x"], "https://kbb.auth.example.com",
        "https://tiles.example.org"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert not any("unsafe" in s or s in ("*", "data:", "https:") for v in policy.values() for s in v)
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8000", "http://127.0.0.1:5000", "https://kbb.auth.example.com"]
    assert policy["img-src"] == ["'self'", "blob:", "https://tiles.example.org", "http://127.0.0.1:5000"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_served_with_the_policy_and_security_headers(tmp_path) -> None:
    (tmp_path / "index.html").write_text("<h1>ok</h1>")
    (tmp_path / "manifest.webmanifest").write_text("{}")
    csp = web_server.content_security_policy("http://api:1", ["http://s3:2"])
    handler = type("H", (web_server.Handler,), {"config": b"", "csp": csp})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/index.html") as r:
            assert r.headers["Content-Security-Policy"] == csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(f"{base}/manifest.webmanifest") as r:
            assert r.headers["Content-Type"] == "application/manifest+json"
    finally:
        server.shutdown()
        server.server_close()


def _render(value, params: dict[str, str]) -> str:
    """A CloudFormation string expression with Refs/Subs filled in by name (If: its true branch)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_render(v, params) for v in value)
    (fn, arg), = value.items()
    if fn == "Ref":
        return params.get(arg, arg)
    if fn == "Fn::Sub":
        return re.sub(r"\$\{([^}]+)\}", lambda m: params.get(m.group(1), m.group(1)), arg)
    if fn == "Fn::If":
        return _render(arg[1], params)
    if fn == "Fn::Join":
        return arg[0].join(_render(v, params) for v in arg[1])
    raise AssertionError(f"unexpected {fn}")


def test_cloudfront_serves_the_same_policy_as_the_local_server() -> None:
    from infra.package import OPERATIONS, RESOURCES, load_cfn

    ops = load_cfn(OPERATIONS)
    res = ops["Resources"]
    config = res["WebResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    cfn = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert cfn["Override"] is True
    params = {"MapTileOrigin": ops["Parameters"]["MapTileOrigin"]["Default"], "AWS::Region": "ap-southeast-3",
              "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "123", "Stage": "dev"}
    deployed = _directives(_render(cfn["ContentSecurityPolicy"], params))
    api = "https://*.execute-api.ap-southeast-3.amazonaws.com"
    cognito = "https://lapor-kbb-dev-123.auth.ap-southeast-3.amazoncognito.com"
    buckets = [f"https://lapor-kbb-dev-{b}-123.s3{region}.amazonaws.com"
               for b in ("quarantine", "attachments") for region in (".ap-southeast-3", "")]
    local = _directives(web_server.content_security_policy(api, buckets, cognito, params["MapTileOrigin"]))
    assert {k: sorted(v) for k, v in deployed.items()} == {k: sorted(v) for k, v in local.items()}
    # The hosts spelled out are the resources' real names.
    res_yaml = load_cfn(RESOURCES)["Resources"]
    assert res_yaml["QuarantineBucket"]["Properties"]["BucketName"] == {"Fn::Sub": "lapor-kbb-${Stage}-quarantine-${AWS::AccountId}"}
    assert res_yaml["AttachmentsBucket"]["Properties"]["BucketName"] == {"Fn::Sub": "lapor-kbb-${Stage}-attachments-${AWS::AccountId}"}
    assert res["UserPoolDomain"]["Properties"]["Domain"] == {"Fn::Sub": "lapor-kbb-${Stage}-${AWS::AccountId}"}
    # Both behaviours (the site and config.js) carry it.
    dist = res["WebDistribution"]["Properties"]["DistributionConfig"]
    for behaviour in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebResponseHeaders"}


def test_text_is_sent_gzip_compressed_and_revalidated(tmp_path) -> None:
    import gzip

    (tmp_path / "app.js").write_text("console.log('x');\n" * 200)
    (tmp_path / "a.png").write_bytes(b"\x89PNG....")
    handler = type("H", (web_server.Handler,), {"config": b"", "csp": ""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        req = urllib.request.Request(f"{base}/app.js", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert r.headers["Content-Type"] == "text/javascript"
            assert gzip.decompress(r.read()) == (tmp_path / "app.js").read_bytes()
            modified = r.headers["Last-Modified"]
        again = urllib.request.Request(f"{base}/app.js", headers={"Accept-Encoding": "gzip", "If-Modified-Since": modified})
        try:
            urllib.request.urlopen(again)
            raise AssertionError("expected 304")
        except urllib.error.HTTPError as exc:
            assert exc.code == 304
        png = urllib.request.Request(f"{base}/a.png", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(png) as r:
            assert r.headers["Content-Encoding"] is None
    finally:
        server.shutdown()
        server.server_close()
