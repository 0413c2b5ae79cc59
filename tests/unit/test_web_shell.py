"""The web client's offline shell: the service worker caches every file the app needs, and the
page preloads every module (so nothing is missing offline and no import waits for another)."""

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"


def _shell() -> set[str]:
    text = (WEB / "sw.js").read_text()
    block = re.search(r"const SHELL = \[(.*?)\];", text, re.S).group(1)  # type: ignore[union-attr]
    return set(re.findall(r"'([^']+)'", block))


def test_service_worker_caches_every_module_style_and_vendor_file() -> None:
    # Every script, style and data file; of the icons, the ones the pages show (Leaflet only once used).
    needed = {p.relative_to(WEB).as_posix() for p in WEB.rglob("*")
              if p.suffix in {".js", ".css", ".json", ".png"} and p.parent.name != "icons"
              and p.name not in {"sw.js", "config.local.js"} and "vendor" not in p.parts}
    needed |= {"icons/icon-192.png", "icons/icon-512.png", "icons/favicon-32.png", "index.html", "config.js"}
    shell = _shell()
    assert not needed - shell, f"add to web/sw.js SHELL: {sorted(needed - shell)}"
    assert all((WEB / s).exists() for s in shell - {"./"}), "SHELL names a file that does not exist"


def test_index_preloads_every_module() -> None:
    html = (WEB / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
    modules = {p.relative_to(WEB).as_posix() for p in (WEB / "js").rglob("*.js")} - {"js/app.js"}
    assert preloaded == modules
