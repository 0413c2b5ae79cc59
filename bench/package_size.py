"""package_zip_mb: the API's deployment package, built as `make package` builds it (infra/package.py
--stage dev), into build/bench-package so that a `make package` running meanwhile is left alone.
MB = 10^6 bytes (Lambda's limits are quoted in MB: 50 zipped for a direct upload)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench-package"


def run() -> dict[str, float]:
    proc = subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--stage", "dev", "--out", str(OUT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"packaging failed:\n{proc.stdout}\n{proc.stderr}")
    out = {"package_zip_mb": (OUT / "deployment.zip").stat().st_size / 1e6}
    for layer in sorted(OUT.glob("layer-*.zip")):
        out[f"package_{layer.stem.replace('-', '_')}_mb"] = layer.stat().st_size / 1e6
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v:.2f}")
