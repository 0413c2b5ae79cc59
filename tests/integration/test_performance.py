"""The monthly per-OPD record, through the real services (moto in-process).

The March 2026 fixture (tests/performance_fixture.py) is played through intake, the workflow
service and the real SLA sweep (every night at 00:15 WIB), with `chalicelib.domain.clock.now`
under the test's control; the events then travel the real fan-out (events stream -> dispatcher ->
SNS -> PerformanceQueue -> the performance consumer, moved by the local pump's own code). The
scoreboard is read over HTTP and compared with the hand-computed values.

What is checked: the figures (`check_figures`, and tests/unit/test_performance.py through the
pure fold), the drill-down (`check_drilldown`), the CSV (`check_csv`), the reads
(`test_counted_scoreboard_...`, items read counted from DynamoDB's own answers); also the consumer's idempotency and order, the monthly
digest end to end, /stats, roles, the CLI and its chart.
"""
from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.auth import ROLES as STAFF_ROLES
from tests.performance_fixture import (
    BREACHES,
    EXPECTED,
    IDS,
    NOW,
    OPD_NAMES_SEEN,
    PERIOD,
    SCENARIO,
    Act,
    submitted_at,
    t,
)
from tests.staff_support import Clock, bearer, set_clock, staff_auth  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
OPD_ADMIN = [r for r in ("opd_admin",) if r in STAFF_ROLES]
KECAMATAN = ("Lembang", "Parongpong", "Ngamprah", "Padalarang", "Cililin", "Cipatat")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return set_clock(monkeypatch, NOW)


def report_body(valid_report: dict[str, Any], key: str) -> dict[str, Any]:
    body = dict(valid_report)
    body["category"] = "lainnya"  # the default SLA case: tindak_lanjut 5 HK, as the fixture assumes
    body["title"] = f"Laporan uji {key}"
    body["location"] = {**body["location"], "kecamatan": KECAMATAN[sum(map(ord, key)) % len(KECAMATAN)],
                        "desa": None}  # the fixture's desa is Lembang's
    body["privacy"] = "rahasia" if key.startswith("K") else "publik"  # health: sensitive
    body["reporter"] = {k: v for k, v in body["reporter"].items() if k != "nik"}
    return body


def staff(role: str, opd: str | None = None) -> Any:
    from chalicelib.auth import Principal

    return Principal(sub=f"test-{role}-{opd or ''}", role=role, opd_code=opd)


def play(valid_report: dict[str, Any], clock: Clock, scenario: dict[str, list[Act]] = SCENARIO,
         until: datetime = NOW) -> dict[str, dict[str, Any]]:
    """Play the scenario in time order through the services, the sweep every night at 00:15 WIB.
    Returns key -> the submission's answer (tracking_id, access_token)."""
    from chalicelib.services import intake, sla_sweep, workflow
    from chalicelib.submission import ReportIn

    timeline: list[tuple[datetime, int, str, str, Act | None]] = []
    for key, acts in scenario.items():
        timeline.append((submitted_at(key), 0, "submit", key, None))
        timeline += [(a.at, 1, "act", key, a) for a in acts if a.action != "breach"]  # the sweep's
    night = date(2026, 2, 27)
    while (at := t(night.day, 0, 15, month=night.month)) <= until:
        timeline.append((at, 2, "sweep", "", None))
        night += timedelta(days=1)
    created: dict[str, dict[str, Any]] = {}
    holder: dict[str, str | None] = {}
    for at, _, kind, key, act in sorted(timeline, key=lambda e: (e[0], e[1], e[3])):
        clock.at = at
        if kind == "sweep":
            assert not sla_sweep.sweep(at).failed
            continue
        if kind == "submit":
            created[key] = intake.submit(ReportIn.from_data(report_body(valid_report, key)))
            continue
        assert act is not None
        tid = created[key]["tracking_id"]
        if act.action in ("verify", "redispose"):
            fields = {"opd_code": act.opd} | ({"note": "Diteruskan ke instansi yang berwenang."}
                                              if act.action == "redispose" else {})
            workflow.act(tid, act.action, staff("admin"), fields, now=at)
            holder[key] = act.opd
        elif act.action == "close":
            workflow.act(tid, "close", staff("admin"), {"message": "Laporan ganda, ditutup."}, now=at)
        elif act.action in ("accept", "respond", "return"):
            fields = {"respond": {"message": "Sudah ditindaklanjuti di lapangan."},
                      "return": {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang kami."}}.get(act.action, {})
            workflow.act(tid, act.action, staff("opd", holder[key]), fields, now=at)
        elif act.action == "reply":
            workflow.reporter_act(tid, created[key]["access_token"], "reply",
                                  {"message": "Masih rusak, belum ada perbaikan."}, now=at)
        elif act.action == "feedback":
            workflow.reporter_act(tid, created[key]["access_token"], "feedback",
                                  {"resolved": act.resolved, "rating": act.rating}, now=at)
        else:
            raise AssertionError(act)
    clock.at = until
    return created


def pump_performance(tmp_path: Path) -> int:
    """Move every stored event through stream -> dispatcher -> SNS -> PerformanceQueue -> consumer."""
    import app as app_module
    from chalicelib.local.pump import Pump

    pump = Pump(app_module, state_path=tmp_path, visibility_timeout=0, wait_seconds=0)
    pump.queues = [q for q in pump.queues if q.logical_id == "PerformanceQueue"]  # the consumer under test
    assert pump.queues, "PerformanceQueue is not pumped: no PerformanceQueueUrl output?"
    return pump.drain(timeout=300)


def build_march(clock: Clock, valid_report: dict[str, Any], tmp_path: Path, client: Any) -> SimpleNamespace:
    from chalicelib.services import performance

    performance.clear_cache()
    created = play(valid_report, clock)
    handled = pump_performance(tmp_path)
    key_of = {c["tracking_id"]: k for k, c in created.items()}
    return SimpleNamespace(client=client, created=created, key_of=key_of, handled=handled, clock=clock)


def get(client: Any, path: str, role: str | None = "admin", opd: str | None = None) -> Any:
    return client.http.get(path, headers=bearer(role, opd) if role else {})


# -- the March 2026 scenario: "What it must show" 1, 2 and 3 -----------------------------------

def test_march_2026_through_the_services(aws: dict[str, str], staff_auth: None, clock: Clock,  # noqa: F811
                                         valid_report: dict[str, Any], tmp_path: Path, client: Any) -> None:
    """One playthrough (about 40 s in moto), then every check on it."""
    march = build_march(clock, valid_report, tmp_path, client)
    check_breaches(march)
    check_figures(march)  # 1
    check_drilldown(march)  # 2
    check_csv(march)  # 3
    check_public_stats(march)


def check_breaches(march: SimpleNamespace) -> None:
    from chalicelib.data import reports

    # The nightly sweep recorded exactly the breaches the fixture lists (who, which stage, when).
    recorded = {}
    for key, c in march.created.items():
        for e in reports.events(c["tracking_id"]):
            if e.action == "sla_breach":
                assert key not in recorded, f"{key} breached twice"
                recorded[key] = (e.data["opd_code"], e.data["stage"], datetime.fromisoformat(e.at))
    assert recorded == BREACHES


def check_figures(march: SimpleNamespace) -> None:
    """1. Every figure of every OPD and of the regency equals the hand-computed value."""
    r = get(march.client, f"/staff/performance?period={PERIOD}")
    assert r.status_code == 200, r.body
    body = r.json_body
    assert body["period"] == PERIOD and body["as_of"] == "2026-04-01T07:30:00+07:00"
    assert [i["opd_code"] for i in body["items"]] == list(OPD_NAMES_SEEN)
    for item in body["items"]:
        figures = {k: v for k, v in item.items() if k not in ("opd_code", "opd_name", "status")}
        assert figures == EXPECTED[item["opd_code"]], item["opd_code"]
        assert item["status"] == "provisional"  # nobody finalised March
    assert body["status"] == "provisional" and body["finalised_at"] is None
    assert body["totals"] == EXPECTED["totals"]
    assert {i["opd_code"]: i["opd_name"] for i in body["items"]}["DINSOS"] == "Dinas Sosial"


def check_drilldown(march: SimpleNamespace) -> None:
    """2. For every OPD and figure, the drill-down lists exactly the reports the figure counts."""
    board = get(march.client, f"/staff/performance?period={PERIOD}").json_body
    counts = {i["opd_code"]: i for i in board["items"]}
    for opd, figures in IDS.items():
        for figure, expected in figures.items():
            r = get(march.client, f"/staff/performance/{opd}/reports?period={PERIOD}&figure={figure}")
            assert r.status_code == 200, r.body
            listed = [march.key_of[i["tracking_id"]] for i in r.json_body["items"]]
            assert set(listed) == expected and len(listed) == len(expected), (opd, figure)
            assert r.json_body["count"] == len(expected) == counts[opd][figure], (opd, figure)
            # pimpinan: the same rows and count, but a rahasia report (the K reports) is not named
            r = get(march.client, f"/staff/performance/{opd}/reports?period={PERIOD}&figure={figure}",
                    role="pimpinan")
            named = [march.key_of[i["tracking_id"]] for i in r.json_body["items"] if not i["withheld"]]
            assert r.json_body["count"] == len(r.json_body["items"]) == counts[opd][figure], (opd, figure)
            assert set(named) == {k for k in expected if not k.startswith("K")}, (opd, figure)
            assert all(i["tracking_id"] is None for i in r.json_body["items"] if i["withheld"])
    # The rows explain themselves: the overdue DPUPR report reopened by its reporter.
    rows = get(march.client, f"/staff/performance/DPUPR/reports?period={PERIOD}&figure=overdue_open").json_body
    p2 = next(i for i in rows["items"] if march.key_of[i["tracking_id"]] == "P2")
    assert p2["outcome"] == "on_time" and p2["overdue"] and p2["stage_due_at"] == "2026-03-13T23:59:59+07:00"
    assert p2["first_response_hours"] == 17.0 and len(p2["breach_seqs"]) == 1
    # Timing only: nothing about the report's content or its reporter.
    assert "Laporan uji" not in json.dumps(rows) and "Siti" not in json.dumps(rows)


def check_csv(march: SimpleNamespace) -> None:
    """3. The CSV parses with the csv module: a header and one row per OPD, the JSON's values."""
    r = march.client.http.get(f"/staff/performance?period={PERIOD}&format=csv", headers=bearer("pimpinan"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == f'attachment; filename="kinerja-opd-{PERIOD}.csv"'
    raw = r.body if isinstance(r.body, bytes) else r.body.encode()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the names as UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text and not text.replace("\r\n", "").count("\n")  # RFC 4180 line ends
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, data = rows[0], rows[1:]
    assert header[:11] == ["opd_code", "opd_name", "received", "responded", "responded_on_time", "on_time_pct",
                           "median_first_response_hours", "overdue_open", "returned", "returned_pct", "breaches"]
    assert [row[0] for row in data] == list(OPD_NAMES_SEEN)
    assert all(len(row) == len(header) for row in data)
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    for code in OPD_NAMES_SEEN:
        for name, value in EXPECTED[code].items():
            assert by_code[code][name] == ("" if value is None else str(value)), (code, name)
    json_rows = get(march.client, f"/staff/performance?period={PERIOD}").json_body["items"]
    assert [r["opd_name"] for r in json_rows] == [by_code[c]["opd_name"] for c in OPD_NAMES_SEEN]


def check_public_stats(march: SimpleNamespace) -> None:
    """Counts by status, category and kecamatan; no ids, titles or reporters; rahasia not broken down."""
    r = march.client.http.get(f"/stats?period={PERIOD}")
    assert r.status_code == 200, r.body
    stats = r.json_body
    march_keys = [k for k in SCENARIO if submitted_at(k).strftime("%Y-%m") == PERIOD]
    reports = stats["reports"]
    assert reports["total"] == len(march_keys) == sum(reports["by_status"].values())
    hidden = [k for k in march_keys if k.startswith("K")]
    assert reports["not_broken_down"] == len(hidden) == 6
    assert sum(reports["by_category"].values()) == sum(reports["by_kecamatan"].values()) == len(march_keys) - 6
    assert reports["by_category"] == {"lainnya": len(march_keys) - 6}
    assert [o["opd_code"] for o in stats["opd_response"]] == list(OPD_NAMES_SEEN)
    dinsos = stats["opd_response"][1]
    assert dinsos == {"opd_code": "DINSOS", "opd_name": "Dinas Sosial", "received": 8, "responded": 5,
                      "responded_on_time": 4, "on_time_pct": 66.7, "median_first_response_hours": 9.5}
    text = r.body if isinstance(r.body, str) else r.body.decode()
    for c in march.created.values():
        assert c["tracking_id"] not in text
    assert "Laporan uji" not in text and "Siti" not in text and "siti@" not in text


# -- who may read it ---------------------------------------------------------------------------

def test_staff_roles_and_bad_input(aws: dict[str, str], staff_auth: None, client: Any) -> None:  # noqa: F811
    c = client
    assert get(c, f"/staff/performance?period={PERIOD}", role="pimpinan").status_code == 200
    for path in (f"/staff/performance?period={PERIOD}", f"/staff/performance?period={PERIOD}&format=csv",
                 f"/staff/performance/DINSOS/reports?period={PERIOD}&figure=received"):
        # An OPD reads its own row and drill-down (tests/integration/test_month_close.py), never another's.
        assert get(c, path, role="opd", opd="DINSOS").status_code == 200, path
        r = get(c, path.replace("DINSOS", "DPUPR"), role="opd", opd="DINKES")
        if "/reports" in path:
            assert r.status_code == 403 and r.json_body["error"]["code"] == "forbidden", path
        r = get(c, path, role=None)
        assert r.status_code == 401 and r.json_body["error"]["code"] == "unauthenticated", path
    for path, field in (("/staff/performance?period=2026-13", "period"),
                        (f"/staff/performance?period={PERIOD}&format=xlsx", "format"),
                        (f"/staff/performance/DINSOS/reports?period={PERIOD}&figure=popularity", "figure"),
                        ("/stats?period=March", "period")):
        r = get(c, path)
        assert r.status_code == 400, path
        assert r.json_body["error"]["code"] == "validation_error"
        assert r.json_body["error"]["details"][0]["field"] == field
    r = get(c, f"/staff/performance/NOPE/reports?period={PERIOD}&figure=received")
    assert r.status_code == 404 and r.json_body["error"]["code"] == "not_found"
    # An empty month is a valid answer, not an error.
    empty = get(c, "/staff/performance?period=2025-01").json_body
    assert empty["items"] == [] and empty["totals"]["received"] == 0 and empty["totals"]["on_time_pct"] is None


def test_routes_are_in_the_openapi_document(aws: dict[str, str], client: Any) -> None:
    doc = client.http.get("/openapi.json").json_body
    for path in ("/staff/performance", "/staff/performance/{opd_code}/reports"):
        op = doc["paths"][path]["get"]
        assert set(op["x-roles"]) == {"admin", "pimpinan", "opd"} | set(OPD_ADMIN) and op["security"] == [{"staffJwt": []}]
    assert "security" not in doc["paths"]["/stats"]["get"]


# -- the consumer: idempotent on (tracking_id, seq), indifferent to order ------------------------

def _topic_message(event: Any) -> str:
    """What SNS puts into the queue for an event the dispatcher published (no raw delivery)."""
    from chalicelib.domain.events import DomainEvent

    domain = DomainEvent.from_mapping({
        "tracking_id": event.tracking_id, "seq": event.seq, "action": event.action, "at": event.at,
        "actor": event.actor, "from_status": event.from_status, "to_status": event.to_status,
        "public": event.public, "message": event.message, "data": event.data or {},
    })
    return json.dumps({"Type": "Notification", "MessageId": f"m-{event.tracking_id}-{event.seq}",
                       "Message": domain.to_json()})


def test_consumer_is_idempotent_and_order_free(aws: dict[str, str], clock: Clock,
                                               valid_report: dict[str, Any]) -> None:
    """Every event delivered twice, all shuffled, through the real queue and the Lambda entry:
    the stored facts are the fold of the whole log; a stale fold never overwrites a newer one."""
    import boto3

    import app as app_module
    from chalicelib.data import performance as store
    from chalicelib.data import reports
    from chalicelib.domain import performance as perf
    from chalicelib.local.pump import _Context
    from chalicelib.services import performance, sla_fields
    from tests.sqs_events import delete_succeeded, failed_ids, receive_event

    subset = {k: SCENARIO[k] for k in ("P2", "D3", "S5", "K6")}
    created = play(valid_report, clock, subset)
    sqs = boto3.client("sqs", region_name="ap-southeast-3")
    url = aws["PERFORMANCE_QUEUE_URL"]
    events = [e for c in created.values() for e in reports.events(c["tracking_id"])]
    bodies = [_topic_message(e) for e in events] * 2 + ["not an event"]
    random.Random(6).shuffle(bodies)
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    failures, handled = 0, 0
    for _ in range(100):
        event, messages = receive_event(sqs, url, visibility_timeout=0)
        if not messages:
            break
        result = app_module.performance_consumer(event, _Context("performance"))
        failures += len(failed_ids(result))
        handled += delete_succeeded(sqs, url, messages, result)
        if failures:  # the malformed one: drop it so the loop ends (SQS would dead-letter it)
            bad = [m for m in messages if m["MessageId"] in failed_ids(result)]
            for m in bad:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert handled == 2 * len(events) and failures == 1

    stored = {f.key: f for f in store.month(PERIOD).facts}
    expected = {}
    for c in created.values():
        report = reports.get(c["tracking_id"])
        assert report is not None
        for f in perf.disposition_facts(report.tracking_id, performance.steps_of(reports.events(report.tracking_id)),
                                        policy=sla_fields.policy(), calendar=sla_fields.calendar(),
                                        case=performance.case_of(report)):
            expected[f.key] = f
    assert stored == expected and len(stored) == 5  # D3 twice (DISDUKCAPIL, then DINKES)

    # A delivery that read a shorter log (an older seq) never goes back in time.
    newest = next(iter(stored.values()))
    assert store.save([replace(newest, basis_seq=newest.basis_seq - 1, rating=1)]) == 0
    assert store.month(PERIOD).facts.count(newest) == 1
    assert store.save([newest]) == 1  # the same fold again: harmless


# -- 4. counted: a month's scoreboard reads only that month ------------------------------------

def _counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Record (operation, table, items read) of every DynamoDB call, from the RESPONSES: moto's
    Query walks the whole table internally, but what it answers (ScannedCount) is what DynamoDB
    reads and bills."""
    import botocore.client

    calls: list[tuple[str, str, int]] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        out = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            read = int(out.get("ScannedCount", out.get("Count", 0)))
            if operation in ("GetItem",):
                read = 1 if out.get("Item") else 0
            if operation == "BatchGetItem":
                read = sum(len(v) for v in out.get("Responses", {}).values())
            calls.append((operation, str(params.get("TableName", "")), read))
        return out

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def test_counted_scoreboard_of_a_month_with_20000_reports_in_the_tables(
        aws: dict[str, str], staff_auth: None, client: Any, clock: Clock,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 reports over 20 months (1,000 a month), each with its disposition fact: the March
    scoreboard reads March's 1,000 facts, the drill-down one OPD's share, /stats March's 1,000
    reports and 1,000 facts. No Scan anywhere."""
    import boto3

    from chalicelib.data import reference
    from chalicelib.local import loadgen
    from chalicelib.services import performance

    ddb = boto3.client("dynamodb", region_name="ap-southeast-3")
    assert loadgen.MONTHS[-1] == PERIOD and len(set(loadgen.MONTHS)) == 20
    loadgen.disposed_reports(ddb, aws["REPORTS_TABLE"], aws["PERFORMANCE_TABLE"], 20_000)
    assert ddb.describe_table(TableName=aws["REPORTS_TABLE"])["Table"]["ItemCount"] == 20_000

    reference.opds()  # reference data is cached per container; warm it so only the record is counted
    performance.clear_cache()
    calls = _counting(monkeypatch)

    def read(table: str) -> int:
        return sum(n for _, name, n in calls if name == table)

    r = client.http.get(f"/staff/performance?period={PERIOD}", headers=bearer("admin"))
    assert r.status_code == 200 and r.json_body["totals"]["received"] == 1000
    # The month's status (GetItem) and its objections (a Query of the closing partition) read no
    # fact: a provisional month without objections adds no item read.
    assert {op for op, _, _ in calls} == {"Query", "GetItem"}
    assert read(aws["PERFORMANCE_TABLE"]) == 1000 and read(aws["REPORTS_TABLE"]) == 0
    print(f"\nscoreboard {PERIOD}: {read(aws['PERFORMANCE_TABLE'])} items read, 40,000 stored")

    calls.clear()
    r = client.http.get(f"/staff/performance/DPUPR/reports?period={PERIOD}&figure=received", headers=bearer("admin"))
    assert r.status_code == 200 and r.json_body["count"] == 200
    assert {op for op, _, _ in calls} == {"Query", "GetItem"} and read(aws["PERFORMANCE_TABLE"]) == 200

    calls.clear()
    r = client.http.get(f"/stats?period={PERIOD}")
    assert r.status_code == 200 and r.json_body["reports"]["total"] == 1000
    # Reads are Queries; the one write is the client's rate-limit counter.
    assert {op for op, _, _ in calls if op != "UpdateItem"} == {"Query", "GetItem"}
    assert [name for op, name, _ in calls if op == "UpdateItem"] == [aws["IDEMPOTENCY_TABLE"]]
    assert read(aws["REPORTS_TABLE"]) == 1000 and read(aws["PERFORMANCE_TABLE"]) == 1000
    print(f"stats {PERIOD}: {read(aws['REPORTS_TABLE'])} reports + {read(aws['PERFORMANCE_TABLE'])} facts read")


def test_a_submission_makes_no_extra_call(aws: dict[str, str], aws_calls: Any, valid_report: dict[str, Any]) -> None:
    """The record is kept by the consumer: a submission stays one KMS call + one transaction."""
    from chalicelib.data import reference
    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    reference.opds(), reference.kecamatan(), reference.categories()
    aws_calls.clear()
    intake.submit(ReportIn.from_data(valid_report))
    assert sum(aws_calls.values()) <= 3, aws_calls
    assert not any("performance" in k.lower() for k in aws_calls)


# -- 5. the monthly digest ---------------------------------------------------------------------

def _scheduled_event(at: datetime) -> dict[str, Any]:
    return {"version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": at.astimezone().isoformat(), "region": "ap-southeast-3",
            "resources": ["arn:aws:events:ap-southeast-3:000000000000:rule/performance_digest"], "detail": {}}


def test_monthly_digest_on_the_first_working_day_once(aws: dict[str, str], clock: Clock, tmp_path: Path,
                                                      valid_report: dict[str, Any]) -> None:
    import app as app_module
    from chalicelib.data import performance as store
    from chalicelib.data import reports
    from chalicelib.data.models import LedgerItem
    from chalicelib.local.pump import _Context
    from chalicelib.services import performance, templates

    created = play(valid_report, clock, {k: SCENARIO[k] for k in ("S1", "P8", "K6", "D3")})
    for c in created.values():
        performance.refresh(c["tracking_id"])

    # Tue 31 Mar and Thu 2 Apr: not the first working day of their month -> nothing.
    for day in (t(31, 7, 30), t(2, 7, 30, month=4)):
        clock.at = day
        assert performance.monthly_digest().recorded is False
    assert store.digest(PERIOD) is None

    # Wed 1 Apr 07:30 WIB: the schedule records March's digest, once.
    clock.at = NOW
    app_module.performance_monthly_digest(_scheduled_event(NOW), _Context("performance_digest"))
    event = store.digest(PERIOD)
    assert event is not None and event.action == "performance_digest" and event.tracking_id == "digest#monthly#2026-03"
    assert LedgerItem.get("digest#monthly#2026-03").state == "done"
    data = event.data
    assert data["audience"] == ["pimpinan"] and data["template"] == "pimpinan_kinerja_bulanan"
    assert data["totals"]["received"] == 5  # S1, P8, K6 and D3 twice (DISDUKCAPIL, DINKES)
    again = performance.monthly_digest()
    assert again.recorded is False and again.reason == "already recorded"
    assert [e.seq for e in reports.events("digest#monthly#2026-03")] == [1]
    # No tracking id and no report text in what goes to pimpinan.
    text = json.dumps(data)
    assert all(c["tracking_id"] not in text for c in created.values()) and "Laporan uji" not in text

    # The notifier renders it with the template file: every placeholder is filled.
    values = {**data["values"], "tautan_kinerja": "https://lapor.example/#/staf/kinerja"}
    template = templates.load("pimpinan_kinerja_bulanan")
    used = set().union(*(templates.placeholders(template[k]) for k in ("subject", "body", "sms")))
    assert used <= set(values), used - set(values)
    subject, body = templates.render_email("pimpinan_kinerja_bulanan", values)
    # On time: S1, D3 at DINKES; late: P8, K6 (overdue); D3 at DISDUKCAPIL withdrawn -> 2 / 4.
    assert subject == "[Lapor KBB] Rekap kinerja OPD Maret 2026: 50.0% respons tepat waktu"
    assert "DPUPR" in body and "Dinas Kesehatan" in body

    # And the fan-out delivers it: dispatcher -> SNS -> NotifyQueue -> notify -> email to pimpinan.
    # (Published here as the dispatcher does for the stream record; the scenario test above runs
    # the stream itself, and the reports' own events are not this test's subject.)
    import app as app_module
    from chalicelib.domain.events import DomainEvent
    from chalicelib.local import outbox
    from chalicelib.local.pump import Pump
    from chalicelib.services import dispatch

    dispatch.publish(DomainEvent.from_mapping(event.attribute_values))
    pump = Pump(app_module, state_path=tmp_path, visibility_timeout=0, wait_seconds=0)
    assert pump.pump_queue(pump.queue("NotifyQueue"), 0) == 1
    to_bupati = [m for m in outbox.sent() if "bupati@bandungbaratkab.go.id" in m["to"]]
    assert [m["subject"] for m in to_bupati] == [subject]
    assert "Rata-rata penilaian pelapor: 5.0" in to_bupati[0]["body"]


# -- 4 (CLI): JSON, CSV, drill-down and the PNG chart ------------------------------------------

def test_cli_performance_json_csv_drilldown_and_chart(aws: dict[str, str], clock: Clock, valid_report: dict[str, Any],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import cli
    from chalicelib.services import performance

    created = play(valid_report, clock, {k: SCENARIO[k] for k in ("S1", "S4", "P2", "K3", "D9")})
    for c in created.values():
        performance.refresh(c["tracking_id"])
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # no stack.env.json: the environment as it is
    base = ["performance", "--period", PERIOD, "--now", "2026-04-01T07:30:00+07:00"]

    assert cli.main(base) == 0
    board = json.loads(capsys.readouterr().out)
    assert [i["opd_code"] for i in board["items"]] == ["DINKES", "DINSOS", "DISDUKCAPIL", "DPUPR"]
    assert {i["opd_code"]: i["on_time_pct"] for i in board["items"]} == {
        "DINKES": 100.0, "DINSOS": 50.0, "DISDUKCAPIL": None, "DPUPR": 100.0}

    chart = tmp_path / "ranking.png"
    assert cli.main([*base, "--format", "csv", "--chart", str(chart)]) == 0
    out = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out.out, newline="")))
    assert rows[0][0] == "opd_code" and [r[0] for r in rows[1:]] == ["DINKES", "DINSOS", "DISDUKCAPIL", "DPUPR"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000
    assert "chart written" in out.err
    # --chart alone draws the chart and prints no record (the record is the command without it).
    alone = tmp_path / "alone.png"
    assert cli.main([*base, "--chart", str(alone)]) == 0
    out = capsys.readouterr()
    assert out.out == "" and alone.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert cli.main([*base, "--opd", "DINSOS", "--figure", "late"]) == 0
    late = json.loads(capsys.readouterr().out)
    assert [i["tracking_id"] for i in late["items"]] == [created["S4"]["tracking_id"]]
    assert cli.main([*base, "--opd", "DINSOS"]) == 2
    assert cli.main(["performance", "--period", "2026-3"]) == 2
    capsys.readouterr()
    # Its dead-letter queue is one the operators' `dlq` command knows.
    assert cli.main(["dlq", "list", "--queue", "performance"]) == 0
    assert "empty" in capsys.readouterr().out


def test_a_holiday_declared_afterwards_is_counted_after_a_refold(
        aws: dict[str, str], clock: Clock, valid_report: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """S4 was answered late (forwarded Wed 4 March, answered Wed 11). Days declared off later
    (5, 6, 9 and 10 March) move its deadline past the answer: the record follows once refolded."""
    from chalicelib import cli
    from chalicelib.services import calendar_admin, performance

    created = play(valid_report, clock, {"S4": SCENARIO["S4"]})
    performance.refresh(created["S4"]["tracking_id"])
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))
    late = ["performance", "--period", PERIOD, "--now", "2026-04-01T07:30:00+07:00", "--opd", "DINSOS",
            "--figure", "late"]
    assert cli.main(late) == 0
    assert [i["tracking_id"] for i in json.loads(capsys.readouterr().out)["items"]] == [created["S4"]["tracking_id"]]

    for day in ("2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10"):
        calendar_admin.put_override(day, "off", "cuti bersama (declared late)", reschedule=False)
    assert cli.main(late) == 0  # nothing refolded yet: the record still says late
    assert len(json.loads(capsys.readouterr().out)["items"]) == 1
    assert cli.main(["performance", "--period", PERIOD, "--refold"]) == 0
    assert json.loads(capsys.readouterr().out) == {"period": PERIOD, "reports": 1, "facts": 1}
    assert cli.main(late) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []


def test_matplotlib_stays_out_of_the_lambda_code_paths() -> None:
    code = ("import sys, app, chalicelib.services.performance, chalicelib.api.performance, chalicelib.cli; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "ap-southeast-3"})
