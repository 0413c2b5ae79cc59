"""The WhatsApp chat that turns a citizen's messages into a report: what each step asks, what it
accepts, and what it answers. Pure: the service (chalicelib/services/whatsapp_chat.py) loads and
saves the state, sends the replies and calls the intake service when the chat says "submit".

Steps: type (reply buttons) -> what happened (text) -> kecamatan (a paged list: WhatsApp lists
hold at most 10 rows, or a typed name with typos tolerated) -> location (shared, or "lewati") ->
privacy (buttons) -> summary and "kirim". "batal" cancels at any step, "bantuan" explains the
current step. Photos are not taken by the chat yet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import places

TYPES = (("pengaduan", "Pengaduan"), ("aspirasi", "Aspirasi"), ("permintaan_informasi", "Minta informasi"))
PRIVACIES = (("publik", "Publik"), ("anonim", "Anonim"), ("rahasia", "Rahasia"))
LIST_ROWS = 10  # WhatsApp's limit on rows in one interactive list
MIN_DESCRIPTION, MAX_DESCRIPTION = 20, 4000
TRACKING = re.compile(r"\bKBB-[A-Z0-9]{4}-[A-Z0-9]{4}\b", re.IGNORECASE)

HELP = ("Lapor KBB lewat WhatsApp: pilih jenis laporan, ceritakan kejadiannya, pilih kecamatan, "
        "bagikan lokasi (boleh dilewati), pilih privasi, lalu ketik *kirim*.\n"
        "Ketik *batal* untuk membatalkan, *cek KBB-XXXX-XXXX* untuk melihat status laporan Anda.")


@dataclass
class Inbound:
    """One citizen message, as the chat needs it."""

    text: str = ""              # typed text, or the title of a chosen button/row
    choice: str = ""            # the id of a chosen button or list row
    lat: float | None = None    # a shared location
    lon: float | None = None
    address: str | None = None


@dataclass
class Reply:
    body: str
    buttons: list[tuple[str, str]] = field(default_factory=list)   # at most 3 (id, title)
    rows: list[tuple[str, str]] = field(default_factory=list)      # a list: at most 10 (id, title)
    button_label: str = "Pilih"


@dataclass
class Turn:
    state: dict[str, Any] | None      # None: the chat is over (saved nowhere)
    replies: list[Reply]
    submit: bool = False              # the service files `state` as a report
    check: str | None = None          # the service answers the status of this tracking id


def _word(inbound: Inbound) -> str:
    return (inbound.choice or inbound.text).strip().casefold()


def step(state: dict[str, Any] | None, inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    """The chat's answer to one message. `kecamatan`: (code, name) in the order to list them."""
    word = _word(inbound)
    found = TRACKING.search(inbound.text or "")
    if word.startswith("cek") and found:
        return Turn(state, [], check=found.group(0).upper())
    if word == "batal":
        return Turn(None, [Reply("Laporan dibatalkan. Ketik apa saja untuk mulai lagi.")])
    if state is None:
        return Turn({"step": "type"}, [Reply("Selamat datang di Lapor KBB (Kabupaten Bandung Barat). "
                                             "Apa yang ingin Anda sampaikan?", buttons=list(TYPES))])
    if word == "bantuan":
        return Turn(state, [Reply(HELP)])
    handler = _STEPS.get(str(state.get("step")))
    if handler is None:
        return Turn({"step": "type"}, [Reply("Apa yang ingin Anda sampaikan?", buttons=list(TYPES))])
    return handler(dict(state), inbound, kecamatan)


def _type(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    word = _word(inbound)
    chosen = next((code for code, title in TYPES if word in (code, title.casefold())), None)
    if chosen is None:
        return Turn(state, [Reply("Pilih salah satu jenis laporan.", buttons=list(TYPES))])
    state.update(step="description", type=chosen)
    return Turn(state, [Reply(f"Ceritakan apa yang terjadi, di mana dan kapan (minimal {MIN_DESCRIPTION} huruf).")])


def _description(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    text = " ".join((inbound.text or "").split())
    if len(text) < MIN_DESCRIPTION:
        return Turn(state, [Reply(f"Ceritanya terlalu pendek: tulis minimal {MIN_DESCRIPTION} huruf.")])
    if len(text) > MAX_DESCRIPTION:
        return Turn(state, [Reply(f"Ceritanya terlalu panjang: paling banyak {MAX_DESCRIPTION} huruf.")])
    state.update(step="kecamatan", description=text, page=0)
    return Turn(state, [kecamatan_page(kecamatan, 0)])


def kecamatan_page(kecamatan: list[tuple[str, str]], page: int) -> Reply:
    """One page of the list: 9 kecamatan and a "next" row, the last page without it."""
    per_page = LIST_ROWS - 1
    start = page * per_page
    rows = [(f"kec:{code}", name) for code, name in kecamatan[start:start + per_page]]
    if start + per_page < len(kecamatan):
        rows.append((f"page:{page + 1}", "Kecamatan lainnya..."))
    elif page > 0:
        rows.append(("page:0", "Kembali ke awal"))
    return Reply("Di kecamatan mana? Pilih dari daftar atau ketik namanya.", rows=rows, button_label="Kecamatan")


def _kecamatan(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    choice = inbound.choice
    if choice.startswith("page:"):
        page = int(choice[5:]) if choice[5:].isdigit() else 0
        state["page"] = page
        return Turn(state, [kecamatan_page(kecamatan, page)])
    codes = {code for code, _ in kecamatan}
    if choice.startswith("kec:") and choice[4:] in codes:
        code: str | None = choice[4:]
    else:
        code = places.match_kecamatan(inbound.text, dict(kecamatan))
    if code is None:
        return Turn(state, [Reply("Kecamatan itu tidak kami kenal di Kabupaten Bandung Barat."),
                            kecamatan_page(kecamatan, int(state.get("page", 0)))])
    state.update(step="location", kecamatan=code)
    name = dict(kecamatan)[code]
    return Turn(state, [Reply(f"Kecamatan {name}. Bagikan lokasi kejadian (📎 > Lokasi) agar petugas mudah "
                              "menemukannya, atau pilih Lewati.", buttons=[("lewati", "Lewati")])])


def _location(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    if inbound.lat is not None and inbound.lon is not None:
        state.update(lat=inbound.lat, lon=inbound.lon, address=(inbound.address or None))
    elif _word(inbound) != "lewati":
        return Turn(state, [Reply("Bagikan lokasi lewat 📎 > Lokasi, atau pilih Lewati.",
                                  buttons=[("lewati", "Lewati")])])
    state["step"] = "privacy"
    return Turn(state, [Reply("Siapa yang boleh melihat laporan ini?\n*Publik*: isi laporan terbuka, nama Anda "
                              "tidak.\n*Anonim*: petugas pun tidak melihat identitas Anda.\n*Rahasia*: "
                              "hanya petugas yang melihat isinya.", buttons=list(PRIVACIES))])


def _privacy(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    word = _word(inbound)
    chosen = next((code for code, title in PRIVACIES if word in (code, title.casefold())), None)
    if chosen is None:
        return Turn(state, [Reply("Pilih Publik, Anonim atau Rahasia.", buttons=list(PRIVACIES))])
    state.update(step="confirm", privacy=chosen)
    return Turn(state, [summary(state, kecamatan)])


def summary(state: dict[str, Any], kecamatan: list[tuple[str, str]]) -> Reply:
    kind = dict(TYPES).get(str(state.get("type")), "")
    place = dict(kecamatan).get(str(state.get("kecamatan")), "")
    where = " (lokasi dibagikan)" if state.get("lat") is not None else ""
    return Reply(f"Ringkasan laporan:\nJenis: {kind}\nKecamatan: {place}{where}\n"
                 f"Privasi: {dict(PRIVACIES).get(str(state.get('privacy')), '')}\nIsi: {state.get('description')}\n\n"
                 "Ketik *kirim* untuk mengirim, atau *batal*.", buttons=[("kirim", "Kirim"), ("batal", "Batal")])


def _confirm(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]]) -> Turn:
    if _word(inbound) != "kirim":
        return Turn(state, [summary(state, kecamatan)])
    return Turn(state, [], submit=True)


def title_of(description: str) -> str:
    """A report title from the story: its first words, at most 80 characters."""
    if len(description) <= 80:
        return description
    return description[:77].rsplit(" ", 1)[0] + "..."


_STEPS = {"type": _type, "description": _description, "kecamatan": _kecamatan, "location": _location,
          "privacy": _privacy, "confirm": _confirm}
