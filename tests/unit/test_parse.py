"""chalicelib/validation.py parse_json: the one way a JSON body becomes a value (here the
submission, ReportIn.from_json; chalicelib.schemas.parse for pydantic models), or a 400 in the
contract's shape that names every bad field."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.errors import DomainError
from chalicelib.submission import ReportIn
from tests.conftest import VALID_REPORT


def details(raw: Any) -> list[dict[str, Any]]:
    with pytest.raises(DomainError) as caught:
        ReportIn.from_json(raw)
    assert caught.value.code == "validation_error"
    body = caught.value.body()
    assert body["error"]["code"] == "validation_error"
    return list(body["error"]["details"])


def test_a_valid_body_parses_from_bytes_and_from_text() -> None:
    raw = json.dumps(VALID_REPORT)
    assert ReportIn.from_json(raw.encode()) == ReportIn.from_json(raw)


def test_a_utf8_byte_order_mark_is_tolerated() -> None:
    raw = json.dumps(VALID_REPORT, ensure_ascii=False).encode()
    assert ReportIn.from_json(b"\xef\xbb\xbf" + raw) == ReportIn.from_json(raw)


@pytest.mark.parametrize(("raw", "kind"), [
    (b'{"type": "pengaduan",', "json_invalid"),
    (b"\xff\xfe{}", "json_invalid"),  # not UTF-8
    (json.dumps(VALID_REPORT).replace('"title": "', '"title": "\\ud800').encode(), "json_invalid"),  # lone surrogate
    (json.dumps(VALID_REPORT).encode() + b" trailing", "json_invalid"),
    (b"[1, 2]", "model_type"),
    (b"null", "model_type"),
    (b"12", "model_type"),
    (b"   ", "missing"),
    (None, "missing"),
])
def test_a_body_that_is_no_json_object_gets_one_root_detail(raw: Any, kind: str) -> None:
    assert details(raw) == [{"field": "body", "type": kind, "message": {
        "json_invalid": "isi permintaan bukan JSON yang valid", "model_type": "isi permintaan harus berupa objek JSON",
        "missing": "isi permintaan (JSON) wajib ada"}[kind]}]


def test_every_bad_field_is_named_and_types_are_not_coerced() -> None:
    body = {**VALID_REPORT, "title": 12345, "location": {**VALID_REPORT["location"], "lat": "-6.8"}}
    got = details(json.dumps(body).encode())
    assert {d["field"] for d in got} == {"title", "location.lat"}
