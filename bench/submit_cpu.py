"""submit_cpu_ratio and submit_aws_calls.

The API function's handler (chalice app, middleware, validation against reference data, NIK
encryption under the container's data key, the transaction with the rate-limit counter) takes a
POST /reports as API Gateway delivers it, in a warm container; AWS answers come from
bench/canned.py. The baseline is the bare minimum a Lambda could do with the same request: parse
the JSON, one boto3 PutItem of it, one SQS SendMessage, answer 201 -- also against canned answers.
CPU time (process_time) per submission, after a warm-up, less the time the canned answers took
(canned.Calls.seconds); the ratio is handler / baseline.
"""
from __future__ import annotations

import copy
import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from bench import canned

N = int(os.environ.get("BENCH_SUBMISSIONS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 30

REPORT: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Jalan berlubang di Jl. Raya Lembang",
    "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
    "category": "jalan_rusak",
    "incident_date": "2026-01-05",
    "location": {"kecamatan": "Lembang", "desa": "Jayagiri", "address": "Jl. Raya Lembang 12", "lat": -6.81,
                 "lon": 107.61},
    "privacy": "publik",
    "reporter": {"name": "Siti Aminah", "email": "siti@example.org", "phone": "0812-3456-7890",
                 "nik": "3217014508900001"},
}
ATTACHMENT = "att_" + "0" * 32


class Context:
    function_name = "lapor-kbb-bench-api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:ap-southeast-3:000000000000:function:lapor-kbb-bench-api"
    memory_limit_in_mb = 512
    aws_request_id = "bench"
    log_group_name = log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def event(body: dict[str, Any], source_ip: str = "203.0.113.10") -> dict[str, Any]:
    """POST /reports as API Gateway's proxy integration hands it to the function."""
    return {
        "resource": "/reports", "path": "/reports", "httpMethod": "POST",
        "headers": {"content-type": "application/json", "user-agent": "bench"},
        "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": {"httpMethod": "POST", "resourcePath": "/reports", "path": "/reports",
                           "identity": {"sourceIp": source_ip}, "requestId": "bench"},
        "body": json.dumps(body), "isBase64Encoded": False,
    }


def _env() -> None:
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[key]
    os.environ.update({"AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_REGION": "ap-southeast-3",
                       "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench",
                       "POWERTOOLS_METRICS_NAMESPACE": "LaporKBB",
                       # A warm container holds the contact-index key (read once from Secrets Manager).
                       "CONTACT_INDEX_SECRET": "bench-contact-index-key",
                       "ACCESS_CODE_SECRET": "bench-access-code-key"})


def _reference_answer() -> canned.Answer:
    """The reference table's Query, answered from the seed file (a warm container has it cached
    after the first request anyway)."""
    from chalicelib.data.models import ReferenceItem

    seed = json.loads((__import__("pathlib").Path(__file__).parents[1] / "chalicelib" / "seed" / "reference.json")
                      .read_text())
    by_kind: dict[str, list[dict[str, Any]]] = {"opd": [], "category": [], "kecamatan": [], "holiday": [],
                                                 "contacts": []}
    for kind, key in (("opd", "opds"), ("category", "categories"), ("kecamatan", "kecamatan")):
        for entry in seed[key]:
            by_kind[kind].append(ReferenceItem(kind, entry["code"], data=entry).serialize())

    def answer(payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        kind = next(v["S"] for v in payload["ExpressionAttributeValues"].values())
        items = by_kind.get(kind, [])
        return 200, {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    return answer


def handler_cpu() -> tuple[float, float, float]:
    """(CPU seconds per submission, AWS calls per plain submission, AWS calls with an attachment)."""
    _env()
    import app as app_module
    from chalicelib import config
    from chalicelib.data import reference

    config.reset()
    reference.clear_cache()
    answers = {
        "dynamodb.Query": _reference_answer(),
        "dynamodb.TransactWriteItems": canned.ok(),
        "kms.GenerateDataKey": canned.kms_generate_data_key,  # once per container (chalicelib/adapters/kms.py)
    }
    app, ctx = app_module.app, Context()
    with canned.canned(answers) as calls:
        for i in range(WARMUP):
            out = app(event(REPORT, f"203.0.113.{i % 200}"), ctx)
            assert out["statusCode"] == 201, out
        calls.clear()
        events = [event(REPORT, f"198.51.100.{i % 250}") for i in range(N)]
        started = time.process_time()
        for e in events:
            app(e, ctx)
        cpu = (time.process_time() - started - calls.seconds) / N
        per_submission = sum(calls.values()) / N
        calls.clear()
        with_attachment = copy.deepcopy(REPORT)
        with_attachment["attachments"] = [ATTACHMENT]
        out = app(event(with_attachment), ctx)
        assert out["statusCode"] == 201, out
        most = sum(calls.values())
    return cpu, per_submission, float(most)


def baseline_cpu() -> float:
    """The bare handler: parse, one PutItem of the report, one SendMessage, 201."""
    _env()
    import boto3
    from boto3.dynamodb.types import TypeSerializer

    ddb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    serializer = TypeSerializer()
    queue = "https://sqs.ap-southeast-3.amazonaws.com/000000000000/bench"

    def bare(e: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(e["body"])
        tracking_id = uuid.uuid4().hex
        item = {"tracking_id": tracking_id, "status": "diajukan", **body}
        item["location"] = {k: str(v) for k, v in item["location"].items()}  # no floats for DynamoDB
        ddb.put_item(TableName="bench-reports", Item={k: serializer.serialize(v) for k, v in item.items()})
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"tracking_id": tracking_id}))
        return {"statusCode": 201, "body": json.dumps({"tracking_id": tracking_id})}

    answers = {"dynamodb.PutItem": canned.ok(), "sqs.SendMessage": canned.sqs_send}
    with canned.canned(answers) as calls:
        for _ in range(WARMUP):
            bare(event(REPORT))
        events = [event(REPORT) for _ in range(N)]
        calls.clear()
        started = time.process_time()
        for e in events:
            bare(e)
        return (time.process_time() - started - calls.seconds) / N


def run() -> dict[str, float]:
    """Each side in a fresh interpreter (python -m bench.submit_cpu side), so neither warms the
    other; ROUNDS rounds alternate the sides, and the ratio is of the medians, so one process
    slowed by the rest of the machine cannot make the figure."""
    import statistics
    import subprocess
    import sys

    def side(name: str) -> list[float]:
        out = subprocess.run([sys.executable, "-m", "bench.submit_cpu", name], capture_output=True, text=True,
                             cwd=str(__import__("pathlib").Path(__file__).parents[1]), timeout=600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        return [float(x) for x in out.stdout.split()]

    handlers, bares, ratios = [], [], []
    for _ in range(ROUNDS):
        handler, calls, most = side("handler")
        (bare,) = side("baseline")
        handlers.append(handler)
        bares.append(bare)
        ratios.append(handler / bare)
    handler, bare = statistics.median(handlers), statistics.median(bares)
    return {"submit_handler_cpu_ms": handler * 1000, "submit_baseline_cpu_ms": bare * 1000,
            "submit_cpu_ratio": handler / bare, "submit_cpu_ratio_min": min(ratios),
            "submit_cpu_ratio_max": max(ratios), "submit_aws_calls": most, "submit_aws_calls_plain": calls}


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["handler"]:
        print(*handler_cpu())
    elif sys.argv[1:] == ["baseline"]:
        print(baseline_cpu())
    else:
        for k, v in run().items():
            print(f"{k}: {v:.3f}")
