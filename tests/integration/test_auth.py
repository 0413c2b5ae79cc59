"""Staff authentication through the app: every staff route refuses bad tokens with 401, a token
without a staff role gets 403, and in AWS mode Cognito tokens (JWKS) are the only ones accepted."""
from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import jwt
import pytest

from chalicelib.local import tokens
from tests.staff_support import Api, key_pair, staff_auth, token  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("staff_auth")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    c = {"sub": "u", "role": "admin", "iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "token_use": "id",
         "iat": now, "exp": now + 600}
    c.update(over)
    return c


def _sign(claims: dict[str, Any], key: str | None = None) -> str:
    return jwt.encode(claims, key or key_pair()[0], algorithm="RS256", headers={"kid": tokens.KID})


def _bad_tokens() -> dict[str, dict[str, str]]:
    good = token("admin")
    head, _, sig = good.split(".")
    forged_body = _b64(json.dumps(_claims(sub="intruder")).encode())
    none_head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    hs_head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    import hashlib
    import hmac

    body = _b64(json.dumps(_claims()).encode())
    hs_sig = _b64(hmac.new(key_pair()[1].encode(), f"{hs_head}.{body}".encode(), hashlib.sha256).digest())
    now = int(time.time())
    return {
        "missing": {},
        "empty_bearer": {"Authorization": "Bearer "},
        "not_bearer": {"Authorization": f"Basic {good}"},
        "garbage": {"Authorization": "Bearer abc.def.ghi"},
        "alg_none": {"Authorization": f"Bearer {none_head}.{body}."},
        "hs256_public_key": {"Authorization": f"Bearer {hs_head}.{body}.{hs_sig}"},
        "bad_signature": {"Authorization": f"Bearer {head}.{forged_body}.{sig}"},
        "other_key": {"Authorization": f"Bearer {_sign(_claims(), tokens.generate_pair()[0])}"},
        "expired": {"Authorization": f"Bearer {_sign(_claims(iat=now - 7200, exp=now - 3600))}"},
        "wrong_issuer": {"Authorization": f"Bearer {_sign(_claims(iss='https://evil.example'))}"},
        "wrong_audience": {"Authorization": f"Bearer {_sign(_claims(aud='another-app'))}"},
        "wrong_use": {"Authorization": f"Bearer {_sign(_claims(token_use='refresh'))}"},
    }


def _staff_calls(tid: str) -> list[tuple[str, str, str | None]]:
    """(method, path, body) for every staff route in the operation registry."""
    from chalicelib.api.http import operations

    calls = []
    values = {"tracking_id": tid, "opd_code": "DPUPR", "date": "2031-01-02", "template_id": "minta-lokasi",
              "attachment_id": "att_" + "0" * 32, "period": "2026-11", "objection_id": "keb_" + "0" * 20}
    for op in operations():
        if op.auth != "staff":
            continue
        path = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), m.group(0)), op.path)
        assert not re.search(r"{\w+}", path), f"add a value for the path parameters of {op.path}"
        body = json.dumps({"action": "note", "message": "x"}) if op.method in ("POST", "PUT") else None
        if op.path == "/staff/officers":
            path += "?opd=DPUPR"  # what an admin must name; an opd_admin's own OPD
        calls.append((op.method, path, body))
    return calls


def test_bad_tokens_are_401_on_every_staff_route(client: Any, valid_report: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    calls = _staff_calls(tid)
    assert len(calls) >= 3
    failures = []
    for name, headers in _bad_tokens().items():
        for method, path, body in calls:
            r = client.http.request(method, path, body=body or b"",
                                    headers={"Content-Type": "application/json", **headers})
            if r.status_code != 401 or r.json_body["error"]["code"] != "unauthenticated":
                failures.append((name, method, path, r.status_code))
    assert failures == []
    from chalicelib.data.models import Report

    assert Report.get(tid).version == 1  # nothing happened


@pytest.mark.parametrize("extra", [
    {"role": "superuser"}, {"role": None}, {"role": "Admin"}, {"role": "opd"}, {"role": "opd", "opd_code": ""},
    {"role": "opd_admin"}, {"role": "opd_admin", "opd_code": ""}, {"role": "opd-admin", "opd_code": "DPUPR"},
])
def test_valid_token_without_a_staff_role_is_403(client: Any, valid_report: dict[str, Any], extra: dict[str, Any]) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    claims = {k: v for k, v in _claims(**extra).items() if v is not None}
    for method, path, body in _staff_calls(tid):
        r = client.http.request(method, path, body=body or b"",
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {_sign(claims)}"})
        assert r.status_code == 403 and r.json_body["error"]["code"] == "forbidden", (path, r.body)


def test_no_verifier_configured_refuses_everything(client: Any, valid_report: dict[str, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    monkeypatch.delenv("LOCAL_JWT_PUBLIC_KEY")
    assert api.get(tid, "admin").status_code == 401


def test_cognito_mode_end_to_end(client: Any, valid_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """With a user pool configured, the app takes its keys from the pool's JWKS (fetched once and
    cached) and ignores the local key; roles come from `cognito:groups`, exactly."""
    from chalicelib import auth

    pool, client_id = "ap-southeast-3_Pool1", "web-client"
    iss = f"https://cognito-idp.ap-southeast-3.amazonaws.com/{pool}"
    monkeypatch.setenv("COGNITO_USER_POOL_ID", pool)
    monkeypatch.setenv("COGNITO_CLIENT_ID", client_id)
    monkeypatch.setattr(auth, "_jwks_clients", {})
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
        jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(key_pair()[1])))
    jwk.update(kid="k1", alg="RS256", use="sig")
    fetches: list[str] = []

    def fetch(self: jwt.PyJWKClient) -> Any:
        fetches.append(self.uri)
        data = {"keys": [jwk]}
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch)

    def cognito(groups: list[str], **over: Any) -> dict[str, str]:
        now = int(time.time())
        claims = {"sub": "c-1", "iss": iss, "aud": client_id, "token_use": "id", "iat": now, "exp": now + 600,
                  "cognito:groups": groups, "custom:opd_code": "DPUPR", **over}
        return {"Authorization": "Bearer " + jwt.encode(claims, key_pair()[0], algorithm="RS256", headers={"kid": "k1"})}

    api = Api(client)
    tid = api.submit(valid_report)["tracking_id"]
    assert client.http.get(f"/staff/reports/{tid}", headers=cognito(["admin"])).status_code == 200
    r = client.http.post(f"/staff/reports/{tid}/actions", body=json.dumps({"action": "verify", "opd_code": "DPUPR"}),
                         headers={"Content-Type": "application/json", **cognito(["opd"])})
    assert r.status_code == 404  # an OPD sees no unassigned report (it could not verify it either)
    assert client.http.get(f"/staff/reports/{tid}", headers=cognito(["opd-admin-x"])).status_code == 403
    assert client.http.get(f"/staff/reports/{tid}", headers=cognito(["admin"], aud="other")).status_code == 401
    # the local key's tokens mean nothing once a user pool is configured
    assert api.get(tid, "admin").status_code == 401
    assert fetches == [f"{iss}/.well-known/jwks.json"] or len(fetches) <= 2
