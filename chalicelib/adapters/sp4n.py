"""The one adapter between Lapor KBB and the national SP4N-LAPOR! API.

Everything the app sends to or reads from LAPOR! goes through ``Sp4nClient``: authentication,
retries of reads, checks of every answer, and what personal data may leave (none). Its errors,
transport and environment: docs/SP4N.md ("The adapter").
"""
from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import urllib3

from chalicelib.config import LOCAL_STAGES
from chalicelib.domain.clock import WIB
from chalicelib.domain.redaction import (
    personal_data_found,
    redact_text,
)

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES: Mapping[str, str] = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
_COMPLAINT_ID = re.compile(r"\d{7}")
# ASSUMPTION: LAPOR!'s status codes are not public; these follow its public statistics labels
# (Belum Terverifikasi, Terdisposisi..., Laporan Tertunda, Laporan Arsip, Bukan Wewenang).
STATUS_CODES = ("verification", "disposed", "process", "done", "pending", "archive", "rejected")


# -- errors ----------------------------------------------------------------------------------
class Sp4nError(Exception):
    """Any failure talking to SP4N-LAPOR!. Messages never carry payloads or credentials."""

    transient = False

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class Sp4nUnavailable(Sp4nError):
    """Transient: connection errors, timeouts, 5xx or 429 that outlasted the retries."""

    transient = True

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.retry_after = retry_after


class Sp4nRejected(Sp4nError):
    """Permanent: a 4xx other than 429. Resending the same request will fail the same way."""

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None,
                 errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, attempts=attempts, status=status)
        self.errors = dict(errors or {})


class Sp4nAuthError(Sp4nRejected):
    """401/403: our key or token is wrong or revoked (a configuration problem, not the report's)."""


class Sp4nNotFound(Sp4nRejected):
    """404: LAPOR! does not know that complaint (or route)."""


class Sp4nProtocolError(Sp4nError):
    """A 2xx (or 3xx) whose body is not what the API promises. Not retried: it may have acted."""


class Sp4nConfigError(Sp4nError):
    """Missing or invalid configuration (names the variables, never their values)."""


# -- request payload -------------------------------------------------------------------------
@dataclass(frozen=True)
class Sp4nComplaintIn:
    """What ``POST /complaints/complaint`` receives. Closed: these fields are the whole body, so
    none can carry the reporter (an unknown keyword is a TypeError), and the types are exact."""

    title: str
    content: str
    classification_id: int
    category_id: int
    location_id: int
    date_of_incident: date
    is_anonymous: bool
    is_secret: bool
    attachments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name, limit in (("title", 255), ("content", 10000)):
            text = getattr(self, name)
            if not isinstance(text, str) or not 1 <= len(text) <= limit:
                problems.append(f"{name}: must be text of 1 to {limit} characters")
            elif kinds := personal_data_found(text):
                # A second lock behind payload_from_report: even a hand-built payload cannot leak them.
                problems.append(f"{name}: contains personal data ({', '.join(kinds)}); use redact_text")
            elif not text.strip():
                problems.append(f"{name}: must not be blank")
        for name in ("classification_id", "category_id", "location_id"):
            number = getattr(self, name)
            if type(number) is not int or number < 1:
                problems.append(f"{name}: must be a whole number of at least 1")
        if type(self.date_of_incident) is not date:
            problems.append("date_of_incident: must be a date")
        for name in ("is_anonymous", "is_secret"):
            if type(getattr(self, name)) is not bool:
                problems.append(f"{name}: must be true or false")
        if not isinstance(self.attachments, list) or not all(isinstance(a, str) for a in self.attachments):
            problems.append("attachments: must be a list of document ids")
        if problems:  # field names and rules only, never the text
            raise ValueError("Sp4nComplaintIn not valid: " + "; ".join(problems))

    def as_json(self) -> dict[str, Any]:
        """The request body as sent."""
        return {"title": self.title, "content": self.content, "classification_id": self.classification_id,
                "category_id": self.category_id, "location_id": self.location_id,
                "date_of_incident": self.date_of_incident.isoformat(), "is_anonymous": self.is_anonymous,
                "is_secret": self.is_secret, "attachments": list(self.attachments)}


# Kemendagri codes of KBB's kecamatan (Kepmendagri 050-145/2022, 32.17.xx). ASSUMPTION: LAPOR!'s
# location_id is this code as a number; the regency itself (3217) when the kecamatan is unknown.
KECAMATAN_LOCATION_IDS: Mapping[str, int] = {
    name: 321700 + i for i, name in enumerate((
        "lembang", "parongpong", "cisarua", "cikalongwetan", "cipeundeuy", "ngamprah", "cipatat",
        "padalarang", "batujajar", "cihampelas", "cililin", "cipongkor", "rongga", "sindangkerta",
        "gununghalu", "saguling"), start=1)
}


@dataclass(frozen=True)
class Sp4nMappings:
    """How our codes become LAPOR! master ids. ASSUMPTION until the agency account shows the
    real masters: classification 1/2/3 as LAPOR!'s own order; categories via configuration."""

    classification_ids: Mapping[str, int] = field(default_factory=lambda: {
        "pengaduan": 1, "aspirasi": 2, "permintaan_informasi": 3})
    category_ids: Mapping[str, int] = field(default_factory=dict)
    default_category_id: int = 1
    location_ids: Mapping[str, int] = field(default_factory=lambda: dict(KECAMATAN_LOCATION_IDS))
    default_location_id: int = 3217

    def location_id(self, kecamatan: str | None) -> int:
        key = re.sub(r"[^0-9a-z]", "", (kecamatan or "").lower())
        if key.isdigit() and len(key) == 6 and key.startswith("3217"):
            return int(key)  # already a Kemendagri code ("32.17.01" or "321701")
        key = key.removeprefix("kecamatan")
        return self.location_ids.get(key, self.default_location_id)


DEFAULT_MAPPINGS = Sp4nMappings()
_FLAGS = {"publik": (False, False), "anonim": (True, False), "rahasia": (False, True)}


def privacy_agrees(privacy: str, is_anonymous: bool | None, is_secret: bool | None) -> bool:
    """Whether a complaint's flags on LAPOR! say what our privacy mode says."""
    return _FLAGS.get(privacy) == (bool(is_anonymous), bool(is_secret))


def payload_from_report(report: Mapping[str, Any], *, document_ids: Sequence[str] | None = None,
                        mappings: Sp4nMappings = DEFAULT_MAPPINGS, today: date | None = None) -> Sp4nComplaintIn:
    """The LAPOR! create payload for one of our reports.

    Keys read from ``report`` (anything else is ignored, so a full Report item may be passed):
    ``type`` (pengaduan|aspirasi|permintaan_informasi), ``title``, ``description``, ``category``
    (our code, optional), ``kecamatan`` (code or name; else ``location.kecamatan``),
    ``incident_date`` (YYYY-MM-DD or date, optional; else the date of ``created_at``, else
    today in WIB), ``privacy`` (publik|anonim|rahasia: anonim -> is_anonymous, rahasia ->
    is_secret), ``attachments`` (LAPOR! document ids from ``upload_file``, not our attachment
    ids: pass ``document_ids`` to give them explicitly), and ``reporter`` / ``nik`` only so that
    their values are cut out of the text. The reporter's name, email, phone and NIK are never
    sent, in any field, even if the citizen typed them into the description.
    """
    privacy = report.get("privacy")
    if privacy not in _FLAGS:
        # Fail closed: guessing "publik" for a report of unknown privacy could expose it.
        raise ValueError(f"privacy must be one of {sorted(_FLAGS)}")
    is_anonymous, is_secret = _FLAGS[privacy]
    rtype = str(report.get("type"))
    if rtype not in mappings.classification_ids:
        raise ValueError(f"type must be one of {sorted(mappings.classification_ids)}")
    reporter = dict(report.get("reporter") or {})
    if report.get("nik"):
        reporter["nik"] = report["nik"]
    title = redact_text(str(report.get("title") or "").strip(), reporter)
    content = redact_text(str(report.get("description") or "").strip(), reporter)
    if not title or not content:
        raise ValueError("title and description are required")
    location: Mapping[str, Any] = report.get("location") or {}
    if not isinstance(location, Mapping):
        location = {}
    category = report.get("category")
    return Sp4nComplaintIn(
        title=title[:255],
        content=content[:10000],
        classification_id=mappings.classification_ids[rtype],
        category_id=mappings.category_ids.get(category, mappings.default_category_id) if category
        else mappings.default_category_id,
        location_id=mappings.location_id(report.get("kecamatan") or location.get("kecamatan")),
        date_of_incident=_incident_date(report, today),
        is_anonymous=is_anonymous,
        is_secret=is_secret,
        attachments=[str(d) for d in (document_ids if document_ids is not None else report.get("attachments") or [])],
    )


def _incident_date(report: Mapping[str, Any], today: date | None) -> date:
    value = report.get("incident_date")
    if isinstance(value, datetime):
        return value.astimezone(WIB).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if value:
        return date.fromisoformat(str(value))
    created = report.get("created_at")
    if created:
        at = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
        if at.tzinfo is not None:
            return at.astimezone(WIB).date()
    return today or datetime.now(WIB).date()


# -- response models -------------------------------------------------------------------------
# Plain dataclasses, each field read by a small explicit check (in its metadata). Unknown fields
# are ignored, not forbidden: the real API is undocumented to us and may grow fields. Everything
# we rely on is required and typed, so its absence is a protocol error, and whatever we do not
# model (a reporter's identity, say) is never taken in. Problems name field paths, never values.
# (Plain checks rather than pydantic models: building those was most of the sync function's
# cold start, and every push or pull reads at least one answer.)
Reader = Callable[[Any, tuple[str | int, ...], list[str]], Any]
_BAD: Any = object()  # what a reader returns after noting a problem


def _where(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "data"


def _check(convert: Callable[[Any], Any], rule: str) -> Reader:
    """A reader from a conversion that raises TypeError/ValueError; ``rule`` is the message (the
    conversion's own could quote the value)."""

    def read(value: Any, path: tuple[str | int, ...], problems: list[str]) -> Any:
        try:
            return convert(value)
        except (TypeError, ValueError):
            problems.append(f"{_where(path)}: {rule}")
            return _BAD
    return read


def _optional(reader: Reader) -> Reader:
    def read(value: Any, path: tuple[str | int, ...], problems: list[str]) -> Any:
        return None if value is None else reader(value, path, problems)
    return read


def _list(reader: Reader) -> Reader:
    def read(value: Any, path: tuple[str | int, ...], problems: list[str]) -> Any:
        if not isinstance(value, list | tuple):
            problems.append(f"{_where(path)}: must be a list")
            return _BAD
        before = len(problems)
        items = [reader(item, (*path, i), problems) for i, item in enumerate(value)]
        return _BAD if len(problems) > before else items
    return read


def _record(cls: type[Any]) -> Reader:
    """Reads a JSON object into the dataclass ``cls``; absent fields with a default get it."""

    def read(value: Any, path: tuple[str | int, ...], problems: list[str]) -> Any:
        if not isinstance(value, Mapping):
            problems.append(f"{_where(path)}: must be an object")
            return _BAD
        before = len(problems)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in value:
                values[f.name] = f.metadata["read"](value[f.name], (*path, f.name), problems)
            elif f.default is MISSING and f.default_factory is MISSING:
                problems.append(f"{_where((*path, f.name))}: required")
        return _BAD if len(problems) > before else cls(**values)
    return read


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _code(value: Any) -> str:
    # LAPOR! gives some ids and codes as numbers, some as text: ours are text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _present_code(value: Any) -> str:
    code = _code(value)
    if not code:
        raise ValueError
    return code


def _complaint_id(value: Any) -> str:
    text = _code(value)
    if not _COMPLAINT_ID.fullmatch(text):
        raise ValueError
    return text


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        return int(value)
    raise TypeError


def _stars(value: Any) -> int:
    stars = _int(value)
    if not 1 <= stars <= 5:
        raise ValueError
    return stars


_TRUE, _FALSE = {"true", "1", "yes", "y", "on", "t"}, {"false", "0", "no", "n", "off", "f"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise TypeError


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        raise TypeError
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    raise TypeError


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, UTC)
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError
    return value


_TEXT = _check(_text, "must be text")
_CODE = _check(_code, "must be text or a number")
_ID = _check(_present_code, "must be a non-empty text or a number")
_CID = _check(_complaint_id, "must be a 7-digit number")
_INT = _check(_int, "must be a whole number")
_BOOL = _check(_bool, "must be true or false")
_DATE = _check(_date, "must be a date (YYYY-MM-DD)")
_AT = _check(_aware, "must be an ISO 8601 date-time with a UTC offset")


def _read(reader: Reader) -> dict[str, Reader]:
    """A field's metadata: how ``_record`` reads it."""
    return {"read": reader}


@dataclass(frozen=True)
class Sp4nDocument:
    id: str = field(metadata=_read(_ID))


@dataclass(frozen=True)
class Sp4nCreated:
    complaint_id: str = field(metadata=_read(_CID))


@dataclass(frozen=True)
class Sp4nLog:
    at: datetime = field(metadata=_read(_AT))
    status_code: str = field(metadata=_read(_CODE))
    status_name: str = field(metadata=_read(_TEXT))
    message: str | None = field(metadata=_read(_optional(_TEXT)), default=None)


@dataclass(frozen=True)
class Sp4nRating:
    """The reporter's rating on LAPOR! (ASSUMPTION: listed in the complaint detail as ``ratings``,
    with whether they confirmed it ``resolved``, i.e. pressed "selesai")."""

    id: str = field(metadata=_read(_CODE))
    rating: int = field(metadata=_read(_check(_stars, "must be a whole number from 1 to 5")))
    resolved: bool = field(metadata=_read(_BOOL), default=False)
    comment: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    created_at: datetime | None = field(metadata=_read(_optional(_AT)), default=None)


@dataclass(frozen=True)
class Sp4nComplaint:
    """A complaint as LAPOR! reports it (detail, and each item of ``list_changes``)."""

    complaint_id: str = field(metadata=_read(_CID))
    status_code: str = field(metadata=_read(_CODE))
    status_name: str = field(metadata=_read(_TEXT))
    disposition_name: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    logs: list[Sp4nLog] = field(metadata=_read(_list(_record(Sp4nLog))), default_factory=list)
    title: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    content: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    classification_id: int | None = field(metadata=_read(_optional(_INT)), default=None)
    category_id: int | None = field(metadata=_read(_optional(_INT)), default=None)
    location_id: int | None = field(metadata=_read(_optional(_INT)), default=None)
    date_of_incident: date | None = field(metadata=_read(_optional(_DATE)), default=None)
    is_anonymous: bool | None = field(metadata=_read(_optional(_BOOL)), default=None)
    is_secret: bool | None = field(metadata=_read(_optional(_BOOL)), default=None)
    attachments: list[str] = field(metadata=_read(_list(_CODE)), default_factory=list)
    ratings: list[Sp4nRating] = field(metadata=_read(_list(_record(Sp4nRating))), default_factory=list)
    institution: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    # The stand-in's "integration" (sent by us) or "lapor" (filed there).
    source: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    created_at: datetime | None = field(metadata=_read(_optional(_AT)), default=None)
    updated_at: datetime | None = field(metadata=_read(_optional(_AT)), default=None)


@dataclass(frozen=True)
class Sp4nFollowup:
    id: str = field(metadata=_read(_CODE))
    complaint_id: str = field(metadata=_read(_CID))
    content: str = field(metadata=_read(_TEXT))
    author: str | None = field(metadata=_read(_optional(_TEXT)), default=None)
    attachments: list[str] = field(metadata=_read(_list(_CODE)), default_factory=list)
    created_at: datetime | None = field(metadata=_read(_optional(_AT)), default=None)


@dataclass(frozen=True)
class Sp4nInstitution:
    id: str = field(metadata=_read(_CODE))
    name: str = field(metadata=_read(_TEXT))
    code: str | None = field(metadata=_read(_optional(_TEXT)), default=None)


@dataclass(frozen=True)
class Sp4nTemplate:
    id: str = field(metadata=_read(_CODE))
    title: str = field(metadata=_read(_TEXT))
    content: str = field(metadata=_read(_TEXT))


@dataclass(frozen=True)
class _Meta:
    next_page: int | None = field(metadata=_read(_optional(_INT)), default=None)


_DOCS = _list(_record(Sp4nDocument))
_CREATED = _record(Sp4nCreated)
_COMPLAINT = _record(Sp4nComplaint)
_COMPLAINTS = _list(_COMPLAINT)
_FOLLOWUP = _record(Sp4nFollowup)
_FOLLOWUPS = _list(_FOLLOWUP)
_INSTITUTIONS = _list(_record(Sp4nInstitution))
_TEMPLATES = _list(_record(Sp4nTemplate))
_META = _record(_Meta)


def _check_id(complaint_id: str) -> str:
    # The id goes into a URL path: anything but 7 digits is a caller bug, never sent.
    text = str(complaint_id)
    if not _COMPLAINT_ID.fullmatch(text):
        raise ValueError("complaint_id must be a 7-digit number")
    return text


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (at - (now or datetime.now(UTC))).total_seconds())


# -- transport -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """One HTTP answer as the client reads it (``headers`` looked up case-insensitively by the
    default transport; a test's plain dict must spell them as sent)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class TransportError(Exception):
    """No answer: the connection failed, was dropped or timed out. ``reason`` names which
    (ConnectionError, ConnectTimeout, ReadTimeout); all are worth another attempt."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    """What the client sends requests through: one attempt, no retries, no redirects followed."""

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                timeout: float | tuple[float, float]) -> Answer: ...


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, its CA bundle loaded once (urllib3 given a bundle
    path would load it again for every new connection). The bundle is botocore's (certifi's,
    else its own): the system's may be missing or stale in a Lambda image."""
    from botocore.httpsession import get_cert_path  # botocore is loaded by the time we connect

    context = urllib3.util.create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(get_cert_path(True))
    return context


class Urllib3Transport:
    """The default transport: a urllib3 pool (the HTTP library botocore already loads in every
    function). It neither follows redirects (they would resend our credentials elsewhere) nor
    retries (the client does, with backoff and Retry-After)."""

    def __init__(self, maxsize: int = 10) -> None:
        self._maxsize = maxsize
        self._pools: dict[bool, urllib3.PoolManager] = {}  # by "is https": plain HTTP needs no CA bundle
        self._lock = threading.Lock()

    def _manager(self, url: str) -> urllib3.PoolManager:
        tls = url.startswith("https://")
        with self._lock:
            if tls not in self._pools:
                options: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ssl_context": _tls_context()} if tls else {}
                self._pools[tls] = urllib3.PoolManager(maxsize=self._maxsize, **options)
            return self._pools[tls]

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                timeout: float | tuple[float, float]) -> Answer:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        try:
            resp = self._manager(url).request(method, url, body=body, headers=dict(headers),
                                      timeout=urllib3.Timeout(connect=connect, read=read),
                                      retries=False, redirect=False)
        except urllib3.exceptions.NewConnectionError:  # before its base class, ConnectTimeoutError
            raise TransportError("ConnectionError") from None
        except urllib3.exceptions.ConnectTimeoutError:
            raise TransportError("ConnectTimeout") from None
        except urllib3.exceptions.ReadTimeoutError:
            raise TransportError("ReadTimeout") from None
        except urllib3.exceptions.HTTPError:  # refused, reset, dropped mid-answer, TLS failures
            raise TransportError("ConnectionError") from None
        return Answer(resp.status, resp.headers, resp.data)


# -- the client ------------------------------------------------------------------------------
class Sp4nClient:
    """HTTP client for SP4N-LAPOR! with bounded retries (exponential backoff, full jitter)."""

    def __init__(self, base_url: str, api_key: str, token: str,
                 timeout: float | tuple[float, float] = (3.05, 10), max_attempts: int = 4,
                 backoff_base: float = 0.5, backoff_cap: float = 8, sleep: Callable[[float], None] = time.sleep,
                 transport: Transport | None = None, *,
                 uniform: Callable[[float, float], float] = random.uniform, max_retry_after: float = 30.0,
                 institution: str = "KBB", page_size: int = 100, max_pages: int = 100) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise Sp4nConfigError("SP4N base URL must start with http:// or https://")
        if not api_key or not token:
            raise Sp4nConfigError("SP4N API key and token are required")
        if max_attempts < 1 or backoff_base < 0 or backoff_cap < 0:
            raise ValueError("max_attempts >= 1 and non-negative backoff are required")
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "token": token,
                         "Accept": "application/json", "User-Agent": "lapor-kbb-sp4n/1"}
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.institution = institution
        self.page_size = page_size
        self.max_pages = max_pages
        self._sleep = sleep
        self._uniform = uniform
        self._transport = transport or Urllib3Transport()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._total_attempts = 0

    def __repr__(self) -> str:  # never the key or token
        return f"Sp4nClient(base_url={self.base_url!r}, institution={self.institution!r})"

    # -- configuration ---------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Sp4nClient:
        """A client configured from the environment, Secrets Manager or SSM (see module doc)."""
        env: Mapping[str, str] = os.environ if environ is None else environ
        conf: dict[str, str | None] = {"base_url": env.get("SP4N_BASE_URL"), "api_key": env.get("SP4N_API_KEY"),
                                       "token": env.get("SP4N_API_TOKEN")}
        if env.get("SP4N_SECRET_ID"):
            conf.update({k: v for k, v in _from_secrets_manager(env["SP4N_SECRET_ID"]).items() if v})
        if env.get("SP4N_PARAMETER_PREFIX"):
            conf.update({k: v for k, v in _from_parameter_store(env["SP4N_PARAMETER_PREFIX"]).items() if v})
        stage = env.get("STAGE", "").strip()
        if stage == "local":
            port = env.get("LAPOR_SP4N_PORT") or env.get("SP4N_STANDIN_PORT") or "8100"
            conf["base_url"] = conf["base_url"] or f"http://127.0.0.1:{port}"
            conf["api_key"] = conf["api_key"] or "local-key"
            conf["token"] = conf["token"] or "local-token"
        missing = [n for n, k in (("SP4N_BASE_URL", "base_url"), ("SP4N_API_KEY", "api_key"),
                                  ("SP4N_API_TOKEN", "token")) if not conf[k]]
        if missing:
            raise Sp4nConfigError(f"SP4N-LAPOR! is not configured: {', '.join(missing)} missing")
        if stage not in LOCAL_STAGES and not str(conf["base_url"]).lower().startswith("https://"):
            # The API key and token travel in every request: never over plain HTTP in AWS.
            raise Sp4nConfigError("SP4N_BASE_URL must be https:// outside the local stack")
        options: dict[str, Any] = {}
        try:
            if env.get("SP4N_TIMEOUT"):
                parts = [float(p) for p in env["SP4N_TIMEOUT"].split(",")]
                options["timeout"] = parts[0] if len(parts) == 1 else (parts[0], parts[1])
            if env.get("SP4N_MAX_ATTEMPTS"):
                options["max_attempts"] = int(env["SP4N_MAX_ATTEMPTS"])
        except (ValueError, IndexError):
            raise Sp4nConfigError("SP4N_TIMEOUT must be 'seconds' or 'connect,read'; "
                                  "SP4N_MAX_ATTEMPTS an integer") from None
        if env.get("SP4N_INSTITUTION"):
            options["institution"] = env["SP4N_INSTITUTION"]
        return cls(str(conf["base_url"]), str(conf["api_key"]), str(conf["token"]), **{**options, **kwargs})

    # -- attempts ----------------------------------------------------------------------------
    @property
    def last_attempts(self) -> int:
        """HTTP attempts made by the last call on this thread, successful or not."""
        return int(getattr(self._local, "attempts", 0))

    @property
    def total_attempts(self) -> int:
        with self._lock:
            return self._total_attempts

    def _begin(self) -> None:
        self._local.attempts = 0

    # -- API ---------------------------------------------------------------------------------
    def upload_file(self, content: bytes, content_type: str) -> str:
        """Upload one attachment; returns its LAPOR! document id. The file name sent is neutral:
        citizens name files after themselves ("KTP_Budi.jpg")."""
        if content_type not in UPLOAD_TYPES:
            raise ValueError(f"content_type must be one of {sorted(UPLOAD_TYPES)}")
        if len(content) > MAX_UPLOAD_BYTES:
            raise ValueError("attachments are at most 10 MB")
        self._begin()
        results = self._call("upload_file", "POST", "/complaints/complaint/file",
                             files={"file": ("lampiran" + UPLOAD_TYPES[content_type], content, content_type)})
        docs = self._parse(_DOCS, results["data"], "upload_file")
        if len(docs) != 1:
            raise Sp4nProtocolError(f"upload_file: expected one document id, got {len(docs)}",
                                    attempts=self.last_attempts)
        return docs[0].id

    def create_complaint(self, payload: Sp4nComplaintIn) -> str:
        """File a complaint; returns LAPOR!'s 7-digit complaint id."""
        self._begin()
        results = self._call("create_complaint", "POST", "/complaints/complaint", data=payload.as_json())
        return self._parse(_CREATED, results["data"], "create_complaint").complaint_id

    def add_followup(self, complaint_id: str, content: str, *, attachments: Sequence[str] = (),
                     reporter: Mapping[str, Any] | None = None, status_code: str | None = None) -> str:
        """Post an answer (tindak lanjut); returns the follow-up id. Identity numbers and the given
        reporter's details are cut out; other contacts stay (an OPD may give its own hotline).
        ``status_code``: the LAPOR! status the step sets (ASSUMPTION: the follow-up form of the
        integration takes it, as LAPOR!'s own admin form does; see docs/SP4N.md)."""
        cid = _check_id(complaint_id)
        text = redact_text(content.strip(), reporter, contacts=False)
        if not text:
            raise ValueError("content is required")
        body: dict[str, Any] = {"complaint_id": cid, "content": text}
        if attachments:
            body["attachments"] = [str(a) for a in attachments]
        if status_code:
            body["status_code"] = status_code
        self._begin()
        results = self._call("add_followup", "POST", "/complaints/followup/add", data=body)
        return self._parse(_FOLLOWUP, results["data"], "add_followup").id

    def get_complaint(self, complaint_id: str) -> Sp4nComplaint:
        cid = _check_id(complaint_id)
        self._begin()
        results = self._call("get_complaint", "GET", f"/complaints/{cid}/complaint")
        return self._parse(_COMPLAINT, results["data"], "get_complaint")

    def get_followups(self, complaint_id: str) -> list[Sp4nFollowup]:
        cid = _check_id(complaint_id)
        self._begin()
        results = self._call("get_followups", "GET", f"/complaints/{cid}/followups")
        return self._parse(_FOLLOWUPS, results["data"], "get_followups")

    def reject(self, complaint_id: str, reason: str, *, reporter: Mapping[str, Any] | None = None) -> None:
        """Hand a complaint back as not our authority (bukan wewenang)."""
        cid = _check_id(complaint_id)
        text = redact_text(reason.strip(), reporter, contacts=False)
        if not text:
            raise ValueError("reason is required")
        self._begin()
        self._call("reject", "POST", f"/complaints/process/{cid}/reject", data={"reason": text})

    def list_changes(self, since: datetime) -> list[Sp4nComplaint]:
        """Complaints of our institution changed at or after ``since`` (inclusive: a change can be
        seen twice, so callers apply them idempotently), oldest first, all pages."""
        if since.tzinfo is None:
            raise ValueError("since must carry a UTC offset")
        self._begin()
        items: list[Sp4nComplaint] = []
        page = 1
        while True:
            results = self._call("list_changes", "GET", "/complaints", params={
                "institution": self.institution, "updated_since": since.isoformat(),
                "page": page, "per_page": self.page_size})
            page_items: list[Sp4nComplaint] = self._parse(_COMPLAINTS, results["data"], "list_changes")
            items.extend(page_items)
            meta = self._parse(_META, results.get("meta") or {}, "list_changes")
            if meta.next_page is None:
                return items
            if meta.next_page <= page or page >= self.max_pages:
                raise Sp4nProtocolError("list_changes: pagination does not advance or never ends",
                                        attempts=self.last_attempts)
            page = meta.next_page

    def get_institutions(self) -> list[Sp4nInstitution]:
        self._begin()
        return self._parse(_INSTITUTIONS,
                           self._call("get_institutions", "GET", "/masters/institutions/external")["data"],
                           "get_institutions")

    def get_templates(self) -> list[Sp4nTemplate]:
        self._begin()
        return self._parse(_TEMPLATES, self._call("get_templates", "GET", "/masters/templates")["data"],
                           "get_templates")

    # -- transport ---------------------------------------------------------------------------
    def backoff_ceiling(self, attempt: int) -> float:
        """Upper bound of the wait after failed attempt ``attempt`` (1-based)."""
        return float(min(self.backoff_cap, self.backoff_base * (2.0 ** (attempt - 1))))

    def _call(self, op: str, method: str, path: str, *, data: Any = None,
              params: Mapping[str, Any] | None = None, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One logical request with retries; returns the ``results`` object of the envelope.
        ``data`` is sent as JSON, ``files`` as multipart/form-data ({field: (name, bytes, type)})."""
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        headers: Mapping[str, str] = self._headers
        body: bytes | None = None
        if data is not None:
            headers = {**self._headers, "Content-Type": "application/json"}
            body = json.dumps(data, allow_nan=False).encode()
        elif files:
            body, content_type = urllib3.encode_multipart_formdata(dict(files))
            headers = {**self._headers, "Content-Type": content_type}
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            self._local.attempts = self.last_attempts + 1
            with self._lock:
                self._total_attempts += 1
            retry_after: float | None = None
            status: int | None = None
            try:
                answer = self._transport.request(method, url, headers, body, self.timeout)
            except TransportError as exc:
                reason = exc.reason
            else:
                status = answer.status
                if 200 <= status < 300:
                    return self._results(answer, op)
                if 300 <= status < 400:
                    # Redirects are not followed: they would resend our credentials elsewhere.
                    raise Sp4nProtocolError(f"{op}: unexpected redirect HTTP {status}",
                                            attempts=self.last_attempts, status=status)
                if status != 429 and status < 500:
                    raise self._rejection(answer, op)
                reason = f"HTTP {status}"
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            if attempt >= self.max_attempts:
                break
            if retry_after is not None and retry_after > self.max_retry_after:
                # Waiting that long would hold a Lambda idle; let the queue redeliver later.
                raise Sp4nUnavailable(f"{op}: {reason}, Retry-After {retry_after:.0f}s is beyond our patience",
                                      attempts=self.last_attempts, status=status, retry_after=retry_after)
            # Full jitter spreads retries of many workers; Retry-After is a floor, never shortened.
            delay = self._uniform(0.0, self.backoff_ceiling(attempt))
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.warning("sp4n %s attempt %d failed (%s); retrying in %.2fs", op, attempt, reason, delay)
            self._sleep(delay)
        log.error("sp4n %s unavailable after %d attempts (%s)", op, self.last_attempts, reason)
        raise Sp4nUnavailable(f"{op}: SP4N-LAPOR! unavailable after {self.last_attempts} attempts ({reason})",
                              attempts=self.last_attempts, status=status, retry_after=retry_after)

    def _results(self, answer: Answer, op: str) -> dict[str, Any]:
        try:
            body = json.loads(answer.body)
        except ValueError:
            raise Sp4nProtocolError(f"{op}: HTTP {answer.status} answer is not JSON "
                                    f"({answer.headers.get('Content-Type', 'no content type')})",
                                    attempts=self.last_attempts, status=answer.status) from None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, dict) or "data" not in results:
            raise Sp4nProtocolError(f"{op}: answer lacks the results.data envelope",
                                    attempts=self.last_attempts, status=answer.status)
        return results

    def _parse(self, reader: Reader, value: Any, op: str) -> Any:
        problems: list[str] = []
        parsed = reader(value, (), problems)
        if problems:
            # Field paths and rules only: the input values may be someone's complaint.
            raise Sp4nProtocolError(f"{op}: unexpected answer: {'; '.join(problems[:5])}",
                                    attempts=self.last_attempts)
        return parsed

    def _rejection(self, answer: Answer, op: str) -> Sp4nRejected:
        message = ""
        errors: dict[str, Any] = {}
        try:
            results = json.loads(answer.body).get("results") or {}
            message = str(results.get("message") or "")[:200]
            found = results.get("errors")
            errors = found if isinstance(found, dict) else {}
        except (ValueError, AttributeError):
            pass
        status = answer.status
        cls = Sp4nAuthError if status in (401, 403) else Sp4nNotFound if status == 404 else Sp4nRejected
        text = f"{op}: SP4N-LAPOR! answered HTTP {status}" + (f": {message}" if message else "")
        return cls(text, attempts=self.last_attempts, status=status, errors=errors)


# -- AWS configuration sources (boto3 only through adapters.aws, imported lazily) -------------
_ALIASES = {"base_url": "base_url", "sp4n_base_url": "base_url", "api_key": "api_key", "sp4n_api_key": "api_key",
            "key": "api_key", "token": "token", "api_token": "token", "sp4n_api_token": "token"}


def _normalise(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        key = _ALIASES.get(str(name).strip().lower().replace("-", "_"))
        if key and isinstance(value, str) and value:
            out[key] = value
    return out


def _from_secrets_manager(secret_id: str) -> dict[str, str]:
    """The secret is JSON: {"base_url"?, "api_key", "token"} (SP4N_* spellings accepted)."""
    from chalicelib.adapters import aws  # lazily: only AWS deployments read secrets

    raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id).get("SecretString") or ""
    try:
        values = json.loads(raw)
    except json.JSONDecodeError:
        raise Sp4nConfigError(f"secret {secret_id} is not a JSON object") from None
    if not isinstance(values, dict):
        raise Sp4nConfigError(f"secret {secret_id} is not a JSON object")
    return _normalise(values)


def _from_parameter_store(prefix: str) -> dict[str, str]:
    """Parameters <prefix>/base_url, <prefix>/api_key, <prefix>/token (SecureString welcome)."""
    from chalicelib.adapters import aws  # lazily, as above

    path = "/" + prefix.strip("/")
    values: dict[str, Any] = {}
    for page in aws.client("ssm").get_paginator("get_parameters_by_path").paginate(
            Path=path, Recursive=False, WithDecryption=True):
        for p in page.get("Parameters", []):
            values[p["Name"].rsplit("/", 1)[-1]] = p.get("Value")
    return _normalise(values)
