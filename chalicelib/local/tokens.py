"""Local staff tokens: the RS256 key pair of the local stack and the JWTs signed with it.

Never deployed for use: in AWS the tokens come from Cognito and chalicelib.auth ignores the local
key. The claims are CONTRACT.md's (`sub`, `role`, `opd_code`) plus what chalicelib.auth checks
the same way as for Cognito (`iss`, `aud`, `exp`, `token_use`).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "lapor-kbb-local"
AUDIENCE = "lapor-kbb-staff"
PRIVATE_KEY_FILE = "jwt-private.pem"
DEFAULT_TTL_SECONDS = 8 * 3600
KID = "lapor-kbb-local-1"


def generate_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh RSA-2048 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def write_private_key(state_dir: Path, private_pem: str) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / PRIVATE_KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private_pem)
    os.chmod(path, 0o600)
    return path


def mint(private_pem: str, *, role: str, opd_code: str | None = None, sub: str | None = None,
         ttl: int = DEFAULT_TTL_SECONDS, issuer: str = ISSUER, audience: str = AUDIENCE,
         name: str | None = None, extra: dict[str, Any] | None = None, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": sub or f"local-{role}{'-' + opd_code.lower() if opd_code else ''}",
        "role": role,
        "iss": issuer,
        "aud": audience,
        "token_use": "id",
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": uuid.uuid4().hex,
        "name": name or f"Local {role}{' ' + opd_code if opd_code else ''}",
    }
    if opd_code:
        claims["opd_code"] = opd_code
    claims.update(extra or {})
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": KID})


def read_state(state_dir: Path) -> tuple[str, str, str]:
    """(private PEM, issuer, audience) of the local stack whose state is in `state_dir`."""
    key_file = state_dir / PRIVATE_KEY_FILE
    if not key_file.exists():
        raise FileNotFoundError(f"no local signing key at {key_file}: start the local stack first (make run)")
    issuer, audience = ISSUER, AUDIENCE
    env_file = state_dir / "stack.env.json"
    if env_file.exists():
        env = json.loads(env_file.read_text())
        issuer = env.get("JWT_ISSUER", issuer)
        audience = env.get("JWT_AUDIENCE", audience)
    return key_file.read_text(), issuer, audience
