"""moto in server mode for the local stack: `python -m chalicelib.local.moto_server -p 5000`.
It serialises DynamoDB requests, checks a transaction's conditions before writing anything, and
derives the KMS keys; why each is needed: docs/DESIGN.md, "moto as the local AWS".
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install() -> None:
    """Serialise moto's DynamoDB request handling in this process (idempotent). Also usable in
    process with mock_aws, for tests that drive DynamoDB from several threads."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        @functools.wraps(original)
        def locked(self: Any, _original: Any = original) -> Any:
            with _LOCK:
                return _original(self)

        handler.call_action = locked  # type: ignore[method-assign]
    _conditions_before_writes()
    _installed = True


def _conditions_before_writes() -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
        try:
            for entry in transact_items:
                op_type, op = next(iter(entry.items()))
                condition = op.get("ConditionExpression")
                if condition is None:
                    errors.append((None, None, None))
                    continue
                table = self.get_table(op["TableName"])
                if op_type == "Put":
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                current = self.get_item(op["TableName"], key)
                check = get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                              op.get("ExpressionAttributeValues"))
                if check.expr(current):
                    errors.append((None, None, None))
                else:
                    old = (current.to_json()["Attributes"]
                           if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
        except Exception:  # noqa: BLE001 a malformed request: moto's own code gives its error
            return original(self, transact_items)
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        return original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# Local data only: not a secret. Derived keys let NIKs saved before a restart decrypt after it.
_LOCAL_KMS_SEED = b"lapor-kbb local stack KMS keys"


def derive_kms_keys() -> None:
    """The n-th KMS key this server creates gets the same id and key material in every run.

    moto draws both at random, so a NIK encrypted before a restart of the local stack could never
    be decrypted after it, even with its report restored (chalicelib/local/snapshot.py). The
    template creates its keys in a fixed order, so the n-th key is always the same key."""
    import hashlib
    import itertools
    import uuid

    from moto.kms import models

    ids = itertools.count(1)
    materials = itertools.count(1)

    def key_id(multi_region: bool = False) -> str:
        n = next(ids)
        return ("mrk-" if multi_region else "") + str(uuid.uuid5(uuid.NAMESPACE_URL, f"lapor-kbb-local-kms-{n}"))

    def master_key() -> bytes:
        return hashlib.sha256(_LOCAL_KMS_SEED + str(next(materials)).encode()).digest()

    models.generate_key_id = key_id  # type: ignore[assignment]
    models.generate_master_key = master_key  # type: ignore[assignment]


def main(argv: list[str]) -> None:
    install()
    derive_kms_keys()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
