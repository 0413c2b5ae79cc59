"""Authorization: every staff route x every role x privacy mode x own OPD / other OPD / unassigned
report, with zero unexpected successes (and no missing ones); and no route without a rule.

The expectations are written here from CONTRACT.md, independently of the code under test:
- ROUTE_RULES: who may call each staff route at all (what `route(..., roles=...)` must declare);
- ACTION_ROLES / ACTION_FROM: the contract's action table;
- an `opd` user sees only reports forwarded to its own OPD (anything else is a 404);
- an `opd_admin` (the head of an OPD's desk) may do all an `opd` user may, on the same reports,
  plus what names it alone (GET /staff/officers of its own OPD, action `assign`);
- a `rahasia` report is read only by admins and the assigned OPD: `pimpinan` see it only as
  counts (no view, no list row or CSV line, no tracking id in a drill-down);
- the reporter's contact: admin for publik/rahasia (anonim only through the audited reveal), the
  assigned OPD when not anonim, pimpinan never.
A new route fails `test_every_route_has_a_rule` until it is added to ROUTE_RULES (staff) or
PUBLIC_ROUTES (public or reporter-token), and `test_matrix_covers_every_staff_route` until it has
a driver in the matrix.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import auth
from chalicelib.data.models import Report
from chalicelib.domain import clock
from tests.staff_support import Api, bearer, staff_auth  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")

ROLES = ("admin", "opd", "pimpinan", "opd_admin")
OWN, OTHER = "DPUPR", "DINSOS"  # the opd and opd_admin users belong to OWN
OPD_ROLES = ("opd", "opd_admin")
SCENARIOS = ("own", "other", "unassigned")
PRIVACIES = ("publik", "anonim", "rahasia")

# The OPD roles of the month-closing routes: `opd_admin` too where the tree has that role.
OPD_ROLES = frozenset(r for r in ("opd", "opd_admin") if r in auth.ROLES)
# (method, path) -> roles the route admits. Data then narrows `opd` to its own OPD.
ROUTE_RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/staff/reports"): frozenset({"admin", "opd", "pimpinan"}),
    ("GET", "/staff/reports/{tracking_id}"): frozenset({"admin", "opd", "pimpinan"}),
    ("POST", "/staff/reports/{tracking_id}/actions"): frozenset({"admin", "opd"}),
    ("POST", "/staff/reports/{tracking_id}/reveal"): frozenset({"admin"}),
    ("GET", "/staff/reports/{tracking_id}/similar"): frozenset({"admin"}),  # the verification desk
    ("GET", "/staff/reports/{tracking_id}/attachments/{attachment_id}"): frozenset({"admin", "opd", "pimpinan"}),
    # An OPD sees its own row and its own drill-down only.
    ("GET", "/staff/performance"): frozenset({"admin", "pimpinan"}) | OPD_ROLES,
    ("GET", "/staff/performance/{opd_code}/reports"): frozenset({"admin", "pimpinan"}) | OPD_ROLES,
    ("POST", "/staff/months/{period}/objections"): OPD_ROLES,  # an OPD objects to its own figures
    ("GET", "/staff/months/{period}/objections"): frozenset({"admin"}) | OPD_ROLES,
    ("PUT", "/staff/months/{period}/objections/{objection_id}"): frozenset({"admin"}),
    ("POST", "/staff/months/{period}/finalise"): frozenset({"admin"}),
    ("GET", "/staff/calendar/overrides"): frozenset({"admin"}),
    ("PUT", "/staff/calendar/overrides/{date}"): frozenset({"admin"}),
    ("DELETE", "/staff/calendar/overrides/{date}"): frozenset({"admin"}),
    ("GET", "/staff/sync/problems"): frozenset({"admin"}),
    ("POST", "/staff/sync/{tracking_id}/retry"): frozenset({"admin"}),
    ("POST", "/staff/reports"): frozenset({"admin"}),  # the desk enters a report for a citizen
    ("GET", "/staff/templates"): frozenset({"admin", "opd"}),
    ("PUT", "/staff/templates/{template_id}"): frozenset({"admin"}),
    ("DELETE", "/staff/templates/{template_id}"): frozenset({"admin"}),
    ("GET", "/staff/officers"): frozenset({"admin", "opd_admin"}),
}


def admitted(role: str, roles: frozenset[str] | set[str]) -> bool:
    """Whether `role` is among `roles`; an opd_admin holds every right of an opd user too."""
    return role in roles or (role == "opd_admin" and "opd" in roles)
# Routes meant to be open to anyone (None) or to the holder of a report's access token ("token").
PUBLIC_ROUTES: dict[tuple[str, str], str | None] = {
    ("GET", "/health"): None, ("GET", "/openapi.json"): None, ("GET", "/opds"): None,
    ("GET", "/categories"): None, ("GET", "/kecamatan"): None, ("GET", "/calendar"): None,
    ("GET", "/stats"): None, ("POST", "/reports"): None, ("POST", "/attachments"): None,
    ("GET", "/reports/{tracking_id}"): "token", ("POST", "/reports/{tracking_id}/replies"): "token",
    ("POST", "/reports/{tracking_id}/feedback"): "token",
    # "lupa kode akses": public, per-client limited, the same answer whatever the contact
    ("POST", "/reports/{tracking_id}/access-recovery"): None,
    ("POST", "/reports/{tracking_id}/access-recovery/confirm"): None,
    ("GET", "/reports/{tracking_id}/attachments/{attachment_id}"): "token",
    # Open311: public reads; a POST's partner api_key is checked by the handler (tests/integration/test_open311.py)
    **{("GET", f"/open311/v2/{p}"): None for p in ("discovery.json", "services.json", "services.xml",
                                                   "services/{service_file}", "requests.json", "requests.xml",
                                                   "requests/{request_file}")},
    ("POST", "/open311/v2/requests.json"): None, ("POST", "/open311/v2/requests.xml"): None,
    # The SMS gateway's callback: its signature is checked by the handler (tests/unit/test_sms_channel.py)
    ("POST", "/channels/sms"): None,
    # Meta's webhook: the verify token and the body's signature are checked by the handler
    # (tests/integration/test_whatsapp_webhook.py).
    ("GET", "/channels/whatsapp"): None, ("POST", "/channels/whatsapp"): None,
}

ALL = ("diajukan", "perlu_kelengkapan", "ditolak", "didisposisikan", "diproses", "dikembalikan",
       "ditindaklanjuti", "selesai")
OPEN = ("diajukan", "perlu_kelengkapan", "didisposisikan", "diproses", "dikembalikan", "ditindaklanjuti")
ACTION_ROLES = {"verify": {"admin"}, "request_info": {"admin", "opd"}, "reject": {"admin"}, "redispose": {"admin"},
                "accept": {"opd"}, "respond": {"opd"}, "progress": {"opd"}, "return": {"opd"},
                "note": {"admin", "opd"}, "close": {"admin"}, "assign": {"opd_admin"}, "correct": {"admin"},
                "merge": {"admin"}}
ACTION_FROM = {"verify": ("diajukan",), "request_info": ("diajukan", "diproses"),
               "reject": ("diajukan", "perlu_kelengkapan"),
               "redispose": ("didisposisikan", "diproses", "dikembalikan"), "accept": ("didisposisikan",),
               "respond": ("didisposisikan", "diproses"), "progress": ("didisposisikan", "diproses"),
               "return": ("didisposisikan", "diproses"), "note": ALL, "close": OPEN,
               "assign": ("didisposisikan", "diproses", "perlu_kelengkapan", "ditindaklanjuti"), "correct": OPEN,
               "merge": OPEN}
# Where one role of an action moves from fewer statuses than the action as a whole.
ROLE_FROM = {("request_info", "admin"): ("diajukan",), ("request_info", "opd"): ("diproses",)}
FIELDS = {"verify": {"opd_code": "DISHUB"}, "request_info": {"message": "Mohon foto."},
          "reject": {"reason": "r", "message": "Ditolak."}, "redispose": {"opd_code": "DISHUB", "note": "n"},
          "accept": {}, "respond": {"message": "Sudah."}, "progress": {"message": "Sedang dikerjakan."}, "return": {"reason_code": "bukan_wewenang", "reason": "Bukan wewenang."},
          "note": {"message": "catatan"}, "close": {"message": "Selesai."},
          "assign": {"officer": "local-opd-dpupr-2"}, "correct": {"category": "drainase"},
          "merge": {}}  # its `primary` is a report made per scenario (test_action_matrix)
# Statuses a report can be in under each scenario (an OPD holds it, or none does).
HELD = ("didisposisikan", "diproses", "ditindaklanjuti")
UNHELD = ("diajukan", "perlu_kelengkapan", "dikembalikan", "ditolak")


def opd_of(role: str) -> str | None:
    return OWN if role in OPD_ROLES else None


def status_for(action: str, scenario: str) -> str:
    """A status where the action applies, if the scenario allows one; else a typical one."""
    possible = HELD if scenario in ("own", "other") else UNHELD
    for status in ACTION_FROM[action]:
        if status in possible:
            return status
    return possible[0]


def expected(role: str, scenario: str, action: str, status: str) -> int:
    if not admitted(role, ROUTE_RULES[("POST", "/staff/reports/{tracking_id}/actions")]):
        return 403
    if role in OPD_ROLES and scenario != "own":
        return 404
    if not admitted(role, ACTION_ROLES[action]):
        return 403
    as_role = "opd" if role == "opd_admin" and role not in ACTION_ROLES[action] else role
    if status not in ROLE_FROM.get((action, as_role), ACTION_FROM[action]):
        return 409
    return 200


def make(api: Api, valid_report: dict[str, Any], scenario: str, status: str, privacy: str = "publik") -> dict[str, Any]:
    from chalicelib.services import performance
    from tests.attachment_support import clean_attachment

    photo = clean_attachment()  # each report has a file of its own, for the staff download route
    created = {**api.submit({**valid_report, "privacy": privacy, "attachments": [photo]}), "photo": photo}
    api.walk(created, status, opd=OTHER if scenario == "other" else OWN)
    performance.refresh(created["tracking_id"])  # what the PerformanceQueue consumer does
    return created


def may_read(role: str, scenario: str, privacy: str) -> bool:
    """CONTRACT.md, written out: admins read all, an OPD its own, pimpinan no rahasia."""
    return {"admin": True, "opd": scenario == "own", "opd_admin": scenario == "own",
            "pimpinan": privacy != "rahasia"}[role]


def sees_contact(role: str, scenario: str, privacy: str) -> bool:
    """The reporter's name/email/phone in a plain staff view (no reveal)."""
    return {"admin": privacy != "anonim", "opd": scenario == "own" and privacy != "anonim",
            "opd_admin": scenario == "own" and privacy != "anonim", "pimpinan": False}[role]


def test_every_route_has_a_rule(app: Any) -> None:
    from chalicelib.api.http import operations

    documented = {(op.method, op.path): op for op in operations()}
    problems = []
    for path, methods in app.routes.items():
        for method in methods:
            if method == "OPTIONS":
                continue
            key = (method, path)
            op = documented.get(key)
            if op is None:
                problems.append(f"{method} {path}: registered without chalicelib.api.http.route()")
            elif path.startswith("/staff") or op.auth == "staff":
                if op.auth != "staff" or not op.roles:
                    problems.append(f"{method} {path}: a staff route must declare auth='staff' and roles")
                elif key not in ROUTE_RULES:
                    problems.append(f"{method} {path}: no rule in ROUTE_RULES (who may call it?)")
                elif frozenset(op.roles) != ROUTE_RULES[key]:
                    problems.append(f"{method} {path}: declares {sorted(op.roles)}, rule says {sorted(ROUTE_RULES[key])}")
            elif key not in PUBLIC_ROUTES:
                problems.append(f"{method} {path}: not a staff route and not listed as public/token in PUBLIC_ROUTES")
            elif PUBLIC_ROUTES[key] != op.auth:
                problems.append(f"{method} {path}: auth {op.auth!r}, rule says {PUBLIC_ROUTES[key]!r}")
    assert not problems, "\n".join(problems)


def test_rule_check_catches_a_route_without_a_rule(app: Any) -> None:
    """The check above is not vacuous: an undocumented route, or a staff route without roles, fails."""
    from chalicelib.api.http import route

    with pytest.raises(ValueError):
        route("/staff/open-door", "GET", summary="x", tags=["x"], auth="staff")(dict)
    routes = {**app.routes, "/staff/secret": {"GET": None}}

    class Fake:
        pass

    fake = Fake()
    fake.routes = routes  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match="/staff/secret"):
        test_every_route_has_a_rule(fake)


def _list_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.list(role, opd_of(role), "?limit=100")
    ids = {i["tracking_id"] for i in r.json_body["items"]} if r.status_code == 200 else set()
    csv = api.list(role, opd_of(role), "?format=csv")
    in_csv = csv.status_code == 200 and report["tracking_id"] in (csv.body.decode() if isinstance(csv.body, bytes)
                                                                  else str(csv.body))
    assert (report["tracking_id"] in ids) == in_csv, (role, scenario)  # the export is the list
    return r.status_code, report["tracking_id"] in ids


def _detail_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.get(report["tracking_id"], role, opd_of(role))
    return r.status_code, r.status_code == 200


def _reveal_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.reveal(report["tracking_id"], role, opd_of(role), fields=["identity"])
    return r.status_code, r.status_code == 200


def _similar_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get(f"/staff/reports/{report['tracking_id']}/similar", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200 and isinstance(r.json_body.get("items"), list)


def _attachment_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get(f"/staff/reports/{report['tracking_id']}/attachments/{report['photo']}",
                            headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _performance_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    period = clock.month_wib(clock.now())
    r = api.client.http.get(f"/staff/performance?period={period}", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _drilldown_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    """Seen: the report's tracking id is in its OPD's drill-down (a withheld row is a count)."""
    period = clock.month_wib(clock.now())
    code = {"own": OWN, "other": OTHER, "unassigned": "DISHUB"}[scenario]
    r = api.client.http.get(f"/staff/performance/{code}/reports?period={period}&figure=received",
                            headers=bearer(role, opd_of(role)))
    ids = {i["tracking_id"] for i in r.json_body["items"]} if r.status_code == 200 else set()
    return r.status_code, report["tracking_id"] in ids


_DAY = "2031-01-02"


def _overrides_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get("/staff/calendar/overrides", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _put_override(api: Api, role: str) -> Any:
    return api.client.http.put(f"/staff/calendar/overrides/{_DAY}", body=json.dumps({"kind": "off", "note": "uji"}),
                               headers={"Content-Type": "application/json", **bearer(role, opd_of(role))})


def _put_override_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = _put_override(api, role)
    return r.status_code, r.status_code == 200


def _delete_override_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    assert _put_override(api, "admin").status_code == 200
    r = api.client.http.delete(f"/staff/calendar/overrides/{_DAY}", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _sync_problems_driver(api: Api, world: dict[str, dict[str, Any]], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get("/staff/sync/problems", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _sync_retry_driver(api: Api, world: dict[str, dict[str, Any]], role: str, scenario: str) -> tuple[int, bool]:
    # A report that does not exist: past the role check it is a 404, and nothing is sent anywhere.
    r = api.client.http.post("/staff/sync/KBB-0000-0000/retry", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 404


def _enter_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    body = {k: v for k, v in report.items() if k in ("type",)} or {"type": "pengaduan"}
    body.update({"title": "Dicatat petugas", "description": "Warga datang ke kantor melaporkan jalan rusak di desa.",
                 "location": {"kecamatan": "lembang"}, "privacy": "anonim", "reporter": {}, "channel": "walk_in"})
    r = api.client.http.post("/staff/reports", body=json.dumps(body),
                             headers={"Content-Type": "application/json", **bearer(role, opd_of(role))})
    return r.status_code, r.status_code == 201


def _templates_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get("/staff/templates?action=respond", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _put_template(api: Api, role: str) -> Any:
    body = {"action": "respond", "title": "Uji matriks", "text": "Jawaban siap pakai untuk uji matriks."}
    return api.client.http.put("/staff/templates/uji-matriks", body=json.dumps(body),
                               headers={"Content-Type": "application/json", **bearer(role, opd_of(role))})


def _put_template_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = _put_template(api, role)
    return r.status_code, r.status_code == 200


def _delete_template_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    assert _put_template(api, "admin").status_code == 200
    r = api.client.http.delete("/staff/templates/uji-matriks", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _officers_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    r = api.client.http.get(f"/staff/officers?opd={OWN}", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200 and len(r.json_body["items"]) > 0


def _object_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    # A report that is not the OPD's: past the role check it is a 404, and nothing is stored.
    period = clock.month_wib(clock.now())
    body = {"tracking_id": "KBB-0000-0000", "figure": "late", "reason": "Uji matriks."}
    r = api.client.http.post(f"/staff/months/{period}/objections", body=json.dumps(body),
                             headers={"Content-Type": "application/json", **bearer(role, opd_of(role))})
    return r.status_code, r.status_code == 404


def _objections_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    period = clock.month_wib(clock.now())
    r = api.client.http.get(f"/staff/months/{period}/objections", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 200


def _decide_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    period = clock.month_wib(clock.now())
    r = api.client.http.put(f"/staff/months/{period}/objections/keb_{'0' * 20}",
                            body=json.dumps({"decision": "accepted"}),
                            headers={"Content-Type": "application/json", **bearer(role, opd_of(role))})
    return r.status_code, r.status_code == 404


def _finalise_driver(api: Api, report: dict[str, Any], role: str, scenario: str) -> tuple[int, bool]:
    # The current month: past the role check, refused while its objection window is open.
    period = clock.month_wib(clock.now())
    r = api.client.http.post(f"/staff/months/{period}/finalise", headers=bearer(role, opd_of(role)))
    return r.status_code, r.status_code == 409 and r.json_body["error"]["code"] == "objection_window_open"


# Non-action routes: a driver per route returns (status, whether the caller got the thing).
# Routes about one report: whether the caller got it depends on privacy and ownership too.
REPORT_ROUTES = {("GET", "/staff/reports"), ("GET", "/staff/reports/{tracking_id}"),
                 ("POST", "/staff/reports/{tracking_id}/reveal"), ("GET", "/staff/performance/{opd_code}/reports"),
                 ("GET", "/staff/reports/{tracking_id}/similar"),
                 ("GET", "/staff/reports/{tracking_id}/attachments/{attachment_id}")}
READ_DRIVERS: dict[tuple[str, str], Callable[..., tuple[int, bool]]] = {
    ("GET", "/staff/reports"): _list_driver,
    ("GET", "/staff/reports/{tracking_id}"): _detail_driver,
    ("POST", "/staff/reports/{tracking_id}/reveal"): _reveal_driver,
    ("GET", "/staff/reports/{tracking_id}/similar"): _similar_driver,
    ("GET", "/staff/reports/{tracking_id}/attachments/{attachment_id}"): _attachment_driver,
    ("GET", "/staff/performance"): _performance_driver,
    ("GET", "/staff/performance/{opd_code}/reports"): _drilldown_driver,
    ("GET", "/staff/calendar/overrides"): _overrides_driver,
    ("PUT", "/staff/calendar/overrides/{date}"): _put_override_driver,
    ("DELETE", "/staff/calendar/overrides/{date}"): _delete_override_driver,
    ("GET", "/staff/sync/problems"): _sync_problems_driver,
    ("POST", "/staff/sync/{tracking_id}/retry"): _sync_retry_driver,
    ("POST", "/staff/reports"): _enter_driver,
    ("GET", "/staff/templates"): _templates_driver,
    ("PUT", "/staff/templates/{template_id}"): _put_template_driver,
    ("DELETE", "/staff/templates/{template_id}"): _delete_template_driver,
    ("GET", "/staff/officers"): _officers_driver,
    ("POST", "/staff/months/{period}/objections"): _object_driver,
    ("GET", "/staff/months/{period}/objections"): _objections_driver,
    ("PUT", "/staff/months/{period}/objections/{objection_id}"): _decide_driver,
    ("POST", "/staff/months/{period}/finalise"): _finalise_driver,
}


def test_matrix_covers_every_staff_route() -> None:
    from chalicelib.api.http import operations

    staff = {(op.method, op.path) for op in operations() if op.auth == "staff"}
    covered = set(READ_DRIVERS) | {("POST", "/staff/reports/{tracking_id}/actions")}
    assert staff <= covered, f"no matrix driver for {sorted(staff - covered)}"


def test_read_routes_matrix(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    world = {(scenario, privacy): make(api, valid_report, scenario,
                                       "diajukan" if scenario == "unassigned" else "didisposisikan", privacy)
             for scenario in SCENARIOS for privacy in PRIVACIES}
    unexpected, missing, cells = [], [], 0
    for key, driver in READ_DRIVERS.items():
        for role in ROLES:
            for (scenario, privacy), report in world.items():
                status, seen = driver(api, report, role, scenario)
                cells += 1
                allowed = admitted(role, ROUTE_RULES[key])
                if key in REPORT_ROUTES:
                    should_see = allowed and may_read(role, scenario, privacy)
                    if key[1].startswith("/staff/performance"):  # only a disposed report has a figure
                        should_see = should_see and scenario != "unassigned"
                else:
                    should_see = allowed
                if not allowed:
                    assert status == 403, (key, role, scenario, privacy, status)
                elif key[1] == "/staff/reports/{tracking_id}" and not should_see:
                    assert status == 404, (key, role, scenario, privacy, status)
                if seen and not should_see:
                    unexpected.append((key, role, scenario, privacy, status))
                if should_see and not seen:
                    missing.append((key, role, scenario, privacy, status))
    assert cells == len(READ_DRIVERS) * len(ROLES) * len(SCENARIOS) * len(PRIVACIES)
    assert unexpected == [], f"unexpected successes: {unexpected}"
    assert missing == [], f"refused although allowed: {missing}"


def test_identity_matrix(client: Any, valid_report: dict[str, Any]) -> None:
    """role x privacy x ownership: the reporter's contact in the plain staff view, and never in a
    list row or a CSV line."""
    api = Api(client)
    reporter = {"name": "Matriks Pelapor", "email": "matriks@example.net", "phone": "081311112222"}
    world = {(scenario, privacy): make(api, {**valid_report, "reporter": reporter}, scenario,
                                       "diajukan" if scenario == "unassigned" else "didisposisikan", privacy)
             for scenario in SCENARIOS for privacy in PRIVACIES}
    wrong = []
    for role in ROLES:
        listed = api.list(role, opd_of(role), "?limit=100").body
        export = api.list(role, opd_of(role), "?format=csv").body
        for text in (listed, export):
            text = text.decode() if isinstance(text, bytes) else str(text)
            assert "Matriks" not in text and "matriks@" not in text and "1311112222" not in text, role
        for (scenario, privacy), report in world.items():
            r = api.get(report["tracking_id"], role, opd_of(role))
            shown = r.status_code == 200 and r.json_body["reporter"] is not None
            if shown != sees_contact(role, scenario, privacy):
                wrong.append((role, scenario, privacy, r.status_code, shown))
            if r.status_code == 200 and not shown:
                assert "Matriks" not in json.dumps(r.json_body), (role, scenario, privacy)
    assert wrong == [], f"identity shown/hidden against the rule: {wrong}"


def test_list_filters_never_widen_an_opd_view(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    own = make(api, valid_report, "own", "diproses")["tracking_id"]
    make(api, valid_report, "other", "diproses")
    make(api, valid_report, "unassigned", "diajukan")
    make(api, valid_report, "unassigned", "dikembalikan")
    for query in ("", "?opd_code=DINSOS", "?opd_code=dinsos", "?status=diajukan", "?status=diproses",
                  "?status=dikembalikan", "?kecamatan=Lembang", "?status=diproses&opd_code=DINSOS", "?format=csv",
                  "?opd_code=DINSOS&format=csv"):
        r = api.list("opd", OWN, query)
        assert r.status_code == 200, (query, r.body)
        body = r.body.decode() if isinstance(r.body, bytes) else str(r.body)
        ids = {line.split(",")[0] for line in body.splitlines()[1:]} if "csv" in query else \
            {i["tracking_id"] for i in json.loads(body)["items"]}
        assert ids <= {own}, (query, ids)
    assert {i["tracking_id"] for i in api.list("admin", None, "?opd_code=DPUPR").json_body["items"]} == {own}
    assert len(api.list("pimpinan").json_body["items"]) == 4


@pytest.mark.parametrize("action", list(ACTION_ROLES))
def test_action_matrix(client: Any, valid_report: dict[str, Any], action: str) -> None:
    """Each action x scenario x role. Refusals are tried first and must change nothing; then the
    expected successes (admin, opd and opd_admin for `note`; opd and opd_admin each on a report of
    its own)."""
    api = Api(client)
    unexpected, missing, wrong = [], [], []
    for scenario in SCENARIOS:
        status = status_for(action, scenario)
        created = make(api, valid_report, scenario, status)
        tid = created["tracking_id"]
        plan = sorted(ROLES, key=lambda role: expected(role, scenario, action, status) == 200)
        succeeded = False
        fields = FIELDS[action]
        if action == "merge":
            fields = {"primary": api.submit(valid_report)["tracking_id"]}
        for role in plan:
            want = expected(role, scenario, action, status)
            if want == 200 and succeeded:  # opd and opd_admin both may: each on a report of its own
                tid = make(api, valid_report, scenario, status)["tracking_id"]
            before = Report.get(tid)
            r = api.act(tid, role, opd_of(role), action=action, **fields)
            succeeded = succeeded or r.status_code == 200
            if r.status_code == 200 and want != 200:
                unexpected.append((action, scenario, status, role))
            elif want == 200 and r.status_code != 200:
                missing.append((action, scenario, status, role, r.status_code, r.body))
            elif r.status_code != want:
                wrong.append((action, scenario, status, role, want, r.status_code))
            if want != 200:
                after = Report.get(tid)
                assert (after.version, after.status, after.opd_code) == (before.version, before.status,
                                                                         before.opd_code), (action, role)
    assert unexpected == [], f"unexpected successes: {unexpected}"
    assert missing == [], f"refused although allowed: {missing}"
    assert wrong == [], f"wrong refusal codes: {wrong}"
