"""Request and response models at the edge. They validate requests AND generate /openapi.json,
so the document and the validation cannot disagree.

Every model forbids unknown fields: a client cannot set status, OPD assignment or deadlines.
Validation messages never echo the submitted value (it may be a NIK).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalicelib.domain import clock
from chalicelib.domain.identity import nik_problem, normalise_phone
from chalicelib.errors import ApiError, validation_error

ReportType = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
Privacy = Literal["publik", "anonim", "rahasia"]
Status = Literal[
    "diajukan", "perlu_kelengkapan", "ditolak", "didisposisikan", "diproses", "dikembalikan",
    "ditindaklanjuti", "selesai",
]
ContentType = Literal["image/jpeg", "image/png", "application/pdf"]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


# defer_build: pydantic builds a model's validator when it is first used, not at import. Every
# model is declared when the API function starts (routes name them for /openapi.json), but a
# request uses one or two: building all of them cost ~25 ms of each cold start.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    """A response body: documented in /openapi.json, built only if something validates with it."""

    model_config = ConfigDict(defer_build=True)


class LocationIn(Strict):
    kecamatan: str = Field(min_length=1, max_length=60, description="Code or name from GET /kecamatan")
    desa: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class ReporterIn(Strict):
    name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, description="08xx, 62xx or +62xx; stored as E.164")
    nik: str | None = Field(default=None, description="16-digit NIK; optional, encrypted at rest")

    @field_validator("name", "email", "phone", "nik", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError("email address is not valid")
        return v.lower() if v else v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalise_phone(v) if v is not None else None

    @field_validator("nik")
    @classmethod
    def _nik(cls, v: str | None) -> str | None:
        if v is not None and (problem := nik_problem(v)):
            raise ValueError(problem)
        return v


class ReportIn(Strict):
    type: ReportType
    title: str = Field(min_length=5, max_length=150)
    description: str = Field(min_length=20, max_length=4000)
    category: str | None = Field(default=None, max_length=60)
    opd_code: str | None = Field(default=None, max_length=40)
    incident_date: date | None = None
    location: LocationIn
    privacy: Privacy | None = Field(
        default=None,
        description="Omitted: rahasia for sensitive categories (health, children, social aid), else publik",
    )
    reporter: ReporterIn = Field(default_factory=ReporterIn)
    attachments: list[str] = Field(default_factory=list, max_length=5)

    @field_validator("incident_date")
    @classmethod
    def _not_future(cls, v: date | None) -> date | None:
        if v is not None and v > clock.today_wib():
            raise ValueError("incident date is in the future")
        return v

    def contact_problems(self) -> list[dict[str, Any]]:
        """The reporter's name and one contact are required unless the report is anonymous."""
        if self.privacy == "anonim":
            return []
        problems = []
        if not self.reporter.name:
            problems.append({"field": "reporter.name", "type": "missing",
                             "message": "name is required unless privacy is anonim"})
        if not (self.reporter.email or self.reporter.phone):
            problems.append({"field": "reporter.email", "type": "missing",
                             "message": "email or phone is required unless privacy is anonim"})
        return problems


class ReportCreated(Out):
    tracking_id: str
    access_token: str = Field(description="Shown once; keep it to follow the report")
    status: Status
    created_at: str
    due_at: str | None


class TimelineEntry(Out):
    at: str
    status: Status | None
    actor: Literal["pelapor", "admin", "opd", "sistem"]
    message: str | None


class OpdRef(Out):
    code: str
    name: str


class ReportView(Out):
    """The reporter's view."""

    tracking_id: str
    type: ReportType
    title: str
    description: str
    category: str | None
    status: Status
    privacy: Privacy
    kecamatan: str
    opd: OpdRef | None
    created_at: str
    due_at: str | None
    attachments: list[str]
    timeline: list[TimelineEntry]


class AttachmentIn(Strict):
    content_type: ContentType
    size: int = Field(gt=0, le=MAX_ATTACHMENT_BYTES, strict=True)


class PresignedPost(Out):
    url: str
    fields: dict[str, str]


class AttachmentCreated(Out):
    attachment_id: str
    upload: PresignedPost


class AttachmentLink(Out):
    """A short-lived download link to a checked (clean) attachment."""

    url: str
    expires_in: int = Field(description="Seconds the URL stays valid")


class ReplyIn(Strict):
    message: str = Field(min_length=1, max_length=4000)


class FeedbackIn(Strict):
    resolved: bool
    rating: int | None = Field(default=None, ge=1, le=5, strict=True)
    comment: str | None = Field(default=None, max_length=2000)


class ErrorBody(Out):
    class Inner(BaseModel):
        code: str
        message: str
        details: list[Any]

    error: Inner


M = TypeVar("M", bound=BaseModel)


def field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    return ".".join(parts) or "body"


def details_of(exc: ValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_input=False, include_url=False):
        msg = str(err["msg"])
        msg = msg.removeprefix("Value error, ")
        details.append({"field": field_name(err["loc"]), "message": msg, "type": err["type"]})
    return details


_BODY_PROBLEMS = {"json_invalid": "body is not valid JSON", "model_type": "body must be a JSON object"}


def parse(model: type[M], raw: bytes | str | None) -> M:
    """Parse a JSON body into `model`, or raise a 400 naming every bad field.

    pydantic reads the raw bytes itself (no json.loads/dumps round trip on the hot path); a body
    that is no JSON, or no object, fails at the root and gets one detail that says so."""
    if raw is None or (isinstance(raw, (bytes, str)) and not raw.strip()):
        raise validation_error([{"field": "body", "message": "a JSON body is required", "type": "missing"}])
    if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark, as json.loads tolerates it on bytes
    try:
        # strict: JSON types are not coerced ("5" is not a number, 1 is not a string).
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            if not err["loc"] and err["type"] in _BODY_PROBLEMS:
                raise validation_error([{"field": "body", "message": _BODY_PROBLEMS[err["type"]],
                                         "type": err["type"]}]) from None
        raise validation_error(details_of(exc)) from None


def reraise_as_api(exc: ValidationError) -> ApiError:
    return validation_error(details_of(exc))
