"""HTTP plumbing shared by every route: the operation registry (which feeds /openapi.json), the
lazy route table, the middleware that enforces the contract's error shape, body limit and CORS,
and JSON answers."""
from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice import Response
from chalice.app import Chalice, ChaliceUnhandledError, Request

from chalicelib.api.routes import CONTENT_TYPES, MODULES, OPEN311_PREFIX, ROUTES
from chalicelib.config import settings
from chalicelib.domain import errors
from chalicelib.domain.errors import DomainError
from chalicelib.observability import logger

if TYPE_CHECKING:  # pydantic is loaded by the route modules, not by every cold start
    from pydantic import BaseModel

    from chalicelib.submission import SubmissionModel

JSON = "application/json"
INTERNAL_MESSAGE = "Terjadi kesalahan di sistem kami dan sudah dicatat; coba lagi nanti."


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    tags: list[str]
    request: type[BaseModel] | type[SubmissionModel] | None = None
    # The model each success answer is built from (`answer`); None: a body of its own shape.
    responses: dict[int, type[BaseModel] | type[SubmissionModel] | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    auth: str | None = None  # None, "token" (reporter's X-Access-Token), "staff" (JWT)
    roles: tuple[str, ...] = ()  # staff roles allowed by the route (the data may narrow it)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    content_types: tuple[str, ...] = (JSON,)
    produces: str = JSON
    # Documents in their own shape (Open311: XML or JSON by extension, the spec's errors), as
    # OpenAPI objects used verbatim instead of the ones built from the models.
    openapi_responses: dict[str, Any] | None = None
    openapi_request: dict[str, Any] | None = None


OPERATIONS: list[Operation] = []
VIEWS: dict[tuple[str, str], Callable[..., Any]] = {}  # (method, path) -> the guarded view
_APP: list[Chalice] = []


def register(app: Chalice) -> None:
    """Give Chalice every route of chalicelib/api/routes.py without importing its module: each
    function of this app imports app.py at cold start, and a queue consumer needs no route, an API
    call only its own route's module (pydantic and the services it uses). The first call of a route
    imports its module, whose @route declarations fill VIEWS."""
    _APP[:] = [app]
    for path, method, module in ROUTES:
        types = list(CONTENT_TYPES.get((path, method), (JSON,)))
        app.route(path, methods=[method], content_types=types, name=_view_name(method, path))(
            _lazy_view(method, path, module))


def _view_name(method: str, path: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in path.strip("/")) or "root"
    return f"{method.lower()}_{slug}"


def _lazy_view(method: str, path: str, module: str) -> Callable[..., Any]:
    def view(**params: Any) -> Any:
        target = VIEWS.get((method, path))
        if target is None:
            importlib.import_module(f"chalicelib.api.{module}")
            target = VIEWS[(method, path)]
        try:
            return target(**params)
        except DomainError as exc:
            raise _Refused(exc) from exc

    view.__name__ = _view_name(method, path)
    return view


def current_request() -> Request:
    request = _APP[0].current_request if _APP else None
    if request is None:
        raise RuntimeError("no request: the app is not registered (chalicelib.api.http.register)")
    return request


def operations() -> list[Operation]:
    """Every documented operation: imports every route module (OpenAPI, route tests)."""
    for module in MODULES:
        importlib.import_module(f"chalicelib.api.{module}")
    return OPERATIONS


def route(path: str, method: str, *, summary: str, tags: list[str],
          request: type[BaseModel] | type[SubmissionModel] | None = None,
          responses: dict[int, type[BaseModel] | type[SubmissionModel] | None] | None = None,
          errors: tuple[int, ...] = (), auth: str | None = None, roles: tuple[str, ...] = (),
          parameters: list[dict[str, Any]] | None = None,
          produces: str = JSON, rate_limit: str | None = None,
          openapi_responses: dict[str, Any] | None = None,
          openapi_request: dict[str, Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Chalice route and document it in the same breath.

    `rate_limit` names a per-client limit counted before the handler runs (see
    chalicelib/services/rate_limits.py). Every tracking-token route (auth="token") counts as a
    lookup without saying so: guessing tokens must be slow whichever route is tried.
    """
    scope = rate_limit or ("lookups" if auth == "token" else None)
    if scope and 429 not in errors:
        errors = (*errors, 429)
    op = Operation(path, method.upper(), summary, tags, request, responses or {200: None}, errors, auth,
                   roles, parameters or [], produces=produces, openapi_responses=openapi_responses,
                   openapi_request=openapi_request)
    if auth == "staff" and not roles:
        raise ValueError(f"{method} {path}: a staff route must name the roles it admits")
    if (op.method, path) in VIEWS:
        raise ValueError(f"{method} {path}: declared twice")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        view = _built(fn, op)
        view = _tracking_id_checked(view) if "{tracking_id}" in path else view
        view = _staff_guard(view, op.roles) if auth == "staff" else view
        if scope:
            view = _rate_limited(view, scope)
        OPERATIONS.append(op)
        VIEWS[(op.method, path)] = view
        return fn

    return wrap


def _staff_guard(fn: Callable[..., Any], roles: tuple[str, ...]) -> Callable[..., Any]:
    """The declared `auth="staff", roles=(...)` IS the check: the token is verified and the role
    matched before the handler runs (chalicelib.auth), so no staff route can forget it."""
    from chalicelib import auth

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        auth.require(current_request(), roles)
        return fn(*args, **kwargs)

    return guarded


def _tracking_id_checked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A path id that cannot be a tracking id is a 404 before any read (a key of kilobytes would
    otherwise reach DynamoDB, which refuses it as a 500). After the token/role checks and the
    rate limit, so guessing stays as slow and as unauthenticated as before."""
    from chalicelib.domain.errors import not_found
    from chalicelib.domain.tracking import is_tracking_id

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not is_tracking_id(str(kwargs.get("tracking_id", ""))):
            raise not_found("Tidak ada laporan dengan nomor ini.")
        return fn(*args, **kwargs)

    return checked


def _rate_limited(fn: Callable[..., Any], scope: str) -> Callable[..., Any]:
    from chalicelib.services import rate_limits

    @functools.wraps(fn)
    def limited(*args: Any, **kwargs: Any) -> Any:
        rate_limits.check(scope, client_ip(current_request()))
        return fn(*args, **kwargs)

    return limited


def client_ip(request: Request) -> str | None:
    """The client's address as the abuse limits see it (chalicelib/services/rate_limits.py)."""
    from chalicelib.services import rate_limits

    return rate_limits.client_of(request.context, request.headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as it is (errors, the middleware's answers); a route answers with `answer`."""
    return Response(
        body=_dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class _Unbuilt:
    """A route's answer before `_built` passes it through its model."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A route's JSON answer, built from the response model its route declares for `status` when
    the handler returns (`_built`): a field the model does not declare never leaves."""
    return Response(body=_Unbuilt(body), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def _built(fn: Callable[..., Any], op: Operation) -> Callable[..., Any]:
    @functools.wraps(fn)
    def built(*args: Any, **kwargs: Any) -> Any:
        response = fn(*args, **kwargs)
        if isinstance(response, Response) and isinstance(response.body, _Unbuilt):
            response.body = build(op.responses.get(response.status_code), response.body.value)
        return response

    return built


def build(model: Any, value: Any) -> str:
    """`value` as JSON text, through `model` (a pydantic model or one of chalicelib/submission.py's;
    None: as it is). An answer its model refuses is our bug: a 500 whose log names the fields,
    never their values (they may be personal data)."""
    if model is None:
        return _dumps(value)
    from pydantic_core import ValidationError

    try:
        if hasattr(model, "model_validate"):
            return str(model.model_validate(value).model_dump_json())
        from chalicelib import submission

        return submission.dumps(model, value)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                          for e in exc.errors(include_input=False, include_url=False)[:20])
        raise RuntimeError(f"answer does not match {model.__name__}: {where}") from None


# The one place where a domain error becomes an HTTP status.
STATUS: dict[type[DomainError], int] = {
    errors.Invalid: 400, errors.Unauthenticated: 401, errors.Forbidden: 403, errors.NotFound: 404,
    errors.InvalidTransition: 409, errors.VersionConflict: 409, errors.Conflict: 409, errors.TooLarge: 413,
    errors.UnsupportedMedia: 415, errors.RateLimited: 429, errors.Internal: 500, errors.Unavailable: 503,
}


def status_of(exc: DomainError) -> int:
    return next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 500)


def retry_headers(exc: DomainError) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}


def error_response(exc: DomainError) -> Response:
    return json_response(exc.body(), status_of(exc), retry_headers(exc))


class _Refused(ChaliceUnhandledError):
    """Carries a domain error past Chalice's view wrapper, which answers any other exception with
    its own 500, to the middleware that maps it."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


def header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value if value is None else str(value)


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{8,128}$")


# The header as /openapi.json documents it, for the routes that honour it (`parameters=`).
IDEMPOTENCY_HEADER: list[dict[str, Any]] = [{
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 8, "maxLength": 128},
    "description": "A retry with the same key and body returns the first answer and creates nothing",
}]


def idempotency_key(request: Request) -> str | None:
    """`Idempotency-Key`: 8 to 128 printable ASCII characters, or absent; anything else a 400."""
    value = header(request, "idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise errors.validation_error([{"field": "Idempotency-Key", "type": "format",
                                        "message": "8 sampai 128 karakter ASCII yang terbaca"}])
    return value


def if_match(request: Request) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"` -> 3; absent or blank None; anything else a 400."""
    value = header(request, "if-match")
    if value is None or not value.strip():
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        raise errors.validation_error([{"field": "If-Match", "type": "format",
                                        "message": "versi laporan, berupa angka"}])
    return int(text)


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


# Chalice answers some requests itself (415, 405, 500) in its own shape: translate them.
_CHALICE_CODES = {400: "validation_error", 404: "not_found", 405: "method_not_allowed",
                  415: "unsupported_media_type", 500: "internal_error"}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def _contract_shape(response: Response) -> Response:
    body = response.body
    if response.status_code < 400 or (isinstance(body, str) and body.startswith('{"error"')):
        return response
    if isinstance(body, dict) and "error" in body:
        return response
    code = _CHALICE_CODES.get(response.status_code, "error")
    message = body.get("Message", "Request failed.") if isinstance(body, dict) else "Request failed."
    if response.status_code >= 500:
        message = INTERNAL_MESSAGE
    headers: dict[str, Any] = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return json_response({"error": {"code": code, "message": message, "details": []}}, response.status_code, headers)


def cors_headers(request: Request | None) -> dict[str, str]:
    origin = request.headers.get("origin") if request is not None else None
    if not origin or origin not in settings().web_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "false",
        "Access-Control-Expose-Headers": "Retry-After,ETag",
        "Vary": "Origin",
    }


def preflight(request: Request) -> Response:
    headers: dict[str, Any] = cors_headers(request)
    if headers:
        headers.update({
            "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type,Authorization,X-Access-Token,Idempotency-Key,If-Match",
            "Access-Control-Max-Age": "600",
        })
    return Response(body="", status_code=204, headers=headers)


def _answer(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """A preflight, or the route's answer to a body within the size limit (else a 413)."""
    if request.method == "OPTIONS":
        return preflight(request)
    if len(request.raw_body or b"") > settings().max_body_bytes:
        raise errors.TooLarge(f"Isi permintaan lebih dari {settings().max_body_bytes} byte.")
    return get_response(request)


def _answer_or_refuse(request: Request, get_response: Callable[[Request], Response]) -> Response:
    try:
        return _answer(request, get_response)
    except _Refused as refused:
        raise refused.error from None


def _open311_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """/open311/: errors in the spec's shape and format (every one, Chalice's own included), and
    reads open to every origin: the feed is public open data."""
    from chalicelib.api import open311

    fmt = open311.format_of(request.path, request.uri_params)
    try:
        response = _answer_or_refuse(request, get_response)
    except DomainError as exc:
        response = open311.error_response(status_of(exc), open311.describe(exc), fmt)
        response.headers.update(retry_headers(exc))
    except Exception:  # never a stack trace to the client
        logger.exception("unhandled error", extra={"path": getattr(request, "path", None)})
        response = open311.error_response(500, "Terjadi kesalahan internal; sudah dicatat.", fmt)
    body = response.body
    if response.status_code >= 400 and not (isinstance(body, str) and body.startswith(('[{"code"', "<?xml"))):
        message = body.get("Message") if isinstance(body, dict) else None  # Chalice's own answer
        response = open311.error_response(response.status_code, str(message or "Permintaan gagal."), fmt)
    response.headers.update(_SECURITY_HEADERS)
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.headers.update(cors_headers(request))
    return response


def middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request = event
    if str(getattr(request, "path", "")).startswith(OPEN311_PREFIX):
        return _open311_middleware(request, get_response)
    try:
        response = _answer_or_refuse(request, get_response)
    except DomainError as exc:
        response = error_response(exc)
    except Exception:  # never a stack trace to the client
        logger.exception("unhandled error", extra={"path": getattr(request, "path", None)})
        response = error_response(errors.Internal(INTERNAL_MESSAGE))
    response = _contract_shape(response)
    response.headers.update(_SECURITY_HEADERS)
    response.headers.update(cors_headers(request))
    return response


def preflight_view(**_: Any) -> Response:
    """Placeholder view for OPTIONS routes; the middleware answers before it runs."""
    return Response(body="", status_code=204)
