"""Large synthetic tables for the scale tests and `make bench` (never shipped: package.py leaves
chalicelib/local out). One definition, so the benchmark measures what the tests assert."""
from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

# 20 months, 2024-08 .. 2026-03: a scoreboard month among 19 others.
MONTHS = [f"{2024 + (7 + i) // 12}-{(7 + i) % 12 + 1:02d}" for i in range(20)]
OPDS = ("DINSOS", "DISDUKCAPIL", "DPUPR", "DINKES", "BAPENDA")


def cheap_transaction_snapshots(setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    """moto snapshots every table a TransactWriteItems touches with copy.deepcopy (to roll back
    on a failed condition): O(table size) per write, ~5 s with 50,000 items, a cost of moto's
    alone. Snapshot the item index instead: exact for Put/Delete/ConditionCheck (items are
    replaced, never mutated in place). Reads, which are what is measured, are untouched.
    `setattr_`: pass monkeypatch.setattr so a test undoes it."""
    from moto.dynamodb import models as moto_models
    from moto.dynamodb.models.table import Table

    class Shim:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            if isinstance(obj, Table):
                clone = copy.copy(obj)
                clone.items = defaultdict(dict, {k: dict(v) if isinstance(v, dict) else v
                                                 for k, v in obj.items.items()})
                return clone
            return copy.deepcopy(obj, memo)

    setattr_(moto_models, "copy", Shim())


def disposed_reports(ddb: Any, reports_table: str, performance_table: str,
                     count: int = 20_000) -> list[dict[str, Any]]:
    """`count` reports spread evenly over MONTHS, each with its disposition fact (answered on time),
    written with BatchWriteItem. Returns the report items."""
    from chalicelib.domain import clock as wib
    from chalicelib.domain import performance as perf

    reports_items, fact_items = [], []
    for n in range(count):
        month = MONTHS[n % len(MONTHS)]
        at = datetime.fromisoformat(f"{month}-10T09:00:00+07:00") + timedelta(minutes=n)
        tid = f"{7000000 + n}"
        reports_items.append({
            "tracking_id": {"S": tid}, "created_month": {"S": month}, "created_at": {"S": wib.iso_utc(at)},
            "status": {"S": "diproses"}, "kecamatan": {"S": "lembang"}, "privacy": {"S": "publik"},
            "category": {"S": "lainnya"}, "type": {"S": "pengaduan"},
        })
        fact = perf.Fact(tracking_id=tid, opd_code=OPDS[(n // 20) % len(OPDS)], seq=2, month=month,
                         disposed_at=wib.iso_utc(at), response_due_at=wib.iso_utc(at + timedelta(days=3)),
                         first_response_at=wib.iso_utc(at + timedelta(hours=2)), first_response_hours=2.0,
                         on_time=True, holding=False, stage=None, basis_seq=3)
        fact_items.append({"month": {"S": month}, "fact_key": {"S": fact.key}, "tracking_id": {"S": tid},
                           "opd_code": {"S": fact.opd_code}, "basis_seq": {"N": "3"},
                           "fact": {"S": json.dumps(fact.as_dict())}})
    for table, items in ((reports_table, reports_items), (performance_table, fact_items)):
        for i in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]})
    return reports_items
