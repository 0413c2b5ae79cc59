"""Privacy in every staff view: a canary identity in an `anonim` report never reaches an OPD (any
response, list or export), the NIK never reaches an OPD or pimpinan, and an admin's reading of an
anonymous identity or of a NIK leaves an audit event."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.data.models import Report, ReportEvent
from tests.staff_support import CANARY, Api, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def canary_report(valid_report: dict[str, Any], privacy: str = "anonim") -> dict[str, Any]:
    return {
        **valid_report,
        "privacy": privacy,
        "title": f"Jalan rusak dekat rumah {CANARY['name'].split()[0]}",
        "description": (f"Saya {CANARY['name']}, NIK {CANARY['nik']}, bisa dihubungi di {CANARY['phone']} "
                        f"atau {CANARY['email']}. Lubang besar sudah dua minggu."),
        "reporter": {"name": CANARY["name"], "email": CANARY["email"], "phone": CANARY["phone"], "nik": CANARY["nik"]},
    }


def leaks(text: str, nik_only: bool = False) -> list[str]:
    """Every form of the canary found in `text`."""
    digits = re.sub(r"\D", "", text)
    found = []
    if CANARY["nik"] in digits:
        found.append("nik")
    if nik_only:
        return found
    lowered = text.lower()
    for part in CANARY["name"].lower().split():
        if part in lowered:
            found.append(f"name:{part}")
    if CANARY["email"].lower() in lowered or "kanari.canary" in lowered:
        found.append("email")
    national = re.sub(r"\D", "", CANARY["phone"]).lstrip("0")  # 81398765432
    if national in digits:
        found.append("phone")
    return found


def body_text(r: Any) -> str:
    return r.body.decode() if isinstance(r.body, bytes) else str(r.body)


def test_anonim_canary_reaches_no_opd_response_list_or_export(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(canary_report(valid_report))
    tid = created["tracking_id"]
    seen: list[tuple[str, Any]] = []

    def opd_sees() -> None:
        seen.append(("detail", api.get(tid, "opd", "DPUPR")))
        for q in ("", "?status=" + Report.get(tid).status, "?kecamatan=lembang", "?limit=1", "?format=csv",
                  "?status=" + Report.get(tid).status + "&format=csv"):
            seen.append((f"list{q}", api.list("opd", "DPUPR", q)))

    # the admin's own answers are not an OPD's: not collected
    api.ok(tid, "admin", action="verify", opd_code="DPUPR", note=f"pelapor {CANARY['name']} sudah ditelepon")
    opd_sees()
    seen.append(("note", api.act(tid, "opd", "DPUPR", action="note", message="cek lapangan besok")))
    seen.append(("accept", api.act(tid, "opd", "DPUPR", action="accept")))
    opd_sees()
    seen.append(("respond", api.act(tid, "opd", "DPUPR", action="respond", message="Sudah ditambal.")))
    assert api.reply(created, f"Belum, masih berlubang. Salam, {CANARY['name']} ({CANARY['phone']})").status_code == 200
    opd_sees()
    seen.append(("return", api.act(tid, "opd", "DPUPR", action="return", reason_code="kewenangan_pusat_provinsi", reason="Ternyata jalan provinsi.")))
    seen.append(("detail-after-return", api.get(tid, "opd", "DPUPR")))
    api.ok(tid, "admin", action="redispose", opd_code="DPUPR", note="tetap DPUPR")
    opd_sees()
    seen.append(("reveal-attempt", api.reveal(tid, "opd", "DPUPR", ["identity"])))
    seen.append(("reveal-nik-attempt", api.reveal(tid, "opd", "DPUPR", ["nik"])))
    seen.append(("reveal-by-link", api.get(tid, "opd", "DPUPR", "?reveal=identity")))

    statuses = {name: r.status_code for name, r in seen}
    assert statuses["detail"] == 200 and statuses["list?format=csv"] == 200 and statuses["reveal-attempt"] == 403
    assert statuses["reveal-by-link"] == 400
    assert sum(1 for name, r in seen if name.startswith("list") and r.status_code == 200) >= 16
    leaked = {name: leaks(body_text(r)) for name, r in seen if leaks(body_text(r))}
    assert leaked == {}
    detail = api.get(tid, "opd", "DPUPR").json_body
    assert detail["reporter"] is None and "nik" not in json.dumps(detail["reporter"])
    assert "[nama disembunyikan]" in detail["description"] and "[nomor identitas disembunyikan]" in detail["description"]
    assert any(i["tracking_id"] == tid for i in api.list("opd", "DPUPR").json_body["items"])  # it was listed


def test_pimpinan_never_see_a_reporter_and_rahasia_only_as_counts(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    anon = api.submit(canary_report(valid_report))["tracking_id"]
    named = api.submit(canary_report(valid_report, "publik"))["tracking_id"]
    secret = api.submit(canary_report(valid_report, "rahasia"))
    for tid in (anon, named):
        r = api.get(tid, "pimpinan")
        assert r.status_code == 200 and r.json_body["reporter"] is None and leaks(body_text(r)) == [], tid
    assert api.reveal(named, "pimpinan", fields=["nik"]).status_code == 403
    assert api.get(named, "pimpinan", query="?reveal=nik").status_code == 400
    # rahasia: no view, no row, no CSV line; the admin still reads it all
    assert api.get(secret["tracking_id"], "pimpinan").status_code == 404
    for q in ("", "?format=csv", "?status=diajukan", "?kecamatan=lembang", "?status=diajukan&format=csv"):
        text = body_text(api.list("pimpinan", None, q))
        assert leaks(text) == [] and secret["tracking_id"] not in text, q
        assert anon in text and named in text, q
    assert api.get(secret["tracking_id"], "admin").json_body["reporter"]["name"] == CANARY["name"]
    assert secret["tracking_id"] in body_text(api.list("admin", None, "?format=csv"))


def test_pimpinan_drilldown_counts_rahasia_without_naming_it(client: Any, valid_report: dict[str, Any]) -> None:
    from chalicelib.domain import clock
    from chalicelib.services import performance
    from tests.staff_support import bearer

    api = Api(client)
    secret = api.submit(canary_report(valid_report, "rahasia"))
    named = api.submit(canary_report(valid_report, "publik"))
    for created in (secret, named):
        api.walk(created, "didisposisikan")
        performance.refresh(created["tracking_id"])
    period = clock.month_wib(clock.now())
    url = f"/staff/performance/DPUPR/reports?period={period}&figure=received"
    seen = {}
    for role in ("admin", "pimpinan"):
        body = client.http.get(url, headers=bearer(role)).json_body
        assert body["count"] == len(body["items"]) == 2, role
        seen[role] = {i["tracking_id"] for i in body["items"]}
        withheld = [i for i in body["items"] if i["withheld"]]
        assert len(withheld) == (1 if role == "pimpinan" else 0), role
    assert seen["admin"] == {secret["tracking_id"], named["tracking_id"]}
    assert seen["pimpinan"] == {None, named["tracking_id"]}


def test_opd_sees_named_identity_but_never_the_nik(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    created = api.submit(canary_report(valid_report, "publik"))
    api.walk(created, "diproses")
    r = api.get(created["tracking_id"], "opd", "DPUPR")
    assert r.json_body["reporter"] == {"name": CANARY["name"], "email": CANARY["email"], "phone": CANARY["phone_e164"]}
    assert leaks(body_text(r), nik_only=True) == []


def test_admin_reveal_is_explicit_and_audited(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(canary_report(valid_report))["tracking_id"]
    plain = api.get(tid, "admin").json_body
    assert plain["reporter"] is None and plain["reporter_hidden"] is True and plain["version"] == 1
    assert Report.get(tid).version == 1  # a plain read changes nothing

    r = api.reveal(tid, fields=["identity"], reason="Klarifikasi lapangan atas permintaan Inspektorat.")
    assert r.status_code == 200, r.body
    assert r.json_body == {"tracking_id": tid, "version": 2, "revealed": ["identity"],
                           "reporter": {"name": CANARY["name"], "email": CANARY["email"],
                                        "phone": CANARY["phone_e164"], "nik": None, "nik_on_file": True}}
    last = api.get(tid, "admin").json_body["audit_trail"][-1]
    assert (last["action"], last["actor"], last["actor_id"], last["public"]) == ("identity_viewed", "admin",
                                                                                 "local-admin", False)
    assert last["data"] == {"revealed": ["identity"], "privacy": "anonim",
                            "reason": "Klarifikasi lapangan atas permintaan Inspektorat."}

    with_nik = api.reveal(tid, fields=["nik"]).json_body
    assert with_nik["reporter"]["nik"] == CANARY["nik"] and with_nik["revealed"] == ["identity", "nik"]
    events = [e.action for e in ReportEvent.query(tid)]
    assert events.count("identity_viewed") == 2
    # the audit events are internal: neither the reporter's timeline nor any identity in the trail
    assert all(CANARY["nik"] not in json.dumps(e.data or {}) for e in ReportEvent.query(tid))
    # a plain GET after the reveals still shows nothing of the anonymous reporter
    assert api.get(tid, "admin").json_body["reporter"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"fields": ["identity"], "reason": "perlu"}, "reason"),
    ({"fields": ["identity"], "reason": "          x         "}, "reason"),
    ({"fields": ["identity"]}, "reason"),
    ({"fields": ["password"], "reason": "Alasan yang cukup panjang."}, "fields"),
    ({"fields": [], "reason": "Alasan yang cukup panjang."}, "fields"),
    ({"fields": ["identity"], "reason": "Alasan yang cukup panjang.", "extra": 1}, "extra"),
])
def test_reveal_refuses_a_bad_body_and_records_nothing(client: Any, valid_report: dict[str, Any],
                                                       body: dict[str, Any], field: str) -> None:
    from tests.staff_support import bearer

    api = Api(client)
    tid = api.submit(canary_report(valid_report))["tracking_id"]
    r = client.http.post(f"/staff/reports/{tid}/reveal", body=json.dumps(body),
                         headers={"Content-Type": "application/json", **bearer("admin")})
    assert r.status_code == 400, r.body
    error = r.json_body["error"]
    assert error["code"] == "validation_error" and field in {d["field"] for d in error["details"]}
    assert Report.get(tid).version == 1 and leaks(body_text(r)) == []


def test_reveal_by_link_is_refused(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(canary_report(valid_report))["tracking_id"]
    for q in ("?reveal=identity", "?reveal=nik", "?reveal=identity,nik", "?reveal="):
        r = api.get(tid, "admin", query=q)
        assert r.status_code == 400, q
        assert r.json_body["error"]["code"] == "validation_error"
        assert r.json_body["error"]["details"][0]["field"] == "reveal"
        assert "POST" in r.json_body["error"]["details"][0]["message"]
        assert leaks(body_text(r)) == []
    assert [e.action for e in ReportEvent.query(tid)] == ["submit"]
    assert api.get(tid, "admin", query="?show=all").status_code == 400


def test_admin_nik_of_named_report_only_on_reveal(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(canary_report(valid_report, "rahasia"))["tracking_id"]
    plain = api.get(tid, "admin").json_body
    assert plain["reporter"]["name"] == CANARY["name"] and plain["reporter"]["nik"] is None
    assert leaks(json.dumps(plain["reporter"]), nik_only=True) == []
    assert [e["action"] for e in plain["audit_trail"]] == ["submit"]
    revealed = api.reveal(tid, fields=["nik"]).json_body
    assert revealed["reporter"]["nik"] == CANARY["nik"] and revealed["revealed"] == ["nik"]
    assert api.get(tid, "admin").json_body["audit_trail"][-1]["data"]["revealed"] == ["nik"]
