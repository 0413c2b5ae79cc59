"""consumer_cpu_ratio: the notification consumer against a bare one, per event.

Our consumer (app.py's notify handler through Powertools' batch processor) takes SQS batches of 10
`verify` events as Lambda delivers them from the events topic: it reads the batch's reports (one
BatchGetItem; the bench's events are all of one report), plans who is told (the OPD by email and
SMS, the reporter by email), renders the Indonesian templates and sends each message exactly once
(the batch's messages claimed in the ledger in one write before, marked done in one after). The
bare consumer reads the same records, gets the report per record and makes the same sends,
nothing else: no exactly-once, no templates, no privacy filtering. AWS answers are canned
(bench/canned.py).
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from bench import canned
from bench.submit_cpu import REPORT, _env, _reference_answer

BATCHES = int(os.environ.get("BENCH_CONSUMER_BATCHES", "40"))
ROUNDS = int(os.environ.get("BENCH_CONSUMER_ROUNDS", "3"))
BATCH = 10


def _report_item() -> dict[str, Any]:
    from chalicelib.data.models import Report
    from chalicelib.domain import access_code, clock
    from chalicelib.services import intake
    from chalicelib.submission import ReportIn

    body = {**REPORT, "reporter": {k: v for k, v in REPORT["reporter"].items() if k != "nik"}}
    values = intake._build(ReportIn.from_data(body), "KBB-BNCH-0001", access_code.new_code(), "publik", "lembang",
                           clock.now(), "web")
    values.update(opd_code="DPUPR", status="didisposisikan")
    return dict(Report(**values).serialize())


def sqs_event(first_seq: int) -> dict[str, Any]:
    records = []
    for i in range(BATCH):
        domain_event = {"tracking_id": "KBB-BNCH-0001", "seq": first_seq + i, "action": "verify",
                        "from_status": "diajukan", "to_status": "didisposisikan", "at": "2026-03-02T03:00:00+00:00",
                        "actor": "admin", "public": True, "message": "Laporan diteruskan ke DPUPR.",
                        "data": {"opd_code": "DPUPR"}}
        body = json.dumps({"Type": "Notification", "MessageId": f"m-{first_seq + i}",
                           "TopicArn": "arn:aws:sns:ap-southeast-3:000000000000:lapor-kbb-bench-events",
                           "Message": json.dumps(domain_event), "Timestamp": "2026-03-02T03:00:00.000Z"})
        records.append({"messageId": f"m-{first_seq + i}", "receiptHandle": f"r-{first_seq + i}", "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1772420400000"},
                        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:ap-southeast-3:000000000000:lapor-kbb-bench-notify",
                        "awsRegion": "ap-southeast-3"})
    return {"Records": records}


def consumer_cpu() -> tuple[float, float, Counter[str]]:
    """(CPU seconds per event, AWS calls per event, sends per event by channel)."""
    _env()
    import app as app_module  # noqa: F401  (what the notify function imports first)
    from chalicelib import config
    from chalicelib.data import reference
    from chalicelib.services import notify

    config.reset()
    reference.clear_cache()
    reports_table = config.settings().reports_table
    with canned.canned({"dynamodb.Query": _reference_answer()}):
        item = _report_item()

    def get_item(payload: Mapping[str, Any]) -> tuple[int, Any]:
        return 200, ({"Item": item} if payload["TableName"] == reports_table else {})

    answers = {
        "dynamodb.Query": _reference_answer(),
        "dynamodb.GetItem": get_item,
        "dynamodb.PutItem": canned.ok(),
        "dynamodb.UpdateItem": lambda payload: (200, {"Attributes": payload["Key"]}),
        "dynamodb.TransactWriteItems": canned.ok(),
        "ses.SendEmail": canned.SES_SEND,
        "sns.Publish": canned.SNS_PUBLISH,
    }
    with canned.canned(answers) as calls:
        for b in range(3):
            result = notify.handle(sqs_event(1_000_000 + b * BATCH))
            assert not result["batchItemFailures"], result
        calls.clear()
        events = [sqs_event(b * BATCH + 1) for b in range(BATCHES)]
        started = time.process_time()
        for e in events:
            notify.handle(e)
        cpu = (time.process_time() - started - calls.seconds) / (BATCHES * BATCH)
    n = BATCHES * BATCH
    sends = Counter({"email": calls["ses.SendEmail"] / n, "sms": calls["sns.Publish"] / n})
    return cpu, sum(calls.values()) / n, sends


def baseline_cpu(emails: int, sms: int) -> float:
    """The bare consumer: per record, parse, GetItem the report, the same sends."""
    _env()
    import boto3

    ddb, ses, sns = boto3.client("dynamodb"), boto3.client("ses"), boto3.client("sns")

    def bare(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            domain_event = json.loads(json.loads(record["body"])["Message"])
            report = ddb.get_item(TableName="bench-reports", Key={"tracking_id": {"S": domain_event["tracking_id"]}},
                                  ConsistentRead=True)["Item"]
            text = f"Laporan {domain_event['tracking_id']}: {report['title']['S']} ({domain_event['to_status']})"
            for _ in range(emails):
                ses.send_email(Source="noreply@example.org", Destination={"ToAddresses": ["opd@example.org"]},
                               Message={"Subject": {"Data": "Laporan baru"}, "Body": {"Text": {"Data": text}}})
            for _ in range(sms):
                sns.publish(PhoneNumber="+6281234567890", Message=text)
        return {"batchItemFailures": []}

    item = {"tracking_id": {"S": "KBB-BNCH-0001"}, "title": {"S": REPORT["title"]}}
    answers = {"dynamodb.GetItem": canned.ok({"Item": item}), "ses.SendEmail": canned.SES_SEND,
               "sns.Publish": canned.SNS_PUBLISH}
    with canned.canned(answers) as calls:
        for b in range(3):
            bare(sqs_event(b))
        events = [sqs_event(b * BATCH + 1) for b in range(BATCHES)]
        calls.clear()
        started = time.process_time()
        for e in events:
            bare(e)
        return (time.process_time() - started - calls.seconds) / (BATCHES * BATCH)


def run() -> dict[str, float]:
    import subprocess
    import sys
    from pathlib import Path

    def side(*args: str) -> list[float]:
        out = subprocess.run([sys.executable, "-m", "bench.consumer_cpu", *args], capture_output=True, text=True,
                             cwd=str(Path(__file__).parents[1]), timeout=600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]

    # Rounds of both sides back to back, the order alternating, judged by the median of the
    # per-round ratios: a load that comes and goes on a shared machine then touches both sides.
    # The first round runs the consumer first: it tells the baseline how many sends to make.
    rounds = []
    emails = sms = 0.0
    for r in range(ROUNDS):
        if r % 2:
            (bare,) = side("baseline", str(round(emails)), str(round(sms)))
            cpu, calls, emails, sms = side("consumer")
        else:
            cpu, calls, emails, sms = side("consumer")
            (bare,) = side("baseline", str(round(emails)), str(round(sms)))
        rounds.append((cpu / bare, cpu, bare, calls))
    ratio, cpu, bare, calls = sorted(rounds)[len(rounds) // 2]
    return {"consumer_cpu_ms_per_event": cpu * 1000, "consumer_baseline_cpu_ms_per_event": bare * 1000,
            "consumer_cpu_ratio": ratio, "consumer_aws_calls_per_event": calls}


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["consumer"]:
        cpu, calls, sends = consumer_cpu()
        print(cpu, calls, sends["email"], sends["sms"])
    elif sys.argv[1:2] == ["baseline"]:
        print(baseline_cpu(int(sys.argv[2]), int(sys.argv[3])))
    else:
        for k, v in run().items():
            print(f"{k}: {v:.3f}")
