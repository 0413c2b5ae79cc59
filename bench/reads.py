"""Items read, counted (never timed): sweep_items_read_per_due and scoreboard_items_read_per_report.

DynamoDB bills reads by item; moto's own wall time says nothing (its Query walks the whole table),
but the ScannedCount it answers is what DynamoDB reads. The meter sums ScannedCount of every
Query/Scan page and one per item a Get returns -- the technique of the SLA sweep's own test
(tests/integration/test_sla_sweep.py), whose table filler this reuses.

- sweep: N reports in the table (10% open work due later, 90% closed, 40 due now); one SLA sweep;
  items read / reports due. Flat in N means the sweep reads the due work, not the table.
- scoreboard: 20,000 reports and their disposition facts over 20 months; GET /staff/performance
  for one month (1,000 reports); items read / reports of that month.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

REGION = "ap-southeast-3"


class Meter:
    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.items.values())


@contextmanager
def metered() -> Iterator[Meter]:
    import botocore.client

    meter = Meter()
    original = botocore.client.BaseClient._make_api_call

    def call(self: Any, operation: str, params: Any) -> Any:
        response = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            table = str(params.get("TableName", "?"))
            meter.calls[operation] += 1
            if operation in ("Query", "Scan"):
                meter.items[table] += int(response.get("ScannedCount", 0))
            elif operation == "GetItem":
                meter.items[table] += 1 if response.get("Item") else 0
            elif operation == "BatchGetItem":
                for name, found in response.get("Responses", {}).items():
                    meter.items[name] += len(found)
            elif operation == "TransactGetItems":
                meter.items["transact"] += sum(1 for r in response.get("Responses", []) if r.get("Item"))
        return response

    botocore.client.BaseClient._make_api_call = call
    try:
        yield meter
    finally:
        botocore.client.BaseClient._make_api_call = original


@contextmanager
def moto_stack() -> Iterator[dict[str, str]]:
    """moto in process, provisioned from infra/resources.yaml as the tests and the local stack are."""
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[key]
    os.environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "RATE_LIMIT_REPORTS": "off",
                       # the stage `bench` is no local stage: its keys come from outside, as in AWS
                       "CONTACT_INDEX_SECRET": "bench-contact-index-key",
                       "ACCESS_CODE_SECRET": "bench-access-code-key"})
    import warnings

    from moto import mock_aws

    warnings.filterwarnings("ignore", module="moto")
    with mock_aws():
        import boto3

        from chalicelib.adapters import aws
        from chalicelib.data import reference
        from chalicelib.local import provision

        aws.reset()
        reference.clear_cache()
        env = provision.provision(boto3.Session(region_name=REGION), "bench")
        os.environ.update(env)
        from chalicelib.local import loadgen

        loadgen.cheap_transaction_snapshots()
        yield env


def sweep_items_read_per_due(total: int) -> dict[str, float]:
    from bench.seed import template_item  # bench.seed reads this module's REGION
    from bench.submit_cpu import REPORT
    from chalicelib.domain import clock
    from chalicelib.domain.clock import WIB
    from chalicelib.services import intake, sla_sweep
    from chalicelib.submission import ReportIn
    from tests.integration.test_sla_sweep import DUE_IN_BULK, fill

    with moto_stack() as env:
        original_now = clock.now
        try:
            clock.now = lambda: datetime(2026, 3, 17, 10, tzinfo=WIB)  # type: ignore[assignment]
            body = {**REPORT, "reporter": {k: v for k, v in REPORT["reporter"].items() if k != "nik"}}
            template_id = intake.submit(ReportIn.from_data(body))["tracking_id"]
        finally:
            clock.now = original_now  # type: ignore[assignment]
        table = env["REPORTS_TABLE"]
        fill(table, total, template_item(table, template_id), DUE_IN_BULK, "2026-03-25T00:30:00.000000+00:00",
             "2026-04-30T00:30:00.000000+00:00")
        with metered() as meter:
            result = sla_sweep.sweep(datetime(2026, 3, 26, 8, tzinfo=WIB))
        assert result.due == DUE_IN_BULK, result
        assert meter.calls["Scan"] == 0, meter.calls
        return {"items_read": meter.total, "due": result.due, "per_due": meter.total / result.due}


def scoreboard_items_read_per_report() -> dict[str, float]:
    from chalicelib.data import reference
    from chalicelib.local import loadgen
    from chalicelib.services import performance

    with moto_stack() as env:
        import boto3

        ddb = boto3.client("dynamodb", region_name=REGION)
        period = loadgen.MONTHS[-1]
        reports_items = loadgen.disposed_reports(ddb, env["REPORTS_TABLE"], env["PERFORMANCE_TABLE"], 20_000)
        reference.opds()  # cached per container: warm, so only the scoreboard's own reads count
        performance.clear_cache()
        in_period = sum(1 for it in reports_items if it["created_month"]["S"] == period)
        with metered() as meter:
            body = performance.board_json(period)
        assert meter.calls["Scan"] == 0, meter.calls
        received = sum(int(row.get("received", 0)) for row in body["items"])
        return {"items_read": meter.total, "reports": in_period, "received": received,
                "per_report": meter.total / in_period}


if __name__ == "__main__":
    import sys

    what = sys.argv[1] if len(sys.argv) > 1 else "sweep"
    if what == "sweep":
        print(json.dumps(sweep_items_read_per_due(int(sys.argv[2]) if len(sys.argv) > 2 else 1000)))
    else:
        print(json.dumps(scoreboard_items_read_per_report()))
