"""A Content-Security-Policy on every response: the page may load and run only what this server sends.

Should text from an article, or an answer an article steered, ever reach the page as markup, the browser still
refuses to fetch an image from anywhere but this server (``img-src 'self' data:``: no question can leave in an
image URL), to run a script this server did not send, to connect or post elsewhere, or to be framed.

Gradio's page needs inline scripts of its own: its template writes the page's config and two start-up scripts
inline. They are allowed by a nonce, new for each response, that this middleware writes into the page's own
``<script>`` tags (never ``'unsafe-inline'``, which would allow any script that got into the page). Only the page
itself gets the nonce: the HTML of ``/`` as Gradio renders it from its template, whose data (the config) Gradio
writes as JSON with ``<`` escaped, so no ``<script`` in it comes from an article. Files served under other paths,
HTML uploads included, get the policy with no nonce, so their inline scripts never run.

Styles are allowed inline (``'unsafe-inline'`` in ``style-src``): Gradio's template, its theme and Svelte set them
in ``<style>`` elements and ``style`` attributes. A style can fetch nothing here (images and fonts are this
server's only), so it cannot carry anything out of the page.
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

PAGE_PATHS = frozenset({"/", ""})
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)
_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'{nonce}",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)


def policy(nonce: str | None = None) -> str:
    """The Content-Security-Policy header, allowing the inline scripts that carry ``nonce`` when one is given."""
    return "; ".join(_DIRECTIVES).format(nonce=f" 'nonce-{nonce}'" if nonce else "")


def with_nonce(page: bytes, nonce: str) -> bytes:
    """The page with ``nonce`` on each of its ``<script>`` tags."""
    return _SCRIPT_TAG.sub(b'<script nonce="' + nonce.encode() + b'"', page)


def _headers(message: dict[str, Any], value: str, length: int | None = None) -> list[tuple[bytes, bytes]]:
    skip = {b"content-security-policy"} | ({b"content-length"} if length is not None else set())
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in skip]
    headers.append((b"content-security-policy", value.encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return headers


class ContentSecurityPolicy:
    """Pure ASGI middleware: the policy on every HTTP response, the page's own scripts given a fresh nonce."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope.get("method") == "GET" and scope.get("path", "") in PAGE_PATHS
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def send_with_policy(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if page and _is_plain_html(message):
                    start.update(message)  # held until the whole page is read, to write its nonces
                    return
                await send(message | {"headers": _headers(message, policy())})
            elif message["type"] == "http.response.body" and start:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_page(send, start, b"".join(body))
            else:
                await send(message)

        await self.app(scope, receive, send_with_policy)


def _is_plain_html(message: dict[str, Any]) -> bool:
    headers = {k.lower(): v for k, v in message.get("headers", [])}
    compressed = headers.get(b"content-encoding", b"identity") != b"identity"
    return headers.get(b"content-type", b"").startswith(b"text/html") and not compressed


async def _send_page(send: Any, start: dict[str, Any], page: bytes) -> None:
    nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    page = with_nonce(page, nonce)
    await send(start | {"headers": _headers(start, policy(nonce), len(page))})
    await send({"type": "http.response.body", "body": page, "more_body": False})
