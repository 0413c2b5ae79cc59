"""Audit events that belong to no report, e.g. changes of the working-day calendar.

They live in the events table, like every other event, under a reserved partition key
`audit#<subject>` (a calendar override change: `audit#calendar#<year>`), numbered 1, 2, 3... in
that partition. The stream dispatcher publishes none of them (chalicelib/services/dispatch.py):
they are a record, not news, and no consumer would know a report to act on.

The change and its audit event are ONE transaction: the reference item's write is conditional on
the value the event records as `old`, and the event's Put on attribute_not_exists, so the trail
cannot miss a change, record a change that did not happen, or name a stale old value.
"""
from __future__ import annotations

from typing import Any

from chalicelib.data import items, reference
from chalicelib.data.models import ReferenceItem, ReportEvent
from chalicelib.domain.events import AUDIT_PREFIX

_ATTEMPTS = 5


class Changed(Exception):
    """The item changed between reading it and writing: re-read and try again."""


def key(subject: str) -> str:
    return f"{AUDIT_PREFIX}{subject}"


def _last_seq(partition: str) -> int:
    for event in ReportEvent.query(partition, scan_index_forward=False, limit=1, consistent_read=True):
        return int(event.seq)
    return 0


def current(kind: str, code: str) -> ReferenceItem | None:
    try:
        return ReferenceItem.get(kind, code, consistent_read=True)
    except ReferenceItem.DoesNotExist:
        return None


def change_reference(kind: str, code: str, old: ReferenceItem | None, new: dict[str, Any] | None,
                     subject: str, event_values: dict[str, Any]) -> ReportEvent:
    """Write (new is a dict) or delete (new is None) reference item (kind, code), expected to be
    `old` as read, together with the audit event `event_values` (action, actor, data...) in
    partition `audit#<subject>`. Raises Changed when the item is no longer `old`."""
    meta: Any = ReferenceItem.Meta
    names = {"#k": "kind"}
    if old is None:
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(#k)",
                                     "ExpressionAttributeNames": names}
    else:
        condition = {"ConditionExpression": "#d = :d", "ExpressionAttributeNames": {"#d": "data"},
                     "ExpressionAttributeValues": {":d": items.item(old)["data"]}}
    if new is not None:
        change: dict[str, Any] = {"Put": {"TableName": meta.table_name,
                                          "Item": items.item(ReferenceItem(kind, code, data=new)), **condition}}
    else:
        change = {"Delete": {"TableName": meta.table_name,
                             "Key": {"kind": {"S": kind}, "code": {"S": code}}, **condition}}
    partition = key(subject)
    for _ in range(_ATTEMPTS):
        event = ReportEvent(partition, _last_seq(partition) + 1, **event_values)
        try:
            items.transact_write(ReferenceItem, [change, items.put_new(event)])
        except items.Cancelled as exc:
            if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                raise Changed(f"{kind} {code} changed meanwhile") from exc
            continue  # another audit event took this seq: number it again
        reference.refresh(kind)
        return event
    raise Changed(f"could not number an audit event in {partition}")


def trail(subject: str) -> list[ReportEvent]:
    return list(ReportEvent.query(key(subject), consistent_read=True))


def write_with_event(model: type[Any], changes: list[dict[str, Any]], subject: str,
                     event_values: dict[str, Any]) -> ReportEvent:
    """Write `changes` (TransactWriteItems entries on `model`'s table, each with its condition)
    together with the audit event `event_values` in partition `audit#<subject>`, in one
    transaction. Raises Changed(reasons) when a change's condition failed: nothing is written."""
    partition = key(subject)
    for _ in range(_ATTEMPTS):
        event = ReportEvent(partition, _last_seq(partition) + 1, **event_values)
        try:
            items.transact_write(model, [*changes, items.put_new(event)])
        except items.Cancelled as exc:
            if any(exc.reasons[:len(changes)]):
                raise Changed(str(exc.reasons[:len(changes)])) from exc
            continue  # another audit event took this seq: number it again
        return event
    raise Changed(f"could not number an audit event in {partition}")
