"""first_submit_ratio: a cold API function serving its first POST /reports.

A fresh interpreter imports app.py (what Lambda imports for the API function) and hands it the
POST /reports of bench/submit_cpu.py as API Gateway delivers it: everything the first request of
a new container does -- the service imports, PynamoDB's, KMS's and Secrets Manager's clients,
the contact-index and access-code keys from Secrets Manager, the reference data, the container's
data key, the transaction. Against a fresh interpreter that imports boto3, creates the same clients and makes
one bare PutItem of the report. AWS answers from bench/canned.py on both sides (botocore's HTTP
send replaced, nothing else); the time the stand-in itself takes is subtracted. Interpreter
start-up is outside both timings; runs alternate the sides and the ratio is of the medians.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_FIRST_SUBMIT_RUNS", "11"))
CLIENTS = ("dynamodb", "kms", "secretsmanager")  # what the first submission creates
SECRET_ID = "lapor-kbb-bench-contact-index"  # noqa: S105 (a name, not a secret)
ACCESS_SECRET_ID = "lapor-kbb-bench-access-code"  # noqa: S105 (a name, not a secret)


def _env() -> dict[str, str]:
    # Without PYTHONDONTWRITEBYTECODE, as bench/cold_import.py: the package ships .pyc files.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LAPOR_", "CONTACT_INDEX", "ACCESS_CODE")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_REGION": "ap-southeast-3",
                "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench",
                "POWERTOOLS_METRICS_NAMESPACE": "LaporKBB",
                # As deployed: the key's secret is named, and read on the first request.
                "CONTACT_INDEX_SECRET_ID": SECRET_ID, "ACCESS_CODE_SECRET_ID": ACCESS_SECRET_ID})
    return env


def app_side(reference_file: str) -> float:
    """Seconds from `import app` to the first 201 (the stand-in's own time subtracted)."""
    by_kind: dict[str, list[Any]] = json.loads(Path(reference_file).read_text())
    from bench.submit_cpu import REPORT, Context, event

    request = event(REPORT)
    started = time.perf_counter()
    from bench import canned

    def query(payload: Any) -> tuple[int, Any]:
        items = by_kind.get(next(v["S"] for v in payload["ExpressionAttributeValues"].values()), [])
        return 200, {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    answers = {"dynamodb.Query": query, "dynamodb.TransactWriteItems": canned.ok(),
               "kms.GenerateDataKey": canned.kms_generate_data_key,
               "secretsmanager.GetSecretValue": lambda payload: (200, {"Name": payload["SecretId"],
                                                                       "SecretString": "bench-key"})}
    with canned.canned(answers) as calls:
        import app

        out = app.app(request, Context())
    assert out["statusCode"] == 201, out
    assert calls["dynamodb.TransactWriteItems"] == 1 and calls["secretsmanager.GetSecretValue"] == 2, calls
    return time.perf_counter() - started - calls.seconds


def baseline_side() -> float:
    """Seconds for `import boto3`, the same clients and one bare PutItem of the report."""
    from bench.submit_cpu import REPORT, event

    request = event(REPORT)
    started = time.perf_counter()
    from bench import canned

    with canned.canned({"dynamodb.PutItem": canned.ok()}) as calls:
        import boto3
        from boto3.dynamodb.types import TypeSerializer

        ddb = boto3.client("dynamodb")
        for name in CLIENTS[1:]:
            boto3.client(name)
        body = json.loads(request["body"])
        item = {"tracking_id": "KBB-BNCH-0001", "status": "diajukan", **body}
        item["location"] = {k: str(v) for k, v in item["location"].items()}  # no floats for DynamoDB
        serializer = TypeSerializer()
        ddb.put_item(TableName="bench-reports", Item={k: serializer.serialize(v) for k, v in item.items()})
        out = {"statusCode": 201, "body": json.dumps({"tracking_id": item["tracking_id"]})}
    assert out["statusCode"] == 201 and calls["dynamodb.PutItem"] == 1
    return time.perf_counter() - started - calls.seconds


def _reference_file() -> str:
    """The reference table's items (from the seed), as its Query answers them, written once."""
    from chalicelib.data.models import ReferenceItem

    seed = json.loads((ROOT / "chalicelib" / "seed" / "reference.json").read_text())
    by_kind: dict[str, list[Any]] = {}
    for kind, key in (("opd", "opds"), ("category", "categories"), ("kecamatan", "kecamatan")):
        by_kind[kind] = [ReferenceItem(kind, entry["code"], data=entry).serialize() for entry in seed[key]]
    handle, path = tempfile.mkstemp(prefix="bench-reference-", suffix=".json")
    with os.fdopen(handle, "w") as fh:
        json.dump(by_kind, fh)
    return path


def _time(*args: str) -> float:
    out = subprocess.run([sys.executable, "-m", "bench.first_submit", *args], cwd=ROOT, env=_env(),
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"first submit run failed:\n{out.stderr[-4000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def run(runs: int = RUNS) -> dict[str, float]:
    reference = _reference_file()
    try:
        _time("app", reference), _time("baseline")  # warm the page cache and the .pyc files
        apps, bases = [], []
        for _ in range(runs):
            apps.append(_time("app", reference))
            bases.append(_time("baseline"))
    finally:
        os.unlink(reference)
    app_s, base_s = statistics.median(apps), statistics.median(bases)
    return {"first_submit_ms": app_s * 1000, "first_submit_baseline_ms": base_s * 1000,
            "first_submit_ratio": app_s / base_s}


if __name__ == "__main__":
    if sys.argv[1:2] == ["app"]:
        print(app_side(sys.argv[2]))
    elif sys.argv[1:2] == ["baseline"]:
        print(baseline_side())
    else:
        sys.path.insert(0, str(ROOT))
        for k, v in run(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS).items():
            print(f"{k}: {v:.3f}", flush=True)
