"""Staff authentication: `Authorization: Bearer <JWT>`, verified in the application.

RS256 against the Cognito user pool's keys in AWS, or the local stack's key pair in local and
test stages; neither configured refuses every staff request. A bad token is a 401, a valid one
without exactly one staff role a 403. Key sources, claims and roles: docs/DESIGN.md ("Staff auth").
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.config import LOCAL_STAGES, settings
from chalicelib.domain.errors import Unavailable, forbidden, unauthenticated
from chalicelib.observability import logger

ROLES = ("admin", "opd", "pimpinan", "opd_admin")
# Roles scoped to one OPD by `custom:opd_code` / `opd_code`.
OPD_ROLES = ("opd", "opd_admin")
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 30
_OPD_CODE = re.compile(r"^[A-Z0-9_]{2,40}$")
_BEARER = re.compile(r"^Bearer\s+(\S+)\s*$", re.IGNORECASE)
CONTEXT_KEY = "lapor_staff"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, one staff role, and the OPD for role `opd`.

    An `opd_admin` token gives role `opd` with `opd_admin` True (see the module doc)."""

    sub: str
    role: str
    opd_code: str | None = None
    name: str | None = None
    opd_admin: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role this caller holds: what a route's `roles` are matched against."""
        return (self.role, "opd_admin") if self.opd_admin else (self.role,)


class TokenRejected(Exception):
    """The token is not one this service accepts (401)."""


class NoStaffRole(Exception):
    """The token is valid but names no single staff role (403)."""


@dataclass(frozen=True)
class Verifier:
    mode: str  # "cognito" | "local"
    issuer: str
    client_ids: tuple[str, ...]
    jwks_url: str | None = None
    public_pem: str | None = None


def verifier_from_env(env: Mapping[str, str] | None = None) -> Verifier | None:
    """The verifier the environment configures (None: nothing is accepted). The stage comes from
    Settings (what the process started as), or from `env["STAGE"]` when an env is passed."""
    stage = settings().stage if env is None else env.get("STAGE", "")
    env = os.environ if env is None else env
    pool = env.get("COGNITO_USER_POOL_ID", "").strip()
    if pool:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or pool.split("_", 1)[0]
        clients = tuple(c.strip() for c in env.get("COGNITO_CLIENT_ID", "").split(",") if c.strip())
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
        return Verifier("cognito", issuer, clients, jwks_url=f"{issuer}/.well-known/jwks.json")
    pem = env.get("LOCAL_JWT_PUBLIC_KEY", "").strip()
    if pem and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        # Inside Lambda only Cognito signs staff tokens: a local key that leaked into a function's
        # environment (a copied .env, a wrong STAGE) must not open the staff API to its holder.
        logger.error("LOCAL_JWT_PUBLIC_KEY is set inside Lambda: refused, no staff token is accepted")
        return None
    if pem and stage in LOCAL_STAGES:
        return Verifier("local", env.get("JWT_ISSUER", "lapor-kbb-local"),
                        (env.get("JWT_AUDIENCE", "lapor-kbb-staff"),), public_pem=pem)
    return None


# -- keys ------------------------------------------------------------------------------------

# PyJWT (and the cryptography it loads) is imported by the functions that verify, not here:
# the API function imports this module, and a citizen's request never needs it.
if TYPE_CHECKING:
    import jwt

_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


def jwks_client(url: str) -> jwt.PyJWKClient:
    """One PyJWKClient per JWKS URL per container: keys are fetched once, then cached."""
    import jwt

    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)
            _jwks_clients[url] = client
        return client


@lru_cache(maxsize=4)
def _local_key(pem: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode())


def _signing_key(verifier: Verifier, token: str) -> Any:
    import jwt

    if verifier.mode == "local":
        return _local_key(verifier.public_pem or "")
    try:
        return jwks_client(verifier.jwks_url or "").get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError:
        logger.exception("cannot fetch the Cognito JWKS")
        raise Unavailable("Status masuk tidak dapat diperiksa saat ini; coba lagi sebentar lagi.",
                          retry_after=5) from None
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
        raise TokenRejected(f"no signing key for this token: {exc}") from None


# -- verification ----------------------------------------------------------------------------

def verify(token: str, verifier: Verifier) -> dict[str, Any]:
    """The claims of `token` if it passes every check, else TokenRejected."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenRejected("not a JWT") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejected(f"algorithm {header.get('alg')!r} is not accepted")
    key = _signing_key(verifier, token)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=ALGORITHMS, issuer=verifier.issuer, leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(str(exc)) from None
    use = claims.get("token_use")
    if use == "id":
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
        if not any(a in verifier.client_ids for a in auds):
            raise TokenRejected("wrong audience")
    elif use == "access":
        if claims.get("client_id") not in verifier.client_ids:
            raise TokenRejected("wrong client_id")
    else:
        raise TokenRejected("token_use must be id or access")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("no subject")
    return claims


def principal_from_claims(claims: Mapping[str, Any], mode: str) -> Principal:
    """The caller's role and OPD from verified claims.

    Cognito: the groups in `cognito:groups` equal to a role name, exactly (no prefix, suffix or
    case folding); exactly one must match. Local: the `role` claim, exactly.
    """
    if mode == "cognito":
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list):
            raise NoStaffRole("cognito:groups is not a list")
        roles = sorted({g for g in groups if isinstance(g, str) and g in ROLES})
        opd = claims.get("custom:opd_code")
    else:
        role = claims.get("role")
        roles = [role] if isinstance(role, str) and role in ROLES else []
        opd = claims.get("opd_code")
    if len(roles) != 1:
        raise NoStaffRole("the token names no single staff role" if not roles else
                          "the token names more than one staff role")
    role = roles[0]
    opd_code = None
    if role in OPD_ROLES:
        if not isinstance(opd, str) or not _OPD_CODE.match(opd):
            raise NoStaffRole(f"role {role} needs an OPD code")
        opd_code = opd
    name = claims.get("name") or claims.get("email") or claims.get("cognito:username")
    return Principal(sub=str(claims["sub"]), role="opd" if role == "opd_admin" else role, opd_code=opd_code,
                     name=str(name) if isinstance(name, str) else None, opd_admin=role == "opd_admin")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise TokenRejected("no Authorization header")
    match = _BEARER.match(authorization.strip())
    if not match:
        raise TokenRejected("Authorization is not a Bearer token")
    return match.group(1)


def authenticate(authorization: str | None) -> Principal:
    """The verified caller of a staff route, or the contract's 401/403."""
    verifier = verifier_from_env()
    try:
        token = bearer_token(authorization)
        if verifier is None:
            logger.error("staff authentication is not configured (COGNITO_USER_POOL_ID or LOCAL_JWT_PUBLIC_KEY)")
            raise TokenRejected("no verifier configured")
        claims = verify(token, verifier)
    except TokenRejected:
        raise unauthenticated() from None
    try:
        return principal_from_claims(claims, verifier.mode)
    except NoStaffRole:
        raise forbidden("Akun ini tidak memiliki peran petugas yang dikenal.") from None


def require(request: Any, roles: tuple[str, ...]) -> Principal:
    """Authenticate the request and check the route's roles; keep the principal on the request."""
    principal = authenticate(request.headers.get("authorization"))
    if not set(principal.roles) & set(roles):
        raise forbidden()
    request.context[CONTEXT_KEY] = principal
    return principal


def principal_of(request: Any) -> Principal:
    """The principal `require` put on this request. A staff handler without one is a bug: 401."""
    principal = (getattr(request, "context", None) or {}).get(CONTEXT_KEY)
    if not isinstance(principal, Principal):
        raise unauthenticated()
    return principal
