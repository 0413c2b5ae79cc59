"""cold_import_ratio: what a function's cold start adds over the AWS SDK it needs anyway.

Per function: a fresh interpreter imports app.py (what Lambda imports for every function of this
Chalice app), then the service module the handler imports, then creates the AWS clients that
function uses -- against a fresh interpreter that imports boto3 and creates the same clients.
Interpreter start-up is outside both timings. Runs go in rounds, one of each side back to back
(which side first alternates), so both share the machine's load of the moment; the ratio is the
median of the rounds' ratios, the times printed beside it the medians of each side.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# function -> (module its handler imports, AWS clients it creates: boto3 names; "dynamodb" is
# PynamoDB's client in the app). Read from app.py and infra/permissions.yaml.
FUNCTIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "api": (None, ("dynamodb", "kms", "s3")),
    "dispatch": ("chalicelib.services.dispatch", ("dynamodb", "sns")),
    "notify": ("chalicelib.services.notify", ("dynamodb", "ses", "sns")),
    "sync": ("chalicelib.services.sync", ("dynamodb", "s3")),
    "scan_upload": ("chalicelib.services.attachments", ("dynamodb", "s3")),
    "sla_sweep": ("chalicelib.services.sla_sweep", ("dynamodb",)),
    "performance": ("chalicelib.services.performance", ("dynamodb",)),
    # The chat's module, not only the handler's: the first message a container takes loads it.
    "whatsapp": ("chalicelib.services.whatsapp_chat", ("dynamodb",)),
}

_APP = """
import time
t = time.perf_counter()
import app
{module_import}
from chalicelib.adapters import aws
from chalicelib.data.models import Report
Report._get_connection().connection.client  # PynamoDB's botocore client
for name in {others!r}:
    aws.client(name)
print(time.perf_counter() - t)
"""

_BASE = """
import time
t = time.perf_counter()
import boto3
for name in {clients!r}:
    boto3.client(name)
print(time.perf_counter() - t)
"""


def _env() -> dict[str, str]:
    # Without PYTHONDONTWRITEBYTECODE: the warm-up run writes the .pyc files that the deployment
    # package ships (infra/package.py compiles it); compiling from source is no Lambda cold start.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LAPOR_")) and k != "PYTHONDONTWRITEBYTECODE"}
    # Region and dummy credentials as Lambda provides them; no endpoint, no network: nothing is called.
    env.update({"AWS_DEFAULT_REGION": "ap-southeast-3", "AWS_REGION": "ap-southeast-3",
                "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench"})
    return env


def _time(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"cold import run failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def measure(function: str, runs: int) -> dict[str, float]:
    module, clients = FUNCTIONS[function]
    app_code = _APP.format(module_import=f"import {module}" if module else "",
                           others=tuple(c for c in clients if c != "dynamodb"))
    base_code = _BASE.format(clients=clients)
    _time(app_code), _time(base_code)  # warm the page cache and the .pyc files
    app_times, base_times = [], []
    for i in range(runs):
        # A round is one run of each side back to back, the first side alternating: the load of
        # a shared machine drifts over a minute far more than within a round.
        if i % 2:
            base_times.append(_time(base_code))
            app_times.append(_time(app_code))
        else:
            app_times.append(_time(app_code))
            base_times.append(_time(base_code))
    app_s, base_s = statistics.median(app_times), statistics.median(base_times)
    ratio = statistics.median(a / b for a, b in zip(app_times, base_times, strict=True))
    return {"app_s": app_s, "baseline_s": base_s, "ratio": ratio}


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    for fn in (sys.argv[2:] or FUNCTIONS):
        print(fn, json.dumps({k: round(v, 3) for k, v in measure(fn, runs).items()}), flush=True)
