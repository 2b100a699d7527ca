"""``/mcp`` in ``newsrag serve``: the MCP server over streamable HTTP, behind the one login (``NEWSRAG_AUTH``).

Every request logs in on its own, as on ``/v1`` (``Authorization: Bearer <password>`` or HTTP basic); without a
login the answer is 401, and failed logins are throttled with ``/v1``'s (``login_throttle.py``). The transport is
stateless: no session outlives its request, so no call can ride on another login's session. Adding articles is
for the logins named in ``NEWSRAG_ADMINS`` (``rag/service/roles.py``), under the visitor fetch policy.

Hosts and origins are checked by the app's own middleware (``host_check.py``, ``origin_check.py``), which knows
the configured host names, so the SDK's localhost-only check is off. Its session manager runs in the app's
lifespan, inside uvicorn's: :attr:`McpEndpoint.lifespan`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from rag.server.errors import OpenAIError
from rag.server.mcp import build_mcp_server
from rag.server.openai_routes import user_of
from rag.service.roles import ADMINS_HINT, manages
from rag.service.services import Services

MCP_PATH = "/mcp"
USER = "newsrag.user"  # the ASGI scope's key for the login a request gave
INGEST_REFUSED = f"Adding articles over MCP is for the archive's owner: {ADMINS_HINT} (`newsrag ingest`)."


class McpEndpoint:
    """The MCP server of one ``newsrag serve``: an ASGI app for ``/mcp`` and the lifespan its sessions need."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.server = build_mcp_server(services.newsrag, self.ingest_policy)
        inner = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.app = RequireLogin(inner, services)

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        async with self.server.session_manager.run():
            yield

    def ingest_policy(self, ctx: Context) -> bool:
        """Only a managing login adds articles over HTTP, and fetches as a web visitor would."""
        request = ctx.request_context.request
        user = request.scope.get(USER) if request is not None else None
        if not manages(user, self.services.settings):
            raise ToolError(INGEST_REFUSED)
        return True


class RequireLogin:
    """Pure ASGI: 401 for a request without a valid login; the login found goes into the scope for the tools."""

    def __init__(self, app: Any, services: Services) -> None:
        self.app, self.services = app, services

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            try:
                scope[USER] = user_of(self.services, headers.get(b"authorization", b"").decode("latin-1"))
            except OpenAIError as exc:
                await exc.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
