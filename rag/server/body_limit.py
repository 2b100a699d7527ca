"""Caps on request bodies, so that no client can make the server hold gigabytes in memory.

``/v1`` takes a conversation as JSON, never a file, and ``/mcp`` a tool call; the Gradio API takes a question or
the chat so far.
Bodies past their cap are refused with 413 (in OpenAI's error shape on ``/v1``), whether the client
declares a Content-Length or streams a chunked body. Uploads have their own cap, enforced by Gradio
while it streams them to disk (``NEWSRAG_MAX_UPLOAD_MB``).
"""

from __future__ import annotations

import json
from typing import Any

from rag.server.errors import error_body

MAX_V1_BODY = 1_000_000  # a 2,000-character question and its recent turns fit many times over
MAX_APP_BODY = 10_000_000  # the UI sends the whole chat, each answer's sources included, with every question
# The first prefix a path starts with decides its cap; None: the route caps its own body.
RULES: tuple[tuple[str, int | None], ...] = (
    ("/v1/", MAX_V1_BODY),
    ("/mcp", MAX_V1_BODY),
    ("/gradio_api/upload", None),
    ("/", MAX_APP_BODY),
)


class BodyLimit:
    """Pure ASGI middleware: 413 for a request body over the cap of its path (see :data:`RULES`)."""

    def __init__(self, app: Any, rules: tuple[tuple[str, int | None], ...] = RULES) -> None:
        self.app, self.rules = app, rules

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        limit = next((cap for prefix, cap in self.rules if path.startswith(prefix)), None)
        if scope["type"] != "http" or limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, path, limit)
            return
        received, responded, refused = 0, False, False

        async def counted() -> dict[str, Any]:
            # Past the cap: answer 413 at once, and tell the app the client left (apps turn errors
            # raised while they read a body into their own 400).
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not responded and not refused:
                        refused = True
                        await _refuse(send, path, limit)
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: dict[str, Any]) -> None:
            nonlocal responded
            if refused:
                return  # the app's own answer, after our 413, goes nowhere
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, sending)


async def _refuse(send: Any, path: str, limit: int) -> None:
    message = f"request body too large (at most {limit:,} bytes)"
    payload = error_body(message, code="body_too_large") if path.startswith("/v1/") else {"detail": message}
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
