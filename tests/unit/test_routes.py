"""The lazy route table (chalicelib/api/routes.py) against the routes the modules declare, and what
a cold start loads."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.api import http
from chalicelib.api.routes import MODULES, ROUTES

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_names_every_declared_route_and_its_module() -> None:
    http.operations()  # imports every module of the table
    declared = {(path, method, view.__module__.rsplit(".", 1)[-1]) for (method, path), view in http.VIEWS.items()}
    assert declared == set(ROUTES)
    assert len(ROUTES) == len(set(ROUTES))


def test_the_table_check_fails_on_a_route_missing_from_the_table() -> None:
    """Not vacuous: a route declared in a module but absent from the table breaks the equality."""
    http.operations()
    declared = {(path, method) for (method, path) in http.VIEWS}
    table = {(path, method) for path, method, _ in ROUTES[1:]}
    assert declared != table


def _loaded_after(code: str) -> list[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3", "STAGE": "test"}
    out = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_app_loads_no_route_module_nor_pydantic() -> None:
    loaded = _loaded_after("import app\nassert len(app.app.routes) >= 10")
    assert "pydantic" not in loaded
    assert not [m for m in loaded if m.startswith(("chalicelib.services", "chalicelib.schemas"))]
    assert not [m for m in loaded if m.startswith("chalicelib.api.") and m.rsplit(".", 1)[-1] in MODULES]


def test_a_submission_is_checked_without_loading_pydantic() -> None:
    """POST /reports is many cold containers' first request: its module, the intake service and
    the body's validation load pydantic-core but not pydantic (chalicelib/submission.py)."""
    code = ("import json, app\nfrom chalice.test import Client\nfrom tests.conftest import VALID_REPORT\n"
            "from chalicelib.services import intake\nfrom chalicelib.submission import ReportIn\n"
            "assert ReportIn.from_json(json.dumps(VALID_REPORT)).title == VALID_REPORT['title']\n"
            "with Client(app.app) as c:\n"
            "    r = c.http.post('/reports', body=json.dumps({'type': 'lainnya'}),"
            " headers={'Content-Type': 'application/json'})\n"
            "    assert r.status_code == 400 and r.json_body['error']['details'], r.body")
    loaded = _loaded_after(code)
    assert "chalicelib.api.submissions" in loaded and "pydantic_core" in loaded
    assert "pydantic" not in loaded and "chalicelib.schemas" not in loaded


def test_a_route_loads_its_own_module_on_its_first_call() -> None:
    code = ("import app\nfrom chalice.test import Client\n"
            "with Client(app.app) as c:\n    r = c.http.get('/health')\n    assert r.status_code == 200, r.body")
    loaded = _loaded_after(code)
    assert "chalicelib.api.meta" in loaded
    assert "chalicelib.api.staff" not in loaded and "chalicelib.api.citizen" not in loaded
