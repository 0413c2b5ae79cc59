"""A stand-in for the Lapor KBB API, for browser tests of web/ without the backend.

Standard library only. It answers the shapes of shared/CONTRACT.md (reference data, citizen
reports with access tokens, presigned-POST style uploads, staff lists, the action table with
If-Match, performance JSON/CSV, /stats), keeps everything in memory, and sends CORS headers for
any origin. It is NOT the real service: no real auth (the staff "JWT" is unsigned), working days
are Monday-Friday only, and validation covers what the web client relies on.

    python3 mock_api.py --port 8182
    GET /_mock/token?role=admin|opd|pimpinan[&opd=CODE]   -> a token string (text/plain)
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import re
import secrets
import statistics
import threading
from datetime import date, datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

WIB = timezone(timedelta(hours=7))

OPDS = [
    ("DISKOMINFOTIK", "Dinas Komunikasi, Informatika dan Statistik"),
    ("DINSOS", "Dinas Sosial"),
    ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("DINKES", "Dinas Kesehatan"),
    ("DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("DISHUB", "Dinas Perhubungan"),
    ("DISDIK", "Dinas Pendidikan"),
    ("DLH", "Dinas Lingkungan Hidup"),
    ("INSPEKTORAT", "Inspektorat"),
]
CATEGORIES = [
    ("jalan_rusak", "Jalan rusak", "DPUPR"),
    ("drainase", "Drainase dan banjir", "DPUPR"),
    ("sampah", "Sampah", "DLH"),
    ("adminduk", "KTP, KK, dan akta", "DISDUKCAPIL"),
    ("bansos", "Bantuan sosial", "DINSOS"),
    ("layanan_kesehatan", "Layanan kesehatan", "DINKES"),
    ("sekolah", "Pendidikan dan sekolah", "DISDIK"),
    ("angkutan", "Angkutan umum", "DISHUB"),
    ("lainnya", "Lainnya", None),
]
KECAMATAN = ["Lembang", "Parongpong", "Cisarua", "Cikalongwetan", "Cipeundeuy", "Ngamprah", "Cipatat",
             "Padalarang", "Batujajar", "Cihampelas", "Cililin", "Cipongkor", "Rongga", "Sindangkerta",
             "Gununghalu", "Saguling"]
KEC = [{"code": k.lower(), "name": k} for k in KECAMATAN]

OPEN = {"diajukan", "perlu_kelengkapan", "didisposisikan", "diproses", "ditindaklanjuti", "dikembalikan"}
ACTIONS = {
    # action: (roles, from statuses (None = any), to status (None = unchanged))
    "verify": ({"admin"}, {"diajukan"}, "didisposisikan"),
    "request_info": ({"admin"}, {"diajukan"}, "perlu_kelengkapan"),
    "reject": ({"admin"}, {"diajukan", "perlu_kelengkapan"}, "ditolak"),
    "redispose": ({"admin"}, {"didisposisikan", "diproses", "dikembalikan"}, "didisposisikan"),
    "accept": ({"opd"}, {"didisposisikan"}, "diproses"),
    "respond": ({"opd"}, {"didisposisikan", "diproses"}, "ditindaklanjuti"),
    "return": ({"opd"}, {"didisposisikan", "diproses"}, "dikembalikan"),
    "note": ({"admin", "opd"}, None, None),  # every status, closed ones too (as the backend's table)
    "close": ({"admin"}, OPEN, "selesai"),
}
ACTION_FIELDS = {
    "verify": ({"opd_code"}, {"classification", "category", "note"}),
    "request_info": ({"message"}, set()),
    "reject": ({"reason", "message"}, set()),
    "redispose": ({"opd_code", "note"}, set()),
    "accept": (set(), set()),
    "respond": ({"message"}, {"attachments"}),
    "return": ({"reason"}, set()),
    "note": ({"message"}, set()),
    "close": ({"message"}, set()),
}
PUBLIC_TEXT = {
    "submit": "Laporan diterima.",
    "verify": "Laporan diverifikasi dan diteruskan ke perangkat daerah.",
    "accept": "Laporan sedang diproses oleh perangkat daerah.",
    "redispose": "Laporan diteruskan ke perangkat daerah lain.",
    "return": "Laporan sedang ditinjau ulang oleh admin.",
}
CLASSIFICATIONS = {"berkadar_pengawasan", "tidak_berkadar_pengawasan"}
MAX_UPLOAD = 10 * 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


def now() -> datetime:
    return datetime.now(WIB)


def iso(dt: datetime) -> str:
    return dt.astimezone(WIB).isoformat(timespec="seconds")


def add_working_days(start: datetime, days: int) -> datetime:
    d = start
    n = 0
    while n < days:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n += 1
    return d


def normalise_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s\-]", "", raw)
    if digits.startswith("+62"):
        rest = digits[3:]
    elif digits.startswith("62"):
        rest = digits[2:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        return None
    if not re.fullmatch(r"8\d{7,11}", rest):
        return None
    return "+62" + rest


def valid_nik(nik: str) -> bool:
    if not re.fullmatch(r"[1-9]\d{15}", nik) or nik.endswith("0000"):
        return False
    day = int(nik[6:8])
    return 1 <= day <= 31 or 41 <= day <= 71


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(role: str, opd: str | None) -> str:
    header = {"alg": "none", "typ": "JWT"}
    claims = {"sub": f"mock-{role}-{opd or 'x'}", "role": role, "iss": "mock", "aud": "lapor-kbb",
              "exp": int((now() + timedelta(hours=8)).timestamp()), "name": f"Mock {role}"}
    if opd:
        claims["opd_code"] = opd
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), "mock"])


def cognito_token() -> str:
    """An ID token shaped like Cognito's: the role comes as a group, not a `role` claim."""
    header = {"alg": "none", "typ": "JWT"}
    claims = {"sub": "cognito-admin", "cognito:groups": ["admin"], "email": "admin@bandungbaratkab.go.id",
              "token_use": "id", "exp": int((now() + timedelta(hours=1)).timestamp())}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), "mock"])


def read_token(header: str | None) -> dict:
    if not header or not header.startswith("Bearer "):
        raise ApiError(401, "unauthenticated", "A valid staff token is required.")
    parts = header[7:].strip().split(".")
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except Exception:
        raise ApiError(401, "unauthenticated", "A valid staff token is required.")
    groups = claims.get("cognito:groups") or []
    claims.setdefault("role", claims.get("custom:role") or next((g for g in groups if g in {"admin", "opd", "pimpinan"}), None))
    if claims.get("custom:opd_code"):
        claims.setdefault("opd_code", claims["custom:opd_code"])
    if claims.get("exp", 0) < now().timestamp() or claims.get("role") not in {"admin", "opd", "pimpinan"}:
        raise ApiError(401, "unauthenticated", "A valid staff token is required.")
    return claims


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reports: dict[str, dict] = {}
        self.events: dict[str, list[dict]] = {}
        self.attachments: dict[str, dict] = {}
        self.idempotency: dict[str, tuple[str, dict]] = {}
        self.seq = 1000000
        self.codes: dict[str, dict] = {}

    # ---- citizens ----------------------------------------------------------------------
    def create_report(self, body: dict, idem_key: str | None) -> dict:
        with self.lock:
            fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            if idem_key and idem_key in self.idempotency:
                fp, answer = self.idempotency[idem_key]
                if fp != fingerprint:
                    raise ApiError(409, "idempotency_conflict", "This Idempotency-Key was used with another body.")
                return answer
            clean = validate_report(body, self)
            self.seq += 1
            tid = str(self.seq)
            token = secrets.token_urlsafe(24)
            created = now()
            report = {
                **clean,
                "tracking_id": tid,
                "status": "diajukan",
                "created_at": iso(created),
                "updated_at": iso(created),
                "version": 1,
                "access_token_hash": hashlib.sha256(token.encode()).hexdigest(),
                "opd_code": None,
                "classification": None,
                "sla": {"stage": "verifikasi", "due_at": iso(add_working_days(created, 3)), "breached": False},
                "sp4n": {"state": "pending", "complaint_id": None, "attempts": 0},
                "rating": None,
            }
            self.reports[tid] = report
            self.events[tid] = []
            self.add_event(report, "pelapor", "pelapor", "submit", None, "diajukan", PUBLIC_TEXT["submit"], True, {})
            answer = {"tracking_id": tid, "access_token": token, "status": "diajukan",
                      "created_at": report["created_at"], "due_at": report["sla"]["due_at"]}
            if idem_key:
                self.idempotency[idem_key] = (fingerprint, answer)
            return answer

    def add_event(self, report, actor, role, action, from_status, to_status, message, public, data, actor_id=None):
        evs = self.events[report["tracking_id"]]
        evs.append({"seq": len(evs) + 1, "at": iso(now()), "actor": actor, "actor_id": actor_id, "role": role,
                    "action": action, "from_status": from_status, "to_status": to_status,
                    "message": message, "public": public, "data": data})

    def for_reporter(self, tid: str, token: str | None) -> dict:
        r = self.reports.get(tid)
        if not r or not token or hashlib.sha256(token.encode()).hexdigest() != r["access_token_hash"]:
            raise ApiError(404, "not_found", "Not found.")
        return r

    def reporter_view(self, r: dict) -> dict:
        timeline = [{"at": e["at"], "status": e["to_status"], "actor": e["actor"], "message": e["message"],
                     "attachments": list((e.get("data") or {}).get("attachments") or [])}
                    for e in self.events[r["tracking_id"]] if e["public"]]
        return {
            "tracking_id": r["tracking_id"], "type": r["type"], "title": r["title"], "description": r["description"],
            "status": r["status"], "privacy": r["privacy"], "created_at": r["created_at"],
            "category": r.get("category"), "kecamatan": r["location"]["kecamatan"], "attachments": list(r.get("attachments", [])),
            "opd": ({"code": r["opd_code"], "name": dict(OPDS)[r["opd_code"]]} if r["opd_code"] else None),
            "due_at": r["sla"]["due_at"], "timeline": timeline,
        }

    def files(self, r: dict, public_only: bool) -> list:
        """The submission's files and every step's (an OPD's answer, a reporter's reply)."""
        out = list(r.get("attachments", []))
        for e in self.events[r["tracking_id"]]:
            if e["public"] or not public_only:
                out += list((e.get("data") or {}).get("attachments") or [])
        return out

    def move(self, r, to_status, actor, role, action, message, public, data=None, actor_id=None):
        from_status = r["status"]
        if to_status:
            r["status"] = to_status
        r["version"] += 1
        r["updated_at"] = iso(now())
        stage_days = {"diajukan": ("verifikasi", 3), "didisposisikan": ("respon_opd", 3), "diproses": ("tindak_lanjut", 5),
                      "ditindaklanjuti": ("menunggu_pelapor", 10), "perlu_kelengkapan": ("menunggu_pelapor", 10),
                      "dikembalikan": ("verifikasi", 3)}
        if to_status and to_status != from_status:
            if to_status in stage_days:
                stage, days = stage_days[to_status]
                r["sla"] = {"stage": stage, "due_at": iso(add_working_days(now(), days)), "breached": False}
            else:
                r["sla"] = {"stage": None, "due_at": None, "breached": False}
        self.add_event(r, actor, role, action, from_status, to_status or from_status, message, public, data or {}, actor_id)

    # ---- staff --------------------------------------------------------------------------
    def visible(self, r: dict, claims: dict) -> bool:
        if claims["role"] == "opd":
            return r["opd_code"] == claims.get("opd_code") and r["status"] not in {"diajukan", "perlu_kelengkapan"}
        if claims["role"] == "pimpinan":  # rahasia only as counts
            return r["privacy"] != "rahasia"
        return True

    def staff_view(self, r: dict, claims: dict, reveal: frozenset = frozenset()) -> dict:
        view = {k: v for k, v in r.items() if k not in {"access_token_hash", "reporter", "nik"}}
        rep = {k: (r.get("reporter") or {}).get(k) for k in ("name", "email", "phone")}
        has_contact = any(rep.values())
        anonymous = r["privacy"] == "anonim"
        role = claims["role"]
        contact = (not anonymous or bool(reveal)) if role == "admin" else (not anonymous and role == "opd")
        if not contact or not has_contact:
            view["reporter"] = None
        else:
            if role == "admin":  # the NIK only on an explicit, audited reveal
                rep["nik"] = r.get("nik") if "nik" in reveal else None
                rep["nik_on_file"] = bool(r.get("nik"))
            view["reporter"] = rep
        view["reporter_hidden"] = role == "admin" and anonymous and has_contact and not reveal
        view["suggested_opd"] = r.get("opd_choice") or dict((c, o) for c, _, o in CATEGORIES).get(r.get("category") or "")
        view["actions"] = [a for a, (roles, frm, _) in ACTIONS.items()
                           if role in roles and (frm is None or r["status"] in frm)]
        view["due_at"] = r["sla"]["due_at"]
        view["kecamatan"] = r["location"]["kecamatan"]
        view["attachments"] = [{"attachment_id": a, "content_type": self.attachments.get(a, {}).get("content_type"),
                                "name": self.attachments.get(a, {}).get("filename") or a}
                               for a in r.get("attachments", [])]
        view["timeline"] = self.reporter_view(r)["timeline"]
        view["audit_trail"] = list(self.events[r["tracking_id"]])
        view["notes"] = [{"at": e["at"], "actor": e["actor"], "message": e["message"]}
                         for e in self.events[r["tracking_id"]] if e["action"] == "note"]
        return view

    def list_item(self, r: dict) -> dict:
        return {"tracking_id": r["tracking_id"], "title": r["title"], "type": r["type"], "status": r["status"],
                "privacy": r["privacy"], "opd_code": r["opd_code"], "kecamatan": r["location"]["kecamatan"],
                "created_at": r["created_at"], "due_at": r["sla"]["due_at"], "sla": r["sla"]}


def validate_report(body: dict, store: Store) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "", "message": "Expected a JSON object."}])
    details: list[dict] = []

    def bad(field: str, message: str) -> None:
        details.append({"field": field, "message": message})

    allowed = {"type", "title", "description", "category", "opd_code", "incident_date", "location", "privacy", "reporter", "attachments"}
    for k in body:
        if k not in allowed:
            bad(k, "Kolom tidak dikenal.")
    if body.get("type") not in {"pengaduan", "aspirasi", "permintaan_informasi"}:
        bad("type", "Jenis laporan tidak valid.")
    title = body.get("title")
    if not isinstance(title, str) or not 5 <= len(title.strip()) <= 150:
        bad("title", "Judul harus 5 sampai 150 karakter.")
    desc = body.get("description")
    if not isinstance(desc, str) or not 20 <= len(desc.strip()) <= 4000:
        bad("description", "Uraian harus 20 sampai 4000 karakter.")
    if body.get("category") is not None and body.get("category") not in {c[0] for c in CATEGORIES}:
        bad("category", "Kategori tidak dikenal.")
    inc = body.get("incident_date")
    if inc is not None:
        try:
            if date.fromisoformat(inc) > now().date():
                bad("incident_date", "Tanggal kejadian tidak boleh di masa depan.")
        except (TypeError, ValueError):
            bad("incident_date", "Format tanggal YYYY-MM-DD.")
    loc = body.get("location")
    if not isinstance(loc, dict):
        bad("location.kecamatan", "Kecamatan wajib diisi.")
        loc = {}
    else:
        for k in loc:
            if k not in {"kecamatan", "desa", "address", "lat", "lon"}:
                bad(f"location.{k}", "Kolom tidak dikenal.")
        kec = loc.get("kecamatan")
        match = next((k for k in KEC if kec in (k["code"], k["name"])), None)
        if not match:
            bad("location.kecamatan", "Kecamatan tidak dikenal.")
        else:
            loc = {**loc, "kecamatan": match["code"]}
        for k, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
            if k in loc and not (isinstance(loc[k], (int, float)) and lo <= loc[k] <= hi):
                bad(f"location.{k}", f"Harus angka antara {lo} dan {hi}.")
    privacy = body.get("privacy")
    if privacy not in {"publik", "anonim", "rahasia"}:
        bad("privacy", "Pilihan kerahasiaan tidak valid.")
    rep = body.get("reporter") or {}
    clean_rep: dict = {}
    nik = None
    if not isinstance(rep, dict):
        bad("reporter", "Harus objek.")
        rep = {}
    for k in rep:
        if k not in {"name", "email", "phone", "nik"}:
            bad(f"reporter.{k}", "Kolom tidak dikenal.")
    if rep.get("name"):
        clean_rep["name"] = rep["name"].strip()
    if rep.get("email"):
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", rep["email"]):
            bad("reporter.email", "Format email tidak valid.")
        clean_rep["email"] = rep["email"].strip().lower()
    if rep.get("phone"):
        e164 = normalise_phone(rep["phone"])
        if not e164:
            # Shaped like the backend's pydantic detail: the client phrases it by `type`.
            details.append({"field": "reporter.phone", "message": "phone number must have 8 to 15 digits",
                            "type": "value_error"})
        clean_rep["phone"] = e164
    if rep.get("nik"):
        if not valid_nik(rep["nik"]):
            bad("reporter.nik", "NIK tidak valid.")
        nik = rep["nik"]
    if privacy != "anonim":
        if not clean_rep.get("name"):
            bad("reporter.name", "Nama wajib diisi kecuali anonim.")
        if not rep.get("email") and not rep.get("phone"):
            bad("reporter.phone", "Email atau nomor HP wajib diisi kecuali anonim.")
    atts = body.get("attachments") or []
    if not isinstance(atts, list):
        bad("attachments", "Harus daftar.")
        atts = []
    for i, a in enumerate(atts):
        if a not in store.attachments or not store.attachments[a]["uploaded"]:
            bad(f"attachments.{i}", "Lampiran tidak dikenal atau belum terunggah.")
    if details:
        raise ApiError(400, "validation_error", "The request is not valid.", details)
    return {"type": body["type"], "title": title.strip(), "description": desc.strip(), "category": body.get("category"),
            "incident_date": inc, "location": loc, "privacy": privacy, "reporter": clean_rep, "nik": nik,
            "attachments": list(atts), "opd_choice": body.get("opd_code")}


def apply_action(store: Store, r: dict, claims: dict, body: dict, if_match: str | None) -> None:
    action = body.get("action")
    if action not in ACTIONS:
        raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "action", "message": "Tindakan tidak dikenal."}])
    roles, from_statuses, to_status = ACTIONS[action]
    if claims["role"] not in roles:
        raise ApiError(403, "forbidden", "This role may not do that.")
    required, optional = ACTION_FIELDS[action]
    details = []
    for k in body:
        if k != "action" and k not in required | optional:
            details.append({"field": k, "message": "Kolom tidak dikenal."})
    for k in required:
        if not body.get(k):
            details.append({"field": k, "message": "Wajib diisi."})
    if "opd_code" in body and body["opd_code"] not in dict(OPDS):
        details.append({"field": "opd_code", "message": "OPD tidak dikenal."})
    if body.get("classification") and body["classification"] not in CLASSIFICATIONS:
        details.append({"field": "classification", "message": "Klasifikasi tidak dikenal."})
    for i, a in enumerate(body.get("attachments") or []):
        if a not in store.attachments or not store.attachments[a]["uploaded"]:
            details.append({"field": f"attachments.{i}", "message": "Lampiran tidak dikenal."})
    if details:
        raise ApiError(400, "validation_error", "The request is not valid.", details)
    if if_match is not None and str(if_match).strip('"') != str(r["version"]):
        raise ApiError(409, "version_conflict", "The report changed since you read it.")
    if from_statuses is not None and r["status"] not in from_statuses:
        raise ApiError(409, "invalid_transition", f"{action} is not allowed in status {r['status']}.")
    actor = claims["role"]
    data = {}
    message = body.get("message")
    public = action in {"verify", "request_info", "reject", "redispose", "accept", "respond", "return", "close"}
    if action in {"verify", "redispose"}:
        r["opd_code"] = body["opd_code"]
        data["opd_code"] = body["opd_code"]
        if body.get("classification"):
            r["classification"] = body["classification"]
        if body.get("category"):
            r["category"] = body["category"]
        message = PUBLIC_TEXT[action]
    elif action == "accept":
        message = PUBLIC_TEXT["accept"]
    elif action == "return":
        r.setdefault("returned_by", []).append(r["opd_code"])
        data["reason"] = body["reason"]
        message = PUBLIC_TEXT["return"]
    elif action == "reject":
        data["reason"] = body["reason"]
    elif action == "respond" and body.get("attachments"):
        data["attachments"] = list(body["attachments"])
    if action == "note":
        public = False
    store.move(r, to_status, actor, claims["role"], action, message, public, data, claims.get("sub"))


def performance(store: Store, period: str) -> dict:
    rows = []
    for code, name in OPDS:
        received = responded = on_time = overdue_open = returned = 0
        hours: list[float] = []
        ratings: list[int] = []
        for r in store.reports.values():
            evs = store.events[r["tracking_id"]]
            forwards = [e for e in evs if e["action"] in {"verify", "redispose"} and e["data"].get("opd_code") == code
                        and e["at"][:7] == period]
            if not forwards:
                continue
            received += 1
            fwd_at = datetime.fromisoformat(forwards[0]["at"])
            first = next((e for e in evs if e["action"] in {"accept", "respond"} and e["role"] == "opd"
                          and datetime.fromisoformat(e["at"]) >= fwd_at), None)
            if first:
                responded += 1
                delta = datetime.fromisoformat(first["at"]) - fwd_at
                hours.append(round(delta.total_seconds() / 3600, 2))
                if datetime.fromisoformat(first["at"]) <= add_working_days(fwd_at, 3):
                    on_time += 1
            if r["opd_code"] == code and r["status"] in OPEN and r["sla"]["due_at"] and r["sla"]["due_at"] < iso(now()):
                overdue_open += 1
            if code in r.get("returned_by", []):
                returned += 1
            if r.get("rating") and r["opd_code"] == code:
                ratings.append(r["rating"])
        rows.append({"opd_code": code, "opd_name": name, "received": received, "responded": responded,
                     "responded_on_time": on_time,
                     "on_time_pct": round(100.0 * on_time / responded, 1) if responded else None,
                     "median_first_response_hours": statistics.median(hours) if hours else None,
                     "overdue_open": overdue_open, "returned": returned,
                     "avg_rating": round(sum(ratings) / len(ratings), 2) if ratings else None})
    return {"period": period, "items": rows}


def stats(store: Store, period: str) -> dict:
    """The API's PublicStats shape: counts nested under `reports`; rahasia only in total and status."""
    by_status: dict[str, int] = {}
    by_cat: dict[str, int] = {}
    by_kec: dict[str, int] = {}
    total = hidden = 0
    for r in store.reports.values():
        if r["created_at"][:7] != period:
            continue
        total += 1
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        if r.get("privacy") == "rahasia":
            hidden += 1
            continue
        cat = r.get("category") or "tanpa_kategori"
        by_cat[cat] = by_cat.get(cat, 0) + 1
        by_kec[r["location"]["kecamatan"]] = by_kec.get(r["location"]["kecamatan"], 0) + 1
    perf = [{k: v for k, v in row.items() if k in {"opd_code", "opd_name", "received", "responded", "responded_on_time",
                                                   "on_time_pct", "median_first_response_hours"}}
            for row in performance(store, period)["items"] if row["received"]]
    return {"period": period, "as_of": iso(now()),
            "reports": {"total": total, "by_status": dict(sorted(by_status.items())),
                        "by_category": dict(sorted(by_cat.items())), "by_kecamatan": dict(sorted(by_kec.items())),
                        "not_broken_down": hidden},
            "opd_response": perf}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame marker, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "LaporKBBMock/1"
    store: Store

    def log_message(self, fmt, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    # ---- plumbing ---------------------------------------------------------------------
    def cors(self) -> None:
        origin = self.headers.get("Origin")
        if origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
            self.send_header("Access-Control-Allow-Headers",
                             "Content-Type, Authorization, If-Match, X-Access-Token, Idempotency-Key")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Access-Control-Expose-Headers", "ETag, Content-Disposition")
            self.send_header("Access-Control-Max-Age", "600")

    def send(self, status: int, body, content_type: str = "application/json", extra: dict | None = None) -> None:
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         (json.dumps(body, ensure_ascii=False).encode() if content_type == "application/json"
                                          else str(body).encode()))
        self.send_response(status)
        self.cors()
        if status not in (204, 302):
            self.send_header("Content-Type", content_type if "charset" in content_type else f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if status == 302:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if status not in (204, 302):
            self.wfile.write(data)

    def error(self, e: ApiError) -> None:
        self.send(e.status, {"error": {"code": e.code, "message": e.message, "details": e.details}})

    def json_body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        if n > 64 * 1024:
            raise ApiError(413, "too_large", "Body too large.")
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "", "message": "Bad JSON."}])

    def do_OPTIONS(self):  # noqa: N802
        self.send(204, None)

    def do_GET(self):  # noqa: N802
        self.dispatch("GET")

    def do_POST(self):  # noqa: N802
        self.dispatch("POST")

    def dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path.rstrip("/") or "/"
        try:
            with self.store.lock:
                self.route(method, path, q)
        except ApiError as e:
            self.error(e)
        except Exception as e:  # the mock too never answers a stack trace
            self.error(ApiError(500, "internal", f"mock failure: {type(e).__name__}"))
            raise

    def route(self, method: str, path: str, q: dict) -> None:
        s = self.store
        if method == "GET" and path == "/health":
            return self.send(200, {"status": "ok"})
        if method == "GET" and path == "/opds":
            return self.send(200, {"items": [{"code": c, "name": n} for c, n in OPDS]})
        if method == "GET" and path == "/categories":
            return self.send(200, {"items": [{"code": c, "name": n, "opd_code": o} for c, n, o in CATEGORIES]})
        if method == "GET" and path == "/kecamatan":
            return self.send(200, {"items": KEC})
        if method == "GET" and path == "/_mock/token":
            role = q.get("role", "admin")
            return self.send(200, make_token(role, q.get("opd")), "text/plain")
        if path.startswith("/oauth2/") or path == "/logout":
            return self.hosted_ui(method, path, q)
        if method == "GET" and path == "/stats":
            period = q.get("period") or now().strftime("%Y-%m")
            if not re.fullmatch(r"\d{4}-\d{2}", period):
                raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "period", "message": "YYYY-MM"}])
            return self.send(200, stats(s, period))
        if method == "POST" and path == "/reports":
            answer = s.create_report(self.json_body(), self.headers.get("Idempotency-Key"))
            return self.send(201, answer)
        if method == "GET" and path == "/_mock/reports":
            return self.send(200, {"count": sum(1 for r in s.reports.values() if r.get("title") == q.get("title"))})
        m = re.fullmatch(r"/_mock/attachments/([^/]+)", path)
        if method == "GET" and m:
            att = s.attachments.get(m.group(1)) or {}
            dims = jpeg_size(att.get("bytes") or b"")
            return self.send(200, {"content_type": att.get("content_type"), "size": att.get("size"),
                                   "filename": att.get("filename"), "width": dims[0] if dims else None,
                                   "height": dims[1] if dims else None})
        m = re.fullmatch(r"/reports/([^/]+)/attachments/([^/]+)", path)
        if method == "GET" and m:
            r = s.for_reporter(m.group(1), self.headers.get("X-Access-Token"))
            if m.group(2) not in s.files(r, public_only=True):
                raise ApiError(404, "not_found", "No such attachment.")
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            return self.send(200, {"url": f"http://{host}/_s3/object/{m.group(2)}", "expires_in": 300})
        m = re.fullmatch(r"/_s3/object/([^/]+)", path)
        if method == "GET" and m:
            att = s.attachments.get(m.group(1))
            if not att or not att.get("uploaded"):
                raise ApiError(404, "not_found", "Not found.")
            return self.send(200, att["bytes"], att["content_type"])
        m = re.fullmatch(r"/reports/([^/]+)", path)
        if method == "GET" and m:
            return self.send(200, s.reporter_view(s.for_reporter(m.group(1), self.headers.get("X-Access-Token"))))
        m = re.fullmatch(r"/reports/([^/]+)/(replies|feedback)", path)
        if method == "POST" and m:
            r = s.for_reporter(m.group(1), self.headers.get("X-Access-Token"))
            body = self.json_body()
            if m.group(2) == "replies":
                msg = body.get("message")
                if not isinstance(msg, str) or not msg.strip():
                    raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "message", "message": "Wajib diisi."}])
                files = body.get("attachments") or []
                for i, a in enumerate(files):
                    if a not in s.attachments or not s.attachments[a]["uploaded"]:
                        raise ApiError(400, "validation_error", "The request is not valid.",
                                       [{"field": f"attachments.{i}", "message": "Lampiran tidak dikenal."}])
                data = {"attachments": list(files)} if files else None
                if r["status"] == "perlu_kelengkapan":
                    s.move(r, "diajukan", "pelapor", "pelapor", "reply", msg, True, data)
                elif r["status"] == "ditindaklanjuti":
                    s.move(r, "diproses", "pelapor", "pelapor", "reply", msg, True, data)
                else:
                    raise ApiError(409, "invalid_transition", "A reply is not expected now.")
                return self.send(201, s.reporter_view(r))
            details = []
            if not isinstance(body.get("resolved"), bool):
                details.append({"field": "resolved", "message": "Pilih ya atau tidak."})
            if body.get("rating") is not None and body.get("rating") not in {1, 2, 3, 4, 5}:
                details.append({"field": "rating", "message": "Nilai 1 sampai 5."})
            if details:
                raise ApiError(400, "validation_error", "The request is not valid.", details)
            if r["status"] != "ditindaklanjuti":
                raise ApiError(409, "invalid_transition", "Feedback is possible after an answer only.")
            r["rating"] = body["rating"]
            text = body.get("comment") or ("Pelapor menyatakan masalah selesai." if body["resolved"] else "Pelapor menyatakan masalah belum selesai.")
            s.move(r, "selesai" if body["resolved"] else "diproses", "pelapor", "pelapor", "feedback", text, True,
                   {"resolved": body["resolved"], "rating": body["rating"]})
            return self.send(201, s.reporter_view(r))
        if method == "POST" and path == "/attachments":
            body = self.json_body()
            ct, size = body.get("content_type"), body.get("size")
            if ct not in {"image/jpeg", "image/png", "application/pdf"}:
                raise ApiError(415, "unsupported_media_type", "Only JPEG, PNG or PDF.")
            if not isinstance(size, int) or size <= 0:
                raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "size", "message": "Ukuran tidak valid."}])
            if size > MAX_UPLOAD:
                raise ApiError(413, "too_large", "At most 10 MB.")
            aid = "att_" + secrets.token_hex(8)
            s.attachments[aid] = {"content_type": ct, "size": size, "uploaded": False}
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            upload = {"url": f"http://{host}/_s3/upload",
                      "fields": {"key": f"quarantine/{aid}", "Content-Type": ct, "policy": b64url(b"mock-policy"),
                                 "x-amz-signature": "mock"}}
            return self.send(201, {"attachment_id": aid, "upload": upload})
        if method == "POST" and path == "/_s3/upload":
            return self.s3_upload()
        if path.startswith("/staff/"):
            return self.staff(method, path, q)
        raise ApiError(404, "not_found", "Not found.")

    def hosted_ui(self, method: str, path: str, q: dict) -> None:
        """A stand-in for Cognito's hosted UI: authorize signs in a fixed admin at once."""
        s = self.store
        if method == "GET" and path == "/oauth2/authorize":
            target = q["redirect_uri"]
            sep = "&" if "?" in target else "?"
            if q.get("response_type") == "code":
                code = secrets.token_urlsafe(16)
                s.codes[code] = {"challenge": q.get("code_challenge"), "redirect_uri": target, "client_id": q.get("client_id")}
                location = f"{target}{sep}code={code}&state={q.get('state', '')}"
            else:
                tok = cognito_token()
                location = f"{target}#id_token={tok}&access_token={tok}&token_type=Bearer&expires_in=3600&state={q.get('state', '')}"
            return self.send(302, None, extra={"Location": location})
        if method == "POST" and path == "/oauth2/token":
            n = int(self.headers.get("Content-Length") or 0)
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
            grant = s.codes.pop(form.get("code", ""), None)
            challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if (not grant or grant["challenge"] != challenge or grant["redirect_uri"] != form.get("redirect_uri")
                    or grant["client_id"] != form.get("client_id")):
                return self.send(400, {"error": "invalid_grant"})
            tok = cognito_token()
            return self.send(200, {"id_token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": 3600})
        if method == "GET" and path == "/logout":
            return self.send(302, None, extra={"Location": q.get("logout_uri", "/")})
        raise ApiError(404, "not_found", "Not found.")

    def s3_upload(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_UPLOAD + 64 * 1024:
            return self.send(400, b"<Error><Code>EntityTooLarge</Code></Error>", "application/xml")
        raw = self.rfile.read(n)
        msg = BytesParser(policy=email_policy).parsebytes(
            b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw)
        fields, file_bytes = {}, None
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                file_bytes = part.get_payload(decode=True)
                fields["filename"] = part.get_filename()
            else:
                fields[name] = part.get_content().strip() if part.get_content_type().startswith("text") else part.get_payload(decode=True).decode()
        aid = (fields.get("key") or "").split("/")[-1]
        att = self.store.attachments.get(aid)
        if not att or file_bytes is None or len(file_bytes) != att["size"] or fields.get("Content-Type") != att["content_type"]:
            return self.send(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        att["uploaded"] = True
        att["filename"] = fields.get("filename")
        att["bytes"] = file_bytes
        return self.send(204, None)

    def staff(self, method: str, path: str, q: dict) -> None:
        s = self.store
        claims = read_token(self.headers.get("Authorization"))
        if method == "GET" and path == "/staff/reports":
            items = [r for r in s.reports.values() if s.visible(r, claims)]
            if q.get("status"):
                wanted = set(q["status"].split(","))
                items = [r for r in items if r["status"] in wanted]
            if q.get("opd_code") and claims["role"] != "opd":
                items = [r for r in items if r["opd_code"] == q["opd_code"]]
            if q.get("kecamatan"):
                items = [r for r in items if r["location"]["kecamatan"] == q["kecamatan"]]
            items.sort(key=lambda r: r["created_at"], reverse=True)
            limit = max(1, min(int(q.get("limit") or 50), 100))
            start = int(q.get("cursor") or 0)
            page = items[start:start + limit]
            nxt = str(start + limit) if start + limit < len(items) else None
            return self.send(200, {"items": [s.list_item(r) for r in page], "next_cursor": nxt})
        m = re.fullmatch(r"/staff/reports/([^/]+)", path)
        if method == "GET" and m:
            r = s.reports.get(m.group(1))
            if not r or not s.visible(r, claims):
                raise ApiError(404, "not_found", "Not found.")
            if "reveal" in q:  # a link never discloses: the reveal is a POST with a reason
                raise ApiError(400, "validation_error", "Parameter reveal tidak lagi diterima.",
                               [{"field": "reveal", "type": "moved",
                                 "message": "Identitas hanya dapat dibuka melalui POST /staff/reports/{tracking_id}/reveal dengan alasan."}])
            return self.send(200, s.staff_view(r, claims))
        m = re.fullmatch(r"/staff/reports/([^/]+)/attachments/([^/]+)", path)
        if method == "GET" and m:
            r = s.reports.get(m.group(1))
            if not r or not s.visible(r, claims) or m.group(2) not in s.files(r, public_only=False):
                raise ApiError(404, "not_found", "Lampiran tidak ditemukan pada laporan ini.")
            att = s.attachments[m.group(2)]
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            url = f"http://{host}/_s3/object/{m.group(2)}?response-content-type={quote(att['content_type'], safe='')}"
            return self.send(200, {"url": url, "expires_in": 300})
        m = re.fullmatch(r"/staff/reports/([^/]+)/reveal", path)
        if method == "POST" and m:
            if claims["role"] != "admin":
                raise ApiError(403, "forbidden", "Hanya admin yang dapat membuka identitas pelapor.")
            r = s.reports.get(m.group(1))
            if not r or not s.visible(r, claims):
                raise ApiError(404, "not_found", "Not found.")
            body = self.json_body() or {}
            reveal = frozenset(str(w) for w in (body.get("fields") or []))
            reason = " ".join(str(body.get("reason") or "").split())
            problems = []
            if not reveal or reveal - {"identity", "nik"}:
                problems.append({"field": "fields", "type": "enum", "message": "Hanya identity atau nik yang dapat dibuka."})
            if len(reason) < 10:
                problems.append({"field": "reason", "type": "too_short",
                                 "message": "Tuliskan alasan membuka data ini (minimal 10 karakter)."})
            if problems:
                raise ApiError(400, "validation_error", "Permintaan tidak valid.", problems)
            # every reading of a hidden identity or a NIK leaves an audit event first
            s.move(r, None, "admin", "admin", "identity_viewed", None, False,
                   {"revealed": sorted(reveal), "privacy": r["privacy"], "reason": reason}, claims.get("sub"))
            view = s.staff_view(r, claims, reveal)
            return self.send(200, {"tracking_id": r["tracking_id"], "version": view.get("version"),
                                   "revealed": sorted(reveal), "reporter": view["reporter"]})
        m = re.fullmatch(r"/staff/reports/([^/]+)/actions", path)
        if method == "POST" and m:
            r = s.reports.get(m.group(1))
            if not r or not s.visible(r, claims):
                raise ApiError(404, "not_found", "Not found.")
            if claims["role"] == "pimpinan":
                raise ApiError(403, "forbidden", "This role may not do that.")
            apply_action(s, r, claims, self.json_body(), self.headers.get("If-Match"))
            return self.send(200, s.staff_view(r, claims))
        if method == "GET" and path == "/staff/performance":
            if claims["role"] not in {"admin", "pimpinan"}:
                raise ApiError(403, "forbidden", "This role may not do that.")
            period = q.get("period") or ""
            if not re.fullmatch(r"\d{4}-\d{2}", period):
                raise ApiError(400, "validation_error", "The request is not valid.", [{"field": "period", "message": "YYYY-MM"}])
            data = performance(s, period)
            if q.get("format") == "csv":
                buf = io.StringIO()
                cols = ["opd_code", "opd_name", "received", "responded", "responded_on_time", "on_time_pct",
                        "median_first_response_hours", "overdue_open", "returned", "avg_rating"]
                w = csv.DictWriter(buf, fieldnames=cols)
                w.writeheader()
                for row in data["items"]:
                    w.writerow(row)
                return self.send(200, buf.getvalue(), "text/csv",
                                 {"Content-Disposition": f'attachment; filename="kinerja-{period}.csv"'})
            return self.send(200, data)
        raise ApiError(404, "not_found", "Not found.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8182)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    Handler.store = Store()
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.verbose = args.verbose
    print(f"mock API on http://{args.host}:{args.port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
