"""Sp4nClient against the real stand-in over HTTP on 127.0.0.1, plus the payload builder."""
from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.adapters import sp4n
from chalicelib.adapters.sp4n import (
    Sp4nAuthError,
    Sp4nClient,
    Sp4nComplaintIn,
    Sp4nConfigError,
    Sp4nMappings,
    Sp4nNotFound,
    Sp4nProtocolError,
    Sp4nRejected,
    Sp4nUnavailable,
    parse_retry_after,
    payload_from_report,
    redact_text,
)
from chalicelib.local.sp4n_standin import StandinHandle, start_standin

ROOT = Path(__file__).resolve().parents[2]
REPORTER = {"name": "Budi Santoso", "email": "budi.santoso@example.id", "phone": "+6281234567890"}
NIK = "3217011204850003"


class SleepRecorder:
    """Stands in for time.sleep: records the backoff instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(scope="module")
def server() -> Iterator[StandinHandle]:
    handle = start_standin(port=0, api_key="local-key", token="local-token")
    yield handle
    handle.stop()


@pytest.fixture()
def standin(server: StandinHandle) -> StandinHandle:
    server.state.reset()
    return server


@pytest.fixture()
def slept() -> SleepRecorder:
    return SleepRecorder()


def client_for(h: StandinHandle, slept: SleepRecorder, api_key: str = "local-key", **kw: Any) -> Sp4nClient:
    # uniform returns the ceiling so backoff is deterministic; one test uses real jitter.
    options: dict[str, Any] = {"sleep": slept, "uniform": lambda lo, hi: hi, "timeout": (1, 2), **kw}
    return Sp4nClient(h.url, api_key, "local-token", **options)


@pytest.fixture()
def client(standin: StandinHandle, slept: SleepRecorder) -> Sp4nClient:
    return client_for(standin, slept)


def report(**over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "tracking_id": "LKBB-ABC123", "type": "pengaduan", "title": "Jalan berlubang di Cibodas",
        "description": "Jalan desa berlubang besar sejak bulan lalu dan membahayakan pengendara motor.",
        "category": "jalan_rusak", "kecamatan": "Lembang", "incident_date": "2026-03-02", "privacy": "publik",
        "reporter": dict(REPORTER), "nik": NIK, "attachments": [],
    }
    r.update(over)
    return r


def fault(h: StandinHandle, **spec: Any) -> None:
    assert requests.post(f"{h.url}/_standin/faults", json=spec, timeout=5).status_code == 200


def personal_values() -> list[str]:
    return [REPORTER["name"], "Budi", "Santoso", REPORTER["email"], "81234567890", NIK]


# -- happy paths -----------------------------------------------------------------------------
def test_create_returns_seven_digit_id_and_sends_exactly_the_payload(standin: StandinHandle, client: Sp4nClient) -> None:
    payload = payload_from_report(report())
    cid = client.create_complaint(payload)
    assert len(cid) == 7 and cid.isdigit()
    assert client.last_attempts == 1
    sent = standin.state.received("/complaints/complaint")[0]["body"]
    assert sent == payload.as_json()
    stored = standin.state.complaint(cid)
    assert (stored["location_id"], stored["classification_id"], stored["date_of_incident"]) == (321701, 1, "2026-03-02")


def test_upload_then_create_with_the_document_and_a_neutral_file_name(standin: StandinHandle, client: Sp4nClient) -> None:
    doc = client.upload_file(b"\xff\xd8 a photo of the road", "image/jpeg")
    cid = client.create_complaint(payload_from_report(report(), document_ids=[doc]))
    assert standin.state.complaint(cid)["attachments"] == [doc]
    files = standin.state.received("/file")[0]["body"]["files"]
    assert files[0]["filename"] == "lampiran.jpg"
    with pytest.raises(ValueError):
        client.upload_file(b"MZ", "application/x-msdownload")


def test_followup_then_read_followups(client: Sp4nClient) -> None:
    cid = client.create_complaint(payload_from_report(report()))
    fid = client.add_followup(cid, "Jalan sudah ditambal oleh DPUPR. Info: hotline 0811-2233-4455.")
    followups = client.get_followups(cid)
    assert [f.id for f in followups] == [fid]
    # The OPD's own hotline stays; a follow-up is the OPD speaking, not the reporter.
    assert "0811-2233-4455" in followups[0].content and followups[0].complaint_id == cid


def test_followup_never_carries_an_identity_number_or_the_reporters_details(standin: StandinHandle,
                                                                             client: Sp4nClient) -> None:
    cid = client.create_complaint(payload_from_report(report()))
    client.add_followup(cid, f"Sdr. Budi Santoso (NIK {NIK}, 081234567890) sudah kami hubungi.", reporter=REPORTER)
    text = json.dumps(standin.state.received("/followup/add")[0]["body"])
    for value in personal_values() + ["081234567890"]:
        assert value not in text


def test_get_complaint_reflects_changes_made_on_lapor(standin: StandinHandle, client: Sp4nClient) -> None:
    cid = client.create_complaint(payload_from_report(report()))
    requests.post(f"{standin.url}/_standin/complaints/{cid}/status",
                  json={"status_code": "disposed", "disposition_name": "Dinas PUPR"}, timeout=5)
    c = client.get_complaint(cid)
    assert (c.complaint_id, c.status_code, c.status_name, c.disposition_name) == (
        cid, "disposed", "Terdisposisi Belum Ditindaklanjuti", "Dinas PUPR")
    assert [log.status_code for log in c.logs] == ["verification", "disposed"]
    assert c.updated_at is not None and c.updated_at.tzinfo is not None


def test_reject_hands_the_complaint_back(standin: StandinHandle, client: Sp4nClient) -> None:
    cid = client.create_complaint(payload_from_report(report()))
    client.reject(cid, "Jalan provinsi: kewenangan Pemprov Jawa Barat")
    assert client.get_complaint(cid).status_code == "rejected"
    with pytest.raises(Sp4nRejected) as err:
        client.reject(cid, "lagi")
    assert err.value.status == 409 and err.value.attempts == 1


def test_list_changes_pages_through_everything_changed_since(standin: StandinHandle, slept: SleepRecorder) -> None:
    client = client_for(standin, slept, page_size=2)
    old = client.create_complaint(payload_from_report(report()))
    since = datetime.fromisoformat(standin.state.complaint(old)["updated_at"]) + timedelta(microseconds=1)
    ours = [client.create_complaint(payload_from_report(report())) for _ in range(3)]
    requests.post(f"{standin.url}/_standin/complaints", json={"title": "Lampu jalan mati", "is_anonymous": True}, timeout=5)
    changes = client.list_changes(since)
    assert [c.complaint_id for c in changes][:3] == ours
    assert [c.source for c in changes] == ["integration"] * 3 + ["lapor"]
    assert changes[-1].is_anonymous is True and changes[-1].title == "Lampu jalan mati"
    assert client.last_attempts == 2  # two pages, one attempt each
    assert [e["query"]["page"] for e in standin.state.received("/complaints") if e["method"] == "GET"] == ["1", "2"]
    with pytest.raises(ValueError):
        client.list_changes(datetime(2026, 1, 1))


def test_masters(client: Sp4nClient) -> None:
    assert any(i.code == "KBB" for i in client.get_institutions())
    assert client.get_templates()[0].content


# -- failures --------------------------------------------------------------------------------
def test_wrong_credentials_are_an_auth_error_not_retried(standin: StandinHandle, slept: SleepRecorder) -> None:
    client = client_for(standin, slept, api_key="stolen-key")
    with pytest.raises(Sp4nAuthError) as err:
        client.create_complaint(payload_from_report(report()))
    assert (err.value.status, err.value.attempts, err.value.transient) == (401, 1, False)
    assert slept.delays == [] and len(standin.state.received()) == 1
    assert "stolen-key" not in str(err.value) and "stolen-key" not in repr(client)


def test_5xx_then_success_counts_attempts(standin: StandinHandle, client: Sp4nClient, slept: SleepRecorder) -> None:
    fault(standin, mode="5xx", count=2)
    cid = client.create_complaint(payload_from_report(report()))
    assert len(cid) == 7
    assert client.last_attempts == 3 and client.total_attempts == 3
    assert slept.delays == [0.5, 1.0]
    assert [e["status"] for e in standin.state.received()] == [503, 503, 201]


def test_5xx_that_persists_is_unavailable_after_max_attempts(standin: StandinHandle, client: Sp4nClient,
                                                             slept: SleepRecorder) -> None:
    fault(standin, mode="5xx", count=None, status=502)
    with pytest.raises(Sp4nUnavailable) as err:
        client.get_templates()
    assert (err.value.attempts, err.value.status, err.value.transient) == (4, 502, True)
    assert client.last_attempts == 4 and len(slept.delays) == 3
    assert len(standin.state.received()) == 4


def test_backoff_grows_exponentially_and_is_capped(standin: StandinHandle, slept: SleepRecorder) -> None:
    fault(standin, mode="5xx", count=None)
    client = client_for(standin, slept, max_attempts=7, backoff_base=0.5, backoff_cap=2)
    with pytest.raises(Sp4nUnavailable):
        client.get_templates()
    assert slept.delays == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]


def test_full_jitter_stays_between_zero_and_the_ceiling(standin: StandinHandle, slept: SleepRecorder) -> None:
    fault(standin, mode="5xx", count=None)
    client = client_for(standin, slept, max_attempts=8, backoff_base=0.5, backoff_cap=4,
                        uniform=random.Random(7).uniform)
    with pytest.raises(Sp4nUnavailable):
        client.get_templates()
    ceilings = [client.backoff_ceiling(n) for n in range(1, 8)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert all(0 <= d <= c for d, c in zip(slept.delays, ceilings, strict=True))
    assert len(set(slept.delays)) == len(slept.delays)  # jittered, not a fixed schedule


def test_429_honours_retry_after(standin: StandinHandle, client: Sp4nClient, slept: SleepRecorder) -> None:
    fault(standin, mode="429", count=1, retry_after=3)
    client.get_templates()
    assert slept.delays == [3.0] and client.last_attempts == 2


def test_retry_after_beyond_patience_gives_up_at_once(standin: StandinHandle, slept: SleepRecorder) -> None:
    fault(standin, mode="429", count=None, retry_after=120)
    client = client_for(standin, slept, max_retry_after=30)
    with pytest.raises(Sp4nUnavailable) as err:
        client.get_templates()
    assert (err.value.attempts, err.value.status, err.value.retry_after) == (1, 429, 120.0)
    assert slept.delays == []


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Mon, 02 Mar 2026 01:00:10 GMT", now) == 10.0
    assert parse_retry_after("Mon, 02 Mar 2026 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_other_4xx_are_rejected_without_retry(standin: StandinHandle, client: Sp4nClient, slept: SleepRecorder) -> None:
    with pytest.raises(Sp4nRejected) as err:
        client.create_complaint(payload_from_report(report(), document_ids=["no-such-document"]))
    assert (err.value.status, err.value.attempts, err.value.transient) == (422, 1, False)
    assert "attachments" in err.value.errors
    with pytest.raises(Sp4nNotFound):
        client.get_complaint("9999999")
    assert slept.delays == [] and len(standin.state.received()) == 2


def test_timeout_is_retried_then_unavailable_quickly(standin: StandinHandle, slept: SleepRecorder) -> None:
    fault(standin, mode="timeout", count=None, delay=5)
    client = client_for(standin, slept, timeout=(0.5, 0.2), max_attempts=3)
    t0 = time.monotonic()
    with pytest.raises(Sp4nUnavailable) as err:
        client.create_complaint(payload_from_report(report()))
    assert time.monotonic() - t0 < 1.5
    assert err.value.attempts == 3 and "ReadTimeout" in str(err.value)
    assert standin.state.complaints() == []


def test_slow_answer_within_the_timeout_is_fine(standin: StandinHandle, client: Sp4nClient) -> None:
    fault(standin, mode="slow", count=1, delay=0.2)
    assert client.create_complaint(payload_from_report(report()))
    assert client.last_attempts == 1


def test_dropped_connection_is_retried(standin: StandinHandle, client: Sp4nClient, slept: SleepRecorder) -> None:
    fault(standin, mode="drop", count=1)
    client.create_complaint(payload_from_report(report()))
    assert client.last_attempts == 2 and slept.delays == [0.5]


def test_connection_refused_is_unavailable(slept: SleepRecorder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there
    client = Sp4nClient(f"http://127.0.0.1:{port}", "k", "t", sleep=slept, max_attempts=2)
    with pytest.raises(Sp4nUnavailable) as err:
        client.get_templates()
    assert err.value.attempts == 2 and "ConnectionError" in str(err.value)


@pytest.mark.parametrize("mode", ["malformed", "html"])
def test_malformed_answer_is_a_protocol_error_not_retried(standin: StandinHandle, client: Sp4nClient,
                                                          slept: SleepRecorder, mode: str) -> None:
    fault(standin, mode=mode, count=1)
    with pytest.raises(Sp4nProtocolError) as err:
        client.create_complaint(payload_from_report(report()))
    assert err.value.attempts == 1 and slept.delays == []


class CannedTransport:
    """Answers every request with one fixed JSON body (for shapes the stand-in never produces)."""

    def __init__(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.body, self.status, self.headers = body, status, headers or {}
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, headers: Any, body: bytes | None, timeout: Any) -> sp4n.Answer:
        self.sent.append((method, url, dict(headers)))
        return sp4n.Answer(self.status, {"Content-Type": "application/json", **self.headers},
                           json.dumps(self.body).encode())


@pytest.mark.parametrize("data", [
    {"complaint_id": 12345},                      # not 7 digits
    {"complaint_id": "12a4567"},
    {"id": 1234567},                              # wrong field
    [{"complaint_id": 1234567}],                  # wrong shape
    None,
])
def test_unexpected_data_is_a_protocol_error_that_does_not_echo_values(data: Any) -> None:
    client = Sp4nClient("http://sp4n.invalid", "k", "t", transport=CannedTransport({"results": {"data": data}}))
    with pytest.raises(Sp4nProtocolError) as err:
        client.create_complaint(payload_from_report(report()))
    assert "12a4567" not in str(err.value)


def test_complaint_detail_requires_status_fields() -> None:
    body = {"results": {"data": {"complaint_id": 1234567, "status_name": "Belum Terverifikasi"}}}
    client = Sp4nClient("http://sp4n.invalid", "k", "t", transport=CannedTransport(body))
    with pytest.raises(Sp4nProtocolError, match="status_code"):
        client.get_complaint("1234567")


def test_redirects_are_not_followed() -> None:
    client = Sp4nClient("http://sp4n.invalid", "k", "t", transport=CannedTransport({}, status=302))
    with pytest.raises(Sp4nProtocolError):
        client.get_templates()


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A plain HTTP server's handler: notes each request's headers; ``answer`` says what to send."""

    seen: list[dict[str, str]]
    answer: tuple[int, dict[str, str], bytes]

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        status, headers, body = self.answer
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def plain_server(status: int, headers: dict[str, str], body: bytes = b"",
                 tls: tuple[Path, Path] | None = None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "answer": (status, headers, body)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_real_redirect_is_refused_and_the_credentials_never_reach_its_target(slept: SleepRecorder) -> None:
    with plain_server(200, {"Content-Type": "application/json"}, b'{"results": {"data": []}}') as (elsewhere, hit), \
            plain_server(307, {"Location": elsewhere + "/masters/templates"}) as (url, seen):
        client = Sp4nClient(url, "secret-key", "secret-token", sleep=slept)
        with pytest.raises(Sp4nProtocolError, match="redirect HTTP 307") as err:
            client.get_templates()
    assert (err.value.attempts, len(seen), hit) == (1, 1, [])
    assert seen[0]["Authorization"] == "Bearer secret-key" and seen[0]["token"] == "secret-token"


def self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` (an IP address or a DNS name), signed by its own key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt = x509.DNSName(name)
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.mark.parametrize(("cert_for", "trusted", "works"), [
    ("127.0.0.1", True, True), ("127.0.0.1", False, False), ("lapor.example", True, False)])
def test_tls_answers_only_from_a_trusted_certificate_for_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   slept: SleepRecorder, cert_for: str, trusted: bool,
                                                                   works: bool) -> None:
    cert, key = self_signed(tmp_path, cert_for)
    if trusted:
        context = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(sp4n, "_tls_context", lambda: context)
    with plain_server(200, {"Content-Type": "application/json"}, b'{"results": {"data": []}}',
                      tls=(cert, key)) as (url, seen):
        client = Sp4nClient(url, "k", "t", sleep=slept, max_attempts=2)
        if works:
            assert client.get_templates() == [] and len(seen) == 1
        else:
            with pytest.raises(Sp4nUnavailable, match="ConnectionError") as err:
                client.get_templates()
            assert err.value.attempts == 2 and seen == []  # no request went over an unverified link


def test_retry_after_as_an_http_date_over_the_real_transport(slept: SleepRecorder) -> None:
    later = (datetime.now(UTC) + timedelta(seconds=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with plain_server(503, {"Retry-After": later}) as (url, seen):
        client = Sp4nClient(url, "k", "t", sleep=slept, uniform=lambda lo, hi: hi, max_attempts=2)
        with pytest.raises(Sp4nUnavailable) as err:
            client.get_templates()
    assert (err.value.status, err.value.attempts, len(seen)) == (503, 2, 2)
    assert len(slept.delays) == 1 and 15 < slept.delays[0] <= 20  # the date, not the backoff (0.5 s)


def test_answers_are_read_leniently_where_lapor_may_vary() -> None:
    body = {"results": {"data": {
        "complaint_id": 1234567, "status_code": 3, "status_name": "Proses", "unknown_field": {"nik": "x"},
        "is_anonymous": "true", "is_secret": 0, "location_id": "321701", "date_of_incident": "2026-03-02",
        "attachments": [991, "doc-2"], "updated_at": "2026-03-02T01:02:03Z",
        "logs": [{"at": 1772413323, "status_code": "process", "status_name": "Proses"}],
        "ratings": [{"id": 5, "rating": 4, "resolved": True}]}}}
    c = Sp4nClient("http://sp4n.invalid", "k", "t", transport=CannedTransport(body)).get_complaint("1234567")
    assert (c.complaint_id, c.status_code, c.is_anonymous, c.is_secret, c.location_id) == (
        "1234567", "3", True, False, 321701)
    assert (c.date_of_incident, c.attachments, c.updated_at) == (
        date(2026, 3, 2), ["991", "doc-2"], datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC))
    assert c.logs[0].at.tzinfo is not None and (c.ratings[0].id, c.ratings[0].rating) == ("5", 4)
    assert not hasattr(c, "unknown_field") and c.title is None and c.disposition_name is None


@pytest.mark.parametrize(("change", "where"), [
    ({"updated_at": "2026-03-02T01:02:03"}, "updated_at"),                   # no UTC offset
    ({"logs": [{"at": "2026-03-02T01:02:03+07:00", "status_code": "x"}]}, "logs.0.status_name"),
    ({"ratings": [{"id": "r1", "rating": 6}]}, "ratings.0.rating"),
    ({"is_secret": "Budi Santoso"}, "is_secret"),
    ({"attachments": "doc-1"}, "attachments"),
    ({"status_name": None}, "status_name"),
    ({"date_of_incident": "2026-03-02T00:00:00"}, "date_of_incident"),
])
def test_a_wrong_field_is_named_by_its_path_and_its_value_never_echoed(change: dict[str, Any], where: str) -> None:
    data = {"complaint_id": "1234567", "status_code": "process", "status_name": "Proses", **change}
    client = Sp4nClient("http://sp4n.invalid", "k", "t", transport=CannedTransport({"results": {"data": data}}))
    with pytest.raises(Sp4nProtocolError) as err:
        client.get_complaint("1234567")
    assert f"get_complaint: unexpected answer: {where}: " in str(err.value)
    assert "Budi" not in str(err.value) and "2026" not in str(err.value)


def test_the_payload_types_are_exact_and_its_errors_name_fields_only() -> None:
    base = dataclasses.asdict(payload_from_report(report()))
    for change, field_name in (({"classification_id": True}, "classification_id"),
                               ({"location_id": "321701"}, "location_id"),
                               ({"date_of_incident": datetime(2026, 3, 2, tzinfo=UTC)}, "date_of_incident"),
                               ({"is_secret": 1}, "is_secret"), ({"attachments": [7]}, "attachments"),
                               ({"title": "x" * 256}, "title")):
        with pytest.raises(ValueError, match=field_name) as err:
            Sp4nComplaintIn(**{**base, **change})
        assert "xxx" not in str(err.value)
    with pytest.raises(ValueError, match="personal data") as err:
        Sp4nComplaintIn(**{**base, "content": f"NIK {NIK}"})
    assert NIK not in str(err.value)


def test_json_and_query_go_out_as_lapor_expects() -> None:
    canned = CannedTransport({"results": {"data": [], "meta": {"next_page": None}}})
    client = Sp4nClient("http://sp4n.invalid/v1/", "k", "t", transport=canned, institution="KBB X")
    client.list_changes(datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=7))))
    method, url, headers = canned.sent[0]
    assert method == "GET" and url == ("http://sp4n.invalid/v1/complaints?institution=KBB+X"
                                       "&updated_since=2026-03-02T08%3A00%3A00%2B07%3A00&page=1&per_page=100")
    assert "Content-Type" not in headers and headers["token"] == "t"


def test_a_complaint_id_that_is_not_seven_digits_is_never_sent(client: Sp4nClient, standin: StandinHandle) -> None:
    for bad in ("123", "../../masters/templates", "12345678"):
        with pytest.raises(ValueError):
            client.get_complaint(bad)
    assert standin.state.received() == []


# -- payload and privacy ---------------------------------------------------------------------
def test_no_personal_data_in_the_payload_even_with_a_clean_description(standin: StandinHandle,
                                                                       client: Sp4nClient) -> None:
    payload = payload_from_report(report())
    assert payload.content == report()["description"]  # clean text passes unchanged
    client.create_complaint(payload)
    sent = json.dumps(standin.state.received("/complaints/complaint")[0]["body"])
    for value in personal_values():
        assert value not in sent
    assert set(json.loads(sent)) == {"title", "content", "classification_id", "category_id", "location_id",
                                     "date_of_incident", "is_anonymous", "is_secret", "attachments"}


def test_personal_data_typed_into_the_text_is_cut_out() -> None:
    text = (f"Saya Budi Santoso, NIK {NIK[:4]} {NIK[4:8]} {NIK[8:12]} {NIK[12:]}, HP 0812-3456-7890 / "
            "+62 812 3456 7890, email budi.santoso@example.id. KK 3217010101010101. Tolong, Pak! Salam, budi")
    payload = payload_from_report(report(title="Bantuan sosial untuk Budi belum cair", description=text,
                                         privacy="anonim"))
    dumped = json.dumps(payload.as_json())
    for value in personal_values() + ["3456", "budi", "3217010101010101"]:
        assert value.lower() not in dumped.lower()
    assert "[nama dihapus]" in payload.title and "Tolong, Pak!" in payload.content


def test_honorifics_and_places_survive_the_name_redaction() -> None:
    out = redact_text("Bapak Ujang melapor dari Lembang", {"name": "Bapak Ujang"})
    assert out == "[nama dihapus] melapor dari Lembang"
    assert redact_text("Pak RT sudah tahu", {"name": "Bapak Ujang"}) == "Pak RT sudah tahu"


@pytest.mark.parametrize(("privacy", "flags"), [
    ("publik", (False, False)), ("anonim", (True, False)), ("rahasia", (False, True))])
def test_privacy_sets_the_lapor_flags(standin: StandinHandle, client: Sp4nClient, privacy: str,
                                      flags: tuple[bool, bool]) -> None:
    payload = payload_from_report(report(privacy=privacy))
    assert (payload.is_anonymous, payload.is_secret) == flags
    cid = client.create_complaint(payload)
    stored = standin.state.complaint(cid)
    assert (stored["is_anonymous"], stored["is_secret"]) == flags


@pytest.mark.parametrize("privacy", [None, "", "public", "RAHASIA"])
def test_unknown_privacy_fails_closed(privacy: Any) -> None:
    with pytest.raises(ValueError, match="privacy"):
        payload_from_report(report(privacy=privacy))


def test_payload_model_is_closed_and_refuses_personal_data() -> None:
    base = dataclasses.asdict(payload_from_report(report()))
    with pytest.raises(TypeError):  # no field to put the reporter in
        Sp4nComplaintIn(**{**base, "reporter_name": "Budi"})
    for text in (f"NIK {NIK}", "WA 081234567890", "mail budi@example.id", "   "):
        with pytest.raises(ValueError):
            Sp4nComplaintIn(**{**base, "content": text})


def test_mapping_of_type_kecamatan_category_and_dates() -> None:
    m = Sp4nMappings(category_ids={"jalan_rusak": 42}, default_category_id=9)
    p = payload_from_report(report(type="permintaan_informasi", kecamatan=None, location={"kecamatan": "Saguling"},
                                   incident_date=None, created_at="2026-03-01T20:00:00+00:00"), mappings=m)
    assert (p.classification_id, p.category_id, p.location_id, p.date_of_incident) == (3, 42, 321716, date(2026, 3, 2))
    assert payload_from_report(report(category="lainnya"), mappings=m).category_id == 9
    assert payload_from_report(report(kecamatan="32.17.06")).location_id == 321706
    assert payload_from_report(report(kecamatan="Kecamatan Cikalong Wetan")).location_id == 321704
    assert payload_from_report(report(kecamatan="Atlantis")).location_id == 3217
    with pytest.raises(ValueError, match="type"):
        payload_from_report(report(type="keluhan"))


# -- configuration ---------------------------------------------------------------------------
def test_from_env_defaults_to_the_local_standin() -> None:
    c = Sp4nClient.from_env({"STAGE": "local", "LAPOR_SP4N_PORT": "8123"})
    assert c.base_url == "http://127.0.0.1:8123"
    c = Sp4nClient.from_env({"SP4N_BASE_URL": "https://api.lapor.example/v1/", "SP4N_API_KEY": "k",
                             "SP4N_API_TOKEN": "t", "SP4N_TIMEOUT": "2,5", "SP4N_MAX_ATTEMPTS": "6",
                             "STAGE": "prod"})
    assert (c.base_url, c.timeout, c.max_attempts) == ("https://api.lapor.example/v1", (2.0, 5.0), 6)


def test_from_env_outside_local_requires_configuration() -> None:
    with pytest.raises(Sp4nConfigError) as err:
        Sp4nClient.from_env({"STAGE": "prod", "SP4N_API_KEY": "secret-value"})
    assert "SP4N_BASE_URL" in str(err.value) and "secret-value" not in str(err.value)


class FakeAws:
    """Secrets Manager and SSM as adapters.aws.client would return them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, service: str) -> FakeAws:
        self.service = service
        return self

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.calls.append(("secret", SecretId))
        return {"SecretString": json.dumps({"api_key": "sm-key", "SP4N_API_TOKEN": "sm-token"})}

    def get_paginator(self, name: str) -> FakeAws:
        return self

    def paginate(self, **kw: Any) -> list[dict[str, Any]]:
        self.calls.append(("ssm", kw))
        return [{"Parameters": [{"Name": "/lapor/prod/sp4n/base_url", "Value": "https://ssm.example"},
                                {"Name": "/lapor/prod/sp4n/token", "Value": "ssm-token"}]}]


def test_from_env_reads_secrets_manager_and_parameter_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import aws

    fake = FakeAws()
    monkeypatch.setattr(aws, "client", fake)
    c = Sp4nClient.from_env({"STAGE": "prod", "SP4N_BASE_URL": "https://env.example", "SP4N_SECRET_ID": "sp4n/prod"})
    assert c.base_url == "https://env.example" and c._headers["token"] == "sm-token"
    assert c._headers["Authorization"] == "Bearer sm-key"
    c = Sp4nClient.from_env({"STAGE": "prod", "SP4N_SECRET_ID": "sp4n/prod", "SP4N_PARAMETER_PREFIX": "lapor/prod/sp4n"})
    assert c.base_url == "https://ssm.example" and c._headers["token"] == "ssm-token"
    assert ("ssm", {"Path": "/lapor/prod/sp4n", "Recursive": False, "WithDecryption": True}) in fake.calls


def test_importing_the_adapter_does_not_import_boto3_requests_or_pydantic() -> None:
    # Cold start of the sync function: the adapter needs neither requests nor pydantic models.
    code = ("import sys, chalicelib.adapters.sp4n; "
            "print(sorted(m for m in ('boto3', 'requests', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30,
                         check=False)
    assert out.stdout.strip() == "[]", out.stderr


def test_module_exports() -> None:
    assert {"Sp4nClient", "Sp4nComplaintIn", "payload_from_report", "Sp4nUnavailable"} <= set(dir(sp4n))
