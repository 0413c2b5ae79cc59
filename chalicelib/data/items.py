"""Models as DynamoDB items, for the hot write path: a citizen's submission.

PynamoDB's `Model.serialize` walks every attribute through descriptors and validators, and its
TransactWrite rebuilds condition expressions per item: together ~a quarter of a submission's CPU.
Here the same items are built from the model's own attribute table (models.py stays the one
definition of the layout; tests/integration/test_items.py proves the output equal to PynamoDB's)
and sent as one TransactWriteItems through PynamoDB's own client.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import AttributeNullError
from pynamodb.models import Model

Item = dict[str, dict[str, Any]]
_NO_VALUE = object()


def item(container: Any) -> Item:
    """What `container.serialize()` gives (a Model or a typed MapAttribute value), faster."""
    out: Item = {}
    values = container.attribute_values
    for name, attr in container.get_attributes().items():
        _add(out, name, attr, values.get(name))
    return out


def _add(out: Item, name: str, attr: Any, value: Any) -> None:
    if value is None:
        if not attr.null:
            raise AttributeNullError(name)
        return
    if isinstance(attr, MapAttribute) and not attr.is_raw():
        out[attr.attr_name] = {"M": item(value) if isinstance(value, MapAttribute) else item_of(type(attr), value)}
        return
    serialized = attr.serialize(value)
    if serialized is None:
        if not attr.null:
            raise AttributeNullError(name)
        return
    out[attr.attr_name] = {attr.attr_type: serialized}


def item_of(cls: Any, values: Mapping[str, Any]) -> Item:
    """What `cls(**values).serialize()` gives (cls a Model or a typed MapAttribute class), without
    building the instance: PynamoDB's constructor sets every attribute through its descriptor, which
    costs a submission as much as serialising it. Same defaults (default_for_new, then default),
    same refusals (unknown names: ValueError; a required attribute missing: AttributeNullError).
    Nested typed maps may be given as instances or as plain mappings of their values."""
    if cls._discriminator is not None:  # polymorphic containers are not needed on the hot path
        raise TypeError(f"{cls.__name__} has a discriminator: build the model instead")
    attributes = cls.get_attributes()
    for name in values:
        if name not in attributes:
            raise ValueError(f"Attribute {name} specified does not exist")
    out: Item = {}
    for name, attr in attributes.items():
        value = values.get(name, _NO_VALUE)
        if value is _NO_VALUE:
            default = attr.default_for_new if attr.default_for_new is not None else attr.default
            value = default() if callable(default) else default
        _add(out, name, attr, value)
    return out


def put_new(model: Model | type[Model], values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A transaction's Put that fails (ConditionalCheckFailed) if the item already exists: of a
    model, or of a model class and the values it would be built with (see `item_of`)."""
    cls: Any = model if isinstance(model, type) else type(model)
    body = item_of(cls, values) if values is not None else item(model)
    hash_key = cls.get_attributes()[str(cls._hash_keyname)].attr_name
    return {"Put": {"TableName": cls.Meta.table_name, "Item": body,
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
