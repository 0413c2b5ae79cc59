
"""The WhatsApp chat's steps (chalicelib/domain/whatsapp_chat.py), without AWS."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain import places
from chalicelib.domain import whatsapp_chat as chat
from chalicelib.domain.whatsapp_chat import Inbound

SEED = json.loads((Path(__file__).resolve().parents[2] / "chalicelib" / "seed" / "reference.json").read_text())
KEC = [(k["code"], k["name"]) for k in SEED["kecamatan"]]
STORY = "Jalan di depan pasar berlubang besar sejak minggu lalu"


def play(*inbounds: Inbound) -> chat.Turn:
    state = None
    turn = None
    for inbound in inbounds:
        turn = chat.step(state, inbound, KEC)
        state = turn.state
    assert turn is not None
    return turn


def test_a_whole_chat_ends_in_a_submission() -> None:
    turn = play(Inbound(text="halo"), Inbound(choice="pengaduan", text="Pengaduan"), Inbound(text=STORY),
                Inbound(choice="kec:lembang", text="Lembang"), Inbound(lat=-6.81, lon=107.62, address="Jl. Raya"),
                Inbound(choice="anonim"), Inbound(text="Kirim"))
    assert turn.submit
    assert turn.state == {"step": "confirm", "type": "pengaduan", "description": STORY, "page": 0,
                          "kecamatan": "lembang", "lat": -6.81, "lon": 107.62, "address": "Jl. Raya",
                          "privacy": "anonim"}


def test_the_first_message_offers_the_types_as_at_most_three_buttons() -> None:
    turn = chat.step(None, Inbound(text="halo"), KEC)
    assert turn.state == {"step": "type"} and 0 < len(turn.replies[0].buttons) <= 3


def test_the_16_kecamatan_are_paged_in_lists_of_at_most_10_rows() -> None:
    assert len(KEC) == 16
    listed: list[str] = []
    page = 0
    while True:
        reply = chat.kecamatan_page(KEC, page)
        assert len(reply.rows) <= chat.LIST_ROWS
        listed += [row_id[4:] for row_id, _ in reply.rows if row_id.startswith("kec:")]
        nxt = [row_id for row_id, _ in reply.rows if row_id.startswith("page:")]
        if nxt == ["page:0"] or not nxt:
            break
        page = int(nxt[0][5:])
    assert listed == [code for code, _ in KEC]


def test_the_next_page_row_shows_the_next_page() -> None:
    state = {"step": "kecamatan", "description": STORY, "type": "aspirasi", "page": 0}
    turn = chat.step(state, Inbound(choice="page:1"), KEC)
    assert turn.state is not None and turn.state["page"] == 1 and turn.state["step"] == "kecamatan"
    assert [r for r in turn.replies[0].rows if r[0] == f"kec:{KEC[-1][0]}"]


def test_a_typed_kecamatan_is_matched_with_typos() -> None:
    assert places.match_kecamatan("lembang", dict(KEC)) == "lembang"
    assert places.match_kecamatan("Kecamatan Lembng", dict(KEC)) == "lembang"
    assert places.match_kecamatan("parompong", dict(KEC)) == "parongpong"
    assert places.match_kecamatan("Jakarta Selatan", dict(KEC)) is None
    state = {"step": "kecamatan", "description": STORY, "type": "aspirasi", "page": 1}
    wrong = chat.step(state, Inbound(text="Surabaya"), KEC)
    assert wrong.state == state and wrong.replies[-1].rows


def test_a_short_story_is_asked_again() -> None:
    turn = chat.step({"step": "description", "type": "pengaduan"}, Inbound(text="jalan rusak"), KEC)
    assert turn.state == {"step": "description", "type": "pengaduan"}


def test_location_may_be_skipped_but_not_answered_with_text() -> None:
    state = {"step": "location", "kecamatan": "lembang"}
    assert chat.step(state, Inbound(text="di sana"), KEC).state == state
    assert chat.step(state, Inbound(choice="lewati"), KEC).state == {**state, "step": "privacy"}


def test_batal_cancels_and_bantuan_explains_at_every_step() -> None:
    for step in ("type", "description", "kecamatan", "location", "privacy", "confirm"):
        state = {"step": step}
        assert chat.step(state, Inbound(text="Batal"), KEC).state is None
        helped = chat.step(state, Inbound(text="bantuan"), KEC)
        assert helped.state == state and "batal" in helped.replies[0].body


def test_cek_asks_the_service_for_that_tracking_id() -> None:
    turn = chat.step({"step": "description"}, Inbound(text="cek kbb-ab12-cd34"), KEC)
    assert turn.check == "KBB-AB12-CD34" and turn.state == {"step": "description"}


def test_confirm_without_kirim_repeats_the_summary() -> None:
    state = {"step": "confirm", "type": "pengaduan", "description": STORY, "kecamatan": "lembang", "privacy": "publik"}
    turn = chat.step(state, Inbound(text="ok"), KEC)
    assert not turn.submit and "Lembang" in turn.replies[0].body


def test_a_title_comes_from_the_story() -> None:
    assert chat.title_of(STORY) == STORY
    long = "kata " * 40
    assert len(chat.title_of(long)) <= 80 and chat.title_of(long).endswith("...")
