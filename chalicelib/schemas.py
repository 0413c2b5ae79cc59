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
from chalicelib.domain.errors import validation_error
from chalicelib.domain.identity import nik_problem, normalise_phone

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
# request uses one or two: building all of them was a visible share of each cold start.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    """A response body: documented in /openapi.json, built only if something validates with it
    (the tests check every answer against its model: tests/response_models.py)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class LocationIn(Strict):
    kecamatan: str = Field(min_length=1, max_length=60, description="Code or name from GET /kecamatan")
    desa: str | None = Field(default=None, max_length=100,
                             description="Kemendagri code (or name) of a desa of that kecamatan, from GET /kecamatan")
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("desa", mode="before")
    @classmethod
    def _blank_desa_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


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
            raise ValueError("alamat email tidak valid")
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
            raise ValueError("tanggal kejadian tidak boleh di masa depan")
        return v

    def contact_problems(self) -> list[dict[str, Any]]:
        """The reporter's name and one contact are required unless the report is anonymous."""
        if self.privacy == "anonim":
            return []
        problems = []
        if not self.reporter.name:
            problems.append({"field": "reporter.name", "type": "missing",
                             "message": "nama wajib diisi kecuali laporan anonim"})
        if not (self.reporter.email or self.reporter.phone):
            problems.append({"field": "reporter.email", "type": "missing",
                             "message": "email atau nomor telepon wajib diisi kecuali laporan anonim"})
        return problems


StaffChannel = Literal["walk_in", "phone", "letter", "social_media", "whatsapp", "sms"]


class StaffReportIn(ReportIn):
    """A complaint that reached Diskominfotik's desk another way, entered for the citizen."""
    channel: StaffChannel = Field(description="how it reached the desk (chalicelib/domain/channels.py STAFF_CHANNELS)")


class ReportCreated(Out):
    tracking_id: str
    access_token: str = Field(description="The access code, XXXX-XXXX-XXXX-XXXX (typed in any case, with or "
                              "without spaces and dashes); also sent to the reporter's own email/mobile")
    status: Status
    created_at: str
    due_at: str | None
    access_code_recoverable: bool = Field(
        description="False when the reporter left no email or mobile: the code is then the only key")
    access_notice: str = Field(description="What to tell the reporter about keeping the code (Indonesian)")


class TimelineEntry(Out):
    at: str
    status: Status | None
    actor: Literal["pelapor", "admin", "opd", "sistem"]
    message: str | None
    action: str = Field(description="what happened (verify, progress, respond, reply, ...)")
    planned_completion: str | None = Field(default=None, description="progress: the OPD's planned "
                                           "completion date, YYYY-MM-DD")
    attachments: list[str] = Field(default_factory=list,
                                   description="files of this step (an OPD's answer, a reporter's reply)")


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
    desa: str | None = Field(description="the desa/kelurahan's Kemendagri code, when the reporter named one")
    desa_name: str | None
    opd: OpdRef | None
    created_at: str
    due_at: str | None
    planned_completion: str | None = Field(description="the OPD's planned completion date (YYYY-MM-DD) "
                                           "from its last progress update, while it works on the report")
    attachments: list[str]
    timeline: list[TimelineEntry]
    merged: bool = Field(default=False, description="merged into another report about the same problem: the "
                         "status, OPD, deadline and public steps are that report's")


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
    attachments: list[str] | None = Field(
        default=None, max_length=5,
        description="ids from POST /attachments, checked clean and not yet on any report")


class RecoveryIn(Strict):
    contact: str = Field(min_length=3, max_length=254,
                         description="The mobile number (08xx, 62xx, +62xx) or email given in the report")


class RecoveryAccepted(Out):
    message: str = Field(description="The same answer whether or not the contact matches the report")


class RecoveryConfirmIn(Strict):
    code: str = Field(min_length=1, max_length=32, description="The 6-digit code sent to the contact")


class AccessRecovered(Out):
    access_token: str = Field(description="The new access code; the old one no longer opens the report")


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


def parse(model: type[M], raw: bytes | str | None) -> M:
    """Parse a JSON body into `model`, or raise a 400 naming every bad field.

    pydantic reads the raw bytes itself (no json.loads/dumps round trip on the hot path); a body
    that is no JSON, or no object, fails at the root and gets one detail that says so."""
    if raw is None or (isinstance(raw, (bytes, str)) and not raw.strip()):
        raise validation_error([{"field": "body", "message": "isi permintaan (JSON) wajib ada", "type": "missing"}])
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
        raise validation_error(details_of(exc, getattr(model, "tag", None))) from None
