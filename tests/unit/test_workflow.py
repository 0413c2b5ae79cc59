"""The state machine against CONTRACT.md's actions table, every status x role x action."""
from __future__ import annotations

import itertools

import pytest

from chalicelib.domain import workflow as wf
from chalicelib.domain.workflow import (
    ACTIONS,
    InvalidTransition,
    NotPermitted,
    Role,
    Status,
    UnknownAction,
    actions_for,
    required_fields,
    transition,
)

STATUSES = [s.value for s in Status]
OPEN = ["diajukan", "perlu_kelengkapan", "didisposisikan", "diproses", "dikembalikan", "ditindaklanjuti"]
ROLES = ["admin", "opd", "pimpinan", "pelapor", "sistem", "opd_admin"]

# Written out by hand from CONTRACT.md (staff table + reporter and system moves), not derived
# from the module: (action, role) -> {from_status: to_status}. A changed row fails the tests.
EXPECTED: dict[str, tuple[set[str], dict[str, str]]] = {
    "verify": ({"admin"}, {"diajukan": "didisposisikan"}),
    "request_info": ({"admin", "opd"}, {"diajukan": "perlu_kelengkapan", "diproses": "perlu_kelengkapan"}),
    "reject": ({"admin"}, {"diajukan": "ditolak", "perlu_kelengkapan": "ditolak"}),
    "redispose": (
        {"admin"},
        {"didisposisikan": "didisposisikan", "diproses": "didisposisikan", "dikembalikan": "didisposisikan"},
    ),
    "accept": ({"opd"}, {"didisposisikan": "diproses"}),
    "respond": ({"opd"}, {"didisposisikan": "ditindaklanjuti", "diproses": "ditindaklanjuti"}),
    "progress": ({"opd"}, {"didisposisikan": "diproses", "diproses": "diproses"}),
    "return": ({"opd"}, {"didisposisikan": "dikembalikan", "diproses": "dikembalikan"}),
    "note": ({"admin", "opd"}, {s: s for s in STATUSES}),
    "close": ({"admin"}, {s: "selesai" for s in OPEN}),
    # The OPD's own desk head names the officer while the OPD holds the report; nothing moves.
    "assign": ({"opd_admin"}, {s: s for s in ("didisposisikan", "diproses", "perlu_kelengkapan", "ditindaklanjuti")}),
    "correct": ({"admin"}, {s: s for s in OPEN}),
    "merge": ({"admin"}, {s: s for s in OPEN}),
    "reply": ({"pelapor"}, {"perlu_kelengkapan": "diajukan", "ditindaklanjuti": "diproses"}),
    "auto_close": ({"sistem"}, {"ditindaklanjuti": "selesai"}),
    "archive": ({"sistem"}, {"perlu_kelengkapan": "ditolak"}),
    "sla_reminder": ({"sistem"}, {s: s for s in OPEN}),
    "sla_breach": ({"sistem"}, {s: s for s in OPEN}),
    "sp4n_archive": ({"sp4n"}, {"diajukan": "ditolak", "perlu_kelengkapan": "ditolak"}),
    "sp4n_close": ({"sp4n"}, {"ditindaklanjuti": "selesai"}),
}
FEEDBACK = {True: "selesai", False: "diproses"}  # only from ditindaklanjuti
# Edges only some of an action's roles take: (action, role) -> the statuses that role moves from.
ROLE_EDGES: dict[tuple[str, str], set[str]] = {
    ("request_info", "admin"): {"diajukan"},
    ("request_info", "opd"): {"diproses"},
}


def test_statuses_and_open_set() -> None:
    assert STATUSES == [
        "diajukan", "perlu_kelengkapan", "ditolak", "didisposisikan",
        "diproses", "dikembalikan", "ditindaklanjuti", "selesai",
    ]
    assert sorted(s.value for s in wf.OPEN_STATUSES) == sorted(OPEN)
    assert sorted(s.value for s in wf.CLOSED_STATUSES) == ["ditolak", "selesai"]
    assert wf.is_open("diproses") and not wf.is_open("selesai") and not wf.is_open("ditolak")
    assert wf.INITIAL_STATUS == "diajukan"


def test_the_table_has_exactly_the_expected_actions() -> None:
    assert set(ACTIONS) == set(EXPECTED) | {"feedback"}
    assert list(wf.STAFF_ACTIONS) == [
        "verify", "request_info", "reject", "redispose", "accept", "respond", "progress", "return", "note",
        "close", "assign", "correct", "merge",
    ]
    assert list(wf.REPORTER_ACTIONS) == ["reply", "feedback"]
    assert list(wf.SYSTEM_ACTIONS) == ["auto_close", "archive", "sla_reminder", "sla_breach"]
    assert list(wf.SP4N_ACTIONS) == ["sp4n_archive", "sp4n_close"]


@pytest.mark.parametrize(
    ("action", "role", "status"),
    list(itertools.product(sorted(EXPECTED), ROLES, STATUSES)),
)
def test_every_action_role_status(action: str, role: str, status: str) -> None:
    roles, moves = EXPECTED[action]
    if (action, role) in ROLE_EDGES:
        moves = {k: v for k, v in moves.items() if k in ROLE_EDGES[(action, role)]}
    if role not in roles:
        with pytest.raises(NotPermitted) as exc:
            transition(status, action, role)
        assert exc.value.http_status == 403 and exc.value.code == "forbidden"
    elif status not in moves:
        with pytest.raises(InvalidTransition) as exc2:
            transition(status, action, role)
        assert exc2.value.http_status == 409 and exc2.value.code == "invalid_transition"
        assert exc2.value.status == status
    else:
        move = transition(status, action, role)
        assert move.action == action
        assert move.role == role
        assert move.from_status == status
        assert move.to_status == moves[status]


@pytest.mark.parametrize(("role", "status"), list(itertools.product(ROLES, STATUSES)))
def test_feedback(role: str, status: str) -> None:
    for resolved, target in FEEDBACK.items():
        if role != "pelapor":
            with pytest.raises(NotPermitted):
                transition(status, "feedback", role, resolved=resolved)
        elif status != "ditindaklanjuti":
            with pytest.raises(InvalidTransition):
                transition(status, "feedback", role, resolved=resolved)
        else:
            move = transition(status, "feedback", role, resolved=resolved)
            assert move.to_status == target
            assert move.public


def test_feedback_needs_the_answer() -> None:
    with pytest.raises(ValueError):
        transition("ditindaklanjuti", "feedback", "pelapor")


def test_feedback_from_selesai_is_refused_even_after_auto_close() -> None:
    closed = transition("ditindaklanjuti", "auto_close", "sistem").to_status
    assert closed == "selesai"
    with pytest.raises(InvalidTransition):
        transition(closed, "feedback", "pelapor", resolved=False)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_pimpinan_can_do_nothing(action: str, status: str) -> None:
    with pytest.raises(NotPermitted):
        transition(status, action, "pimpinan", resolved=True)
    assert actions_for(status, "pimpinan") == []


def test_check_order_unknown_action_then_role_then_status() -> None:
    with pytest.raises(UnknownAction) as exc:
        transition("selesai", "delete", "pimpinan")
    assert exc.value.http_status == 400
    # opd may never verify: 403 even though the status would also be wrong (409).
    with pytest.raises(NotPermitted):
        transition("selesai", "verify", "opd")
    with pytest.raises(InvalidTransition):
        transition("selesai", "verify", "admin")
    # an unknown role is simply not permitted
    with pytest.raises(NotPermitted):
        transition("diajukan", "verify", "bupati")


def test_unknown_status_is_a_data_error() -> None:
    with pytest.raises(ValueError):
        transition("terdisposisi", "verify", "admin")


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        ("diajukan", "admin", ["verify", "request_info", "reject", "note", "close", "correct", "merge"]),
        ("perlu_kelengkapan", "admin", ["reject", "note", "close", "correct", "merge"]),
        ("didisposisikan", "admin", ["redispose", "note", "close", "correct", "merge"]),
        ("diproses", "admin", ["redispose", "note", "close", "correct", "merge"]),
        ("dikembalikan", "admin", ["redispose", "note", "close", "correct", "merge"]),
        ("ditindaklanjuti", "admin", ["note", "close", "correct", "merge"]),
        ("selesai", "admin", ["note"]),
        ("ditolak", "admin", ["note"]),
        ("diajukan", "opd", ["note"]),
        ("didisposisikan", "opd", ["accept", "respond", "progress", "return", "note"]),
        ("diproses", "opd", ["request_info", "respond", "progress", "return", "note"]),
        ("dikembalikan", "opd", ["note"]),
        ("diproses", "opd_admin", ["assign"]),
        ("dikembalikan", "opd_admin", []),
        ("selesai", "opd_admin", []),
        ("perlu_kelengkapan", "pelapor", ["reply"]),
        ("ditindaklanjuti", "pelapor", ["reply", "feedback"]),
        ("diproses", "pelapor", []),
        ("selesai", "pelapor", []),
        ("ditindaklanjuti", "sistem", ["auto_close", "sla_reminder", "sla_breach"]),
        ("perlu_kelengkapan", "sistem", ["archive", "sla_reminder", "sla_breach"]),
        ("selesai", "sistem", []),
        ("diajukan", "pimpinan", []),
        ("diajukan", "nobody", []),
    ],
)
def test_actions_for(status: str, role: str, expected: list[str]) -> None:
    assert actions_for(status, role) == expected


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("verify", ("opd_code",)),
        ("request_info", ("message",)),
        ("reject", ("reason", "message")),
        ("redispose", ("opd_code", "note")),
        ("accept", ()),
        ("respond", ("message",)),
        ("return", ("reason_code", "reason")),
        ("note", ("message",)),
        ("close", ("message",)),
        ("reply", ("message",)),
        ("feedback", ("resolved",)),
        ("auto_close", ()),
        ("archive", ()),
    ],
)
def test_required_fields(action: str, fields: tuple[str, ...]) -> None:
    assert required_fields(action) == fields


def test_optional_fields_and_unknown() -> None:
    assert wf.optional_fields("verify") == ("classification", "category", "note", "privacy", "type", "kecamatan",
                                            "desa")
    assert wf.required_fields("assign") == ("officer",)
    assert wf.optional_fields("correct") == ("type", "category", "kecamatan", "desa", "note")
    assert wf.optional_fields("respond") == ("attachments",)
    assert wf.optional_fields("progress") == ("attachments", "planned_completion")
    assert wf.optional_fields("reject") == ("reason_code",)
    assert wf.optional_fields("feedback") == ("rating", "comment")
    with pytest.raises(UnknownAction):
        required_fields("delete")


# -- public or internal ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("action", "public"),
    [
        ("verify", True), ("request_info", True), ("reject", True), ("redispose", True),
        ("accept", True), ("respond", True), ("return", True), ("note", False), ("close", True),
        ("reply", True), ("feedback", True), ("auto_close", True), ("archive", True),
        ("sla_reminder", False), ("sla_breach", False),
    ],
)
def test_public_flag(action: str, public: bool) -> None:
    assert ACTIONS[action].public is public


def test_note_is_internal_and_changes_nothing() -> None:
    move = transition("diproses", "note", "opd")
    assert move.to_status == "diproses"
    assert not move.changes_status
    assert not move.public
    assert not move.restarts_sla
    assert wf.timeline_message(move, {"message": "called the kepala desa"}) is None


def test_return_reason_stays_internal_the_status_change_is_public() -> None:
    move = transition("diproses", "return", "opd")
    assert move.public and move.changes_status
    text = wf.timeline_message(move, {"reason": "bukan wewenang: jalan provinsi"})
    assert text == "Laporan sedang ditinjau ulang untuk diteruskan ke instansi yang berwenang."
    assert "provinsi" not in text


def test_verify_note_stays_internal() -> None:
    move = transition("diajukan", "verify", "admin")
    text = wf.timeline_message(move, {"opd_code": "DPUPR", "note": "internal remark"})
    assert text == "Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang."


def test_respond_message_is_what_the_reporter_reads() -> None:
    move = transition("diproses", "respond", "opd")
    assert wf.timeline_message(move, {"message": "  Jalan diperbaiki pekan depan. "}) == (
        "Jalan diperbaiki pekan depan."
    )


def test_feedback_timeline_uses_the_comment_or_a_neutral_text() -> None:
    ok = transition("ditindaklanjuti", "feedback", "pelapor", resolved=True)
    assert wf.timeline_message(ok, {"comment": "Terima kasih"}) == "Terima kasih"
    assert wf.timeline_message(ok, {"comment": ""}) == "Pelapor menyatakan laporan telah selesai."
    again = transition("ditindaklanjuti", "feedback", "pelapor", resolved=False)
    assert wf.timeline_message(again, {}) == (
        "Pelapor menyatakan masalah belum selesai; laporan dibuka kembali."
    )


def test_sla_restarts_on_status_changes_and_redisposition() -> None:
    assert transition("didisposisikan", "redispose", "admin").restarts_sla
    assert not transition("didisposisikan", "redispose", "admin").changes_status
    assert transition("didisposisikan", "accept", "opd").restarts_sla
    assert not transition("diproses", "sla_breach", "sistem").restarts_sla


def test_every_status_changing_row_is_reachable_and_roles_are_known() -> None:
    for spec in ACTIONS.values():
        assert spec.roles, spec.name
        assert spec.roles <= set(Role)
        assert Role.PIMPINAN not in spec.roles
        assert spec.edges, spec.name
        # every field is named once
        assert len(set(spec.required + spec.optional)) == len(spec.required + spec.optional)
