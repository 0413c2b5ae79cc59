"""The WhatsApp chat that turns a citizen's messages into a report: what each step asks, what it
accepts, and what it answers; and `offer_reply` outside a chat. Pure: the service
(chalicelib/services/whatsapp_chat.py) loads and saves the state, sends the replies and calls
the intake service when the chat says "submit". The steps: docs/CHANNELS.md, "WhatsApp".
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import places

TYPES = (("pengaduan", "Pengaduan"), ("aspirasi", "Aspirasi"), ("permintaan_informasi", "Minta informasi"))
PRIVACIES = (("publik", "Publik"), ("anonim", "Anonim"), ("rahasia", "Rahasia"))
LIST_ROWS = 10  # WhatsApp's limit on rows in one interactive list
MIN_DESCRIPTION, MAX_DESCRIPTION = 20, 4000
MAX_PHOTOS = 5  # as many attachments as the web form takes
TRACKING = re.compile(r"\bKBB-[A-Z0-9]{4}-[A-Z0-9]{4}\b", re.IGNORECASE)

HELP = ("Lapor KBB lewat WhatsApp: pilih jenis laporan, ceritakan kejadiannya, pilih kecamatan, "
        "bagikan lokasi (boleh dilewati), kirim foto (boleh dilewati), pilih privasi, lalu ketik *kirim*.\n"
        "Ketik *batal* untuk membatalkan, *cek KBB-XXXX-XXXX* untuk melihat status laporan Anda.")


@dataclass
class Inbound:
    """One citizen message, as the chat needs it."""

    text: str = ""              # typed text, or the title of a chosen button/row
    choice: str = ""            # the id of a chosen button or list row
    lat: float | None = None    # a shared location
    lon: float | None = None
    address: str | None = None
    media_id: str = ""          # a photo (or a document) sent: its WhatsApp media id


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
    media: str | None = None          # the service fetches and checks this media id (photos step)
    reply: tuple[str, str] | None = None  # the service sends (tracking id, text) as the report's reply


def _word(inbound: Inbound) -> str:
    return (inbound.choice or inbound.text).strip().casefold()


Geo = Mapping[str, Any]  # chalicelib/config/kecamatan_geo.json (chalicelib.domain.places.locate)


def step(state: dict[str, Any] | None, inbound: Inbound, kecamatan: list[tuple[str, str]],
         geo: Geo | None = None) -> Turn:
    """The chat's answer to one message. `kecamatan`: (code, name) in the order to list them;
    `geo`: the centres a shared location is placed by (None: a location never names a kecamatan)."""
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
    return handler(dict(state), inbound, kecamatan, geo)


def offer_reply(tracking_id: str, text: str) -> Turn:
    """A text outside a chat while report `tracking_id` waits for its reporter: ask what it is."""
    body = " ".join(text.split())[:MAX_DESCRIPTION]
    return Turn({"step": "reply", "tracking_id": tracking_id, "text": body},
                [Reply(f"Laporan Anda *{tracking_id}* menunggu tanggapan Anda. Kirim pesan tadi sebagai balasan "
                       "untuk laporan itu, atau mulai laporan baru?",
                       buttons=[("balas", "Kirim balasan"), ("baru", "Laporan baru")])])


def _reply(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    word = _word(inbound)
    if word in ("balas", "kirim balasan"):
        return Turn(None, [], reply=(str(state["tracking_id"]), str(state["text"])))
    if word in ("baru", "laporan baru"):
        return Turn({"step": "type"}, [Reply("Apa yang ingin Anda sampaikan?", buttons=list(TYPES))])
    # Another text: that is the reply meant, asked again.
    return offer_reply(str(state["tracking_id"]), inbound.text.strip() or str(state["text"]))


def is_command(inbound: Inbound) -> bool:
    """"cek <nomor>", "batal", "bantuan": what a message outside a chat may mean besides a reply."""
    word = _word(inbound)
    return word in ("batal", "bantuan") or (word.startswith("cek") and bool(TRACKING.search(inbound.text or "")))


def _type(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    word = _word(inbound)
    chosen = next((code for code, title in TYPES if word in (code, title.casefold())), None)
    if chosen is None:
        return Turn(state, [Reply("Pilih salah satu jenis laporan.", buttons=list(TYPES))])
    state.update(step="description", type=chosen)
    return Turn(state, [Reply(f"Ceritakan apa yang terjadi, di mana dan kapan (minimal {MIN_DESCRIPTION} huruf).")])


def _description(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
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
    return Reply("Di kecamatan mana? Pilih dari daftar, ketik namanya, atau bagikan lokasi kejadian (📎 > Lokasi).",
                 rows=rows, button_label="Kecamatan")


def _kecamatan(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    choice = inbound.choice
    if choice.startswith("page:"):
        page = int(choice[5:]) if choice[5:].isdigit() else 0
        state["page"] = page
        return Turn(state, [kecamatan_page(kecamatan, page)])
    codes = {code for code, _ in kecamatan}
    if inbound.lat is not None and inbound.lon is not None:
        located = places.locate(inbound.lat, inbound.lon, geo) if geo else None
        if located is None or located not in codes:
            return Turn(state, [Reply("Lokasi itu di luar Kabupaten Bandung Barat (atau tidak dapat kami "
                                      "petakan). Pilih kecamatan kejadian dari daftar atau ketik namanya."),
                                kecamatan_page(kecamatan, int(state.get("page", 0)))])
        state.update(kecamatan=located, lat=inbound.lat, lon=inbound.lon, address=(inbound.address or None))
        name = dict(kecamatan)[located]
        return _to_photos(state, f"Lokasi diterima: Kecamatan {name}. ")
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


def _location(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    if inbound.lat is not None and inbound.lon is not None:
        if geo and places.locate(inbound.lat, inbound.lon, geo) is None:
            return Turn(state, [Reply("Lokasi itu di luar Kabupaten Bandung Barat. Bagikan lokasi kejadian, "
                                      "atau pilih Lewati.", buttons=[("lewati", "Lewati")])])
        state.update(lat=inbound.lat, lon=inbound.lon, address=(inbound.address or None))
    elif _word(inbound) != "lewati":
        return Turn(state, [Reply("Bagikan lokasi lewat 📎 > Lokasi, atau pilih Lewati.",
                                  buttons=[("lewati", "Lewati")])])
    return _to_photos(state, "")


PHOTO_PROMPT = (f"Kirim foto kejadian bila ada (paling banyak {MAX_PHOTOS}, JPEG atau PNG, maksimal 10 MB "
                "per foto), atau pilih Lewati.")
# Why a photo was not taken, by code (chalicelib/domain/uploads.py's Refused codes and the media's own).
PHOTO_PROBLEMS = {
    "too_large": "Foto terlalu besar: maksimal 10 MB.",
    "unsupported": "Hanya foto JPEG atau PNG yang diterima.",
    "unavailable": "Foto tidak dapat diambil dari WhatsApp.",
}
PHOTO_UNREADABLE = "Berkas itu bukan foto yang dapat kami baca."


def _to_photos(state: dict[str, Any], lead: str) -> Turn:
    state["step"] = "photos"
    state.setdefault("photos", [])
    return Turn(state, [Reply(lead + PHOTO_PROMPT, buttons=[("lewati", "Lewati")])])


def _photos(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    taken = list(state.get("photos") or [])
    if inbound.media_id:
        if len(taken) >= MAX_PHOTOS:
            return Turn(state, [Reply(f"Sudah {MAX_PHOTOS} foto: foto ini tidak dilampirkan. Pilih Lanjut.",
                                      buttons=[("lanjut", "Lanjut")])])
        return Turn(state, [], media=inbound.media_id)
    if _word(inbound) in ("lewati", "lanjut", "selesai"):
        return _to_privacy(state)
    more = [("lanjut", "Lanjut")] if taken else [("lewati", "Lewati")]
    return Turn(state, [Reply(PHOTO_PROMPT, buttons=more)])


def photo_taken(state: dict[str, Any], attachment_id: str) -> Turn:
    """The photos step after the service checked a photo clean (`attachment_id`)."""
    state = dict(state)
    state["photos"] = [*(state.get("photos") or []), attachment_id]
    count = len(state["photos"])
    if count >= MAX_PHOTOS:
        return _to_privacy(state, f"Foto ke-{count} diterima (batas {MAX_PHOTOS} foto).\n\n")
    return Turn(state, [Reply(f"Foto ke-{count} diterima. Kirim foto lain, atau pilih Lanjut.",
                              buttons=[("lanjut", "Lanjut")])])


def photo_refused(state: dict[str, Any], problem: str) -> Turn:
    """The photos step after a photo could not be taken (`problem`: a PHOTO_PROBLEMS code, or
    any other code for a file that is not a readable photo); nothing is attached."""
    why = PHOTO_PROBLEMS.get(problem, PHOTO_UNREADABLE)
    more = [("lanjut", "Lanjut")] if state.get("photos") else [("lewati", "Lewati")]
    return Turn(state, [Reply(f"{why} Foto tidak dilampirkan. Kirim foto lain, atau pilih "
                              f"{more[0][1]}.", buttons=more)])


def rate_limited(seconds: int) -> Reply:
    minutes = max(1, -(-seconds // 60))
    return Reply(f"Terlalu banyak pesan dari nomor ini. Pesan ini tidak kami proses; coba lagi dalam {minutes} menit.")


def _to_privacy(state: dict[str, Any], lead: str = "") -> Turn:
    state["step"] = "privacy"
    return Turn(state, [Reply(lead + "Siapa yang boleh melihat laporan ini?\n*Publik*: isi laporan terbuka, nama Anda "
                              "tidak.\n*Anonim*: petugas pun tidak melihat identitas Anda.\n*Rahasia*: "
                              "hanya petugas yang melihat isinya.", buttons=list(PRIVACIES))])


def _privacy(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
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
    photos = len(state.get("photos") or [])
    return Reply(f"Ringkasan laporan:\nJenis: {kind}\nKecamatan: {place}{where}\n"
                 + (f"Foto: {photos}\n" if photos else "") +
                 f"Privasi: {dict(PRIVACIES).get(str(state.get('privacy')), '')}\nIsi: {state.get('description')}\n\n"
                 "Ketik *kirim* untuk mengirim, atau *batal*.", buttons=[("kirim", "Kirim"), ("batal", "Batal")])


def _confirm(state: dict[str, Any], inbound: Inbound, kecamatan: list[tuple[str, str]], geo: Geo | None) -> Turn:
    if _word(inbound) != "kirim":
        return Turn(state, [summary(state, kecamatan)])
    return Turn(state, [], submit=True)


def title_of(description: str) -> str:
    """A report title from the story: its first words, at most 80 characters."""
    if len(description) <= 80:
        return description
    return description[:77].rsplit(" ", 1)[0] + "..."


_STEPS = {"type": _type, "description": _description, "kecamatan": _kecamatan, "location": _location,
          "photos": _photos, "privacy": _privacy, "confirm": _confirm, "reply": _reply}
