"""CORS: the web client's origins, and only they, may call the API from a browser."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import config

DEPLOYED_WEB = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture
def deployed_web(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # As a deployed stage: WEB_ORIGINS from .chalice/config.json, WEB_URL from the stack's outputs.
    monkeypatch.setenv("WEB_ORIGINS", "https://dev.lapor.bandungbaratkab.go.id")
    monkeypatch.setenv("WEB_URL", DEPLOYED_WEB + "/")
    config.reset()
    yield
    config.reset()  # monkeypatch restores the environment after this


def preflight(client: Any, origin: str) -> Any:
    return client.http.request("OPTIONS", "/reports", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,idempotency-key"})


@pytest.mark.usefixtures("deployed_web")
@pytest.mark.parametrize("origin", [DEPLOYED_WEB, "https://dev.lapor.bandungbaratkab.go.id"])
def test_the_web_clients_origins_are_allowed(client: Any, origin: str) -> None:
    answer = preflight(client, origin)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in answer.headers["Access-Control-Allow-Headers"]
    read = client.http.get("/categories", headers={"Origin": origin})
    assert read.headers["Access-Control-Allow-Origin"] == origin and read.headers["Vary"] == "Origin"


@pytest.mark.usefixtures("deployed_web")
@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:8080", DEPLOYED_WEB + ".evil.example"])
def test_other_origins_get_no_cors_headers(client: Any, origin: str) -> None:
    answer = preflight(client, origin)
    assert "Access-Control-Allow-Origin" not in answer.headers
    read = client.http.get("/categories", headers={"Origin": origin})
    assert read.status_code == 200 and "Access-Control-Allow-Origin" not in read.headers
