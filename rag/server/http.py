"""The HTTP server: FastAPI with the OpenAI-compatible API at ``/v1``, behind the one login.

The Gradio app mounts itself on this FastAPI app (``rag/ui/web.py``), so ``/`` and ``/v1`` share one
process, one :class:`NewsRAG` and one login. With ``NEWSRAG_AUTH=user:password``, ``/v1`` needs
``Authorization: Bearer <password>`` (or HTTP basic).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from rag.index.store import StoreError
from rag.server.body_limit import BodyLimit
from rag.server.errors import OpenAIError, error_body
from rag.server.openai_routes import router
from rag.service.services import Services


def create_http_app(services: Services) -> FastAPI:
    """FastAPI with the /v1 routes and their error handlers; the web page is mounted on it by the UI."""
    http_app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None)
    http_app.state.services = services
    http_app.include_router(router)
    http_app.add_exception_handler(OpenAIError, _openai_error)
    http_app.add_exception_handler(StoreError, _store_error)
    http_app.add_exception_handler(RequestValidationError, _validation_error)
    http_app.add_middleware(BodyLimit)  # /v1 bodies are conversations, never files
    return http_app


async def _openai_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenAIError)
    return exc.response()


async def _store_error(request: Request, exc: Exception) -> Response:
    """The index is unavailable (a Chroma server gone, a full disk): 503 in OpenAI's shape; the next request retries."""
    return OpenAIError(503, str(exc), kind="server_error", code="index_unavailable").response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith("/v1/"):
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
    return JSONResponse(error_body(problems), status_code=400)
