"""A report as it is submitted (the web form, the desk, WhatsApp, SMS, Open311) and the answer to
it: plain dataclasses validated by pydantic-core, with the schema pydantic itself would build.

POST /reports is the first request of many API containers, and importing pydantic was most of
its cold cost; pydantic-core alone loads in a fraction of it and gives the same checks and the
same error types (docs/DESIGN.md, "Cold starts"). /openapi.json documents these bodies from the
same core schemas.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, ClassVar, TypeVar

from pydantic_core import CoreConfig, SchemaSerializer, SchemaValidator
from pydantic_core import core_schema as cs

from chalicelib.domain import clock
from chalicelib.domain.channels import STAFF_CHANNELS
from chalicelib.domain.identity import nik_problem, normalise_phone
from chalicelib.domain.workflow import ALL_STATUSES, PRIVACY_MODES, REPORT_TYPES
from chalicelib.validation import parse_json

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# What pydantic's JSON Schema generator reads off a model class (no unknown fields).
_CONFIG: dict[str, Any] = {"extra": "forbid"}

S = TypeVar("S", bound="SubmissionModel")


class SubmissionModel:
    """What the submission's dataclasses (its body and its answer) share: parsing from a request
    body or from a channel's values, with the class's own validator."""

    model_config: ClassVar[dict[str, Any]] = _CONFIG

    @classmethod
    def from_json(cls: type[S], raw: bytes | str | None) -> S:
        """A request body, strictly (JSON types are not coerced), or a 400 naming every bad field."""
        return parse_json(validator(cls).validate_json, raw)

    @classmethod
    def from_data(cls: type[S], data: dict[str, Any]) -> S:
        """Values a channel gathered (WhatsApp, SMS, Open311); pydantic_core.ValidationError if bad."""
        return validator(cls).validate_python(data)  # type: ignore[no-any-return]


@dataclass(kw_only=True)
class LocationIn(SubmissionModel):
    kecamatan: str
    desa: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(kw_only=True)
class ReporterIn(SubmissionModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    nik: str | None = None


@dataclass(kw_only=True)
class ReportIn(SubmissionModel):
    type: str
    title: str
    description: str
    category: str | None = None
    opd_code: str | None = None
    incident_date: date | None = None
    location: LocationIn
    privacy: str | None = None
    reporter: ReporterIn = field(default_factory=ReporterIn)
    attachments: list[str] = field(default_factory=list)

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

    def as_json(self) -> dict[str, Any]:
        """Every field as JSON values (the idempotency fingerprint hashes this)."""
        out = dataclasses.asdict(self)
        if self.incident_date is not None:
            out["incident_date"] = self.incident_date.isoformat()
        return out


@dataclass(kw_only=True)
class StaffReportIn(ReportIn):
    """A complaint that reached Diskominfotik's desk another way, entered for the citizen."""

    channel: str

    def report(self) -> ReportIn:
        """The report itself, without how it reached the desk."""
        return ReportIn(**{f.name: getattr(self, f.name) for f in dataclasses.fields(ReportIn)})


# The answer to a submission (POST /reports, POST /staff/reports).
@dataclass(kw_only=True)
class ReportCreated(SubmissionModel):
    tracking_id: str
    access_token: str
    status: str
    created_at: str
    due_at: str | None
    access_code_recoverable: bool
    access_notice: str


# -- the checks pydantic's field validators made --------------------------------------------------

def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError("alamat email tidak valid")
    return value.lower() if value else value


def _phone(value: str | None) -> str | None:
    return normalise_phone(value) if value is not None else None


def _nik(value: str | None) -> str | None:
    if value is not None and (problem := nik_problem(value)):
        raise ValueError(problem)
    return value


def _not_future(value: date | None) -> date | None:
    if value is not None and value > clock.today_wib():
        raise ValueError("tanggal kejadian tidak boleh di masa depan")
    return value


# -- the core schemas -----------------------------------------------------------------------------

def _field(schema: cs.CoreSchema, description: str | None = None) -> cs.ModelField:
    return cs.model_field(schema, metadata={"pydantic_js_updates": {"description": description}}
                          if description else {})


def _optional(schema: cs.CoreSchema, *, before: Any = None, after: Any = None) -> cs.CoreSchema:
    inner: cs.CoreSchema = cs.nullable_schema(schema)
    if before is not None:
        inner = cs.no_info_before_validator_function(before, inner)
    if after is not None:
        inner = cs.no_info_after_validator_function(after, inner)
    return cs.with_default_schema(inner, default=None)


def _model(cls: type, fields: dict[str, cs.ModelField], *, strip: bool = True) -> cs.ModelSchema:
    name = cls.__name__
    config = CoreConfig(title=name, extra_fields_behavior="forbid")
    if strip:  # requests only: an answer is sent as it was built
        config["str_strip_whitespace"] = True
    return cs.model_schema(cls, cs.model_fields_schema(fields, model_name=name), config=config,
                           ref=f"{cls.__module__}.{name}")


def _text(min_length: int | None = None, max_length: int | None = None) -> cs.CoreSchema:
    return cs.str_schema(min_length=min_length, max_length=max_length)


@cache
def core_schema(cls: type) -> cs.ModelSchema:
    """The core schema of one of the submission's classes."""
    if cls is LocationIn:
        return _model(LocationIn, {
            "kecamatan": _field(_text(1, 60), "Code or name from GET /kecamatan"),
            "desa": _field(_optional(_text(max_length=100), before=_blank_is_none),
                           "Kemendagri code (or name) of a desa of that kecamatan, from GET /kecamatan"),
            "address": _field(_optional(_text(max_length=300))),
            "lat": _field(_optional(cs.float_schema(ge=-90, le=90))),
            "lon": _field(_optional(cs.float_schema(ge=-180, le=180))),
        })
    if cls is ReporterIn:
        return _model(ReporterIn, {
            "name": _field(_optional(_text(max_length=100), before=_blank_is_none)),
            "email": _field(_optional(_text(max_length=254), before=_blank_is_none, after=_email)),
            "phone": _field(_optional(_text(max_length=32), before=_blank_is_none, after=_phone),
                            "08xx, 62xx or +62xx; stored as E.164"),
            "nik": _field(_optional(_text(), before=_blank_is_none, after=_nik),
                          "16-digit NIK; optional, encrypted at rest"),
        })
    if cls in (ReportIn, StaffReportIn):
        fields = {
            "type": _field(cs.literal_schema(list(REPORT_TYPES))),
            "title": _field(_text(5, 150)),
            "description": _field(_text(20, 4000)),
            "category": _field(_optional(_text(max_length=60))),
            "opd_code": _field(_optional(_text(max_length=40))),
            "incident_date": _field(_optional(cs.date_schema(), after=_not_future)),
            "location": _field(core_schema(LocationIn)),
            "privacy": _field(_optional(cs.literal_schema(list(PRIVACY_MODES))),
                              "Omitted: rahasia for sensitive categories (health, children, social aid), else publik"),
            "reporter": _field(cs.with_default_schema(core_schema(ReporterIn), default_factory=ReporterIn)),
            "attachments": _field(cs.with_default_schema(cs.list_schema(cs.str_schema(), max_length=5),
                                                         default_factory=list)),
        }
        if cls is StaffReportIn:
            fields["channel"] = _field(cs.literal_schema(list(STAFF_CHANNELS)),
                                       "how it reached the desk (chalicelib/domain/channels.py STAFF_CHANNELS)")
        return _model(cls, fields)
    if cls is ReportCreated:
        return _model(ReportCreated, {
            "tracking_id": _field(cs.str_schema()),
            "access_token": _field(cs.str_schema(), "The access code, XXXX-XXXX-XXXX-XXXX (typed in any case, with or "
                                   "without spaces and dashes); also sent to the reporter's own email/mobile"),
            "status": _field(cs.literal_schema([s.value for s in ALL_STATUSES])),
            "created_at": _field(cs.str_schema()),
            "due_at": _field(cs.nullable_schema(cs.str_schema())),
            "access_code_recoverable": _field(cs.bool_schema(), "False when the reporter left no email or mobile: "
                                              "the code is then the only key"),
            "access_notice": _field(cs.str_schema(), "What to tell the reporter about keeping the code (Indonesian)"),
        }, strip=False)
    raise TypeError(f"{cls.__name__} is not one of the submission's classes")


_validators: dict[type, SchemaValidator] = {}


def validator(cls: type) -> SchemaValidator:
    """The class's validator, built on its first use."""
    found = _validators.get(cls)
    if found is None:
        found = _validators[cls] = SchemaValidator(core_schema(cls))
    return found


_serializers: dict[type, SchemaSerializer] = {}


def dumps(cls: type, value: Any) -> str:
    """An answer of class `cls` built from `value` (a mapping, or an instance) as JSON text."""
    serializer = _serializers.get(cls)
    if serializer is None:
        serializer = _serializers[cls] = SchemaSerializer(core_schema(cls))
    return serializer.to_json(validator(cls).validate_python(value)).decode()


def json_schema(cls: type, ref_template: str) -> dict[str, Any]:
    """The JSON Schema of a submission class, nested classes under `$defs` (for /openapi.json)."""
    from pydantic.json_schema import GenerateJsonSchema

    return GenerateJsonSchema(ref_template=ref_template).generate(core_schema(cls), mode="validation")
