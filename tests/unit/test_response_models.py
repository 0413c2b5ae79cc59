"""The suite-wide response check (tests/response_models.py) fails on what it exists to catch."""
from __future__ import annotations

import json

import pytest

from tests import response_models

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def routes() -> None:
    from chalicelib.api import meta, reference  # noqa: F401  (their @route declarations)


def test_a_body_matching_its_model_passes() -> None:
    response_models.check("GET", "/health", 200, JSON, json.dumps({"status": "ok"}).encode())


def test_a_field_the_model_does_not_document_fails() -> None:
    with pytest.raises(AssertionError, match="extra_forbidden"):
        response_models.check("GET", "/health", 200, JSON, json.dumps({"status": "ok", "debug": 1}).encode())


def test_a_missing_field_fails() -> None:
    with pytest.raises(AssertionError, match="items: missing"):
        response_models.check("GET", "/opds", 200, JSON, b"{}")


def test_a_status_the_route_does_not_declare_fails() -> None:
    with pytest.raises(AssertionError, match="does not declare"):
        response_models.check("GET", "/opds", 202, JSON, json.dumps({"items": []}).encode())


def test_an_error_in_another_shape_fails() -> None:
    with pytest.raises(AssertionError, match="ErrorBody"):
        response_models.check("GET", "/opds", 500, JSON, json.dumps({"message": "oops"}).encode())
    response_models.check("GET", "/opds", 429, JSON, json.dumps(
        {"error": {"code": "rate_limited", "message": "Terlalu sering.", "details": []}}).encode())
