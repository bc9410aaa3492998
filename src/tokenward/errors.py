"""The coded error every failure answers with: ``{"detail": {"code", "message", "extra"}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ApiError", "error_body"]


class ApiError(Exception):
    """An error meant for the client. Its message must never contain a secret."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.extra)

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r})"

    @classmethod
    def not_found(cls) -> ApiError:
        return cls(404, "not-found", "The requested resource does not exist.")

    @classmethod
    def invalid(cls, field: str, message: str) -> ApiError:
        return cls(
            400,
            "invalid-request",
            "The request is not valid.",
            {"errors": [{"field": field, "message": message}]},
        )

    @classmethod
    def conflict(cls, message: str) -> ApiError:
        return cls(409, "conflict", message)


def error_body(code: str, message: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"detail": {"code": code, "message": message, "extra": dict(extra or {})}}
