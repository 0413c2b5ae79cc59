"""The contract's error shape: {"error": {"code", "message", "details"}}."""
from __future__ import annotations

from typing import Any

from chalice.app import ChaliceUnhandledError  # shipped in every Chalice deployment package


class ApiError(ChaliceUnhandledError):
    """An answer in the contract's error shape. Chalice re-raises this base class to the
    middleware (chalicelib.api.http), which turns it into the response."""

    def __init__(self, status: int, code: str, message: str, details: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def validation_error(details: list[dict[str, Any]],
                     message: str = "Permintaan tidak valid; periksa isian yang disebut.") -> ApiError:
    return ApiError(400, "validation_error", message, details)


def not_found(message: str = "Tidak ditemukan.") -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str = "Peran Anda tidak diizinkan melakukan ini.") -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthenticated(message: str = "Masuk sebagai petugas diperlukan (token tidak ada atau tidak berlaku).",
                    ) -> ApiError:
    return ApiError(401, "unauthenticated", message)


def invalid_transition(message: str) -> ApiError:
    return ApiError(409, "invalid_transition", message)


def version_conflict(message: str = "Laporan telah berubah sejak Anda membukanya; muat ulang lalu coba lagi.",
                     ) -> ApiError:
    return ApiError(409, "version_conflict", message)
