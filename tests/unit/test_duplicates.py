"""Duplicates in the domain: the merge rules (chalicelib.domain.workflow) and what the
suggestions match and score (chalicelib.domain.duplicates)."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import duplicates as dup
from chalicelib.domain import workflow as wf

OPEN = ["diajukan", "perlu_kelengkapan", "didisposisikan", "diproses", "dikembalikan", "ditindaklanjuti"]


def _merge(**changes: Any) -> None:
    values: dict[str, Any] = {"duplicate_id": "KBB-AAAA-AAAA", "duplicate_status": "diajukan",
                              "duplicate_merged_into": None, "duplicate_has_merged": False,
                              "primary_id": "KBB-BBBB-BBBB", "primary_status": "diproses", "primary_merged_into": None}
    values.update(changes)
    wf.check_merge(**values)


@pytest.mark.parametrize("status", OPEN)
def test_an_open_report_merges_into_an_open_primary_and_keeps_its_status(status: str) -> None:
    _merge(duplicate_status=status, primary_status=status)
    move = wf.transition(status, "merge", "admin")
    assert move.to_status == status and move.public and not move.restarts_sla
    assert wf.timeline_message(move, {"primary": "KBB-BBBB-BBBB", "note": "internal"}) == wf.ACTIONS["merge"].neutral_message


@pytest.mark.parametrize(("changes", "words"), [
    ({"primary_id": "KBB-AAAA-AAAA"}, "dirinya sendiri"),
    ({"primary_status": "selesai"}, "sudah ditutup"),
    ({"primary_status": "ditolak"}, "sudah ditutup"),
    ({"primary_merged_into": "KBB-CCCC-CCCC"}, "sudah digabungkan ke laporan lain"),
    ({"duplicate_merged_into": "KBB-CCCC-CCCC"}, "sudah digabungkan"),
    ({"duplicate_has_merged": True}, "laporan utama bagi laporan lain"),
    ({"duplicate_status": "selesai"}, "tidak dapat digabungkan"),
])
def test_bad_merges_are_refused_with_an_indonesian_reason(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(wf.InvalidTransition) as caught:
        _merge(**changes)
    assert words in caught.value.message and caught.value.http_status == 409


@pytest.mark.parametrize("status", ["selesai", "ditolak"])
def test_a_closed_report_cannot_be_merged_by_the_table(status: str) -> None:
    with pytest.raises(wf.InvalidTransition):
        wf.transition(status, "merge", "admin")


@pytest.mark.parametrize("role", ["opd", "pimpinan", "pelapor", "sistem"])
def test_only_an_admin_merges(role: str) -> None:
    with pytest.raises(wf.NotPermitted):
        wf.transition("diajukan", "merge", role)


def test_a_merged_report_takes_only_notes() -> None:
    wf.check_merged("note", "admin", "KBB-BBBB-BBBB")
    for action in ("verify", "close", "reply", "feedback", "auto_close", "merge"):
        with pytest.raises(wf.InvalidTransition, match="digabungkan"):
            wf.check_merged(action, "admin", "KBB-BBBB-BBBB")
    wf.check_merged("verify", "admin", None)


def test_neutral_text_never_carries_what_someone_wrote() -> None:
    assert wf.neutral_text("respond", "ditindaklanjuti") == "Laporan telah ditindaklanjuti oleh instansi."
    assert wf.neutral_text("accept", "diproses") == wf.ACTIONS["accept"].neutral_message
    assert wf.neutral_text("feedback", "selesai") == "Pelapor menyatakan laporan telah selesai."
    assert wf.neutral_text("close", "selesai") == "Laporan telah selesai."


PLACE = dup.Place("lembang", "3217060001", "jalan_rusak", -6.8123, 107.6170)
TEXT = dup.Text("Jalan berlubang besar di depan SD Negeri 1 Lembang",
                "Lubang besar di jalan depan SD Negeri 1, sudah tiga minggu, membahayakan motor.")


def test_the_same_problem_scores_high_and_another_low() -> None:
    same = dup.Text("Lubang besar jalan depan SDN 1 Lembang", "Ada lubang besar di jalan depan SD Negeri 1 membahayakan.")
    other = dup.Text("Lampu PJU mati di alun-alun", "Lampu penerangan jalan umum padam tiap malam sejak seminggu.")
    assert dup.score(TEXT, same) >= dup.MIN_SCORE > dup.score(TEXT, other)
    assert dup.score(TEXT, TEXT) == 100.0


@pytest.mark.parametrize(("candidate", "near"), [
    (PLACE, True),
    (dup.Place("lembang", None, None, None, None), True),  # no desa, no category, no point: still a candidate
    (dup.Place("parongpong", "3217060001", "jalan_rusak", -6.8123, 107.6170), False),
    (dup.Place("lembang", "3217060002", "jalan_rusak", -6.8123, 107.6170), False),
    (dup.Place("lembang", "3217060001", "lampu_jalan", -6.8123, 107.6170), False),
    (dup.Place("lembang", "3217060001", "jalan_rusak", -6.8123 + 0.004, 107.6170), True),   # ~445 m
    (dup.Place("lembang", "3217060001", "jalan_rusak", -6.8123 + 0.0050, 107.6170), False),  # ~556 m
])
def test_place_rules(candidate: dup.Place, near: bool) -> None:
    assert dup.same_place(PLACE, candidate)[0] is near


def test_suggest_keeps_the_newest_five_above_the_threshold_and_never_itself() -> None:
    cands = [(f"KBB-0000-000{i}", f"2026-11-0{i}T00:00:00+00:00", PLACE, TEXT) for i in range(1, 9)]
    cands.append(("KBB-XXXX-XXXX", "2026-11-09T00:00:00+00:00", PLACE, TEXT))  # the report itself
    cands.append(("KBB-LOW0-0000", "2026-11-10T00:00:00+00:00", PLACE,
                  dup.Text("Lampu PJU mati", "Lampu penerangan padam tiap malam.")))
    got = dup.suggest(("KBB-XXXX-XXXX", PLACE, TEXT), cands)
    assert [s.tracking_id for s in got] == [f"KBB-0000-000{i}" for i in (8, 7, 6, 5, 4)]
    assert all(s.score == 100.0 and s.distance_m == 0.0 for s in got)
