"""Which module serves each route. app.py hands these to Chalice without importing the modules
(chalicelib/api/http.py: register), so a cold start loads only what it serves: every function of
this app imports app.py, the queue consumers need no route and an API call only its own module.
tests/unit/test_routes.py keeps this table equal to the modules' @route declarations."""
from __future__ import annotations

ROUTES: tuple[tuple[str, str, str], ...] = (  # (path, method, module under chalicelib/api/)
    ("/health", "GET", "meta"),
    ("/openapi.json", "GET", "meta"),
    ("/opds", "GET", "reference"),
    ("/categories", "GET", "reference"),
    ("/kecamatan", "GET", "reference"),
    ("/calendar", "GET", "calendar"),
    ("/reports", "POST", "submissions"),
    ("/reports/{tracking_id}", "GET", "citizen"),
    ("/reports/{tracking_id}/replies", "POST", "citizen"),
    ("/reports/{tracking_id}/feedback", "POST", "citizen"),
    ("/reports/{tracking_id}/access-recovery", "POST", "citizen"),
    ("/reports/{tracking_id}/access-recovery/confirm", "POST", "citizen"),
    ("/attachments", "POST", "attachments"),
    ("/reports/{tracking_id}/attachments/{attachment_id}", "GET", "attachments"),
    ("/staff/reports", "GET", "staff"),
    ("/staff/reports", "POST", "staff"),
    ("/staff/reports/{tracking_id}", "GET", "staff"),
    ("/staff/reports/{tracking_id}/actions", "POST", "staff"),
    ("/staff/reports/{tracking_id}/reveal", "POST", "staff"),
    ("/staff/officers", "GET", "staff"),
    ("/staff/reports/{tracking_id}/similar", "GET", "staff"),
    ("/staff/reports/{tracking_id}/attachments/{attachment_id}", "GET", "attachments"),
    ("/staff/calendar/overrides", "GET", "calendar"),
    ("/staff/calendar/overrides/{date}", "PUT", "calendar"),
    ("/staff/calendar/overrides/{date}", "DELETE", "calendar"),
    ("/staff/performance", "GET", "performance"),
    ("/staff/performance/{opd_code}/reports", "GET", "performance"),
    ("/stats", "GET", "performance"),
    ("/staff/months/{period}/objections", "POST", "performance"),
    ("/staff/months/{period}/objections", "GET", "performance"),
    ("/staff/months/{period}/objections/{objection_id}", "PUT", "performance"),
    ("/staff/months/{period}/finalise", "POST", "performance"),
    ("/open311/v2/discovery.json", "GET", "open311"),
    ("/open311/v2/services.json", "GET", "open311"),
    ("/open311/v2/services.xml", "GET", "open311"),
    ("/open311/v2/services/{service_file}", "GET", "open311"),
    ("/open311/v2/requests.json", "GET", "open311"),
    ("/open311/v2/requests.xml", "GET", "open311"),
    ("/open311/v2/requests.json", "POST", "open311"),
    ("/open311/v2/requests.xml", "POST", "open311"),
    ("/open311/v2/requests/{request_file}", "GET", "open311"),
    ("/staff/sync/problems", "GET", "sp4n_sync"),
    ("/staff/sync/{tracking_id}/retry", "POST", "sp4n_sync"),
    ("/channels/sms", "POST", "sms"),
    ("/staff/templates", "GET", "templates"),
    ("/staff/templates/{template_id}", "PUT", "templates"),
    ("/staff/templates/{template_id}", "DELETE", "templates"),
    ("/channels/whatsapp", "GET", "whatsapp"),
    ("/channels/whatsapp", "POST", "whatsapp"),
)

OPEN311_PREFIX = "/open311/"  # answered in the GeoReport v2 shapes (chalicelib/api/http.py middleware)

# Routes that accept more than JSON. (path, method) -> content types; the rest take application/json.
_FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("/open311/v2/requests.json", "POST"): (_FORM, "application/json"),
    ("/open311/v2/requests.xml", "POST"): (_FORM, "application/json"),
    ("/channels/sms", "POST"): (_FORM,),
}

MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for _, _, module in ROUTES))
