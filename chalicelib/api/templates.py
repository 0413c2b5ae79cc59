"""Canned answers for the staff action form: listed for a report's category and action, edited by
admins (chalicelib/services/reply_templates.py)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.api.http import answer, current_request, query, route
from chalicelib.auth import principal_of
from chalicelib.schemas import Out, Strict, parse
from chalicelib.services import reply_templates


class ReplyTemplate(Out):
    id: str
    category: str | None = Field(description="null: for every category")
    action: str = Field(description="request_info | reject | respond")
    title: str
    text: str
    updated_at: str | None


class ReplyTemplates(Out):
    items: list[ReplyTemplate]


class ReplyTemplateIn(Strict):
    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(default=None, max_length=60, description="a category code; null for every category")
    action: Literal["request_info", "reject", "respond"]
    title: str = Field(min_length=3, max_length=80)
    text: str = Field(min_length=10, max_length=2000)


_LIST_PARAMS = [
    {"name": "category", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "the report's category: its templates and the general ones"},
    {"name": "action", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(reply_templates.ACTIONS)}},
]


@route("/staff/templates", "GET", summary="Canned answers for a category and action", tags=["staff"],
       auth="staff", roles=("admin", "opd"), responses={200: ReplyTemplates}, errors=(400,), parameters=_LIST_PARAMS)
def list_templates() -> Any:
    params = query(current_request())
    return answer({"items": reply_templates.listing(params.get("category") or None,
                                                            params.get("action") or None)})


@route("/staff/templates/{template_id}", "PUT", summary="Create or change a canned answer (admin)", tags=["staff"],
       auth="staff", roles=("admin",), request=ReplyTemplateIn, responses={200: ReplyTemplate}, errors=(400, 409))
def put_template(template_id: str) -> Any:
    request = current_request()
    body = parse(ReplyTemplateIn, request.raw_body)
    return answer(reply_templates.put(template_id, body.model_dump(), principal_of(request).sub))


@route("/staff/templates/{template_id}", "DELETE", summary="Remove a canned answer (admin)", tags=["staff"],
       auth="staff", roles=("admin",), responses={200: ReplyTemplate}, errors=(404, 409))
def delete_template(template_id: str) -> Any:
    return answer(reply_templates.remove(template_id, principal_of(current_request()).sub))
