"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``: the one place that builds them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from rag.core.errors import NewsRAGError

MAX_MESSAGE_CHARS = 1000  # an error explains; it never hands a client's megabytes (or a long trace) back


def error_body(
    message: str, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIError(NewsRAGError):
    """An error answered in OpenAI's shape with an HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = dict(headers or {})
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", 'Bearer realm="newsrag"')

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.kind, self.code, self.param)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers or None)
