"""The attachments table: one record per upload (chalicelib/services/attachments.py decides what
happens to it; chalicelib/services/attachment_claims.py says which ids a report may reference).

Every read and write of a record is here, each one AWS call: the pending record of a new upload,
the scanner's one decision, the purge's two conditional steps, the claim that a report's write
carries in its transaction, and the one BatchGetItem that explains a refused claim.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.data.models import Attachment

REJECTED_TTL = 7 * 24 * 3600  # a rejected record is kept a week so that support can tell a reporter why


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def create_pending(attachment_id: str, content_type: str, size: int, created_at: str, expires_at: int) -> None:
    """The record of a new upload, before any byte arrived (one conditional PutItem)."""
    Attachment(attachment_id, state="pending", content_type=content_type, size=size, created_at=created_at,
               expires_at=expires_at).save(condition=Attachment.attachment_id.does_not_exist())


def get(attachment_id: str) -> Attachment | None:
    """The record (strongly consistent), or None if there is none (never made, or its TTL ran)."""
    try:
        return Attachment.get(attachment_id, consistent_read=True)
    except Attachment.DoesNotExist:
        return None


def decide(attachment_id: str, state: str, checked_at: str, **fields: Any) -> bool:
    """pending -> clean | rejected, once. A clean record loses its TTL and enters the purge's
    index until a report claims it; a rejected one expires after REJECTED_TTL. False: it was
    decided already (a concurrent or earlier scan)."""
    actions: list[Action] = [Attachment.state.set(state), Attachment.checked_at.set(checked_at)]
    for name, value in fields.items():
        actions.append(getattr(Attachment, name).set(value))
    if state == "clean":
        actions.append(Attachment.expires_at.remove())
        actions.append(Attachment.unclaimed.set("yes"))
    else:
        actions.append(Attachment.expires_at.set(int(time.time()) + REJECTED_TTL))
    try:
        Attachment(attachment_id).update(actions=actions, condition=Attachment.state == "pending")
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise
        return False
    return True


def unclaimed_before(cutoff: str) -> Iterator[str]:
    """Ids of clean uploads no report claimed, checked before `cutoff` (the sparse by_unclaimed
    index, keys only: never the table)."""
    for candidate in Attachment.by_unclaimed.query("yes", Attachment.checked_at < cutoff):
        yield str(candidate.attachment_id)


def start_purge(attachment_id: str) -> bool:
    """clean -> purging, unless a report holds it (then False: it was claimed meanwhile). From
    then on a claim fails, because a claim needs `clean`."""
    try:
        Attachment(attachment_id).update(
            actions=[Attachment.state.set("purging")],
            condition=Attachment.state.is_in("clean", "purging") & Attachment.report_id.does_not_exist())
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise
        return False
    return True


def finish_purge(attachment_id: str) -> None:
    Attachment(attachment_id).delete(condition=Attachment.state == "purging")


def delete(attachment_id: str) -> None:
    """Drop the record (personal-data erasure); a no-op the second time."""
    Attachment(attachment_id).delete()


def claim_items(ids: list[str], tracking_id: str) -> list[dict[str, Any]]:
    """One transaction Update per id: the file becomes report `tracking_id`'s, and leaves the
    purge's index. Fails (ConditionalCheckFailed) unless it is clean and no other report's."""
    meta: Any = Attachment.Meta
    return [{"Update": {
        "TableName": meta.table_name,
        "Key": {Attachment.attachment_id.attr_name: {"S": attachment_id}},
        "UpdateExpression": "SET #r = :r REMOVE #u",
        "ConditionExpression": "#s = :clean AND (attribute_not_exists(#r) OR #r = :r)",
        "ExpressionAttributeNames": {"#r": Attachment.report_id.attr_name, "#u": Attachment.unclaimed.attr_name,
                                     "#s": Attachment.state.attr_name},
        "ExpressionAttributeValues": {":r": {"S": tracking_id}, ":clean": {"S": "clean"}},
    }} for attachment_id in ids]


def states(ids: list[str]) -> dict[str, tuple[str, str | None, str | None]]:
    """attachment id -> (state, reason, report_id) in ONE BatchGetItem (strongly consistent).
    Unknown ids are absent."""
    if not ids:
        return {}
    found = Attachment.batch_get(ids, consistent_read=True,
                                 attributes_to_get=["attachment_id", "state", "reason", "report_id"])
    return {a.attachment_id: (a.state, a.reason, a.report_id) for a in found}


def existing(ids: list[str]) -> list[str]:
    """Those of `ids` that have a record, in order (one consistent GetItem each)."""
    return [attachment_id for attachment_id in ids if get(attachment_id) is not None]
