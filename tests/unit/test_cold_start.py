"""The collector through a cold start (chalicelib/cold_start.py), in a fresh interpreter each."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> dict[str, object]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3", "STAGE": "test"}
    out = subprocess.run([sys.executable, "-c", f"import gc, json\nseen = {{}}\n{code}\nprint(json.dumps(seen))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_collector_runs_rarely_until_the_first_event_then_as_usual_over_a_frozen_heap() -> None:
    seen = _run("usual = gc.get_threshold()\n"
                "import app\nfrom chalice.test import Client\n"
                "seen['importing'] = gc.get_threshold()[0]\n"
                "seen['frozen_before'] = gc.get_freeze_count()\n"
                "with Client(app.app) as c:\n"
                "    assert c.http.get('/health').status_code == 200\n"
                "    seen['after_first'] = gc.get_threshold() == usual\n"
                "    seen['frozen_after_first'] = gc.get_freeze_count()\n"
                "    assert c.http.get('/health').status_code == 200\n"
                "    seen['frozen_after_second'] = gc.get_freeze_count()\n")
    assert seen["importing"] == 100_000 and seen["frozen_before"] == 0
    assert seen["after_first"] is True
    # Everything the import and the first call made is frozen, once (frozen objects may still be
    # freed by their reference counts, so the count can only fall): later garbage is collected.
    assert seen["frozen_after_first"] > 20_000  # type: ignore[operator]
    assert seen["frozen_after_second"] <= seen["frozen_after_first"]  # type: ignore[operator]


def test_a_first_event_that_fails_still_ends_the_cold_start() -> None:
    seen = _run("usual = gc.get_threshold()\n"
                "import app\nfrom chalice.test import Client\n"
                "seen['before_first'] = gc.get_threshold()[0]\n"
                "with Client(app.app) as c:\n"
                "    r = c.http.post('/reports', body='{', headers={'Content-Type': 'application/json'})\n"
                "    seen['status'] = r.status_code\n"
                "seen['after_first'] = gc.get_threshold() == usual and gc.get_freeze_count() > 0\n")
    assert seen == {"before_first": 100_000, "status": 400, "after_first": True}
