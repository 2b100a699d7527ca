"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``: the one place that builds them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from rag.core.errors import NewsRAGError


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class OpenAIError(NewsRAGError):
    """An error answered in OpenAI's shape with an HTTP status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.kind, self.code)

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="newsrag"'} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)
