"""The HTTP server: FastAPI with the OpenAI-compatible API at ``/v1``, behind the one login.

The Gradio app mounts itself on this FastAPI app (``rag/ui/web.py``), so ``/`` and ``/v1`` share one
process, one :class:`NewsRAG` and one login. With ``NEWSRAG_AUTH=user:password``, ``/v1`` needs
``Authorization: Bearer <password>`` (or HTTP basic). ``/mcp`` serves the MCP tools behind the same login
(``mcp_http.py``).

Around both: unknown ``Host`` names are refused (``host_check.py``, against DNS rebinding), failed logins
on the form and on ``/v1`` are throttled (``login_throttle.py``), bodies are capped (``body_limit.py``), uploads
have a quota per visitor and hour (``upload_quota.py``), requests from pages of other origins are refused
(``origin_check.py``), and every response carries a Content-Security-Policy (``csp.py``): the page loads images
and scripts from this server only.
Errors on ``/v1`` are in OpenAI's shape and never carry server paths or store errors (those go to the log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from rag.index.store import StoreError
from rag.server.body_limit import BodyLimit
from rag.server.csp import ContentSecurityPolicy
from rag.server.errors import OpenAIError, error_body
from rag.server.host_check import HostCheck, HostPolicy
from rag.server.login_throttle import LoginThrottle
from rag.server.mcp_http import MCP_PATH, McpEndpoint
from rag.server.openai_routes import router
from rag.server.origin_check import OriginCheck
from rag.server.upload_quota import Quota, UploadQuota
from rag.service.services import Services

log = logging.getLogger(__name__)
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # not OPTIONS: CORS preflights go on as before
V1_ROUTES = frozenset(route.path for route in router.routes if isinstance(route, APIRoute))


def create_http_app(services: Services) -> FastAPI:
    """FastAPI with the /v1 routes and their error handlers and /mcp; the web page is mounted on it by the UI."""
    mcp = McpEndpoint(services)
    # The MCP sessions run inside the app's lifespan; the Gradio app mounted on this one keeps it (and runs its own).
    http_app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None, lifespan=mcp.lifespan)
    http_app.state.services = services
    http_app.include_router(router)
    http_app.add_route(MCP_PATH, mcp.app, include_in_schema=False)  # before the Gradio app takes "/"
    # Anything else under /v1 would fall through to the Gradio app mounted at "/" and get its 404.
    http_app.add_api_route("/v1/{rest:path}", _unknown_v1, methods=list(ALL_METHODS), include_in_schema=False)
    http_app.add_exception_handler(OpenAIError, _openai_error)
    http_app.add_exception_handler(StoreError, _store_error)
    http_app.add_exception_handler(RequestValidationError, _validation_error)
    http_app.add_exception_handler(HTTPException, _http_error)
    http_app.add_exception_handler(Exception, _unexpected_error)
    # Middleware added last runs first, and wraps the Gradio app mounted on this one as well.
    http_app.add_middleware(BodyLimit)  # /v1 bodies are conversations, never files
    settings = services.settings
    quota = Quota(settings.visitor_uploads_per_hour, settings.visitor_upload_mb_per_hour)
    http_app.add_middleware(UploadQuota, quota=quota, state=http_app.state)  # files and MB per visitor per hour
    http_app.add_middleware(LoginThrottle)  # failed logins, on the form and on /v1, wait longer and longer
    http_app.add_middleware(OriginCheck)  # pages of other origins cannot call the app with a visitor's cookie
    http_app.add_middleware(HostCheck, policy=HostPolicy.from_settings(settings.host, settings.allowed_hosts))
    http_app.add_middleware(ContentSecurityPolicy)  # outermost: every response has it, refusals included
    return http_app


async def _unknown_v1(request: Request) -> Response:
    if request.url.path in V1_ROUTES:
        return OpenAIError(405, f"{request.method} is not allowed here", code="method_not_allowed").response()
    known = ", ".join(sorted(V1_ROUTES))
    return OpenAIError(404, f"no such endpoint: newsrag serves {known}", code="unknown_url").response()


async def _openai_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenAIError)
    return exc.response()


async def _store_error(request: Request, exc: Exception) -> Response:
    """The index is unavailable (a Chroma server gone, a full disk): 503 in OpenAI's shape; the next request retries.

    The detail (the index path, the store's own error) is for the server's log, never for a web visitor.
    """
    log.error("%s %s: the index failed: %s", request.method, request.url.path, exc)
    return OpenAIError(503, StoreError.FOR_VISITORS, kind="server_error", code="index_unavailable").response()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (a body that is not UTF-8 or nests too deep, a wrong method) in OpenAI's shape on /v1."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith("/v1/"):
        return await http_exception_handler(request, exc)
    message = exc.detail if isinstance(exc.detail, str) else "invalid request"
    return OpenAIError(exc.status_code, message, headers=dict(exc.headers or {})).response()


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: 500, in OpenAI's shape on /v1, with no detail for the client (uvicorn logs the traceback)."""
    if not request.url.path.startswith("/v1/"):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return OpenAIError(500, "internal server error", kind="server_error").response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith("/v1/"):
        return await request_validation_exception_handler(request, exc)
    # The first few problems, by field and message only: pydantic's "input" would echo the client's data back.
    errors = exc.errors()
    fields = [".".join(map(str, e["loc"][1:])) or "body" for e in errors]
    problems = "; ".join(f"{field}: {e['msg']}" for field, e in zip(fields[:5], errors[:5], strict=True))
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    named = bool(errors) and len(errors[0]["loc"]) > 1 and isinstance(errors[0]["loc"][1], str)  # not a JSON offset
    return JSONResponse(error_body(problems + more, param=fields[0] if named else None), status_code=400)
