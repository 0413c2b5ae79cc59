"""Request and response models at the edge. They validate requests AND generate /openapi.json,
so the document and the validation cannot disagree. The submitted report is the exception in
form, not in kind: chalicelib/submission.py declares it for pydantic-core alone.

Every model forbids unknown fields: a client cannot set status, OPD assignment or deadlines.
Validation messages never echo the submitted value (it may be a NIK).
"""
from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.validation import parse_json

ReportType = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
Privacy = Literal["publik", "anonim", "rahasia"]
Status = Literal[
    "diajukan", "perlu_kelengkapan", "ditolak", "didisposisikan", "diproses", "dikembalikan",
    "ditindaklanjuti", "selesai",
]
ContentType = Literal["image/jpeg", "image/png", "application/pdf"]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


# defer_build: pydantic builds a model's validator when it is first used, not at import. Every
# model is declared when the API function starts (routes name them for /openapi.json), but a
# request uses one or two: building all of them was a visible share of each cold start.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Out(BaseModel):
    """A response body: documented in /openapi.json, built only if something validates with it
    (the tests check every answer against its model: tests/response_models.py)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


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


def parse(model: type[M], raw: bytes | str | None) -> M:
    """Parse a JSON body into `model`, or raise a 400 naming every bad field (chalicelib/validation.py)."""
    return parse_json(model.model_validate_json, raw, getattr(model, "tag", None))
