"""What went wrong, as the domain says it: a stable `code`, an Indonesian `message` for the person
who asked, and `details` naming the fields. Services raise these; only chalicelib/api/http.py
knows which HTTP status each one becomes, so no service speaks HTTP."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, details: list[Any] | None = None, *, code: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code is not None:
            self.code = code
        self.retry_after = retry_after  # seconds, when trying again later can succeed

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class Invalid(DomainError):
    """The request's content breaks a rule (fields, formats, limits)."""
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidTransition(DomainError):
    """The move is not allowed from the report's present state."""
    code = "invalid_transition"


class VersionConflict(DomainError):
    """Someone changed the thing since the caller read it."""
    code = "version_conflict"


class Conflict(DomainError):
    """The request contradicts an earlier one (e.g. an Idempotency-Key reused with another body)."""
    code = "conflict"


class UnsupportedMedia(DomainError):
    code = "unsupported_media_type"


class TooLarge(DomainError):
    code = "too_large"


class RateLimited(DomainError):
    code = "rate_limited"


class Unavailable(DomainError):
    """Something we depend on is down; the same request may succeed later."""
    code = "unavailable"


class Internal(DomainError):
    code = "internal_error"


def validation_error(details: list[dict[str, Any]],
                     message: str = "Permintaan tidak valid; periksa isian yang disebut.") -> Invalid:
    return Invalid(message, details)


def not_found(message: str = "Tidak ditemukan.") -> NotFound:
    return NotFound(message)


def forbidden(message: str = "Peran Anda tidak diizinkan melakukan ini.") -> Forbidden:
    return Forbidden(message)


def unauthenticated(message: str = "Masuk sebagai petugas diperlukan (token tidak ada atau tidak berlaku).",
                    ) -> Unauthenticated:
    return Unauthenticated(message)


def invalid_transition(message: str) -> InvalidTransition:
    return InvalidTransition(message)


def version_conflict(message: str = "Laporan telah berubah sejak Anda membukanya; muat ulang lalu coba lagi.",
                     ) -> VersionConflict:
    return VersionConflict(message)
