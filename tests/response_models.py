"""Every answer a test gets from the API is checked against what its route declares.

The routes declare a response model per success status (chalicelib/api/, `responses=`), which is
what /openapi.json documents; errors have the contract's one shape (ErrorBody). Installed for the
whole suite by tests/conftest.py, so each of the thousands of requests the tests make is also a
check that the document tells the truth: a field the model lacks (response models forbid extra
fields), a missing one, a wrong type or an error in another shape fails the test that made it.
The API builds each success answer from the same model (`chalicelib.api.http.answer`); checked
again here, a route's undeclared status and every error are covered too.
"""
from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from pydantic import ValidationError

CHECKED: dict[str, int] = {}  # "METHOD path-template status" -> answers checked


@cache
def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")


def operation(method: str, path: str) -> Any | None:
    from chalicelib.api.http import OPERATIONS

    bare = path.split("?", 1)[0]
    for op in OPERATIONS:
        if op.method == method.upper() and _pattern(op.path).match(bare):
            return op
    return None


def check(method: str, path: str, status: int, headers: dict[str, Any], body: bytes) -> None:
    """Raise AssertionError when the answer is not what the route documents."""
    from chalicelib.schemas import ErrorBody

    op = operation(method, path)
    if op is None or op.openapi_responses is not None or method.upper() == "OPTIONS":
        return  # unknown to the registry (404 of the gateway), or documented in its own shape (Open311)
    content_type = str(headers.get("Content-Type") or headers.get("content-type") or "")
    if "json" not in content_type:
        return  # CSV exports, redirects
    model: Any
    if status >= 400:
        model = ErrorBody
    else:
        model = op.responses.get(status)
        assert status in op.responses, (
            f"{method} {op.path} answered {status}, which its route does not declare ({sorted(op.responses)})")
        if model is None:
            return
    try:
        if hasattr(model, "model_validate"):
            model.model_validate(json.loads(body))
        else:  # chalicelib/submission.py's
            from chalicelib.submission import validator

            validator(model).validate_python(json.loads(body))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                             for e in exc.errors(include_input=False, include_url=False)[:40])
        raise AssertionError(f"{method} {op.path} {status} does not match {model.__name__}: {problems}") from None
    key = f"{method.upper()} {op.path} {status}"
    CHECKED[key] = CHECKED.get(key, 0) + 1


def install() -> None:
    """Wrap chalice's test client so every request it makes is checked."""
    from chalice.test import TestHTTPClient

    if getattr(TestHTTPClient.request, "checked", False):
        return
    original = TestHTTPClient.request

    def request(self: Any, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> Any:
        response = original(self, method, path, headers=headers, body=body)
        check(method, path, response.status_code, response.headers, response.body)
        return response

    request.checked = True  # type: ignore[attr-defined]
    TestHTTPClient.request = request  # type: ignore[method-assign]
