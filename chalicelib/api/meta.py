"""Health and the API's own description."""
from __future__ import annotations

from typing import Any

from chalicelib.api.http import answer, route
from chalicelib.schemas import Out


class Health(Out):
    status: str


@route("/health", "GET", summary="Liveness", tags=["meta"], responses={200: Health})
def health() -> Any:
    return answer({"status": "ok"})


@route("/openapi.json", "GET", summary="This document", tags=["meta"])
def openapi() -> Any:
    from chalicelib.api.openapi import document

    return answer(document())
