"""Turning a request body into a validated value, and pydantic-core's errors into the contract's
400: one Indonesian phrase per error type, the field named. Imports pydantic-core only, so the
submission (chalicelib/submission.py) uses it without loading pydantic."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic_core import ValidationError

from chalicelib.domain.errors import validation_error

T = TypeVar("T")


def field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    return ".".join(parts) or "body"


# pydantic's own error types, said in Indonesian; `type` stays pydantic's (clients key on it).
_MESSAGES: dict[str, str] = {
    "missing": "wajib diisi",
    "extra_forbidden": "kolom ini tidak dikenal",
    "string_type": "harus berupa teks",
    "string_too_short": "minimal {min_length} karakter",
    "string_too_long": "maksimal {max_length} karakter",
    "string_pattern_mismatch": "bentuknya tidak sesuai",
    "int_type": "harus berupa bilangan bulat",
    "int_parsing": "harus berupa bilangan bulat",
    "int_from_float": "harus berupa bilangan bulat",
    "float_type": "harus berupa angka",
    "float_parsing": "harus berupa angka",
    "bool_type": "harus true atau false",
    "bool_parsing": "harus true atau false",
    "literal_error": "harus salah satu dari: {expected}",
    "enum": "harus salah satu dari: {expected}",
    "greater_than": "harus lebih dari {gt}",
    "greater_than_equal": "minimal {ge}",
    "less_than": "harus kurang dari {lt}",
    "less_than_equal": "maksimal {le}",
    "list_type": "harus berupa daftar",
    "too_short": "minimal {min_length} butir",
    "too_long": "maksimal {max_length} butir",
    "date_type": "harus tanggal YYYY-MM-DD",
    "date_parsing": "harus tanggal YYYY-MM-DD",
    "date_from_datetime_parsing": "harus tanggal YYYY-MM-DD",
    "date_from_datetime_inexact": "harus tanggal YYYY-MM-DD",
    "dict_type": "harus berupa objek JSON",
    "model_type": "harus berupa objek JSON",
    "model_attributes_type": "harus berupa objek JSON",
    "union_tag_invalid": "harus salah satu dari: {expected_tags}",
    "union_tag_not_found": "kolom {discriminator} wajib diisi",
    "json_invalid": "bukan JSON yang valid",
}


def message_of(err: Any) -> str:
    """One pydantic error in Indonesian: our validators' own text, else the type's phrase."""
    if err["type"] == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    phrase = _MESSAGES.get(err["type"])
    if phrase is None:
        return "nilainya tidak valid"
    try:
        return phrase.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return phrase.split(":")[0]


def details_of(exc: ValidationError, tag: str | None = None) -> list[dict[str, Any]]:
    """Each error with its field's name. `tag`: the body is a union picked by that field, whose
    errors pydantic places under the member's tag value (("verify", "opd_code") -> "opd_code")."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = err["loc"]
        if tag is not None:
            loc = loc[1:] if err["type"] not in ("union_tag_invalid", "union_tag_not_found") else (tag,)
        out.append({"field": field_name(loc), "message": message_of(err), "type": err["type"]})
    return out


_BODY_PROBLEMS = {"json_invalid": "isi permintaan bukan JSON yang valid",
                  "model_type": "isi permintaan harus berupa objek JSON"}


def parse_json(validate_json: Callable[..., T], raw: bytes | str | None, tag: str | None = None) -> T:
    """Validate a JSON body with `validate_json` (a model's or a SchemaValidator's), or raise a 400
    naming every bad field. `tag`: see `details_of`.

    pydantic-core reads the raw bytes itself (no json.loads/dumps round trip on the hot path); a
    body that is no JSON, or no object, fails at the root and gets one detail that says so."""
    if raw is None or (isinstance(raw, (bytes, str)) and not raw.strip()):
        raise validation_error([{"field": "body", "message": "isi permintaan (JSON) wajib ada", "type": "missing"}])
    if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark, as json.loads tolerates it on bytes
    try:
        # strict: JSON types are not coerced ("5" is not a number, 1 is not a string).
        return validate_json(raw, strict=True)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            if not err["loc"] and err["type"] in _BODY_PROBLEMS:
                raise validation_error([{"field": "body", "message": _BODY_PROBLEMS[err["type"]],
                                         "type": err["type"]}]) from None
        raise validation_error(details_of(exc, tag)) from None
