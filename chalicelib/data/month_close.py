"""Storage of a Tukin month's closing: its status, the OPDs' objections and their decisions.

Partition `close#YYYY-MM` of the performance table (chalicelib.data.models.MonthClosing): item
`state` (status provisional|final, `open_objections` = undecided objections, `data` = the frozen
board once final) and one item `objection#<id>` per objection. Each change is one transaction with
its audit event (`audit#performance#YYYY-MM`, chalicelib/data/audit.py), and the conditions hold
the rules against races: an objection is filed only while the month is not final and bumps the
undecided count; a decision only on an undecided objection, and lowers it; finalisation only when
the count is 0 and the month is not final yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.data import audit, items
from chalicelib.data.models import MonthClosing
from chalicelib.domain.month_close import FINAL, PROVISIONAL, UNDECIDED

STATE = "state"


def partition(period: str) -> str:
    return f"close#{period}"


def subject(period: str) -> str:
    return f"performance#{period}"


@dataclass
class MonthState:
    period: str
    status: str = PROVISIONAL
    open_objections: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status == FINAL


def state(period: str) -> MonthState:
    try:
        item = MonthClosing.get(partition(period), STATE, consistent_read=True)
    except MonthClosing.DoesNotExist:
        return MonthState(period)
    return MonthState(period, item.status or PROVISIONAL, int(item.open_objections or 0), dict(item.data or {}))


def objections(period: str) -> list[dict[str, Any]]:
    """Every objection of the month (one Query of the month's small closing partition)."""
    pages = MonthClosing.query(partition(period), MonthClosing.fact_key.startswith("objection#"),
                               consistent_read=True)
    return [{**(item.data or {}), "status": item.status} for item in pages]


def objection(period: str, objection_id: str) -> dict[str, Any] | None:
    try:
        item = MonthClosing.get(partition(period), f"objection#{objection_id}", consistent_read=True)
    except MonthClosing.DoesNotExist:
        return None
    return {**(item.data or {}), "status": item.status}


def _table() -> str:
    meta: Any = MonthClosing.Meta
    return str(meta.table_name)


def _key(period: str, fact_key: str) -> dict[str, Any]:
    return {"month": {"S": partition(period)}, "fact_key": {"S": fact_key}}


_NOT_FINAL = "(attribute_not_exists(#s) OR #s <> :final)"


def file_objection(period: str, record: dict[str, Any], event: dict[str, Any]) -> None:
    """Store a new objection (undecided). Raises audit.Changed with the reasons
    [objection put, state update]: ConditionalCheckFailed on the first = filed already, on the
    second = the month became final."""
    put = items.put_new(MonthClosing, {"month": partition(period), "fact_key": f"objection#{record['id']}",
                                       "status": UNDECIDED, "data": record})
    bump = {"Update": {
        "TableName": _table(), "Key": _key(period, STATE),
        "UpdateExpression": "SET #o = if_not_exists(#o, :zero) + :one, #s = if_not_exists(#s, :prov)",
        "ConditionExpression": _NOT_FINAL,
        "ExpressionAttributeNames": {"#o": "open_objections", "#s": "status"},
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":prov": {"S": PROVISIONAL},
                                      ":final": {"S": FINAL}},
    }}
    audit.write_with_event(MonthClosing, [put, bump], subject(period), event)


def decide(period: str, record: dict[str, Any], decision: str, event: dict[str, Any]) -> None:
    """Record the decision on an undecided objection. Raises audit.Changed with the reasons
    [objection, state]: decided meanwhile, or the month is final."""
    change = {"Put": {
        "TableName": _table(),
        "Item": items.item_of(MonthClosing, {"month": partition(period), "fact_key": f"objection#{record['id']}",
                                             "status": decision, "data": record}),
        "ConditionExpression": "#s = :undecided",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":undecided": {"S": UNDECIDED}},
    }}
    lower = {"Update": {
        "TableName": _table(), "Key": _key(period, STATE),
        "UpdateExpression": "SET #o = #o - :one",
        "ConditionExpression": f"{_NOT_FINAL} AND #o > :zero",
        "ExpressionAttributeNames": {"#o": "open_objections", "#s": "status"},
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":final": {"S": FINAL}},
    }}
    audit.write_with_event(MonthClosing, [change, lower], subject(period), event)


def finalise(period: str, frozen: dict[str, Any], event: dict[str, Any]) -> None:
    """Mark the month final with its frozen board. Raises audit.Changed when it is final already
    or an objection is still undecided."""
    put = {"Put": {
        "TableName": _table(),
        "Item": items.item_of(MonthClosing, {"month": partition(period), "fact_key": STATE, "status": FINAL,
                                             "open_objections": 0, "data": frozen}),
        "ConditionExpression": "attribute_not_exists(#s) OR (#s <> :final AND "
                               "(attribute_not_exists(#o) OR #o = :zero))",
        "ExpressionAttributeNames": {"#o": "open_objections", "#s": "status"},
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":final": {"S": FINAL}},
    }}
    audit.write_with_event(MonthClosing, [put], subject(period), event)


def trail(period: str) -> list[Any]:
    return audit.trail(subject(period))
