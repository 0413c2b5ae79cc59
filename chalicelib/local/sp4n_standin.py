"""A local stand-in for the national SP4N-LAPOR! integration API (never deployed): a Flask app
that answers what the adapter (chalicelib/adapters/sp4n.py) calls over real HTTP, with control
routes to play LAPOR!'s side and make it fail, and an optional state file kept across restarts.
Run: python -m chalicelib.local.sp4n_standin --port 8100 [--state-file PATH]; in tests
`start_standin(port=0)`. Endpoints, faults and assumptions: docs/SP4N.md, "The local stand-in".
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

from flask import Flask, Response, g, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveInt,
    StringConstraints,
    ValidationError,
    field_validator,
)
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger(__name__)

WIB = timezone(timedelta(hours=7), "WIB")
DEFAULT_API_KEY = "local-key"
DEFAULT_TOKEN = "local-token"
DEFAULT_PORT = 8100
INSTITUTION = "KBB"
INSTITUTION_NAME = "Pemerintah Kabupaten Bandung Barat"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_BODY_BYTES = 25 * 1024 * 1024
FILE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
FLUSH_SECONDS = 1.0

# ASSUMPTION: LAPOR!'s status codes are not public; these follow its public statistics labels.
STATUSES: dict[str, str] = {
    "verification": "Belum Terverifikasi",
    "disposed": "Terdisposisi Belum Ditindaklanjuti",
    "process": "Terdisposisi Sedang Diproses",
    "done": "Terdisposisi Selesai",
    "pending": "Laporan Tertunda",
    "archive": "Laporan Arsip",
    "rejected": "Bukan Wewenang",
}
INSTITUTIONS: list[dict[str, Any]] = [
    {"id": 3217, "code": INSTITUTION, "name": INSTITUTION_NAME},
    {"id": 32, "code": "JABAR", "name": "Pemerintah Provinsi Jawa Barat"},
    {"id": 3273, "code": "KOTABDG", "name": "Pemerintah Kota Bandung"},
    {"id": 3204, "code": "KABBDG", "name": "Pemerintah Kabupaten Bandung"},
    {"id": 1, "code": "KEMENPANRB", "name": "Kementerian PANRB"},
]
TEMPLATES: list[dict[str, Any]] = [
    {"id": 1, "title": "Diterima", "content": "Terima kasih, laporan Anda sedang kami tindak lanjuti."},
    {"id": 2, "title": "Selesai", "content": "Laporan Anda telah selesai ditindaklanjuti."},
    {"id": 3, "title": "Bukan wewenang", "content": "Laporan ini bukan kewenangan kami."},
]


def _now() -> datetime:
    return datetime.now(WIB)


class ApiFailure(Exception):
    """An answer other than 2xx, raised inside a handler and turned into the error envelope."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


def _invalid(name: str, text: str) -> ApiFailure:
    return ApiFailure(422, "Validation failed", {name: [text]})


class _In(BaseModel):
    """A request body: no unknown field, no coercion (a "5" is not a 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


Text = Annotated[str, StringConstraints(pattern=r"\S")]


class Fault(_In):
    """How the API misbehaves (docs/SP4N.md, "The local stand-in")."""

    mode: Literal["none", "5xx", "429", "timeout", "slow", "drop", "malformed", "html"] = "none"
    count: PositiveInt | None = None  # requests affected, then back to "none"; None: until reset
    delay: NonNegativeFloat | None = None
    status: Annotated[int, Field(ge=500, le=599)] = 503
    retry_after: NonNegativeFloat = 1.0
    path: str | None = None  # only requests whose path contains this

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


class ComplaintIn(_In):
    title: Annotated[str, StringConstraints(max_length=255, pattern=r"\S")]
    content: Annotated[str, StringConstraints(max_length=10000, pattern=r"\S")]
    classification_id: Literal[1, 2, 3]  # Pengaduan, Aspirasi, Permintaan Informasi
    category_id: PositiveInt
    location_id: PositiveInt
    date_of_incident: str
    is_anonymous: bool
    is_secret: bool
    attachments: list[str]

    @field_validator("date_of_incident")
    @classmethod
    def _past(cls, value: str) -> str:
        if date.fromisoformat(value) > _now().date():  # not YYYY-MM-DD: a ValueError, a 422 too
            raise ValueError("must not be in the future")
        return value


class FollowupIn(_In):
    complaint_id: Annotated[int | str, Field(union_mode="left_to_right")]
    content: Text
    attachments: list[str] | None = None
    status_code: Text | None = None


class RejectIn(_In):
    reason: Text


class StatusIn(_In):
    status_code: Text
    status_name: Text | None = None
    disposition_name: Text | None = None
    message: Text | None = None


class LaporFollowupIn(_In):
    content: Text
    author: Text = "lapor"  # "reporter": the citizen; anything else: LAPOR!'s admins


class RatingIn(_In):
    rating: Annotated[int, Field(ge=1, le=5)]
    resolved: bool = False
    comment: Text | None = None


M = TypeVar("M", bound=_In)


def _valid(model: type[M], body: Any) -> M:
    """The body as `model`, or a 422 naming every bad field (missing, unknown or mistyped)."""
    if not isinstance(body, dict):
        raise _invalid("body", "a JSON object is required")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for e in exc.errors():
            errors.setdefault(".".join(str(p) for p in e["loc"]) or "body", []).append(e["msg"])
        raise ApiFailure(422, "Validation failed", errors) from None


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class Records(BaseModel):
    """What LAPOR! holds, and what survives a restart (a fault does not: a restarted gateway is
    a healthy one). Complaints, follow-ups and files are keyed by their ids."""

    version: Literal[1] = 1
    complaints: dict[str, dict[str, Any]] = {}
    followups: dict[str, list[dict[str, Any]]] = {}
    files: dict[str, dict[str, Any]] = {}
    received: list[dict[str, Any]] = []
    next_complaint: int = 1000001
    next_file: int = 1
    next_followup: int = 1
    last_change: datetime | None = None


@dataclass
class StandinState:
    """Everything the stand-in knows. All access goes through the lock: requests run in threads."""

    api_key: str = DEFAULT_API_KEY
    token: str = DEFAULT_TOKEN
    institution: str = INSTITUTION
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Set on reset/stop so requests held by a "timeout" fault end at once instead of lingering.
    wake: threading.Event = field(default_factory=threading.Event)
    # Counts changes, so the state file is written only when something changed.
    revision: int = 0
    records: Records = field(default_factory=Records)
    _fault: Fault = field(default_factory=Fault)

    # -- control and persistence -------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.wake.set()
            self.wake = threading.Event()
            self.load(Records())
            self._fault = Fault()

    def dump(self) -> str:
        with self.lock:
            return self.records.model_dump_json()

    def load(self, records: Records) -> None:
        with self.lock:
            self.records = records
            self.revision += 1

    def set_fault(self, fault: Fault) -> None:
        with self.lock:
            self._fault = fault
            if fault.mode == "none":
                self.wake.set()
                self.wake = threading.Event()

    def fault(self) -> Fault:
        with self.lock:
            return self._fault.model_copy()

    def take_fault(self, path: str) -> Fault | None:
        """The fault this request suffers, counting it down."""
        with self.lock:
            f = self._fault
            if f.mode == "none" or (f.path is not None and f.path not in path):
                return None
            taken = f.model_copy()
            if f.count is not None:
                f.count -= 1
                if f.count <= 0:
                    self._fault = Fault()
            return taken

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep a request on arrival, so one held by a fault is already visible."""
        with self.lock:
            entry["seq"] = len(self.records.received) + 1
            self.records.received.append(entry)
            self.revision += 1
            return entry

    def update(self, entry: dict[str, Any], **values: Any) -> None:
        with self.lock:
            entry.update(values)
            self.revision += 1

    def received(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [_copy(e) for e in self.records.received if path is None or path in e["path"]]

    def complaints(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._view(cid) for cid in self.records.complaints]

    def complaint(self, complaint_id: str) -> dict[str, Any]:
        with self.lock:
            self._get(complaint_id)
            return self._view(complaint_id)

    def followups(self, complaint_id: str) -> list[dict[str, Any]]:
        with self.lock:
            self._get(complaint_id)
            return list(_copy(self.records.followups[complaint_id]))

    def changes(self, institution: str, since: datetime | None) -> list[dict[str, Any]]:
        with self.lock:
            items = [self._view(cid) for cid, c in self.records.complaints.items()
                     if c["institution"] == institution
                     and (since is None or datetime.fromisoformat(c["updated_at"]) >= since)]
        items.sort(key=lambda c: datetime.fromisoformat(c["updated_at"]))
        return items

    # -- behaviour ---------------------------------------------------------------------------
    def store_files(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for f in files:
                doc = {"id": f"{self.records.next_file:08d}", **f, "created_at": _now().isoformat()}
                self.records.next_file += 1
                self.records.files[doc["id"]] = doc
                out.append(doc)
            self.revision += 1
            return out

    def create_complaint(self, fields: dict[str, Any], source: str) -> dict[str, Any]:
        with self.lock:
            self._check_documents(fields.get("attachments"))
            if self.records.next_complaint > 9999999:
                raise ApiFailure(500, "complaint id space exhausted")
            cid = f"{self.records.next_complaint:07d}"
            self.records.next_complaint += 1
            at = self._tick()
            status = "verification" if source == "integration" else "disposed"
            self.records.complaints[cid] = {
                **fields, "institution": self.institution, "source": source,
                "status_code": status, "status_name": STATUSES[status],
                "disposition_name": INSTITUTION_NAME if status == "disposed" else None,
                "created_at": at.isoformat(), "updated_at": at.isoformat(), "logs": [], "ratings": [],
            }
            self.records.followups[cid] = []
            self._log(self.records.complaints[cid], at, "Laporan diterima")
            return self._view(cid)

    def set_status(self, complaint_id: str, status_code: str, status_name: str | None = None,
                   disposition_name: str | None = None, message: str | None = None) -> dict[str, Any]:
        with self.lock:
            c = self._get(complaint_id)
            c["status_code"] = status_code
            c["status_name"] = status_name or STATUSES.get(status_code, status_code)
            if disposition_name is not None:
                c["disposition_name"] = disposition_name
            self._log(c, self._tick(), message or f"Status diubah menjadi {c['status_name']}")
            return self._view(complaint_id)

    def add_followup(self, complaint_id: str, content: str, author: str,
                     attachments: list[str] | None = None, status_code: str | None = None) -> dict[str, Any]:
        with self.lock:
            c = self._get(complaint_id)
            self._check_documents(attachments)
            if status_code is not None and status_code not in STATUSES:
                raise _invalid("status_code", f"one of {sorted(STATUSES)}")
            at = self._tick()
            if status_code is not None:
                c["status_code"], c["status_name"] = status_code, STATUSES[status_code]
            fu = {"id": self.records.next_followup, "complaint_id": int(complaint_id), "content": content,
                  "author": author, "attachments": list(attachments or []), "created_at": at.isoformat()}
            self.records.next_followup += 1
            self.records.followups[complaint_id].append(fu)
            self._log(c, at, f"Tindak lanjut oleh {author}")
            return dict(fu)

    def rate(self, complaint_id: str, rating: int, resolved: bool, comment: str | None = None) -> dict[str, Any]:
        """The reporter rates the institution's answer on LAPOR! and may confirm it is finished."""
        with self.lock:
            c = self._get(complaint_id)
            at = self._tick()
            entry = {"id": self.records.next_followup, "rating": rating, "resolved": resolved, "comment": comment,
                     "created_at": at.isoformat()}
            self.records.next_followup += 1  # one id space with follow-ups, as refs never clash anyway
            c["ratings"].append(entry)
            if resolved:
                c["status_code"], c["status_name"] = "done", STATUSES["done"]
            self._log(c, at, f"Penilaian pelapor: {rating}" + (" (selesai)" if resolved else ""))
            return dict(entry)

    def reject(self, complaint_id: str, reason: str) -> dict[str, Any]:
        with self.lock:
            c = self._get(complaint_id)
            if c["status_code"] == "rejected":
                raise ApiFailure(409, "complaint already rejected")
            c["status_code"], c["status_name"] = "rejected", STATUSES["rejected"]
            c["reject_reason"] = reason
            self._log(c, self._tick(), "Bukan wewenang: " + reason)
            return self._view(complaint_id)

    def _check_documents(self, ids: list[str] | None) -> None:
        for doc in ids or []:
            if doc not in self.records.files:
                raise _invalid("attachments", f"unknown document {doc}")

    def _tick(self) -> datetime:
        # Strictly increasing change times, so "updated_since" never ties two changes by accident.
        at = _now()
        if self.records.last_change is not None and at <= self.records.last_change:
            at = self.records.last_change + timedelta(microseconds=1)
        self.records.last_change = at
        self.revision += 1
        return at

    def _view(self, complaint_id: str) -> dict[str, Any]:
        return dict(_copy({"complaint_id": int(complaint_id), **self.records.complaints[complaint_id]}))

    def _log(self, c: dict[str, Any], at: datetime, message: str) -> None:
        c["updated_at"] = at.isoformat()
        c["logs"].append({"at": at.isoformat(), "status_code": c["status_code"],
                          "status_name": c["status_name"], "message": message})

    def _get(self, complaint_id: str) -> dict[str, Any]:
        if complaint_id not in self.records.complaints:
            raise ApiFailure(404, f"complaint {complaint_id} not found")
        return self.records.complaints[complaint_id]


class StateFile:
    """Keeps a state in a JSON file: loaded once, rewritten (whole, atomically) when it changed."""

    def __init__(self, path: Path, state: StandinState) -> None:
        self.path, self.state = path, state
        self._saved = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sp4n-standin-state", daemon=True)

    def load(self) -> None:
        if self.path.exists():
            self.state.load(Records.model_validate_json(self.path.read_text(encoding="utf-8")))
            log.info("sp4n-standin state loaded from %s", self.path)
        self._saved = self.state.revision

    def save(self) -> None:
        revision = self.state.revision
        if revision == self._saved:
            return
        data = self.state.dump()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(self.path)
        self._saved = revision

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.save()

    def _run(self) -> None:
        # Written behind the requests, not in them: a crash loses at most a second.
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self.save()
            except OSError:
                log.exception("sp4n-standin could not write %s", self.path)


def _complaint_id(value: int | str) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{7}", text):
        raise _invalid("complaint_id", "must be a 7-digit number")
    return text


def _lapor_complaint(body: Any) -> dict[str, Any]:
    """A complaint as a citizen would file it on LAPOR!: defaults for whatever the test omits."""
    if not isinstance(body, dict):
        raise _invalid("body", "a JSON object is required")
    defaults: dict[str, Any] = {
        "title": "Laporan langsung di LAPOR!", "content": "Isi laporan yang diajukan langsung di LAPOR!",
        "classification_id": 1, "category_id": 1, "location_id": 3217,
        "date_of_incident": _now().date().isoformat(), "is_anonymous": False, "is_secret": False,
        "attachments": [],
    }
    return _valid(ComplaintIn, {**defaults, **body}).model_dump()


# -- HTTP ------------------------------------------------------------------------------------
def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def _results(status: int, data: Any, meta: dict[str, Any] | None = None) -> Response:
    results: dict[str, Any] = {"data": data}
    if meta is not None:
        results["meta"] = meta
    return _json(status, {"results": results})


def _envelope_error(status: int, message: str, errors: dict[str, list[str]] | None = None,
                    headers: dict[str, str] | None = None) -> Response:
    return _json(status, {"results": {"data": None, "message": message, "errors": errors or {}}}, headers)


def _no_answer() -> Response:
    """Close the connection without a byte of answer: the request dies like a dropped TCP link."""
    sock = request.environ.get("werkzeug.socket")
    g.no_answer = True

    def body() -> Iterator[bytes]:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        # werkzeug's server treats a ConnectionError as the client gone and answers nothing.
        raise ConnectionAbortedError("sp4n-standin fault: connection dropped")
        yield b""  # pragma: no cover (makes this a generator: nothing runs before iteration)

    return Response(body())


def _decode_body() -> Any:
    """The request body as recorded and routed: JSON, or form fields and file digests."""
    if request.mimetype == "multipart/form-data":
        files = []
        for name, f in request.files.items(multi=True):
            data = f.read()
            # Only a digest is kept: the stand-in must not become a second store of citizens' files.
            files.append({"field": name, "filename": f.filename, "content_type": f.mimetype,
                          "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        return {"fields": request.form.to_dict(), "files": files}
    raw = request.get_data()
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiFailure(400, "request body is not valid JSON") from None


def _control_body() -> Any:
    raw = request.get_data()
    try:
        return json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiFailure(400, "body is not valid JSON") from None


def create_app(state: StandinState) -> Flask:
    app = Flask(__name__)
    app.url_map.strict_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def is_control() -> bool:
        return request.path.startswith("/_standin")

    @app.before_request
    def arrive() -> Response | None:
        """Record, act out a fault, then authenticate; only then does the route run."""
        if is_control():
            return None
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise ApiFailure(413, "request too large")
        bearer, token = request.headers.get("Authorization"), request.headers.get("token")
        auth = "missing" if bearer is None or token is None else (
            "ok" if bearer == f"Bearer {state.api_key}" and token == state.token else "invalid")
        entry: dict[str, Any] = {
            "at": _now().isoformat(), "method": request.method, "path": request.path.rstrip("/") or "/",
            "query": {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()},
            "content_type": request.mimetype if request.content_length else None,
            # Credentials are never kept: only whether they matched.
            "auth": auth, "fault": None, "status": None, "body": None,
        }
        body_error: ApiFailure | None = None
        try:
            entry["body"] = _decode_body()
        except ApiFailure as exc:
            body_error, entry["body"] = exc, {"undecodable_bytes": request.content_length or 0}
        fault = state.take_fault(entry["path"])
        entry["fault"] = fault.mode if fault is not None else None
        g.entry = state.record(entry)
        if fault is not None:
            answer = act_out(fault)
            if answer is not None:
                return answer
        # Authentication is judged before the body, as a real API gateway would.
        if auth != "ok":
            raise ApiFailure(401, "Unauthenticated: a valid bearer key and token are required")
        if body_error is not None:
            raise body_error
        g.body = entry["body"]
        return None

    def act_out(fault: Fault) -> Response | None:
        """A fault's answer, or None to go on (after a `slow` wait). Faults come before auth,
        like a failing gateway in front of the API."""
        wake = state.wake
        if fault.mode == "slow":
            wake.wait(1.0 if fault.delay is None else fault.delay)
            return None
        if fault.mode == "timeout":
            wake.wait(15.0 if fault.delay is None else fault.delay)
            return _no_answer()
        if fault.mode == "drop":
            return _no_answer()
        if fault.mode == "5xx":
            return _envelope_error(fault.status, "Service temporarily unavailable (stand-in fault)")
        if fault.mode == "429":
            ra = fault.retry_after
            return _envelope_error(429, "Too many requests (stand-in fault)",
                                   headers={"Retry-After": str(int(ra)) if ra == int(ra) else str(ra)})
        if fault.mode == "malformed":
            return _json(200, {"data": {"complaint": "ok"}, "status": "success"})
        return Response(b"<html><body><h1>502 Bad Gateway</h1></body></html>", 200, mimetype="text/html")

    @app.after_request
    def answered(response: Response) -> Response:
        entry = g.get("entry")
        if entry is not None:
            state.update(entry, status=None if g.get("no_answer") else response.status_code)
        return response

    @app.errorhandler(ApiFailure)
    def failure(exc: ApiFailure) -> Response:
        if is_control():
            return _json(exc.status, {"error": exc.message, "errors": exc.errors})
        return _envelope_error(exc.status, exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if is_control():
            return _json(status, {"error": f"no control route {request.method} {request.path}"})
        return _envelope_error(status, f"{exc.name}: {request.method} {request.path}")

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Response:  # the stand-in must answer like a server, not die
        log.exception("sp4n-standin handler failed")
        return _envelope_error(500, "internal error")

    # -- the API ------------------------------------------------------------------------------
    @app.post("/complaints/complaint/file")
    def upload() -> Response:
        body = g.body
        if not isinstance(body, dict) or "files" not in body:
            raise _invalid("file", "multipart/form-data is required")
        errors: dict[str, list[str]] = {}
        for f in body["files"]:
            if f["content_type"] not in FILE_TYPES:
                errors.setdefault(f["field"], []).append(f"type {f['content_type']} not allowed")
            elif f["size"] > MAX_FILE_BYTES:
                errors.setdefault(f["field"], []).append("larger than 10 MB")
        if not body["files"]:
            errors["file"] = ["at least one file is required"]
        if errors:
            raise ApiFailure(422, "Validation failed", errors)
        docs = state.store_files(body["files"])
        return _results(201, [{k: d[k] for k in ("id", "filename", "content_type", "size")} for d in docs])

    @app.post("/complaints/complaint")
    def create() -> Response:
        c = state.create_complaint(_valid(ComplaintIn, g.body).model_dump(), "integration")
        return _results(201, {k: c[k] for k in ("complaint_id", "status_code", "status_name", "created_at")})

    @app.post("/complaints/followup/add")
    def followup() -> Response:
        f = _valid(FollowupIn, g.body)
        return _results(201, state.add_followup(_complaint_id(f.complaint_id), f.content, "institution",
                                                f.attachments, f.status_code))

    @app.get("/complaints/<cid>/complaint")
    def complaint(cid: str) -> Response:
        return _results(200, state.complaint(_path_id(cid)))

    @app.get("/complaints/<cid>/followups")
    def followups(cid: str) -> Response:
        return _results(200, state.followups(_path_id(cid)))

    @app.post("/complaints/process/<cid>/reject")
    def reject(cid: str) -> Response:
        c = state.reject(_path_id(cid), _valid(RejectIn, g.body).reason)
        return _results(200, {k: c[k] for k in ("complaint_id", "status_code", "status_name")})

    @app.get("/complaints")
    def changes() -> Response:
        # ASSUMPTION (not seen in the public integrator): see docs/SP4N.md, "The list of changes".
        args = request.args
        errors: dict[str, list[str]] = {}
        since: datetime | None = None
        if "updated_since" in args:
            try:
                since = datetime.fromisoformat(args["updated_since"])
                if since.tzinfo is None:
                    errors["updated_since"] = ["must carry a UTC offset"]
            except ValueError:
                errors["updated_since"] = ["must be ISO 8601"]
        try:
            page, per_page = int(args.get("page", "1")), int(args.get("per_page", "50"))
            if page < 1 or not 1 <= per_page <= 100:
                raise ValueError
        except ValueError:
            errors["page"] = ["page >= 1 and 1 <= per_page <= 100 are required"]
        if errors:
            raise ApiFailure(422, "Validation failed", errors)
        items = state.changes(args.get("institution", state.institution), since)
        next_page = page + 1 if page * per_page < len(items) else None
        return _results(200, items[(page - 1) * per_page: page * per_page],
                        {"page": page, "per_page": per_page, "total": len(items), "next_page": next_page})

    @app.get("/masters/institutions/external")
    def institutions() -> Response:
        return _results(200, INSTITUTIONS)

    @app.get("/masters/templates")
    def templates() -> Response:
        return _results(200, TEMPLATES)

    # -- control routes: no auth, no faults, plain JSON --------------------------------------
    @app.get("/_standin/received")
    def received() -> Response:
        return _json(200, {"items": state.received(request.args.get("path"))})

    @app.post("/_standin/reset")
    def reset() -> Response:
        state.reset()
        return _json(200, {"ok": True})

    @app.route("/_standin/faults", methods=["GET", "POST"])
    def faults() -> Response:
        if request.method == "GET":
            return _json(200, state.fault().as_dict())
        try:
            fault = Fault.model_validate(_control_body())
        except ValidationError as exc:
            return _json(400, {"error": str(exc)})
        state.set_fault(fault)
        return _json(200, fault.as_dict())

    @app.route("/_standin/complaints", methods=["GET", "POST"])
    def lapor_complaints() -> Response:
        if request.method == "GET":
            return _json(200, {"items": state.complaints()})
        return _json(201, state.create_complaint(_lapor_complaint(_control_body()), "lapor"))

    @app.get("/_standin/complaints/<cid>")
    def lapor_complaint(cid: str) -> Response:
        cid = _path_id(cid)
        return _json(200, {**state.complaint(cid), "followups": state.followups(cid)})

    @app.post("/_standin/complaints/<cid>/status")
    def lapor_status(cid: str) -> Response:
        f = _valid(StatusIn, _control_body())
        return _json(200, state.set_status(_path_id(cid), f.status_code, f.status_name, f.disposition_name,
                                           f.message))

    @app.post("/_standin/complaints/<cid>/followups")
    def lapor_followup(cid: str) -> Response:
        f = _valid(LaporFollowupIn, _control_body())
        return _json(201, state.add_followup(_path_id(cid), f.content, f.author))

    @app.post("/_standin/complaints/<cid>/rating")
    def lapor_rating(cid: str) -> Response:
        f = _valid(RatingIn, _control_body())
        return _json(201, state.rate(_path_id(cid), f.rating, f.resolved, f.comment))

    return app


def _path_id(cid: str) -> str:
    if not re.fullmatch(r"\d{7}", cid):
        raise ApiFailure(404, f"complaint {cid} not found")
    return cid


class _Handler(WSGIRequestHandler):
    # One buffered write per answer and no Nagle: otherwise headers and body leave in two
    # packets and the client's delayed ACK delays every request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("sp4n-standin %s %s", self.requestline, code)


@dataclass
class StandinHandle:
    """A running stand-in: its base URL, its state, and a way to stop it."""

    server: BaseWSGIServer
    thread: threading.Thread
    state: StandinState
    state_file: StateFile | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]!s}:{self.port}"

    def stop(self) -> None:
        self.state.wake.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        if self.state_file is not None:
            self.state_file.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_standin(port: int = 0, host: str = "127.0.0.1", api_key: str | None = None,
                  token: str | None = None, institution: str = INSTITUTION,
                  state_file: Path | None = None) -> StandinHandle:
    """Start the stand-in in a background thread; port 0 picks a free port (see ``.url``).
    With `state_file`, what it knew at its last stop is loaded and kept there."""
    state = StandinState(api_key=api_key or os.environ.get("SP4N_API_KEY") or DEFAULT_API_KEY,
                         token=token or os.environ.get("SP4N_API_TOKEN") or DEFAULT_TOKEN,
                         institution=institution)
    keeper = StateFile(state_file, state) if state_file is not None else None
    if keeper is not None:
        keeper.load()
    server = make_server(host, port, create_app(state), threaded=True, request_handler=_Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sp4n-standin-{server.server_address[1]}", daemon=True)
    thread.start()
    if keeper is not None:
        keeper.start()
    return StandinHandle(server, thread, state, keeper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local stand-in for the SP4N-LAPOR! API.")
    parser.add_argument("--host", default=os.environ.get("SP4N_STANDIN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SP4N_STANDIN_PORT", DEFAULT_PORT)))
    parser.add_argument("--state-file", type=Path, default=None,
                        help="keep complaints and the request log in this JSON file across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handle = start_standin(port=args.port, host=args.host, state_file=args.state_file)
    stopping = threading.Event()
    # The local stack stops its processes with SIGTERM: the state is written before exiting.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    # The first line is machine-readable for whoever started us with --port 0.
    print(f"SP4N-LAPOR! stand-in listening on {handle.url}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
