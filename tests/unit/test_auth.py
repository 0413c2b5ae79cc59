"""chalicelib.auth without AWS: token checks (local key and a Cognito-shaped JWKS), role parsing,
and the list cursors (chalicelib.domain.cursor)."""
from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from chalicelib import auth
from chalicelib.domain import cursor
from chalicelib.local import tokens
from tests.staff_support import key_pair

POOL = "ap-southeast-3_AbCdEf123"
CLIENT = "webclient123"
ISS = f"https://cognito-idp.ap-southeast-3.amazonaws.com/{POOL}"
LOCAL = auth.Verifier("local", tokens.ISSUER, (tokens.AUDIENCE,), public_pem=key_pair()[1])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def local_claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "u1", "role": "admin", "iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "token_use": "id",
              "iat": now, "exp": now + 600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], kid: str = tokens.KID) -> str:
    return jwt.encode(claims, key_pair()[0], algorithm="RS256", headers={"kid": kid})


# -- the local verifier ----------------------------------------------------------------------

def test_cli_token_is_accepted() -> None:
    token = tokens.mint(key_pair()[0], role="opd", opd_code="DINSOS")
    claims = auth.verify(token, LOCAL)
    assert auth.principal_from_claims(claims, "local") == auth.Principal(
        sub="local-opd-dinsos", role="opd", opd_code="DINSOS", name="Local opd DINSOS")


@pytest.mark.parametrize("case", [
    "alg_none", "hs256_with_public_key", "bad_signature", "other_key", "expired", "wrong_issuer",
    "wrong_audience", "no_token_use", "refresh_use", "no_exp", "garbage",
])
def test_bad_tokens_are_rejected(case: str) -> None:
    public = key_pair()[1]
    if case == "alg_none":
        token = unsigned(local_claims())
    elif case == "hs256_with_public_key":
        token = _hs256(local_claims(), public)
    elif case == "bad_signature":
        good = sign(local_claims())
        head, _, sig = good.split(".")
        token = f"{head}.{_b64(json.dumps(local_claims(role='admin', sub='evil')).encode())}.{sig}"
    elif case == "other_key":
        token = jwt.encode(local_claims(), tokens.generate_pair()[0], algorithm="RS256")
    elif case == "expired":
        token = sign(local_claims(exp=int(time.time()) - 600, iat=int(time.time()) - 1200))
    elif case == "wrong_issuer":
        token = sign(local_claims(iss="someone-else"))
    elif case == "wrong_audience":
        token = sign(local_claims(aud="another-app"))
    elif case == "no_token_use":
        token = sign(local_claims(token_use=None))
    elif case == "refresh_use":
        token = sign(local_claims(token_use="refresh"))
    elif case == "no_exp":
        token = sign(local_claims(exp=None))
    else:
        token = "not.a.jwt"
    with pytest.raises(auth.TokenRejected):
        auth.verify(token, LOCAL)


def _hs256(claims: dict[str, Any], secret: str) -> str:
    import hashlib
    import hmac

    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


@pytest.mark.parametrize("header,ok", [
    (None, False), ("", False), ("Basic abc", False), ("Bearer", False), ("Bearer a b", False),
    ("bearer TOKEN", True), ("Bearer TOKEN", True),
])
def test_bearer_header(header: str | None, ok: bool) -> None:
    if ok:
        assert auth.bearer_token(header) == "TOKEN"
    else:
        with pytest.raises(auth.TokenRejected):
            auth.bearer_token(header)


# -- roles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("groups,role", [
    (["admin"], "admin"), (["pimpinan"], "pimpinan"), (["staff", "admin", "x"], "admin"),
])
def test_cognito_groups_parsed_exactly(groups: list[str], role: str) -> None:
    p = auth.principal_from_claims({"sub": "s", "cognito:groups": groups}, "cognito")
    assert p.role == role and p.opd_code is None


@pytest.mark.parametrize("groups", [
    ["opd-admin-x"], ["Admin"], ["admin "], ["administrators"], ["admins"], ["x-pimpinan"], [], ["admin", "opd"],
    "admin",  # a string, not a list
])
def test_cognito_groups_that_are_no_role(groups: Any) -> None:
    with pytest.raises(auth.NoStaffRole):
        auth.principal_from_claims({"sub": "s", "cognito:groups": groups, "custom:opd_code": "DINSOS"}, "cognito")


def test_cognito_opd_needs_its_code_and_ignores_role_claim() -> None:
    p = auth.principal_from_claims({"sub": "s", "cognito:groups": ["opd"], "custom:opd_code": "DINSOS"}, "cognito")
    assert (p.role, p.opd_code) == ("opd", "DINSOS")
    with pytest.raises(auth.NoStaffRole):
        auth.principal_from_claims({"sub": "s", "cognito:groups": ["opd"]}, "cognito")
    with pytest.raises(auth.NoStaffRole):  # a self-asserted role claim means nothing in AWS mode
        auth.principal_from_claims({"sub": "s", "role": "admin"}, "cognito")


def test_opd_admin_is_an_opd_user_who_also_assigns() -> None:
    """Group `opd_admin` (with its OPD code): role `opd` for every rule of an OPD user, plus the
    `opd_admin` role a route or action meant for it alone names."""
    p = auth.principal_from_claims({"sub": "s", "cognito:groups": ["opd_admin"], "custom:opd_code": "DINSOS"},
                                   "cognito")
    assert (p.role, p.opd_code, p.opd_admin, p.roles) == ("opd", "DINSOS", True, ("opd", "opd_admin"))
    local = auth.principal_from_claims({"sub": "s", "role": "opd_admin", "opd_code": "DPUPR"}, "local")
    assert (local.role, local.opd_admin) == ("opd", True)
    plain = auth.principal_from_claims({"sub": "s", "role": "opd", "opd_code": "DPUPR"}, "local")
    assert (plain.opd_admin, plain.roles) == (False, ("opd",))
    for claims, mode in (({"cognito:groups": ["opd_admin"]}, "cognito"),  # no OPD: nobody
                         ({"cognito:groups": ["opd_admin", "opd"], "custom:opd_code": "DINSOS"}, "cognito"),
                         ({"cognito:groups": ["opd-admin"], "custom:opd_code": "DINSOS"}, "cognito"),
                         ({"role": "opd_admin"}, "local"), ({"role": "OPD_ADMIN", "opd_code": "DPUPR"}, "local")):
        with pytest.raises(auth.NoStaffRole):
            auth.principal_from_claims({"sub": "s", **claims}, mode)


def test_local_role_claim_exact() -> None:
    assert auth.principal_from_claims({"sub": "s", "role": "pimpinan"}, "local").role == "pimpinan"
    for bad in ({"role": "Admin"}, {"role": ["admin"]}, {"role": "opd", "opd_code": "dinsos; drop"}, {}):
        with pytest.raises(auth.NoStaffRole):
            auth.principal_from_claims({"sub": "s", **bad}, "local")


# -- the Cognito verifier against a JWKS (fetched once per container) -------------------------

@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
        jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(key_pair()[1])))
    jwk.update(kid="cognito-kid-1", alg="RS256", use="sig")
    fetched = {"n": 0}

    def fetch(self: jwt.PyJWKClient) -> Any:
        assert self.uri == f"{ISS}/.well-known/jwks.json"
        fetched["n"] += 1
        data = {"keys": [jwk]}
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch)
    monkeypatch.setattr(auth, "_jwks_clients", {})
    return fetched


def cognito_claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "abc-123", "iss": ISS, "aud": CLIENT, "token_use": "id", "exp": now + 600, "iat": now,
              "cognito:groups": ["opd"], "custom:opd_code": "DISDUKCAPIL", "email": "petugas@opd.go.id"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def test_cognito_id_and_access_tokens(cognito: dict[str, int]) -> None:
    verifier = auth.verifier_from_env({"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": f"{CLIENT},cli456",
                                       "AWS_REGION": "ap-southeast-3", "LOCAL_JWT_PUBLIC_KEY": "ignored",
                                       "STAGE": "local"})
    assert verifier is not None and verifier.mode == "cognito" and verifier.issuer == ISS
    claims = auth.verify(sign(cognito_claims(), kid="cognito-kid-1"), verifier)
    p = auth.principal_from_claims(claims, "cognito")
    assert (p.role, p.opd_code, p.name) == ("opd", "DISDUKCAPIL", "petugas@opd.go.id")
    access = cognito_claims(token_use="access", aud=None, client_id="cli456")
    assert auth.verify(sign(access, kid="cognito-kid-1"), verifier)["client_id"] == "cli456"
    for bad in (cognito_claims(aud="other"), cognito_claims(token_use="access", aud=None, client_id="other"),
                cognito_claims(token_use="access", aud=None), cognito_claims(iss="https://evil/pool"),
                cognito_claims(exp=int(time.time()) - 300)):
        with pytest.raises(auth.TokenRejected):
            auth.verify(sign(bad, kid="cognito-kid-1"), verifier)
    with pytest.raises(auth.TokenRejected):  # unknown kid
        auth.verify(sign(cognito_claims(), kid="nope"), verifier)
    with pytest.raises(auth.TokenRejected):
        auth.verify(unsigned(cognito_claims()), verifier)
    assert cognito["n"] <= 2  # the JWKS is cached (one refetch allowed for the unknown kid)


def test_local_key_refused_outside_local_stages() -> None:
    env = {"LOCAL_JWT_PUBLIC_KEY": key_pair()[1], "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"}
    assert auth.verifier_from_env({**env, "STAGE": "local"}) is not None
    assert auth.verifier_from_env({**env, "STAGE": "test"}) is not None
    assert auth.verifier_from_env({**env, "STAGE": "prod"}) is None
    assert auth.verifier_from_env({**env, "STAGE": "dev"}) is None
    assert auth.verifier_from_env({"STAGE": "local"}) is None


# -- cursors ---------------------------------------------------------------------------------

def test_cursor_round_trip_and_tampering() -> None:
    key = b"k" * 32
    query = {"role": "opd", "scope": "DINSOS", "status": None}
    position = {"k": {"tracking_id": {"S": "KBB-0000-0001"}, "opd_code": {"S": "DINSOS"}}}
    token = cursor.encode(position, query, key)
    assert cursor.decode(token, query, key) == position
    body, mac = token.split(".")
    forged = json.dumps({"q": cursor.fingerprint(query), "p": {"k": {"opd_code": {"S": "DPUPR"}}}}).encode()
    for bad in (f"{_b64(forged)}.{mac}", f"{body}.{_b64(b'x' * 32)}", token + "x", "abc", "", "a.b.c", "%%%.%%%"):
        with pytest.raises(cursor.InvalidCursor):
            cursor.decode(bad, query, key)
    with pytest.raises(cursor.InvalidCursor):  # another key
        cursor.decode(token, query, b"other")
    with pytest.raises(cursor.InvalidCursor):  # replayed on another query / another OPD's scope
        cursor.decode(token, {**query, "scope": "DPUPR"}, key)


def test_local_token_cli_takes_opd_admin(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import jwt

    from chalicelib import cli

    private, public = key_pair()
    tokens.write_private_key(tmp_path, private)
    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))
    assert cli.main(["token", "--role", "opd_admin", "--opd", "dpupr"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), public, algorithms=["RS256"], audience=tokens.AUDIENCE)
    assert (claims["role"], claims["opd_code"], claims["sub"]) == ("opd_admin", "DPUPR", "local-opd_admin-dpupr")
    principal = auth.principal_from_claims(claims, "local")
    assert (principal.role, principal.opd_admin) == ("opd", True)
    assert cli.main(["token", "--role", "opd_admin"]) == 2  # an opd_admin without its OPD
