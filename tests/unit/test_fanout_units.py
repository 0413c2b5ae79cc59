"""Without AWS: SMS texts, templates, who-is-told-what, event parsing, partial batches."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.domain import gsm7
from chalicelib.domain.events import DomainEvent, MalformedEvent, from_sns_envelope
from chalicelib.services import templates

# Long, realistic values: the longest OPD name of the seed, a 150-character title full of
# characters outside GSM-7, a 4000-character answer, a long reason.
LONG = {
    "nomor": "KBB-7K3M-Q9XD",
    "judul": ("Jalan “rusak parah” di Kp. Cibodas – Desa Cikahuripan, lubang ± 2 m… 🚧 sudah 3 bulan tidak "
              "diperbaiki padahal jalur utama anak sekolah & ojek {darurat}")[:150],
    "kategori": "Perlindungan perempuan dan anak",
    "kecamatan": "Cikalongwetan",
    "opd_nama": "Dinas Pengendalian Penduduk, KB, Pemberdayaan Perempuan dan Perlindungan Anak",
    "opd_kode": "DP2KBP3A",
    "status": "Diteruskan ke instansi berwenang",
    "tahap": "kelengkapan data dari pelapor",
    "batas_waktu": "27 Mar 2026 23:59 WIB",
    "rencana_selesai": "30 Des 2026",
    "tautan_staf": "https://lapor.bandungbaratkab.go.id/#/staf/laporan/KBB-7K3M-Q9XD",
    "tautan_lacak": "https://lapor.bandungbaratkab.go.id/#/lacak",
    "tautan_kinerja": "https://lapor.bandungbaratkab.go.id/#/staf/kinerja",
    "pesan": ("Terima kasih atas laporan Anda. Tim kami sudah meninjau lokasi dan menjadwalkan perbaikan "
              "dengan anggaran perubahan; mohon bersabar. ") * 30,
    "alasan": "Bukan kewenangan kami: jalan tersebut adalah jalan provinsi (Dinas Bina Marga Jawa Barat). " * 10,
    "minggu": "2026-W13",
    "akibat": "diarsipkan sebagai ditolak",
    "jumlah": 1234,
    "rincian": "\n".join(f"- OPD {i}: {i}" for i in range(30)),
    "rincian_singkat": "DP2KBP3A 45, DISDUKCAPIL 30, DINSOS 22, DPUPR 19, DINKES 12",
    "kode": "WXYZ-WXYZ-WXYZ-WXYZ",  # the longest code a reporter is sent (an access code)
}


@pytest.mark.parametrize("name", templates.names())
def test_every_sms_template_fits_two_gsm7_segments_with_long_values(name: str) -> None:
    t = templates.load(name)
    assert set(t) >= {"subject", "body", "sms"}, "a template has subject, body and sms (or null)"
    if t["sms"] is None:
        return
    assert gsm7.is_gsm7(t["sms"]), "the template text itself must be GSM-7"
    # Placeholders that another part fills (data.values of its event) get a long value too.
    values = {**{p: "September 2026" for p in templates.placeholders(t["sms"])}, **LONG}
    text = templates.render_sms(name, values)
    assert text is not None
    assert gsm7.is_gsm7(text)
    assert gsm7.septets(text) <= 306 and gsm7.segments(text) <= 2, (name, gsm7.septets(text), text)
    if t.get("sms_segments") == 1:
        assert gsm7.segments(text) == 1, (name, gsm7.septets(text), text)
    if "{nomor}" in t["sms"]:
        assert LONG["nomor"] in text  # what the recipient acts on is never cut
    for keep in ("batas_waktu", "tautan_lacak", "rencana_selesai", "kode"):
        if "{" + keep + "}" in t["sms"]:
            assert LONG[keep] in text


@pytest.mark.parametrize("name", sorted(__import__("chalicelib.services.notify", fromlist=["x"]).OWN_TEMPLATES))
def test_every_template_uses_only_known_placeholders_and_renders_email(name: str) -> None:
    t = templates.load(name)
    used = set().union(*(templates.placeholders(t[k] or "") for k in ("subject", "body", "sms")))
    assert used <= set(LONG), used - set(LONG)
    subject, body = templates.render_email(name, LONG)
    assert LONG["nomor"] in subject + body or name.startswith("pimpinan")
    assert "{" not in subject and "\n" not in subject


def test_the_reporters_texts_fit_one_segment_and_the_reminder_says_what_will_happen() -> None:
    from chalicelib.services import notify

    names = [n for n in templates.names() if n.startswith("pelapor")]
    assert names and all(templates.load(n).get("sms_segments") == 1 for n in names)
    outcome = templates.labels()["outcome"]
    for stage, words in (("kelengkapan", "diarsipkan sebagai ditolak"), ("konfirmasi", "ditutup sebagai selesai")):
        reminder = event("sla_reminder", actor="sistem", data={"stage": stage, "audience": ["pelapor"]})
        assert outcome[stage] == words
        text = templates.render_sms("pelapor_pengingat", {**LONG, "akibat": outcome[stage]})
        assert text is not None and words in text and gsm7.segments(text) == 1
        assert notify.plan(reminder, None) == [notify.Notice("pelapor", "pelapor_pengingat")]


def test_templates_never_name_the_reporter_for_staff() -> None:
    for name in templates.names():
        if name.startswith("pelapor"):
            continue
        text = json.dumps(templates.load(name))
        for field in ("nama_pelapor", "pelapor_nama", "email", "telepon", "phone", "nik"):
            assert "{" + field not in text


def test_gsm7_transliteration_and_counting() -> None:
    assert gsm7.to_gsm7("“Halo” – ok… é ü ç ñ 🚧") == '"Halo" - ok... é ü c ñ ?'
    assert gsm7.septets("[]{}") == 8 and gsm7.segments("a" * 160) == 1 and gsm7.segments("a" * 161) == 2
    fitted = gsm7.fit(lambda v: "X {a} Y {b}".format(**v), {"a": "a" * 400, "b": "b" * 50}, ["a", "b"], 160)
    assert gsm7.septets(fitted) <= 160 and fitted.startswith("X aaa") and "..." in fitted


# -- who is told what -----------------------------------------------------------------------

def event(action: str, **kw: Any) -> DomainEvent:
    return DomainEvent(tracking_id="KBB-0000-0001", seq=kw.pop("seq", 2), action=action, at="2026-03-17T02:00:00+00:00",
                       actor=kw.pop("actor", "admin"), **kw)


def audiences(e: DomainEvent) -> list[tuple[str, str]]:
    from chalicelib.services import notify

    return [(n.audience, n.template) for n in notify.plan(e, None)]


def test_rules_disposition_return_and_public_changes() -> None:
    assert audiences(event("verify", from_status="diajukan", to_status="didisposisikan", public=True)) == [
        ("opd", "opd_disposisi"), ("pelapor", "pelapor_status")]
    assert audiences(event("redispose", from_status="dikembalikan", to_status="didisposisikan", public=True)) == [
        ("opd", "opd_disposisi"), ("pelapor", "pelapor_status")]
    assert audiences(event("return", from_status="diproses", to_status="dikembalikan", public=True)) == [
        ("admin", "admin_dikembalikan"), ("pelapor", "pelapor_status")]
    assert audiences(event("submit", seq=1, to_status="diajukan", public=True, actor="pelapor")) == [
        ("pelapor", "pelapor_diterima")]
    assert audiences(event("note", from_status="diproses", to_status="diproses", public=False)) == []
    # the OPD's answer changes the status publicly: the reporter is told
    assert audiences(event("respond", from_status="diproses", to_status="ditindaklanjuti", public=True)) == [
        ("pelapor", "pelapor_status")]


def test_a_reopen_reaches_the_opd_and_diskominfotik_and_the_reporter_hears_no_echo() -> None:
    reopened = [("opd", "opd_dibuka_kembali"), ("admin", "admin_dibuka_kembali")]
    assert audiences(event("feedback", actor="pelapor", from_status="ditindaklanjuti", to_status="diproses",
                           public=True)) == reopened
    assert audiences(event("reply", actor="pelapor", from_status="ditindaklanjuti", to_status="diproses",
                           public=True)) == reopened
    # A reply to a request for information goes back to verification: no OPD yet, no echo.
    assert audiences(event("reply", actor="pelapor", from_status="perlu_kelengkapan", to_status="diajukan",
                           public=True)) == []
    # "resolved" closes the report: nobody is chased, and the reporter is not told what they did.
    assert audiences(event("feedback", actor="pelapor", from_status="ditindaklanjuti", to_status="selesai",
                           public=True)) == []


def test_rules_sla_events_follow_data_audience() -> None:
    data = {"stage": "respon_opd", "opd_code": "DINSOS", "due_at": "2026-03-20T23:59:59+07:00"}
    assert audiences(event("sla_reminder", data={**data, "audience": ["opd"]})) == [("opd", "opd_pengingat")]
    assert audiences(event("sla_reminder", data={**data, "audience": ["admin"]})) == [("admin", "admin_pengingat")]
    assert audiences(event("sla_reminder", data={**data, "audience": ["pelapor"]})) == [("pelapor", "pelapor_pengingat")]
    assert audiences(event("sla_breach", data={**data, "audience": ["opd"]})) == [("opd", "opd_terlambat")]
    # escalation: the OPD's desk, its head and Diskominfotik
    assert audiences(event("sla_escalation", data={**data, "audience": ["opd_head", "admin"]})) == [
        ("opd", "opd_eskalasi"), ("opd_head", "opd_eskalasi"), ("admin", "admin_eskalasi")]
    assert audiences(event("sla_digest", data={"audience": ["pimpinan"]})) == [("pimpinan", "pimpinan_ringkasan")]
    # an event that names its own template (the monthly performance digest) goes as given
    monthly = event("performance_digest", actor="sistem",
                    data={"audience": ["pimpinan"], "template": "pimpinan_kinerja_bulanan", "values": {}})
    assert audiences(monthly) == [("pimpinan", "pimpinan_kinerja_bulanan")]
    with pytest.raises(MalformedEvent):
        audiences(event("x", data={"audience": ["pimpinan"], "template": "no_such_template"}))
    closed = event("auto_close", actor="sistem", from_status="ditindaklanjuti", to_status="selesai", public=True,
                   data={"audience": ["pelapor", "opd"]})
    assert audiences(closed) == [("opd", "opd_pemberitahuan"), ("pelapor", "pelapor_status")]


def test_reporter_recipients_only_their_own_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import notify

    anonymous = SimpleNamespace(reporter=None, opd_code=None, returned_by=[])
    assert notify.recipients("pelapor", event("verify"), anonymous) == []
    with_phone = SimpleNamespace(reporter=SimpleNamespace(name=None, email=None, phone="+6281234567890"),
                                 opd_code=None, returned_by=[])
    assert notify.recipients("pelapor", event("verify"), with_phone) == [("sms", "+6281234567890")]


def test_a_whatsapp_reporter_is_followed_up_in_the_chat_but_gets_codes_where_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import notify

    chat = SimpleNamespace(reporter=SimpleNamespace(name=None, email="a@example.id", phone="+6281234567890"),
                           opd_code=None, returned_by=[], source="whatsapp")
    assert notify.recipients("pelapor", event("verify"), chat) == [("email", "a@example.id"),
                                                                   ("whatsapp", "+6281234567890")]
    recovery = event("access_recovery", data={"channel": "sms"})
    assert notify.recipients("pelapor", recovery, chat) == [("sms", "+6281234567890")]
    # Messages: the configured WhatsApp text and template; none configured, an SMS instead.
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "100")
    vals = {**LONG, "nomor": "KBB-AAAA-BBBB", "status": "Selesai", "pesan": "Sudah diperbaiki."}
    monkeypatch.setattr(notify, "values", lambda notice, event, report: vals)
    [_, chat_message] = notify.messages(notify.Notice("pelapor", "pelapor_status"), event("close"), chat)  # type: ignore[arg-type]
    assert chat_message.channel == "whatsapp" and "Sudah diperbaiki." in chat_message.body
    assert chat_message.template is not None and chat_message.template[0] == "lapor_kbb_status"
    assert chat_message.template[2][:3] == ("KBB-AAAA-BBBB", "Selesai", "Sudah diperbaiki.")
    [_, sms] = notify.messages(notify.Notice("pelapor", "pelapor_kode_baru"), event("close"), chat)  # type: ignore[arg-type]
    assert sms.channel == "sms"
    monkeypatch.delenv("WHATSAPP_PHONE_NUMBER_ID")
    [_, sms] = notify.messages(notify.Notice("pelapor", "pelapor_status"), event("close"), chat)  # type: ignore[arg-type]
    assert sms.channel == "sms"


def test_reporter_sms_does_not_repeat_a_neutral_status_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.domain.workflow import ACTIONS
    from chalicelib.services import notify

    reporter = SimpleNamespace(reporter=SimpleNamespace(name="Siti", email="siti@example.id", phone="+6281234567890"),
                               opd_code="DPUPR", returned_by=[])
    neutral = ACTIONS["verify"].neutral_message
    answer = "Lubang sudah ditambal pada 20 Maret; terima kasih atas laporannya."

    def sent(e: DomainEvent) -> dict[str, str]:
        vals = {**LONG, "status": "Diteruskan ke instansi berwenang", "pesan": e.message or ""}
        monkeypatch.setattr(notify, "values", lambda notice, event, report: vals)
        out = notify.messages(notify.Notice("pelapor", "pelapor_status"), e, reporter)  # type: ignore[arg-type]
        return {m.channel: m.body for m in out}

    verified = sent(event("verify", from_status="diajukan", to_status="didisposisikan", public=True, message=neutral))
    assert neutral and neutral not in verified["sms"] and "  " not in verified["sms"]
    assert "kini Diteruskan ke instansi berwenang. Info:" in verified["sms"]
    assert neutral in verified["email"]  # the email has room for the whole sentence
    answered = sent(event("respond", from_status="diproses", to_status="ditindaklanjuti", public=True, message=answer))
    assert answer[:20] in answered["sms"] and answer in answered["email"]


@pytest.mark.parametrize("phone", ["+622268671234", "+12025550100", "+447700900123", "+6280012345678", "081234567890"])
def test_sms_goes_only_to_indonesian_mobiles(monkeypatch: pytest.MonkeyPatch, phone: str) -> None:
    """A landline (kept for calls), a foreign number, a toll-free one or anything not in E.164
    is never texted, whichever audience it belongs to; the email still goes."""
    from chalicelib.services import notify

    report = SimpleNamespace(reporter=SimpleNamespace(name=None, email="p@example.net", phone=phone),
                             opd_code="DPUPR", returned_by=[])
    assert notify.recipients("pelapor", event("verify"), report) == [("email", "p@example.net")]
    monkeypatch.setattr(notify.reference, "contacts", lambda audience: {"emails": [], "phones": [phone, "+6281111111111"]})
    assert notify.recipients("admin", event("verify"), report) == [("sms", "+6281111111111")]
    monkeypatch.setattr(notify.reference, "opds", lambda: {"DPUPR": {"emails": [], "phones": [phone]}})
    assert notify.recipients("opd", event("verify", data={"opd_code": "DPUPR"}), report) == []


# -- events ---------------------------------------------------------------------------------

def test_event_round_trip_through_the_sns_envelope() -> None:
    e = event("verify", from_status="diajukan", to_status="didisposisikan", public=True,
              message="Diteruskan.", data={"opd_code": "DPUPR"})
    envelope = json.dumps({"Type": "Notification", "Message": e.to_json(), "MessageAttributes": {}})
    assert from_sns_envelope(envelope) == e
    assert from_sns_envelope(e.to_json()) == e  # raw delivery accepted as well
    for bad in ("{not json", json.dumps({"Type": "Notification", "Message": "[]"}),
                json.dumps({"tracking_id": "KBB-1", "action": "x"}), json.dumps({**e.as_dict(), "seq": 0})):
        with pytest.raises(MalformedEvent):
            from_sns_envelope(bad)


def test_event_from_stream_image_with_decimals_and_json_data() -> None:
    from decimal import Decimal

    image = {"tracking_id": "KBB-1", "seq": Decimal(3), "action": "sla_breach", "at": "x", "actor": "sistem",
             "public": False, "data": json.dumps({"stage": "respon_opd", "n": 2})}
    e = DomainEvent.from_mapping(image)
    assert e.seq == 3 and e.data == {"stage": "respon_opd", "n": 2} and json.loads(e.to_json())["seq"] == 3


# -- partial batch response (the consumer glue, with a stand-in handler) ------------------------

def test_consumer_reports_only_the_failed_records(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import queue
    from chalicelib.services import sqs_batches

    delayed: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "delay_redelivery", lambda arn, handle, seconds: delayed.append((handle, seconds)))
    monkeypatch.setenv("RETRY_BASE_SECONDS", "8")

    def record(n: int, body: str, count: int = 1) -> dict[str, Any]:
        return {"messageId": f"m{n}", "receiptHandle": f"h{n}", "body": body,
                "attributes": {"ApproximateReceiveCount": str(count)}, "messageAttributes": {},
                "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-southeast-3:123456789012:q", "awsRegion": "ap-southeast-3"}

    good = event("verify", to_status="didisposisikan").to_json()
    boom = event("boom").to_json()
    seen: list[str] = []

    def handler(e: DomainEvent, delivery: sqs_batches.Delivery) -> None:
        seen.append(e.action)
        if e.action == "boom":
            raise RuntimeError("transient")

    batch = {"Records": [record(1, good), record(2, "{not json"), record(3, boom, count=3), record(4, good)]}
    result = sqs_batches.process(batch, None, handler, "test")
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    assert seen == ["verify", "boom", "verify"]
    # failed records get a backoff growing with their receive count (full jitter below the ceiling)
    assert [h for h, _ in delayed] == ["h2", "h3"] and 4 <= delayed[0][1] <= 8 and 16 <= delayed[1][1] <= 32

    everything_fails = {"Records": [record(5, "{not json"), record(6, "[]")]}
    assert sqs_batches.process(everything_fails, None, handler, "test") == {
        "batchItemFailures": [{"itemIdentifier": "m5"}, {"itemIdentifier": "m6"}]}
