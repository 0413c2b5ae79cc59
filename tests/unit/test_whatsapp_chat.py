
"""The WhatsApp chat's steps (chalicelib/domain/whatsapp_chat.py), without AWS."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain import places
from chalicelib.domain import whatsapp_chat as chat
from chalicelib.domain.whatsapp_chat import Inbound

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "chalicelib" / "seed" / "reference.json").read_text())
KEC = [(k["code"], k["name"]) for k in SEED["kecamatan"]]
GEO = json.loads((ROOT / "chalicelib" / "config" / "kecamatan_geo.json").read_text())
STORY = "Jalan di depan pasar berlubang besar sejak minggu lalu"


def play(*inbounds: Inbound) -> chat.Turn:
    state = None
    turn = None
    for inbound in inbounds:
        turn = chat.step(state, inbound, KEC, GEO)
        state = turn.state
    assert turn is not None
    return turn


def test_a_whole_chat_ends_in_a_submission() -> None:
    turn = play(Inbound(text="halo"), Inbound(choice="pengaduan", text="Pengaduan"), Inbound(text=STORY),
                Inbound(choice="kec:lembang", text="Lembang"), Inbound(lat=-6.81, lon=107.62, address="Jl. Raya"),
                Inbound(choice="lewati"), Inbound(choice="anonim"), Inbound(text="Kirim"))
    assert turn.submit
    assert turn.state == {"step": "confirm", "type": "pengaduan", "description": STORY, "page": 0,
                          "kecamatan": "lembang", "lat": -6.81, "lon": 107.62, "address": "Jl. Raya",
                          "photos": [], "privacy": "anonim"}


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
    assert chat.step(state, Inbound(choice="lewati"), KEC).state == {**state, "step": "photos", "photos": []}


def test_batal_cancels_and_bantuan_explains_at_every_step() -> None:
    for step in ("type", "description", "kecamatan", "location", "photos", "privacy", "confirm"):
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


# ---- a shared location -------------------------------------------------------------------------

def test_a_point_is_placed_in_the_kecamatan_whose_centre_is_nearest() -> None:
    for k in GEO["kecamatan"]:
        assert places.locate(k["lat"], k["lon"], GEO) == k["code"]
    assert places.locate(-6.8123, 107.6178, GEO) == "lembang"      # Pasar Lembang
    assert places.locate(-6.843, 107.478, GEO) == "padalarang"


def test_a_point_outside_the_regency_is_placed_nowhere() -> None:
    assert places.locate(-6.873, 107.542, GEO) is None    # Kota Cimahi, the enclave inside KBB's box
    assert places.locate(-6.9175, 107.6191, GEO) is None  # Kota Bandung
    assert places.locate(-6.2, 106.8, GEO) is None        # Jakarta: outside the box
    assert places.locate(float("nan"), 107.5, GEO) is None
    assert places.locate(-95.0, 107.5, GEO) is None


def test_the_server_and_the_web_client_place_points_by_the_same_file() -> None:
    assert (ROOT / "web" / "data" / "kecamatan.json").read_bytes() == \
        (ROOT / "chalicelib" / "config" / "kecamatan_geo.json").read_bytes()


def test_a_location_at_the_kecamatan_step_fills_kecamatan_and_coordinates() -> None:
    state = {"step": "kecamatan", "type": "pengaduan", "description": STORY, "page": 0}
    turn = chat.step(state, Inbound(lat=-6.8123, lon=107.6178, address="Pasar Lembang"), KEC, GEO)
    assert turn.state == {**state, "step": "photos", "kecamatan": "lembang", "lat": -6.8123, "lon": 107.6178,
                          "address": "Pasar Lembang", "photos": []}
    assert "Lembang" in turn.replies[0].body


def test_a_location_outside_the_regency_asks_for_the_kecamatan() -> None:
    state = {"step": "kecamatan", "type": "pengaduan", "description": STORY, "page": 0}
    turn = chat.step(state, Inbound(lat=-6.873, lon=107.542), KEC, GEO)   # Cimahi
    assert turn.state == state
    assert "di luar Kabupaten Bandung Barat" in turn.replies[0].body and turn.replies[1].rows
    # Without the centres no point names a kecamatan.
    assert chat.step(state, Inbound(lat=-6.8123, lon=107.6178), KEC).state == state


def test_a_location_outside_the_regency_is_not_kept_at_the_location_step() -> None:
    state = {"step": "location", "kecamatan": "lembang"}
    assert chat.step(state, Inbound(lat=-6.9175, lon=107.6191), KEC, GEO).state == state
    inside = chat.step(state, Inbound(lat=-6.81, lon=107.62), KEC, GEO).state
    assert inside is not None and inside["step"] == "photos" and inside["lat"] == -6.81


# ---- photos --------------------------------------------------------------------------------------

def test_a_photo_at_the_photos_step_asks_the_service_to_fetch_it() -> None:
    state = {"step": "photos", "photos": []}
    turn = chat.step(state, Inbound(media_id="9876"), KEC, GEO)
    assert turn.media == "9876" and turn.state == state and not turn.replies
    # Elsewhere a photo is not taken: the step asks again.
    assert chat.step({"step": "privacy"}, Inbound(media_id="9876"), KEC, GEO).media is None


def test_photos_are_counted_up_to_the_web_forms_limit_then_privacy() -> None:
    state: dict = {"step": "photos", "photos": []}
    for n in range(1, chat.MAX_PHOTOS + 1):
        turn = chat.photo_taken(state, f"att_{n:032x}")
        assert turn.state is not None
        state = turn.state
        assert len(state["photos"]) == n
    assert state["step"] == "privacy" and "batas" in turn.replies[0].body
    full = {"step": "photos", "photos": ["a"] * chat.MAX_PHOTOS}
    turn = chat.step(full, Inbound(media_id="1"), KEC, GEO)
    assert turn.media is None and turn.state == full


def test_a_refused_photo_is_explained_in_indonesian_and_not_kept() -> None:
    state = {"step": "photos", "photos": ["att_" + "1" * 32]}
    for code, words in (("too_large", "10 MB"), ("unsupported", "JPEG atau PNG"), ("corrupt_image", "bukan foto"),
                        ("unavailable", "tidak dapat diambil")):
        turn = chat.photo_refused(state, code)
        assert turn.state == state and words in turn.replies[0].body and "tidak dilampirkan" in turn.replies[0].body


def test_photos_may_be_skipped_and_are_counted_in_the_summary() -> None:
    turn = chat.step({"step": "photos", "photos": []}, Inbound(choice="lewati"), KEC, GEO)
    assert turn.state is not None and turn.state["step"] == "privacy"
    state = {"step": "confirm", "type": "pengaduan", "description": STORY, "kecamatan": "lembang",
             "privacy": "publik", "photos": ["att_" + "1" * 32, "att_" + "2" * 32]}
    assert "Foto: 2" in chat.summary(state, KEC).body


def test_the_rate_limit_reply_says_when_to_try_again() -> None:
    assert "3 menit" in chat.rate_limited(150).body and "1 menit" in chat.rate_limited(5).body


# ---- a reply to a report that waits for its reporter ---------------------------------------------

def test_a_text_outside_a_chat_may_become_the_reply_to_a_waiting_report() -> None:
    offer = chat.offer_reply("KBB-AB12-CD34", "  Gang Melati,\n dekat masjid  ")
    assert offer.state == {"step": "reply", "tracking_id": "KBB-AB12-CD34", "text": "Gang Melati, dekat masjid"}
    assert [b[0] for b in offer.replies[0].buttons] == ["balas", "baru"]
    sent = chat.step(offer.state, Inbound(choice="balas", text="Kirim balasan"), KEC, GEO)
    assert sent.reply == ("KBB-AB12-CD34", "Gang Melati, dekat masjid") and sent.state is None
    new = chat.step(offer.state, Inbound(choice="baru", text="Laporan baru"), KEC, GEO)
    assert new.reply is None and new.state == {"step": "type"}
    again = chat.step(offer.state, Inbound(text="Gang Mawar, bukan Melati"), KEC, GEO)
    assert again.state is not None and again.state["text"] == "Gang Mawar, bukan Melati" and again.reply is None


def test_commands_are_never_taken_for_a_reply() -> None:
    assert chat.is_command(Inbound(text="cek KBB-AB12-CD34")) and chat.is_command(Inbound(text="Batal"))
    assert chat.is_command(Inbound(text="bantuan"))
    assert not chat.is_command(Inbound(text="cek dulu ya")) and not chat.is_command(Inbound(text="halo"))
