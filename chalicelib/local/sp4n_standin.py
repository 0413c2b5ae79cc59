"""A local stand-in for the national SP4N-LAPOR! integration API (never deployed).

The real API is documented only to agency developer accounts, so this server reproduces what a
public integrator showed (docs/DOMAIN.md, "SP4N-LAPOR!") and fills the gaps
with documented assumptions. It is a real HTTP server so the adapter is exercised over the wire.

Run it:  python -m chalicelib.local.sp4n_standin --port 8100
In tests: handle = start_standin(port=0); handle.url; handle.state; handle.stop()

API (every request: ``Authorization: Bearer <SP4N_API_KEY>`` and ``token: <SP4N_API_TOKEN>``,
else 401; answers ``{"results": {"data": ...}}``; errors ``{"results": {"data": null,
"message": ..., "errors": {field: [text]}}}``):

  POST /complaints/complaint/file           multipart, one or more parts -> [{"id", ...}]
  POST /complaints/complaint                create -> {"complaint_id": 1234567, ...}
  GET  /complaints/{id}/complaint           status_code, status_name, disposition_name, logs
  GET  /complaints/{id}/followups           [{"id", "complaint_id", "content", "author", "created_at"}]
  POST /complaints/followup/add             {"complaint_id", "content", "attachments"?, "status_code"?}
  POST /complaints/process/{id}/reject      {"reason"}: not our authority
  GET  /masters/institutions/external
  GET  /masters/templates
  GET  /complaints?institution=KBB&updated_since=ISO&page=1&per_page=50
       ASSUMPTION (not seen in the public integrator): a list of complaints of an institution
       changed at or after ``updated_since`` (inclusive: callers must be idempotent), oldest
       change first, paginated with ``results.meta.next_page``. Items have the complaint shape.

Control endpoints (no auth, no faults, plain JSON; for tests and ``make run`` users):

  GET  /_standin/received[?path=substring]  every API request received, in order
  POST /_standin/reset                      forget complaints, files, requests and faults
  GET  /_standin/faults                     the current fault
  POST /_standin/faults                     {"mode": "5xx"|"429"|"timeout"|"slow"|"drop"|
                                             "malformed"|"html"|"none", "count": N|null,
                                             "delay": s, "status": 5xx code, "retry_after": s,
                                             "path": substring of the paths to affect}
  GET  /_standin/complaints                 everything stored
  POST /_standin/complaints                 a complaint filed directly on LAPOR! for KBB
  POST /_standin/complaints/{id}/status     {"status_code", "status_name"?, "disposition_name"?,
                                             "message"?}: a change made on LAPOR! itself
  POST /_standin/complaints/{id}/followups  {"content", "author"?}: a follow-up given on LAPOR!
                                            (author "reporter": the citizen; default "lapor": its admins)
  POST /_standin/complaints/{id}/rating     {"rating": 1-5, "resolved"?, "comment"?}: the reporter rates
  GET  /_standin/complaints/{id}            one complaint with its follow-ups and ratings

Fault modes: ``5xx`` answers ``status`` (503); ``429`` answers 429 with ``Retry-After``;
``timeout`` holds the request ``delay`` seconds (15) and drops it unprocessed; ``slow`` waits
``delay`` seconds (1) and then processes it; ``drop`` closes the connection unanswered;
``malformed`` answers 200 with JSON that lacks the envelope; ``html`` answers 200 with a proxy
error page. ``count`` requests are affected, then the mode returns to ``none`` (null: until reset).
Faults are applied before authentication, like a failing gateway in front of the API.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

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
FAULT_MODES = frozenset({"none", "5xx", "429", "timeout", "slow", "drop", "malformed", "html"})

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
CLASSIFICATIONS = {1: "Pengaduan", 2: "Aspirasi", 3: "Permintaan Informasi"}
CREATE_FIELDS = ("title", "content", "classification_id", "category_id", "location_id",
                 "date_of_incident", "is_anonymous", "is_secret", "attachments")
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
_ID_PATH = re.compile(r"^/complaints/(\d{7})/(complaint|followups)$")
_REJECT_PATH = re.compile(r"^/complaints/process/(\d{7})/reject$")
_CTRL_COMPLAINT = re.compile(r"^/_standin/complaints/(\d{7})/(status|followups|rating)$")
_CTRL_ONE = re.compile(r"^/_standin/complaints/(\d{7})$")


def _now() -> datetime:
    return datetime.now(WIB)


class ApiFailure(Exception):
    """An answer other than 2xx, raised inside a handler and turned into the error envelope."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


@dataclass
class Fault:
    mode: str = "none"
    count: int | None = None
    delay: float | None = None
    status: int = 503
    retry_after: float = 1.0
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "count": self.count, "delay": self.delay, "status": self.status,
                "retry_after": self.retry_after, "path": self.path}

    @classmethod
    def parse(cls, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise ValueError("a JSON object is required")  # noqa: TRY004 (answered as a 400)
        unknown = set(body) - {"mode", "count", "delay", "status", "retry_after", "path"}
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        mode = body.get("mode", "none")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
        count = body.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a positive integer or null")
        delay = body.get("delay")
        if delay is not None and (not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0):
            raise ValueError("delay must be a non-negative number")
        status = body.get("status", 503)
        if not isinstance(status, int) or not 500 <= status <= 599:
            raise ValueError("status must be a 5xx code")
        retry_after = body.get("retry_after", 1)
        if not isinstance(retry_after, (int, float)) or isinstance(retry_after, bool) or retry_after < 0:
            raise ValueError("retry_after must be a non-negative number")
        path = body.get("path")
        if path is not None and not isinstance(path, str):
            raise ValueError("path must be a string")
        return cls(mode, count, None if delay is None else float(delay), status, float(retry_after), path)


@dataclass
class StandinState:
    """Everything the stand-in knows. All access goes through the lock: handlers run in threads."""

    api_key: str = DEFAULT_API_KEY
    token: str = DEFAULT_TOKEN
    institution: str = INSTITUTION
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Set on reset/stop so requests held by a "timeout" fault end at once instead of lingering.
    wake: threading.Event = field(default_factory=threading.Event)
    _complaints: dict[str, dict[str, Any]] = field(default_factory=dict)
    _followups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _received: list[dict[str, Any]] = field(default_factory=list)
    _fault: Fault = field(default_factory=Fault)
    _next_complaint: int = 1000001
    _next_file: int = 1
    _next_followup: int = 1
    _last_change: datetime | None = None

    # -- control -----------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.wake.set()
            self._complaints.clear()
            self._followups.clear()
            self._files.clear()
            self._received.clear()
            self._fault = Fault()
            self._next_complaint, self._next_file, self._next_followup = 1000001, 1, 1
            self.wake = threading.Event()

    def set_fault(self, fault: Fault) -> None:
        with self.lock:
            self._fault = fault
            if fault.mode == "none":
                self.wake.set()
                self.wake = threading.Event()

    def fault(self) -> Fault:
        with self.lock:
            return Fault(**self._fault.as_dict())

    def take_fault(self, path: str) -> Fault | None:
        """The fault this request suffers, counting it down."""
        with self.lock:
            f = self._fault
            if f.mode == "none" or (f.path is not None and f.path not in path):
                return None
            taken = Fault(**f.as_dict())
            if f.count is not None:
                f.count -= 1
                if f.count <= 0:
                    self._fault = Fault()
            return taken

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep a request on arrival, so one held by a fault is already visible."""
        with self.lock:
            entry["seq"] = len(self._received) + 1
            self._received.append(entry)
            return entry

    def update(self, entry: dict[str, Any], **values: Any) -> None:
        with self.lock:
            entry.update(values)

    def received(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(json.dumps(e)) for e in self._received if path is None or path in e["path"]]

    def complaints(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._view(cid) for cid in self._complaints]

    def complaint(self, complaint_id: str) -> dict[str, Any]:
        with self.lock:
            if complaint_id not in self._complaints:
                raise ApiFailure(404, f"complaint {complaint_id} not found")
            return self._view(complaint_id)

    # -- behaviour ---------------------------------------------------------------------------
    def _tick(self) -> datetime:
        # Strictly increasing change times, so "updated_since" never ties two changes by accident.
        at = _now()
        if self._last_change is not None and at <= self._last_change:
            at = self._last_change + timedelta(microseconds=1)
        self._last_change = at
        return at

    def _view(self, complaint_id: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(json.dumps({"complaint_id": int(complaint_id),
                                                     **self._complaints[complaint_id]}))
        return out

    def _log(self, c: dict[str, Any], at: datetime, message: str) -> None:
        c["updated_at"] = at.isoformat()
        c["logs"].append({"at": at.isoformat(), "status_code": c["status_code"],
                          "status_name": c["status_name"], "message": message})

    def store_files(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for f in files:
                doc = {"id": f"{self._next_file:08d}", **f, "created_at": _now().isoformat()}
                self._next_file += 1
                self._files[doc["id"]] = doc
                out.append(doc)
            return out

    def create_complaint(self, fields: dict[str, Any], source: str) -> dict[str, Any]:
        with self.lock:
            for doc in fields.get("attachments", []):
                if doc not in self._files:
                    raise ApiFailure(422, "Validation failed", {"attachments": [f"unknown document {doc}"]})
            if self._next_complaint > 9999999:
                raise ApiFailure(500, "complaint id space exhausted")
            cid = f"{self._next_complaint:07d}"
            self._next_complaint += 1
            at = self._tick()
            status = "verification" if source == "integration" else "disposed"
            self._complaints[cid] = {
                **fields, "institution": self.institution, "source": source,
                "status_code": status, "status_name": STATUSES[status],
                "disposition_name": INSTITUTION_NAME if status == "disposed" else None,
                "created_at": at.isoformat(), "updated_at": at.isoformat(), "logs": [], "ratings": [],
            }
            self._followups[cid] = []
            self._log(self._complaints[cid], at, "Laporan diterima")
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
            for doc in attachments or []:
                if doc not in self._files:
                    raise ApiFailure(422, "Validation failed", {"attachments": [f"unknown document {doc}"]})
            if status_code is not None and status_code not in STATUSES:
                raise ApiFailure(422, "Validation failed", {"status_code": [f"one of {sorted(STATUSES)}"]})
            at = self._tick()
            if status_code is not None:
                c["status_code"], c["status_name"] = status_code, STATUSES[status_code]
            fu = {"id": self._next_followup, "complaint_id": int(complaint_id), "content": content,
                  "author": author, "attachments": list(attachments or []), "created_at": at.isoformat()}
            self._next_followup += 1
            self._followups[complaint_id].append(fu)
            self._log(c, at, f"Tindak lanjut oleh {author}")
            return dict(fu)

    def rate(self, complaint_id: str, rating: int, resolved: bool, comment: str | None = None) -> dict[str, Any]:
        """The reporter rates the institution's answer on LAPOR! and may confirm it is finished."""
        with self.lock:
            c = self._get(complaint_id)
            at = self._tick()
            entry = {"id": self._next_followup, "rating": rating, "resolved": resolved, "comment": comment,
                     "created_at": at.isoformat()}
            self._next_followup += 1  # one id space with follow-ups, as refs never clash anyway
            c["ratings"].append(entry)
            if resolved:
                c["status_code"], c["status_name"] = "done", STATUSES["done"]
            self._log(c, at, f"Penilaian pelapor: {rating}" + (" (selesai)" if resolved else ""))
            return dict(entry)

    def followups(self, complaint_id: str) -> list[dict[str, Any]]:
        with self.lock:
            self._get(complaint_id)
            out: list[dict[str, Any]] = json.loads(json.dumps(self._followups[complaint_id]))
            return out

    def reject(self, complaint_id: str, reason: str) -> dict[str, Any]:
        with self.lock:
            c = self._get(complaint_id)
            if c["status_code"] == "rejected":
                raise ApiFailure(409, "complaint already rejected")
            c["status_code"], c["status_name"] = "rejected", STATUSES["rejected"]
            c["reject_reason"] = reason
            self._log(c, self._tick(), "Bukan wewenang: " + reason)
            return self._view(complaint_id)

    def changes(self, institution: str, since: datetime | None) -> list[dict[str, Any]]:
        with self.lock:
            items = [self._view(cid) for cid, c in self._complaints.items()
                     if c["institution"] == institution
                     and (since is None or datetime.fromisoformat(c["updated_at"]) >= since)]
        items.sort(key=lambda c: datetime.fromisoformat(c["updated_at"]))
        return items

    def _get(self, complaint_id: str) -> dict[str, Any]:
        if complaint_id not in self._complaints:
            raise ApiFailure(404, f"complaint {complaint_id} not found")
        return self._complaints[complaint_id]


# -- request validation ----------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate_create(body: Any, *, require_all: bool = True) -> dict[str, Any]:
    """The create fields, or a 422 naming every bad one (missing, unknown or mistyped)."""
    if not isinstance(body, dict):
        raise ApiFailure(422, "Validation failed", {"body": ["a JSON object is required"]})
    errors: dict[str, list[str]] = {}
    for name in set(body) - set(CREATE_FIELDS):
        errors[name] = ["unknown field"]
    for name in CREATE_FIELDS:
        if name not in body and require_all:
            errors.setdefault(name, []).append("required")
    checks: dict[str, tuple[Any, str]] = {
        "title": (lambda v: isinstance(v, str) and 0 < len(v.strip()) <= 255, "non-empty string, at most 255"),
        "content": (lambda v: isinstance(v, str) and 0 < len(v.strip()) <= 10000, "non-empty string, at most 10000"),
        "classification_id": (lambda v: v in CLASSIFICATIONS and _is_int(v), f"one of {sorted(CLASSIFICATIONS)}"),
        "category_id": (lambda v: _is_int(v) and v > 0, "positive integer"),
        "location_id": (lambda v: _is_int(v) and v > 0, "positive integer"),
        "is_anonymous": (lambda v: isinstance(v, bool), "boolean"),
        "is_secret": (lambda v: isinstance(v, bool), "boolean"),
        "attachments": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "list of document ids"),
    }
    for name, (ok, what) in checks.items():
        if name in body and not ok(body[name]):
            errors.setdefault(name, []).append(f"must be {what}")
    if "date_of_incident" in body:
        try:
            d = date.fromisoformat(body["date_of_incident"])
            if d > _now().date():
                errors.setdefault("date_of_incident", []).append("must not be in the future")
        except (TypeError, ValueError):
            errors.setdefault("date_of_incident", []).append("must be YYYY-MM-DD")
    if errors:
        raise ApiFailure(422, "Validation failed", errors)
    return {k: body[k] for k in CREATE_FIELDS if k in body}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Form fields and files of a multipart body (stdlib email parser: cgi is gone in 3.13)."""
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not msg.is_multipart():
        raise ApiFailure(422, "Validation failed", {"file": ["multipart/form-data is required"]})
    fields: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition") or ""
        filename = part.get_filename()
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if filename is None:
            fields[str(name)] = payload.decode("utf-8", "replace")
            continue
        ctype = part.get_content_type()
        if ctype not in FILE_TYPES:
            errors.setdefault(str(name), []).append(f"type {ctype} not allowed")
        elif len(payload) > MAX_FILE_BYTES:
            errors.setdefault(str(name), []).append("larger than 10 MB")
        # Only a digest is kept: the stand-in must not become a second store of citizens' files.
        files.append({"field": str(name), "filename": filename, "content_type": ctype,
                      "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
    if not files:
        errors.setdefault("file", []).append("at least one file is required")
    if errors:
        raise ApiFailure(422, "Validation failed", errors)
    return fields, files


# -- HTTP ------------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle: otherwise headers and body leave in two
    # packets and the client's delayed ACK adds ~40 ms to every request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sp4n-standin %s", format % args)

    @property
    def state(self) -> StandinState:
        return self.server.state

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # The whole body is read before anything else so a kept-alive connection stays in sync.
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ApiFailure(413, "request too large")
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        try:
            raw = self._read_body()
        except ApiFailure as exc:
            self.close_connection = True
            self._send_error(exc)
            return
        if path.startswith("/_standin"):
            self._control(method, path, query, raw)
            return
        entry: dict[str, Any] = {
            "at": _now().isoformat(), "method": method, "path": path,
            "query": {k: v if len(v) > 1 else v[0] for k, v in query.items()},
            "content_type": self.headers.get_content_type() if raw else None,
            # Credentials are never kept: only whether they matched.
            "auth": self._auth(), "fault": None, "status": None, "body": None,
        }
        body_error: ApiFailure | None = None
        try:
            entry["body"] = self._decode_body(raw)
        except ApiFailure as exc:
            body_error = exc
            entry["body"] = {"undecodable_bytes": len(raw)}
        fault = self.state.take_fault(path)
        entry["fault"] = fault.mode if fault is not None else None
        self.state.record(entry)
        if fault is not None:
            status = self._apply_fault(fault)
            if status is not False:
                self.state.update(entry, status=status)
                return
        try:
            # Authentication is judged before the body, as a real API gateway would.
            if entry["auth"] != "ok":
                raise ApiFailure(401, "Unauthenticated: a valid bearer key and token are required")
            if body_error is not None:
                raise body_error
            status, data, meta = self._route(method, path, query, entry["body"])
            self.state.update(entry, status=status)
            results: dict[str, Any] = {"data": data}
            if meta is not None:
                results["meta"] = meta
            self._send_json(status, {"results": results})
        except ApiFailure as exc:
            self.state.update(entry, status=exc.status)
            self._send_error(exc)
        except Exception:  # the stand-in must answer like a server, not die with the thread
            log.exception("sp4n-standin handler failed")
            self.state.update(entry, status=500)
            self._send_error(ApiFailure(500, "internal error"))

    def _auth(self) -> str:
        bearer = self.headers.get("Authorization")
        token = self.headers.get("token")
        if bearer is None or token is None:
            return "missing"
        return "ok" if bearer == f"Bearer {self.state.api_key}" and token == self.state.token else "invalid"

    def _apply_fault(self, fault: Fault) -> int | bool | None:
        """Act out a fault. False: go on and process the request; otherwise the request ends
        here unprocessed, and the value is the status answered (None: no answer at all)."""
        wake = self.state.wake
        if fault.mode == "slow":
            wake.wait(1.0 if fault.delay is None else fault.delay)
            return False
        if fault.mode == "timeout":
            wake.wait(15.0 if fault.delay is None else fault.delay)
            self.close_connection = True
            return None
        if fault.mode == "drop":
            self.close_connection = True
            return None
        if fault.mode == "5xx":
            self._send_error(ApiFailure(fault.status, "Service temporarily unavailable (stand-in fault)"))
            return fault.status
        if fault.mode == "429":
            ra = fault.retry_after
            self._send_error(ApiFailure(429, "Too many requests (stand-in fault)"),
                             {"Retry-After": str(int(ra)) if ra == int(ra) else str(ra)})
            return 429
        if fault.mode == "malformed":
            self._send_json(200, {"data": {"complaint": "ok"}, "status": "success"})
            return 200
        if fault.mode == "html":
            self._send_raw(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
            return 200
        return False

    def _decode_body(self, raw: bytes) -> Any:
        if not raw:
            return None
        ctype = self.headers.get_content_type()
        if ctype == "multipart/form-data":
            fields, files = _parse_multipart(self.headers.get("Content-Type", ""), raw)
            return {"fields": fields, "files": files}
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiFailure(400, "request body is not valid JSON") from None

    def _route(self, method: str, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, Any, dict[str, Any] | None]:
        st = self.state
        if method == "POST" and path == "/complaints/complaint/file":
            if not isinstance(body, dict) or "files" not in body:
                raise ApiFailure(422, "Validation failed", {"file": ["multipart/form-data is required"]})
            return 201, [{k: d[k] for k in ("id", "filename", "content_type", "size")}
                         for d in st.store_files(body["files"])], None
        if method == "POST" and path == "/complaints/complaint":
            c = st.create_complaint(validate_create(body), "integration")
            return 201, {"complaint_id": c["complaint_id"], "status_code": c["status_code"],
                         "status_name": c["status_name"], "created_at": c["created_at"]}, None
        if method == "POST" and path == "/complaints/followup/add":
            fields = _require(body, {"complaint_id": (int, str), "content": str},
                              optional={"attachments": list, "status_code": str})
            cid = _complaint_id(fields["complaint_id"])
            fu = st.add_followup(cid, fields["content"], "institution", fields.get("attachments"),
                                 fields.get("status_code"))
            return 201, fu, None
        if method == "GET" and path == "/complaints":
            return self._list(query)
        if method == "GET" and path == "/masters/institutions/external":
            return 200, INSTITUTIONS, None
        if method == "GET" and path == "/masters/templates":
            return 200, TEMPLATES, None
        m = _ID_PATH.match(path)
        if method == "GET" and m:
            if m.group(2) == "complaint":
                return 200, st.complaint(m.group(1)), None
            return 200, st.followups(m.group(1)), None
        m = _REJECT_PATH.match(path)
        if method == "POST" and m:
            fields = _require(body, {"reason": str})
            c = st.reject(m.group(1), fields["reason"])
            return 200, {k: c[k] for k in ("complaint_id", "status_code", "status_name")}, None
        if path.startswith(("/complaints", "/masters")):
            raise ApiFailure(404 if method in ("GET", "POST") else 405, f"no route {method} {path}")
        raise ApiFailure(404, f"no route {method} {path}")

    def _list(self, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, Any]]:
        institution = (query.get("institution") or [self.state.institution])[0]
        since: datetime | None = None
        errors: dict[str, list[str]] = {}
        if "updated_since" in query:
            try:
                since = datetime.fromisoformat(query["updated_since"][0])
                if since.tzinfo is None:
                    errors["updated_since"] = ["must carry a UTC offset"]
            except ValueError:
                errors["updated_since"] = ["must be ISO 8601"]
        try:
            page = int((query.get("page") or ["1"])[0])
            per_page = int((query.get("per_page") or ["50"])[0])
            if page < 1 or not 1 <= per_page <= 100:
                raise ValueError
        except ValueError:
            errors["page"] = ["page >= 1 and 1 <= per_page <= 100 are required"]
        if errors:
            raise ApiFailure(422, "Validation failed", errors)
        items = self.state.changes(institution, since)
        chunk = items[(page - 1) * per_page: page * per_page]
        next_page = page + 1 if page * per_page < len(items) else None
        return 200, chunk, {"page": page, "per_page": per_page, "total": len(items), "next_page": next_page}

    def _control(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        st = self.state
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._send_json(400, {"error": "body is not valid JSON"})
            return
        try:
            if method == "GET" and path == "/_standin/received":
                self._send_json(200, {"items": st.received(query["path"][0] if "path" in query else None)})
            elif method == "POST" and path == "/_standin/reset":
                st.reset()
                self._send_json(200, {"ok": True})
            elif method == "GET" and path == "/_standin/faults":
                self._send_json(200, st.fault().as_dict())
            elif method == "POST" and path == "/_standin/faults":
                try:
                    fault = Fault.parse(body)
                except ValueError as exc:
                    self._send_json(400, {"error": str(exc)})
                    return
                st.set_fault(fault)
                self._send_json(200, fault.as_dict())
            elif method == "GET" and path == "/_standin/complaints":
                self._send_json(200, {"items": st.complaints()})
            elif method == "POST" and path == "/_standin/complaints":
                self._send_json(201, st.create_complaint(_lapor_complaint(body), "lapor"))
            elif method == "GET" and (m := _CTRL_ONE.match(path)):
                self._send_json(200, {**st.complaint(m.group(1)), "followups": st.followups(m.group(1))})
            elif method == "POST" and (m := _CTRL_COMPLAINT.match(path)):
                if m.group(2) == "rating":
                    f = _require(body, {"rating": int}, optional={"resolved": bool, "comment": str})
                    if not 1 <= f["rating"] <= 5:
                        raise ApiFailure(422, "Validation failed", {"rating": ["1 to 5"]})
                    self._send_json(201, st.rate(m.group(1), f["rating"], bool(f.get("resolved", False)),
                                                 f.get("comment")))
                elif m.group(2) == "status":
                    f = _require(body, {"status_code": str}, optional={
                        "status_name": str, "disposition_name": str, "message": str})
                    self._send_json(200, st.set_status(m.group(1), f["status_code"], f.get("status_name"),
                                                       f.get("disposition_name"), f.get("message")))
                else:
                    f = _require(body, {"content": str}, optional={"author": str})
                    self._send_json(201, st.add_followup(m.group(1), f["content"], f.get("author", "lapor")))
            else:
                self._send_json(404, {"error": f"no control route {method} {path}"})
        except ApiFailure as exc:
            self._send_json(exc.status, {"error": exc.message, "errors": exc.errors})

    def _send_error(self, exc: ApiFailure, headers: dict[str, str] | None = None) -> None:
        self._send_json(exc.status, {"results": {"data": None, "message": exc.message, "errors": exc.errors}},
                        headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(body).encode("utf-8"), "application/json", headers)

    def _send_raw(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if ctype.startswith(("text/", "application/json")) else ""
        self.send_header("Content-Type", ctype + charset)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def _require(body: Any, required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a small JSON object: required/optional fields with types; anything else is a 422."""
    if not isinstance(body, dict):
        raise ApiFailure(422, "Validation failed", {"body": ["a JSON object is required"]})
    optional = optional or {}
    errors: dict[str, list[str]] = {}
    for name in set(body) - set(required) - set(optional):
        errors[name] = ["unknown field"]
    for name, typ in {**required, **optional}.items():
        if name not in body:
            if name in required:
                errors[name] = ["required"]
        elif not isinstance(body[name], typ) or (isinstance(body[name], bool) and typ is not bool) or (
                isinstance(body[name], str) and not body[name].strip()):
            errors[name] = ["wrong type or empty"]
    if errors:
        raise ApiFailure(422, "Validation failed", errors)
    return body


def _complaint_id(value: int | str) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{7}", text):
        raise ApiFailure(422, "Validation failed", {"complaint_id": ["must be a 7-digit number"]})
    return text


def _lapor_complaint(body: Any) -> dict[str, Any]:
    """A complaint as a citizen would file it on LAPOR!: defaults for whatever the test omits."""
    if not isinstance(body, dict):
        raise ApiFailure(422, "Validation failed", {"body": ["a JSON object is required"]})
    defaults: dict[str, Any] = {
        "title": "Laporan langsung di LAPOR!", "content": "Isi laporan yang diajukan langsung di LAPOR!",
        "classification_id": 1, "category_id": 1, "location_id": 3217,
        "date_of_incident": _now().date().isoformat(), "is_anonymous": False, "is_secret": False,
        "attachments": [],
    }
    return validate_create({**defaults, **body})


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests start and stop many servers; a lingering TIME_WAIT socket must not block a restart.
    allow_reuse_address = True
    # The default backlog of 5 drops connections under a burst; a dropped SYN costs 1 s.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: StandinState) -> None:
        self.state = state
        super().__init__(address, Handler)


@dataclass
class StandinHandle:
    """A running stand-in: its base URL, its state, and a way to stop it."""

    server: StandinServer
    thread: threading.Thread
    state: StandinState

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_standin(port: int = 0, host: str = "127.0.0.1", api_key: str | None = None,
                  token: str | None = None, institution: str = INSTITUTION) -> StandinHandle:
    """Start the stand-in in a background thread; port 0 picks a free port (see ``.url``)."""
    state = StandinState(api_key=api_key or os.environ.get("SP4N_API_KEY") or DEFAULT_API_KEY,
                         token=token or os.environ.get("SP4N_API_TOKEN") or DEFAULT_TOKEN,
                         institution=institution)
    server = StandinServer((host, port), state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sp4n-standin-{server.server_address[1]}", daemon=True)
    thread.start()
    return StandinHandle(server, thread, state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local stand-in for the SP4N-LAPOR! API.")
    parser.add_argument("--host", default=os.environ.get("SP4N_STANDIN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SP4N_STANDIN_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handle = start_standin(port=args.port, host=args.host)
    # The first line is machine-readable for whoever started us with --port 0.
    print(f"SP4N-LAPOR! stand-in listening on {handle.url}", flush=True)
    try:
        handle.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
