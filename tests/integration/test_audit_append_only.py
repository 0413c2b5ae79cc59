"""The events table is append-only: an event is only ever put (conditional on attribute_not_exists).
The one exception is the retention eraser, which blanks personal fields of stored events
(chalicelib.data.reports.scrub_event, called only by chalicelib/services/erasure.py) and records
each erasure as an event of its own.

Proven twice: by walking the code (no other update or delete of an event can be written without
this test naming it), and by recording every DynamoDB call that a workload touching every event
writer makes (botocore), then checking each write to the events table.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.staff_support import CANARY, Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

ROOT = Path(__file__).resolve().parents[2]
# Code that runs in Lambda (chalicelib/local is the local stand-ins' code, never deployed).
SOURCES = [ROOT / "app.py", *sorted(p for p in (ROOT / "chalicelib").rglob("*.py") if "local" not in p.parts)]
_WRITE_METHODS = {"update", "delete", "update_item", "delete_item", "batch_write", "batch_write_item"}


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def test_the_code_updates_or_deletes_an_event_in_one_place_only() -> None:
    """Every call that could update or delete a DynamoDB item, on an object built from the events
    model, or any low-level Update/Delete naming the events table, is listed here: only scrub_event."""
    found = []
    low_level = []
    callers = []
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in _functions(tree):
            for node in ast.walk(fn):
                # ReportEvent(...).update(...) / ReportEvent.get(...).delete() / x = ReportEvent(...); x.update()
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in _WRITE_METHODS):
                    receiver = node.func.value
                    built_from_events = "ReportEvent" in _names(receiver) or (
                        isinstance(receiver, ast.Name) and _bound_to_events(fn, receiver.id))
                    if built_from_events:
                        found.append(f"{rel}:{fn.name}")
                    if node.func.attr in ("update_item", "delete_item", "batch_write_item"):
                        low_level.append(f"{rel}:{fn.name}")
                # {"Update": ...} / {"Delete": ...} items of a TransactWriteItems
                if isinstance(node, ast.Dict) and any(
                        isinstance(k, ast.Constant) and k.value in ("Update", "Delete") for k in node.keys):
                    low_level.append(f"{rel}:{fn.name}")
                if isinstance(node, ast.Attribute) and node.attr == "scrub_event" and fn.name != "scrub_event":
                    callers.append(f"{rel}:{fn.name}")
    assert found == ["chalicelib/data/reports.py:scrub_event"]
    # Every low-level Update/Delete in the deployed code, with the one table it writes (reviewed):
    # none is the events table. A new one fails here until someone looks at it.
    targets = {
        "chalicelib/data/audit.py:change_reference": "ReferenceItem",  # the audited calendar change
        "chalicelib/data/rate_limits.py:hit": "LedgerItem",
        "chalicelib/data/rate_limits.py:transaction_item": "LedgerItem",
        "chalicelib/data/attachments.py:claim_items": "Attachment",
        "chalicelib/data/access.py:consume_recovery": "LedgerItem",  # a recovery code used up
        "chalicelib/data/access.py:count_wrong_try": "LedgerItem",
        "chalicelib/data/claims.py:complete_all": "LedgerItem",  # an event's claims marked done
        # a Tukin month's undecided-objection count (filed / decided), with its audit event put_new
        "chalicelib/data/month_close.py:file_objection": "MonthClosing",
        "chalicelib/data/month_close.py:decide": "MonthClosing",
    }
    assert sorted(set(low_level)) == sorted(targets)
    for where, model in targets.items():
        module = (ROOT / where.split(":")[0]).read_text(encoding="utf-8")
        if where.endswith(":change_reference"):  # writes its audit event too: as a put_new
            from chalicelib.data import audit

            source = inspect.getsource(audit.change_reference)
            assert "meta: Any = ReferenceItem.Meta" in source and "items.put_new(event)" in source
            continue
        assert f"{model}.Meta" in module and "ReportEvent" not in module, where
    # erase_report and the function it gives reports.update
    assert sorted(callers) == ["chalicelib/services/erasure.py:erase", "chalicelib/services/erasure.py:erase_report"]


def _bound_to_events(fn: ast.AST, name: str) -> bool:
    for node in ast.walk(fn):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                and {"ReportEvent", "events"} & _names(node.value)):
            return True
        if (isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name
                and {"ReportEvent", "events"} & _names(node.iter)):
            return True
    return False


def test_the_code_walk_would_see_a_new_event_update(tmp_path: Path) -> None:
    """The walk is not blind: an update of an event written in any of the usual ways is caught."""
    samples = [
        "def f(tid):\n    ReportEvent(tid, 1).update(actions=[])\n",
        "def f(tid):\n    for e in reports.events(tid):\n        e.delete()\n",
        "def f(tid):\n    event = ReportEvent.get(tid, 1)\n    event.update(actions=[])\n",
    ]
    for sample in samples:
        fn = next(_functions(ast.parse(sample)))
        hits = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr in _WRITE_METHODS and ("ReportEvent" in _names(n.func.value) or (
                    isinstance(n.func.value, ast.Name) and _bound_to_events(fn, n.func.value.id)))]
        assert hits, sample


# -- every DynamoDB call on the events table, recorded --------------------------------------------

@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> list[dict[str, Any]]:
    import botocore.client

    calls: list[dict[str, Any]] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation_name: str, api_params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            stack, frame = set(), sys._getframe(1)
            while frame is not None and len(stack) < 60:
                stack.add(frame.f_code.co_name)
                frame = frame.f_back
            calls.append({"op": operation_name, "params": api_params, "stack": stack})
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


def _event_writes(calls: list[dict[str, Any]], table: str) -> list[tuple[str, dict[str, Any], set[str]]]:
    """(kind, request, stack) of every write that touches the events table."""
    out = []
    for c in calls:
        op, params = c["op"], c["params"]
        if op in ("PutItem", "UpdateItem", "DeleteItem") and params.get("TableName") == table:
            out.append((op, params, c["stack"]))
        elif op == "TransactWriteItems":
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                if body.get("TableName") == table:
                    out.append((f"Transact{kind}", body, c["stack"]))
        elif op == "BatchWriteItem" and table in params.get("RequestItems", {}):
            out.append(("BatchWriteItem", params, c["stack"]))
    return out


def test_every_event_writer_only_puts_new_events(client: Any, valid_report: dict[str, Any],
                                                recorded: list[dict[str, Any]]) -> None:
    from chalicelib.config import settings
    from chalicelib.data.models import Report
    from chalicelib.domain import clock
    from chalicelib.services import calendar_admin, erasure, sla_sweep, sync

    api = Api(client)
    body = {**valid_report, "reporter": {k: CANARY[k] for k in ("name", "email", "phone", "nik")}}
    # A report through every staff and reporter move that writes events, the SP4N-LAPOR! sync
    # record, the SLA sweep's reminders and breaches, the weekly digest, a calendar change.
    first = api.submit(body)
    tid = first["tracking_id"]
    api.ok(tid, "admin", action="request_info", message="Mohon foto lokasi.")
    assert api.reply(first, "Fotonya sudah saya kirim.").status_code == 200
    api.walk(first, "didisposisikan")
    api.ok(tid, "admin", action="note", message="Sudah dicek.")
    api.ok(tid, "opd", "DPUPR", action="accept")
    api.ok(tid, "opd", "DPUPR", action="respond", message="Sudah diperbaiki.")
    assert api.feedback(first, resolved=True, rating=5).status_code == 200
    second = api.submit(body)
    sync.record_synced(second["tracking_id"], 1, "0000042", "create")
    later = clock.now() + timedelta(days=60)
    sla_sweep.sweep(now=later)
    sla_sweep.weekly_digest(now=later)
    calendar_admin.put_override("2027-03-01", "off", "Banjir", actor="admin-1", reschedule=False)
    calendar_admin.put_override("2027-03-01", "on", "Dibatalkan", actor="admin-1", reschedule=False)
    calendar_admin.remove_override("2027-03-01", actor="admin-2", reschedule=False)
    # ... and the eraser, 25 months after the close.
    erasure.run_retention(now=clock.parse(Report.get(tid).closed_at) + timedelta(days=800))

    writes = _event_writes(recorded, settings().events_table)
    kinds = {k for k, _, _ in writes}
    assert {"TransactPut", "UpdateItem"} <= kinds, kinds  # the workload did write and scrub
    assert not kinds - {"TransactPut", "PutItem", "UpdateItem"}, kinds  # never a delete, never a batch
    actions = set()
    for kind, request, stack in writes:
        if kind in ("TransactPut", "PutItem"):
            condition = request.get("ConditionExpression", "")
            assert re.fullmatch(r"attribute_not_exists \(?\s*#\w+\s*\)?", condition), (kind, condition)
            assert request["ExpressionAttributeNames"][re.search(r"#\w+", condition).group()] == "tracking_id"
            actions.add(request["Item"]["action"]["S"])
        else:
            # Only the eraser, only blanking message/data of an event that exists.
            assert "scrub_event" in stack and "erase_report" in stack, stack
            assert request["UpdateExpression"].startswith("SET ") and "REMOVE" not in request["UpdateExpression"]
            assert set(request["ExpressionAttributeNames"].values()) <= {"message", "data", "seq"}
    # The workload reached every writer it set out to (so the check above covered them).
    assert {"submit", "request_info", "reply", "verify", "note", "accept", "respond", "feedback",
            "sp4n_synced", "sla_digest", "calendar_override_set", "calendar_override_removed",
            "erase"} <= actions, actions
    assert actions & {"sla_reminder", "sla_breach", "sla_escalation"}, actions
