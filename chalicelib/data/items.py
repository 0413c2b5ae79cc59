"""Models as DynamoDB items, for the hot write path: a citizen's submission.

PynamoDB's `Model.serialize` walks every attribute through descriptors and validators, and its
TransactWrite rebuilds condition expressions per item: together ~a quarter of a submission's CPU.
Here the same items are built from the model's own attribute table (models.py stays the one
definition of the layout; tests/integration/test_items.py proves the output equal to PynamoDB's)
and sent as one TransactWriteItems through PynamoDB's own client.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import AttributeNullError
from pynamodb.models import Model

Item = dict[str, dict[str, Any]]


def item(container: Any) -> Item:
    """What `container.serialize()` gives (a Model or a typed MapAttribute value), faster."""
    out: Item = {}
    values = container.attribute_values
    for name, attr in container.get_attributes().items():
        value = values.get(name)
        if value is None:
            if not attr.null:
                raise AttributeNullError(name)
            continue
        if isinstance(attr, MapAttribute) and not attr.is_raw():
            out[attr.attr_name] = {"M": item(value)}
            continue
        serialized = attr.serialize(value)
        if serialized is None:
            if not attr.null:
                raise AttributeNullError(name)
            continue
        out[attr.attr_name] = {attr.attr_type: serialized}
    return out


def put_new(model: Model) -> dict[str, Any]:
    """A transaction's Put that fails (ConditionalCheckFailed) if the item already exists."""
    meta: Any = model.Meta
    hash_key = model.get_attributes()[str(model._hash_keyname)].attr_name
    return {"Put": {"TableName": meta.table_name, "Item": item(model),
                    "ConditionExpression": "attribute_not_exists (#0)",
                    "ExpressionAttributeNames": {"#0": hash_key}}}


class Cancelled(Exception):
    """The transaction was cancelled; `reasons` has each item's code (None for items that passed)."""

    def __init__(self, reasons: list[str | None]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


def transact_write(model: type[Model], items: list[dict[str, Any]]) -> None:
    """One TransactWriteItems through `model`'s connection (its client, retries and endpoint)."""
    client = model._get_connection().connection.client
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        raise Cancelled([None if code in (None, "None") else code for code in reasons]) from exc
