"""Requests from other web pages are refused: only the app's own origin may call it from a browser.

A browser sends the page's ``Origin`` with every cross-origin request it makes on a script's behalf (and with
same-origin requests other than GET), and sends the visitor's cookie along. Gradio's own CORS middleware lets
localhost pages through with credentials, so a page on another origin could upload files or call events with
the visitor's login (item 10). Here, a request whose ``Origin`` is not the host it was sent to (the ``Host``
header, which ``host_check.py`` has already limited) is refused with 403 before it reaches Gradio or ``/v1``;
so is a preflight from another origin, which therefore never gets CORS headers. Clients that are not browsers
send no ``Origin`` and are not concerned. The scheme is not compared: behind a TLS proxy the page is https and
the request reaching the app is http.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import PlainTextResponse

REFUSED = "cross-origin requests are refused: use the app from its own address"


def own_origin(origin: str, host: str) -> bool:
    """Whether a request's ``Origin`` names the host (and port) it was sent to; "null" and garbage do not."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return False
    given, wanted = parts.netloc.lower(), host.strip().lower()
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    return given == wanted or given + default == wanted or given == wanted + default


class OriginCheck:
    """Pure ASGI middleware: refuses HTTP requests and WebSockets that carry a foreign ``Origin``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin")
            if origin is not None and not own_origin(
                origin.decode("latin-1"), headers.get(b"host", b"").decode("latin-1")
            ):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
