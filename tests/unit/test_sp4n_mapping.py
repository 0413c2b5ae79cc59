"""The one SP4N-LAPOR! mapping table (chalicelib/config/sp4n_mapping.json) against the workflow."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters import sp4n
from chalicelib.domain import workflow as wf
from chalicelib.services import sync


def test_every_step_the_reporter_sees_has_a_row_and_a_lapor_status() -> None:
    push = sync.mapping()["push"]
    shown = {a.name for a in wf.ACTIONS.values() if a.public and a.roles & {wf.Role.ADMIN, wf.Role.OPD, wf.Role.SISTEM}}
    assert shown <= set(push)
    for action in shown:
        # A merged duplicate's LAPOR! status follows the primary's steps (sync.mirror_to_duplicates):
        # the merge itself leaves it as it is.
        status = push[action]["status"]
        assert push[action]["call"] in ("followup", "reject") and (
            status in sp4n.STATUS_CODES or (action == "merge" and status is None))
    assert push["submit"]["call"] == "create"
    # The reporter's own moves and internal notes are never sent back.
    assert {a for a in ("reply", "feedback", "note") if push[a]["call"] != "none"} == set()
    assert "note" not in sync.synced_actions() and "verify" in sync.synced_actions()


def test_each_status_lapor_sets_agrees_with_the_status_our_move_reaches() -> None:
    """After a step is pushed, both sides agree: no false divergence from our own moves."""
    push, expected = sync.mapping()["push"], sync.mapping()["expected"]
    for action in wf.ACTIONS.values():
        rule = push.get(action.name)
        if not rule or rule["call"] != "followup":
            continue
        for edge in action.edges:
            if edge.target is not None:
                assert rule["status"] in expected[edge.target.value], (action.name, edge.target)


def test_lapor_admin_moves_are_moves_of_the_sp4n_role() -> None:
    for lapor, action in sync.mapping()["pull_status"].items():
        assert lapor in sp4n.STATUS_CODES and action in wf.SP4N_ACTIONS
    assert wf.transition("perlu_kelengkapan", "sp4n_archive", "sp4n").to_status == "ditolak"
    assert wf.transition("ditindaklanjuti", "sp4n_close", "sp4n").to_status == "selesai"
    with pytest.raises(wf.InvalidTransition):
        wf.transition("diproses", "sp4n_archive", "sp4n")
    with pytest.raises(wf.NotPermitted):
        wf.transition("ditindaklanjuti", "sp4n_close", "sistem")


@pytest.mark.parametrize("change", [
    {"push": {"verify": {"call": "fax"}}},
    {"push": {"verify": {"call": "followup", "status": "selesai"}}},
    {"push": {"teleport": {"call": "followup"}}},
    {"pull_status": {"done": "close"}},
    {"expected": {"diajukan": ["verification"]}},
    {"reason_codes": {"return": {"bukan_wewenang": "followup"}}},
    {"reason_codes": {"reject": {c: "fax" for c in wf.RETURN_REASON_CODES}}},
])
def test_a_wrong_table_fails_loudly(change: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = json.loads(sync.MAPPING_PATH.read_text())
    for key, value in change.items():
        table[key] = {**table[key], **value} if key != "expected" else value
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(table))
    monkeypatch.setattr(sync, "MAPPING_PATH", path)
    sync.mapping.cache_clear()
    try:
        with pytest.raises(ValueError, match="sp4n mapping"):
            sync.mapping()
    finally:
        monkeypatch.undo()
        sync.mapping.cache_clear()


def _event(action: str, **data: Any) -> Any:
    from chalicelib.domain.events import DomainEvent
    return DomainEvent(tracking_id="KBB-AAAA-AAAA", seq=3, action=action, from_status="diajukan",
                       to_status="ditolak", at="2026-01-05T02:00:00Z", actor="admin", public=True,
                       message="m", data=data)


def test_the_reason_code_decides_the_call_never_the_free_text() -> None:
    assert sync.call_for(_event("reject", reason_code="bukan_wewenang", reason="x")) == "reject"
    assert sync.call_for(_event("reject", reason_code="kewenangan_pusat_provinsi", reason="x")) == "reject"
    assert sync.call_for(_event("reject", reason_code="duplikat", reason="bukan_wewenang")) == "followup"
    # what someone typed no longer decides: only the code does
    assert sync.call_for(_event("reject", reason="bukan_wewenang")) == "followup"
    # an OPD's return stays a follow-up for every code: our admin decides what happens next
    for code in wf.RETURN_REASON_CODES:
        assert sync.call_for(_event("return", reason_code=code, reason="x")) == "followup"
    assert "reject_when_reason" not in sync.mapping()
