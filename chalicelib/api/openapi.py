"""/openapi.json, built from the operation registry and the pydantic models that validate requests."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from chalicelib import submission
from chalicelib.api.http import Operation, operations
from chalicelib.schemas import ErrorBody
from chalicelib.submission import SubmissionModel

_ERROR_TEXT = {
    400: "validation_error: details name each bad field",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "invalid_transition, version_conflict or idempotency_conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited (see Retry-After)",
}


def _ref(model: type[BaseModel] | type[SubmissionModel], components: dict[str, Any]) -> dict[str, str]:
    template = "#/components/schemas/{model}"
    if issubclass(model, SubmissionModel):
        schema = submission.json_schema(model, template)
    else:
        schema = model.model_json_schema(ref_template=template)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ] + list(op.parameters)
    if op.auth == "token":
        params.append({"name": "X-Access-Token", "in": "header", "required": True, "schema": {"type": "string"}})
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": op.tags,
        "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.path.lower()).strip('_') or 'root'}",
        "parameters": params,
        "responses": {},
    }
    if op.roles:
        out["x-roles"] = list(op.roles)
    if op.auth == "staff":
        out["security"] = [{"staffJwt": []}]
    if op.openapi_request is not None:
        out["requestBody"] = op.openapi_request
    if op.openapi_responses is not None:
        # Documents in their own shape; the contract's errors the route declares still apply.
        out["responses"] = {**op.openapi_responses}
        for status in sorted(set(op.errors)):
            out["responses"].setdefault(str(status), {
                "description": _ERROR_TEXT.get(status, "error"),
                "content": {"application/json": {"schema": _ref(ErrorBody, components)}}})
        return out
    if op.request is not None:
        out["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": _ref(op.request, components)}}}
    for status, model in op.responses.items():
        content = {op.produces: {"schema": _ref(model, components) if model else {}}}
        if status == 200 and _offers_csv(op):
            content["text/csv"] = {"schema": {"type": "string"}}
        out["responses"][str(status)] = {"description": "OK" if status < 300 else str(status), "content": content}
    error_ref = _ref(ErrorBody, components)
    codes = set(op.errors)
    if op.request is not None:
        codes |= {400, 413, 415}
    if op.auth == "staff":
        codes |= {401, 403}
    for status in sorted(codes):
        out["responses"][str(status)] = {
            "description": _ERROR_TEXT.get(status, "error"),
            "content": {"application/json": {"schema": error_ref}},
        }
        if status == 429:
            out["responses"]["429"]["headers"] = {"Retry-After": {
                "description": "Seconds until the client's window ends", "required": True,
                "schema": {"type": "integer", "minimum": 1}}}
    return out


def _offers_csv(op: Operation) -> bool:
    """A `format` query parameter that allows csv (staff lists, performance) switches the 200 to
    text/csv: document both, or clients and the API fuzzing meet an undocumented content type."""
    return any(p.get("in") == "query" and p.get("name") == "format" and "csv" in (p.get("schema") or {}).get("enum", ())
               for p in op.parameters)


def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for op in operations():
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lapor KBB",
            "version": "1.0.0",
            "description": "Public-complaint service of Kabupaten Bandung Barat (Lapor Kang Hengky). "
            "Errors are {\"error\": {\"code\", \"message\", \"details\"}}; times are ISO 8601 in +07:00.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"staffJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
