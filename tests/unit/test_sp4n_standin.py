"""The SP4N-LAPOR! stand-in over real HTTP: auth, endpoints, fault modes, inspection, simulation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.local.sp4n_standin import StandinHandle, start_standin

AUTH = {"Authorization": "Bearer local-key", "token": "local-token"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[StandinHandle]:
    handle = start_standin(port=0, api_key="local-key", token="local-token")
    yield handle
    handle.stop()


@pytest.fixture()
def standin(server: StandinHandle) -> StandinHandle:
    server.state.reset()
    return server


def complaint_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Jalan berlubang", "content": "Jalan desa berlubang sejak bulan lalu.",
        "classification_id": 1, "category_id": 7, "location_id": 321701,
        "date_of_incident": "2026-03-02", "is_anonymous": False, "is_secret": False, "attachments": [],
    }
    body.update(over)
    return body


def create(h: StandinHandle, **over: Any) -> str:
    r = requests.post(f"{h.url}/complaints/complaint", json=complaint_body(**over), headers=AUTH, timeout=5)
    assert r.status_code == 201, r.text
    return str(r.json()["results"]["data"]["complaint_id"])


def set_fault(h: StandinHandle, **spec: Any) -> dict[str, Any]:
    r = requests.post(f"{h.url}/_standin/faults", json=spec, timeout=5)
    assert r.status_code == 200, r.text
    return dict(r.json())


# -- auth and envelope -----------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer local-key"},
    {"token": "local-token"},
    {"Authorization": "Bearer wrong", "token": "local-token"},
    {"Authorization": "Bearer local-key", "token": "wrong"},
    {"Authorization": "local-key", "token": "local-token"},
])
def test_every_api_request_needs_bearer_key_and_token(standin: StandinHandle, headers: dict[str, str]) -> None:
    r = requests.get(f"{standin.url}/masters/templates", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.json()["results"]["data"] is None


def test_credentials_come_from_configuration() -> None:
    with start_standin(port=0, api_key="k2", token="t2") as h:
        assert requests.get(f"{h.url}/masters/templates", headers=AUTH, timeout=5).status_code == 401
        ok = requests.get(f"{h.url}/masters/templates", headers={"Authorization": "Bearer k2", "token": "t2"}, timeout=5)
        assert ok.status_code == 200


def test_masters_answer_in_the_envelope(standin: StandinHandle) -> None:
    inst = requests.get(f"{standin.url}/masters/institutions/external", headers=AUTH, timeout=5).json()
    assert any(i["code"] == "KBB" for i in inst["results"]["data"])
    tpl = requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).json()
    assert {"id", "title", "content"} <= set(tpl["results"]["data"][0])


# -- complaints ------------------------------------------------------------------------------
def test_create_returns_a_seven_digit_number_and_get_shows_status_and_logs(standin: StandinHandle) -> None:
    r = requests.post(f"{standin.url}/complaints/complaint", json=complaint_body(is_secret=True), headers=AUTH, timeout=5)
    assert r.status_code == 201
    cid = r.json()["results"]["data"]["complaint_id"]
    assert isinstance(cid, int) and 1_000_000 <= cid <= 9_999_999
    data = requests.get(f"{standin.url}/complaints/{cid}/complaint", headers=AUTH, timeout=5).json()["results"]["data"]
    assert {"status_code", "status_name", "disposition_name", "logs"} <= set(data)
    assert data["is_secret"] is True and data["source"] == "integration" and data["institution"] == "KBB"
    assert data["logs"][0]["status_code"] == data["status_code"]


def test_create_rejects_missing_unknown_and_mistyped_fields_with_422(standin: StandinHandle) -> None:
    body = complaint_body(is_anonymous="yes", reporter_nik="3217010101010001")
    del body["title"], body["location_id"]
    r = requests.post(f"{standin.url}/complaints/complaint", json=body, headers=AUTH, timeout=5)
    assert r.status_code == 422
    errors = r.json()["results"]["errors"]
    assert {"title", "location_id", "is_anonymous", "reporter_nik"} <= set(errors)
    future = complaint_body(date_of_incident=date(2999, 1, 1).isoformat())
    r = requests.post(f"{standin.url}/complaints/complaint", json=future, headers=AUTH, timeout=5)
    assert r.status_code == 422 and "date_of_incident" in r.json()["results"]["errors"]
    assert standin.state.complaints() == []


def test_invalid_json_is_400_but_only_after_auth(standin: StandinHandle) -> None:
    url = f"{standin.url}/complaints/complaint"
    hdr = {"Content-Type": "application/json"}
    assert requests.post(url, data=b"{nope", headers=hdr, timeout=5).status_code == 401
    assert requests.post(url, data=b"{nope", headers={**hdr, **AUTH}, timeout=5).status_code == 400


def test_upload_returns_document_ids_usable_as_attachments(standin: StandinHandle) -> None:
    files = [("file", ("a.jpg", b"\xff\xd8jpeg", "image/jpeg")), ("file", ("b.pdf", b"%PDF-1.4", "application/pdf"))]
    r = requests.post(f"{standin.url}/complaints/complaint/file", files=files, headers=AUTH, timeout=5)
    assert r.status_code == 201
    docs = r.json()["results"]["data"]
    assert [d["size"] for d in docs] == [6, 8]
    create(standin, attachments=[d["id"] for d in docs])
    r = requests.post(f"{standin.url}/complaints/complaint", json=complaint_body(attachments=["nope"]),
                      headers=AUTH, timeout=5)
    assert r.status_code == 422 and "attachments" in r.json()["results"]["errors"]


def test_upload_refuses_other_types_and_non_multipart(standin: StandinHandle) -> None:
    r = requests.post(f"{standin.url}/complaints/complaint/file", files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
                      headers=AUTH, timeout=5)
    assert r.status_code == 422
    r = requests.post(f"{standin.url}/complaints/complaint/file", json={"file": "x"}, headers=AUTH, timeout=5)
    assert r.status_code == 422


def test_followups_and_reject(standin: StandinHandle) -> None:
    cid = create(standin)
    r = requests.post(f"{standin.url}/complaints/followup/add", json={"complaint_id": cid, "content": "Sedang diperbaiki."},
                      headers=AUTH, timeout=5)
    assert r.status_code == 201
    fus = requests.get(f"{standin.url}/complaints/{cid}/followups", headers=AUTH, timeout=5).json()["results"]["data"]
    assert [f["content"] for f in fus] == ["Sedang diperbaiki."]
    assert requests.post(f"{standin.url}/complaints/followup/add", json={"complaint_id": cid},
                         headers=AUTH, timeout=5).status_code == 422
    r = requests.post(f"{standin.url}/complaints/process/{cid}/reject", json={"reason": "Bukan kewenangan Pemkab"},
                      headers=AUTH, timeout=5)
    assert r.status_code == 200 and r.json()["results"]["data"]["status_code"] == "rejected"
    again = requests.post(f"{standin.url}/complaints/process/{cid}/reject", json={"reason": "lagi"}, headers=AUTH, timeout=5)
    assert again.status_code == 409


def test_unknown_complaint_is_404(standin: StandinHandle) -> None:
    for path in ("/complaints/9999999/complaint", "/complaints/9999999/followups"):
        assert requests.get(standin.url + path, headers=AUTH, timeout=5).status_code == 404


def test_list_filters_by_updated_since_and_paginates(standin: StandinHandle) -> None:
    first = create(standin)
    cut = standin.state.complaint(first)["updated_at"]
    ids = [create(standin) for _ in range(3)]
    r = requests.get(f"{standin.url}/complaints", params={"institution": "KBB", "updated_since": cut, "per_page": 2},
                     headers=AUTH, timeout=5)
    results = r.json()["results"]
    assert [str(c["complaint_id"]) for c in results["data"]] == [first, ids[0]]  # inclusive, oldest first
    assert results["meta"]["next_page"] == 2 and results["meta"]["total"] == 4
    r = requests.get(f"{standin.url}/complaints", params={"updated_since": cut, "per_page": 2, "page": 2},
                     headers=AUTH, timeout=5)
    assert [str(c["complaint_id"]) for c in r.json()["results"]["data"]] == ids[1:]
    assert r.json()["results"]["meta"]["next_page"] is None
    assert requests.get(f"{standin.url}/complaints", params={"institution": "OTHER"}, headers=AUTH,
                        timeout=5).json()["results"]["data"] == []
    bad = requests.get(f"{standin.url}/complaints", params={"updated_since": "2026-01-01T00:00:00"}, headers=AUTH, timeout=5)
    assert bad.status_code == 422


# -- simulating LAPOR! itself ----------------------------------------------------------------
def test_changes_made_on_lapor_show_up_in_get_and_list(standin: StandinHandle) -> None:
    cid = create(standin)
    since = standin.state.complaint(cid)["updated_at"]
    r = requests.post(f"{standin.url}/_standin/complaints/{cid}/status",
                      json={"status_code": "process", "disposition_name": "Dinas PUPR"}, timeout=5)
    assert r.status_code == 200
    r = requests.post(f"{standin.url}/_standin/complaints/{cid}/followups", json={"content": "Jawaban dari admin LAPOR!"},
                      timeout=5)
    assert r.status_code == 201
    direct = requests.post(f"{standin.url}/_standin/complaints", json={"title": "Langsung di LAPOR!", "is_secret": True},
                           timeout=5)
    assert direct.status_code == 201 and direct.json()["source"] == "lapor"
    data = requests.get(f"{standin.url}/complaints/{cid}/complaint", headers=AUTH, timeout=5).json()["results"]["data"]
    assert (data["status_code"], data["status_name"], data["disposition_name"]) == (
        "process", "Terdisposisi Sedang Diproses", "Dinas PUPR")
    changed = requests.get(f"{standin.url}/complaints", params={"updated_since": data["updated_at"]}, headers=AUTH,
                           timeout=5).json()["results"]["data"]
    assert [c["source"] for c in changed] == ["integration", "lapor"]
    assert data["updated_at"] > since
    fus = requests.get(f"{standin.url}/complaints/{cid}/followups", headers=AUTH, timeout=5).json()["results"]["data"]
    assert fus[0]["author"] == "lapor"


def test_simulation_of_unknown_complaint_or_bad_body(standin: StandinHandle) -> None:
    assert requests.post(f"{standin.url}/_standin/complaints/9999999/status", json={"status_code": "done"},
                         timeout=5).status_code == 404
    cid = create(standin)
    assert requests.post(f"{standin.url}/_standin/complaints/{cid}/status", json={}, timeout=5).status_code == 422
    assert requests.post(f"{standin.url}/_standin/complaints", json={"classification_id": 9},
                         timeout=5).status_code == 422


# -- inspection ------------------------------------------------------------------------------
def test_received_keeps_every_request_without_credentials_and_reset_forgets(standin: StandinHandle) -> None:
    create(standin)
    requests.get(f"{standin.url}/masters/templates", timeout=5)  # unauthenticated
    items = requests.get(f"{standin.url}/_standin/received", timeout=5).json()["items"]
    assert [(i["method"], i["path"], i["status"], i["auth"]) for i in items] == [
        ("POST", "/complaints/complaint", 201, "ok"), ("GET", "/masters/templates", 401, "missing")]
    assert items[0]["body"]["title"] == "Jalan berlubang"
    assert "local-key" not in str(items) and "local-token" not in str(items)
    only = requests.get(f"{standin.url}/_standin/received", params={"path": "masters"}, timeout=5).json()["items"]
    assert len(only) == 1
    assert len(requests.get(f"{standin.url}/_standin/complaints", timeout=5).json()["items"]) == 1
    assert requests.post(f"{standin.url}/_standin/reset", timeout=5).json() == {"ok": True}
    assert requests.get(f"{standin.url}/_standin/received", timeout=5).json()["items"] == []
    assert standin.state.complaints() == []


def test_uploaded_files_are_kept_as_digests_only(standin: StandinHandle) -> None:
    requests.post(f"{standin.url}/complaints/complaint/file", files={"file": ("ktp.jpg", b"secret-bytes", "image/jpeg")},
                  headers=AUTH, timeout=5)
    entry = standin.state.received()[0]
    assert "secret-bytes" not in str(entry)
    assert entry["body"]["files"][0]["sha256"]


# -- faults ----------------------------------------------------------------------------------
def test_5xx_for_count_requests_then_normal(standin: StandinHandle) -> None:
    set_fault(standin, mode="5xx", count=2, status=502)
    codes = [requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert requests.get(f"{standin.url}/_standin/faults", timeout=5).json()["mode"] == "none"
    assert [i["fault"] for i in standin.state.received()] == ["5xx", "5xx", None]


def test_fault_without_count_lasts_until_cleared_and_control_routes_never_fail(standin: StandinHandle) -> None:
    set_fault(standin, mode="5xx", count=None)
    for _ in range(3):
        assert requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).status_code == 503
    assert requests.get(f"{standin.url}/_standin/received", timeout=5).status_code == 200
    set_fault(standin, mode="none")
    assert requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).status_code == 200


def test_429_carries_retry_after(standin: StandinHandle) -> None:
    set_fault(standin, mode="429", count=1, retry_after=7)
    r = requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"


def test_fault_can_target_one_path(standin: StandinHandle) -> None:
    set_fault(standin, mode="5xx", count=1, path="/complaints/complaint")
    assert requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).status_code == 200
    r = requests.post(f"{standin.url}/complaints/complaint", json=complaint_body(), headers=AUTH, timeout=5)
    assert r.status_code == 503
    create(standin)


def test_timeout_holds_then_drops_without_processing(standin: StandinHandle) -> None:
    set_fault(standin, mode="timeout", count=1, delay=2)
    t0 = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{standin.url}/complaints/complaint", json=complaint_body(), headers=AUTH, timeout=(1, 0.3))
    assert time.monotonic() - t0 < 1.5
    assert standin.state.complaints() == []
    assert standin.state.received()[0]["fault"] == "timeout"


def test_reset_releases_requests_held_by_a_timeout(standin: StandinHandle) -> None:
    set_fault(standin, mode="timeout", delay=30)
    outcome: list[str] = []

    def call() -> None:
        try:
            requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=(1, 10))
            outcome.append("answered")
        except requests.RequestException as exc:
            outcome.append(type(exc).__name__)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    requests.post(f"{standin.url}/_standin/reset", timeout=5)
    t.join(5)
    assert time.monotonic() - t0 < 2 and outcome == ["ConnectionError"]


def test_slow_answers_after_the_delay(standin: StandinHandle) -> None:
    set_fault(standin, mode="slow", count=1, delay=0.3)
    t0 = time.monotonic()
    r = requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5)
    assert r.status_code == 200 and time.monotonic() - t0 >= 0.3


def test_drop_closes_the_connection(standin: StandinHandle) -> None:
    set_fault(standin, mode="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5)
    assert requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5).status_code == 200


def test_malformed_and_html_answers(standin: StandinHandle) -> None:
    set_fault(standin, mode="malformed", count=1)
    r = requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5)
    assert r.status_code == 200 and "results" not in r.json()
    set_fault(standin, mode="html", count=1)
    r = requests.get(f"{standin.url}/masters/templates", headers=AUTH, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("spec", [{"mode": "boom"}, {"mode": "5xx", "count": 0}, {"mode": "5xx", "status": 404},
                                  {"mode": "slow", "delay": -1}, {"mode": "5xx", "extra": 1}])
def test_bad_fault_specs_are_400(standin: StandinHandle, spec: dict[str, Any]) -> None:
    assert requests.post(f"{standin.url}/_standin/faults", json=spec, timeout=5).status_code == 400


# -- concurrency and the command line --------------------------------------------------------
def test_concurrent_creates_get_distinct_ids(standin: StandinHandle) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            cid = create(standin)
            with lock:
                ids.append(cid)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(ids) == 40 == len(set(ids)) == len(standin.state.complaints())
    assert sorted(e["seq"] for e in standin.state.received()) == list(range(1, 41))


def test_runs_as_a_module_with_env_credentials() -> None:
    env = {**os.environ, "SP4N_API_KEY": "cli-key", "SP4N_API_TOKEN": "cli-token", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "chalicelib.local.sp4n_standin", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(f"{url}/masters/templates", headers={"Authorization": "Bearer cli-key", "token": "cli-token"},
                         timeout=5)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)


# -- LAPOR!'s side: a follow-up's status, the reporter's rating, one complaint's record --------
def test_followup_sets_the_status_it_carries_and_refuses_an_unknown_one(standin: StandinHandle) -> None:
    cid = create(standin)
    url = f"{standin.url}/complaints/followup/add"
    ok = requests.post(url, json={"complaint_id": cid, "content": "Diteruskan.", "status_code": "disposed"},
                       headers=AUTH, timeout=5)
    bad = requests.post(url, json={"complaint_id": cid, "content": "x", "status_code": "selesai"},
                        headers=AUTH, timeout=5)
    assert ok.status_code == 201 and bad.status_code == 422
    assert standin.state.complaint(cid)["status_code"] == "disposed"


def test_reporter_rating_and_the_control_view(standin: StandinHandle) -> None:
    cid = create(standin)
    rate = f"{standin.url}/_standin/complaints/{cid}/rating"
    assert requests.post(rate, json={"rating": 6}, timeout=5).status_code == 422
    assert requests.post(rate, json={"rating": 3, "resolved": "yes"}, timeout=5).status_code == 422
    assert requests.post(rate, json={"rating": 2}, timeout=5).status_code == 201
    assert standin.state.complaint(cid)["status_code"] == "verification"  # not confirmed: unchanged
    assert requests.post(rate, json={"rating": 5, "resolved": True}, timeout=5).status_code == 201
    requests.post(f"{standin.url}/_standin/complaints/{cid}/followups",
                  json={"content": "Terima kasih.", "author": "reporter"}, timeout=5)
    shown = requests.get(f"{standin.url}/_standin/complaints/{cid}", timeout=5).json()
    assert shown["status_code"] == "done"
    assert [(r["rating"], r["resolved"]) for r in shown["ratings"]] == [(2, False), (5, True)]
    assert shown["followups"][0]["author"] == "reporter"
    detail = requests.get(f"{standin.url}/complaints/{cid}/complaint", headers=AUTH, timeout=5).json()
    assert len(detail["results"]["data"]["ratings"]) == 2  # what the pull reads


# -- kept across restarts --------------------------------------------------------------------
def test_a_restart_with_a_state_file_keeps_complaints_documents_ratings_and_the_log(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sp4n-standin.json"
    with start_standin(port=0, state_file=path) as first:
        doc = requests.post(f"{first.url}/complaints/complaint/file", files={"file": ("a.pdf", b"%PDF", "application/pdf")},
                            headers=AUTH, timeout=5).json()["results"]["data"][0]["id"]
        cid = create(first, attachments=[doc])
        requests.post(f"{first.url}/complaints/followup/add", json={"complaint_id": cid, "content": "Diperbaiki."},
                      headers=AUTH, timeout=5)
        requests.post(f"{first.url}/_standin/complaints/{cid}/rating", json={"rating": 4}, timeout=5)
        set_fault(first, mode="5xx")  # a fault is not kept: a restarted gateway is a healthy one
        before = first.state.complaint(cid)
    assert path.exists()
    with start_standin(port=0, state_file=path) as second:
        assert second.state.complaint(cid) == before and before["ratings"][0]["rating"] == 4
        assert [f["content"] for f in second.state.followups(cid)] == ["Diperbaiki."]
        assert [e["path"] for e in second.state.received()][:2] == ["/complaints/complaint/file", "/complaints/complaint"]
        again = create(second, attachments=[doc])  # the document is still known, ids go on
        assert int(again) == int(cid) + 1
        assert second.state.received()[-1]["seq"] == len(second.state.received())
    with start_standin(port=0) as fresh:  # no state file: empty, as in the tests' stacks
        assert fresh.state.complaints() == []


def test_the_module_writes_its_state_file_when_stopped_by_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "sp4n-standin.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "chalicelib.local.sp4n_standin", "--port", "0",
                             "--state-file", str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        r = requests.post(f"{url}/_standin/complaints", json={"title": "Langsung di LAPOR!"}, timeout=5)
        assert r.status_code == 201
    finally:
        proc.terminate()  # what the local stack does on stop
        assert proc.wait(10) == 0
    kept = json.loads(path.read_text())
    assert [c["title"] for c in kept["complaints"].values()] == ["Langsung di LAPOR!"]
