"""Each staff action has its own request model, built from the domain's table and field rules."""
from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("STAGE", "test")

from chalicelib.domain import workflow as wf
from chalicelib.domain.errors import Invalid


def test_every_field_an_action_takes_has_a_rule() -> None:
    named = {f for a in wf.ACTIONS.values() for f in (*a.required, *a.optional)}
    assert named <= set(wf.FIELDS), sorted(named - set(wf.FIELDS))


def test_openapi_documents_each_action_with_its_own_fields() -> None:
    from chalicelib.api import staff
    from chalicelib.api.openapi import _ref

    components: dict[str, object] = {}
    _ref(staff.StaffActionIn, components)
    schema = json.loads(json.dumps(components))
    verify = schema["VerifyAction"]
    assert verify["required"] == ["action", "opd_code"] and verify["additionalProperties"] is False
    assert "privacy" in verify["properties"] and "message" not in verify["properties"]
    union = schema["StaffActionIn"]
    assert union["discriminator"]["propertyName"] == "action"
    assert set(union["discriminator"]["mapping"]) == set(wf.STAFF_ACTIONS)
    assert schema["RejectAction"]["properties"]["reason"]["maxLength"] == 500


@pytest.mark.parametrize(("body", "field", "kind"), [
    ({"action": "verify"}, "opd_code", "missing"),
    ({"action": "respond", "message": "ok", "opd_code": "DPUPR"}, "opd_code", "extra_forbidden"),
    ({"action": "note", "message": "x" * 4001}, "message", "string_too_long"),
    ({"action": "terbang"}, "action", "union_tag_invalid"),
    ({"message": "tanpa aksi"}, "action", "union_tag_not_found"),
    ({"action": "return", "reason": "bukan kami", "reason_code": "entah"}, "reason_code", "literal_error"),
])
def test_a_wrong_field_is_named_without_the_union_tag(body: dict[str, object], field: str, kind: str) -> None:
    from chalicelib.api import staff
    from chalicelib.schemas import parse

    with pytest.raises(Invalid) as caught:
        parse(staff.StaffActionIn, json.dumps(body))
    assert {"field": field, "type": kind} in [{"field": d["field"], "type": d["type"]} for d in caught.value.details]
