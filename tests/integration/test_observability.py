"""Logs and metrics of real requests (Chalice test client on moto): no personal data in any log
line, the tracking id as correlation id, EMF metrics flushed by the middleware."""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

NIK = "3217014508900001"
EMAIL = "siti@example.org"
PHONES = ("0812-3456-7890", "+6281234567890", "6281234567890", "081234567890")


class Lines(io.StringIO):
    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter([line for line in self.getvalue().splitlines() if line.strip()])

    def __len__(self) -> int:
        return len(list(iter(self)))


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """Everything the Powertools logger (and so every chalicelib module logger) writes."""
    from chalicelib.observability import logger

    buffer = Lines()
    streams = [(h, h.setStream(buffer)) for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert streams, "the Powertools logger has no stream handler"
    try:
        yield buffer
    finally:
        for handler, old in streams:
            handler.setStream(old)  # type: ignore[arg-type]


def post(client: Any, body: Any) -> Any:
    return client.http.post("/reports", body=json.dumps(body), headers={"Content-Type": "application/json"})


def careless(report: Any) -> None:
    """Every way a developer could log a report by mistake."""
    from chalicelib.observability import logger

    dumped = report.as_json()
    logger.info("submitting %s", json.dumps(dumped))
    logger.info({"report": dumped, "raw_phone": PHONES[0]})
    logger.info("submitting", extra={"report": dumped, "contact": f"{EMAIL} / {PHONES[1]}"})
    logger.append_keys(reporter_nik=NIK)
    logger.info("with an appended key")
    logger.remove_keys(["reporter_nik"])
    logging.getLogger("chalicelib.services.intake").warning("module logger: nik=%s phone=%s", NIK, PHONES[3])
    try:
        raise ValueError(f"bad reporter {NIK} {EMAIL} {PHONES[2]}")
    except ValueError:
        logger.exception("failed while handling the reporter")


def test_a_real_submission_logs_no_nik_phone_or_email(client: Any, valid_report: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch, log_lines: Lines) -> None:
    from chalicelib.services import intake

    assert valid_report["reporter"]["nik"] == NIK and valid_report["reporter"]["email"] == EMAIL
    real_submit = intake.submit

    def submit(report: Any, *args: Any, **kwargs: Any) -> Any:
        careless(report)
        return real_submit(report, *args, **kwargs)

    monkeypatch.setattr(intake, "submit", submit)
    assert post(client, valid_report).status_code == 201

    def crash(report: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"storage down for {report.reporter.nik} {report.reporter.email} {report.reporter.phone}")

    monkeypatch.setattr(intake, "submit", crash)
    crashed = post(client, valid_report)
    assert crashed.status_code == 500 and NIK not in crashed.body.decode()

    text = "\n".join(log_lines)
    records = [json.loads(line) for line in log_lines]  # every line is JSON
    assert len(records) >= 7, text
    for secret in (NIK, EMAIL, *PHONES, "3217014508"):
        assert secret not in text, f"{secret} leaked: {text}"
    # The careless lines were written, masked, not dropped.
    for token in ("[NIK]", "[EMAIL]", "[PHONE]", "[REDACTED]"):
        assert token in text, token
    # Chalice's own log of the view's exception (its app.log is the Powertools logger), masked too.
    unhandled = [r for r in records if r["level"] == "ERROR" and "/reports" in r["message"]]
    assert unhandled and "RuntimeError: storage down for [NIK] [EMAIL] [PHONE]" in unhandled[0]["exception"]


def test_the_tracking_id_is_the_correlation_id_of_a_request(client: Any, valid_report: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            log_lines: Lines) -> None:
    from chalicelib.observability import logger
    from chalicelib.services import views

    created = post(client, valid_report).json_body
    real_view = views.reporter_report

    def view(*args: Any, **kwargs: Any) -> Any:
        logger.info("viewing")
        return real_view(*args, **kwargs)

    monkeypatch.setattr(views, "reporter_report", view)
    got = client.http.get(f"/reports/{created['tracking_id']}", headers={"X-Access-Token": created["access_token"]})
    assert got.status_code == 200
    client.http.get("/health")
    logger.info("after the request")
    records = [json.loads(line) for line in log_lines]
    viewing = [r for r in records if r["message"] == "viewing"]
    assert viewing and viewing[0]["correlation_id"] == created["tracking_id"]
    after = [r for r in records if r["message"] == "after the request"]
    assert after and "correlation_id" not in after[0]  # reset when the invocation ended


def test_correlate_helper() -> None:
    from chalicelib.observability import correlate, logger

    buffer = io.StringIO()
    handler = logger.handlers[0]
    old = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        correlate("KBB-7K3M-Q9XD")
        logger.info("one")
        correlate(None)
        logger.info("two")
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    one, two = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert one["correlation_id"] == "KBB-7K3M-Q9XD" and "correlation_id" not in two


def emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_count_emits_emf_when_a_handler_ends(client: Any, valid_report: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib import observability
    from chalicelib.services import intake

    with pytest.raises(ValueError):
        observability.count("ReportsSubmited")  # a typo fails loudly, it never makes a new metric
    real_submit = intake.submit

    def submit(*args: Any, **kwargs: Any) -> Any:
        observability.count("ReportsSubmitted")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(intake, "submit", submit)
    capsys.readouterr()
    assert post(client, valid_report).status_code == 201
    lines = emf(capsys.readouterr().out)
    assert len(lines) == 1, lines
    metric = lines[0]["_aws"]["CloudWatchMetrics"][0]
    assert metric["Namespace"] == "LaporKBB" and metric["Dimensions"] == [["service"]]
    assert metric["Metrics"] == [{"Name": "ReportsSubmitted", "Unit": "Count"}]
    assert lines[0]["ReportsSubmitted"] == [1.0] and lines[0]["service"] == "lapor-kbb"
    assert {"ReportsSubmitted", "ReportsForwarded", "ReportsAnswered", "SlaBreaches",
                                     "Sp4nSynced", "Sp4nFailed", "NotificationsSent"} == observability.METRICS


def test_open_work_gauge_counts_open_reports_by_status(client: Any, valid_report: dict[str, Any],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from chalicelib.domain.workflow import OPEN_STATUSES
    from chalicelib.services import open_work

    for _ in range(2):
        assert post(client, valid_report).status_code == 201
    capsys.readouterr()
    counts = open_work.publish()
    assert set(counts) == {s.value for s in OPEN_STATUSES}
    assert counts["diajukan"] == 2 and sum(counts.values()) == 2
    lines = emf(capsys.readouterr().out)
    assert {line["status"]: line["OpenReports"] for line in lines}["diajukan"] in (2, 2.0, [2.0])
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "status"]] for line in lines)


def test_in_lambda_nothing_reaches_the_runtime_root_handler_unmasked(tmp_path: Any) -> None:
    """The Lambda runtime puts a handler on the root logger; ours must not feed it."""
    import subprocess
    import sys

    probe = f"""
import io, logging
root = io.StringIO()
logging.getLogger().addHandler(logging.StreamHandler(root))  # as the runtime's bootstrap does
from chalicelib.observability import logger
from chalice import Chalice
app = Chalice(app_name="lapor-kbb", configure_logs=False)
try:
    raise ValueError("nik {NIK} email {EMAIL}")
except ValueError:
    logger.exception("boom")
    app.log.error("Caught exception", exc_info=True)
    logging.getLogger("chalicelib.services.sync").exception("module boom")
assert root.getvalue() == "", root.getvalue()
"""
    import os

    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "lapor-kbb-dev-api"}
    result = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, env=env,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]), timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert NIK not in result.stdout and EMAIL not in result.stdout and result.stdout.count("[NIK]") >= 3


def test_debug_level_does_not_print_the_sdks_request_bodies(client: Any, valid_report: dict[str, Any],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Lambda's log-level control at DEBUG sets the root logger: PynamoDB and botocore would log
    every item and request body (the reporter's name, email, phone) there, unmasked."""
    with caplog.at_level(logging.DEBUG):  # the root logger, as Lambda's control sets it
        assert post(client, valid_report).status_code == 201
    sdk = [r for r in caplog.records if r.name.split(".")[0] in ("pynamodb", "botocore", "boto3", "urllib3")]
    assert all(r.levelno >= logging.INFO for r in sdk), [r.getMessage()[:120] for r in sdk if r.levelno < logging.INFO]
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (valid_report["reporter"]["email"], valid_report["reporter"]["name"], NIK):
        assert secret not in text
