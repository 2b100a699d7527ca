"""The server: one NewsRAG, the Gradio app at ``/`` and the OpenAI-compatible API at ``/v1``, one login for all.

``newsrag serve`` and ``python app.py`` both call :func:`run`. It binds 127.0.0.1 unless told otherwise
and never creates a share link. With ``NEWSRAG_AUTH=user:password`` the page asks for a login, the
Gradio API needs it (``gradio_client.Client(url, auth=(user, password))``) and ``/v1`` needs
``Authorization: Bearer <password>`` (or HTTP basic).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from rag.api import NewsRAG
from rag.body_limit import BodyLimit
from rag.config import Settings, load_settings, offline_environment
from rag.history import HistoryLog
from rag.openai_api import OpenAIError, router
from rag.store import StoreError


@dataclass
class Services:
    """What every entry point of the server shares, built once per process."""

    rag: NewsRAG
    history: HistoryLog
    auth: tuple[str, str] | None  # (user, password)

    @property
    def settings(self) -> Settings:
        return self.rag.settings


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    if settings.auth is None or not settings.auth.get_secret_value():
        return None
    user, sep, password = settings.auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise ValueError("NEWSRAG_AUTH must look like user:password")
    return user, password


def build_services(settings: Settings) -> Services:
    """The one NewsRAG of this process, opened and warmed up so the first question is quick."""
    rag = NewsRAG(settings)
    rag.store  # noqa: B018 - open now: a wrong setting fails here, not at the first question
    rag.answerer.retriever.retrieve("warm up", 1, None, settings.retrieval)
    history = HistoryLog(settings.index_dir / "history.sqlite", enabled=settings.log)
    return Services(rag=rag, history=history, auth=parse_auth(settings))


GRADIO_CONCURRENCY = 16


def create_app(services: Services) -> FastAPI:
    """FastAPI with the /v1 routes, and the Gradio app mounted at "/" behind the same login."""
    offline_environment()  # before gradio is imported: no analytics, no hub calls
    import gradio as gr

    from app import CSS, THEME, build_ui

    api = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.services = services
    api.include_router(router)
    api.add_exception_handler(OpenAIError, _openai_error)
    api.add_exception_handler(StoreError, _store_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_middleware(BodyLimit)  # /v1 bodies are conversations, never files
    settings = services.settings
    return gr.mount_gradio_app(
        api,
        # Gradio's default runs one call of each event at a time: every user would wait behind all others.
        # Answering is thread-safe (the /v1 API shares it); ingests still take turns on the write lock.
        build_ui(services).queue(default_concurrency_limit=GRADIO_CONCURRENCY),
        path="/",
        auth=services.auth,
        auth_message="newsrag: log in with the user and password set in NEWSRAG_AUTH.",
        max_file_size=int(settings.max_upload_mb * 1_000_000),
        server_name=settings.host,
        server_port=settings.port,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=True,
        theme=THEME,
        css=CSS,
    )


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
    body = {"error": {"message": problems, "type": "invalid_request_error", "param": None, "code": None}}
    return JSONResponse(body, status_code=400)


def run(settings: Settings | None = None) -> None:
    """Build everything once and serve it with uvicorn until interrupted."""
    import uvicorn

    settings = settings or load_settings()
    services = build_services(settings)
    app = create_app(services)
    login = " (login required)" if services.auth else ""
    print(f"newsrag: serving http://{settings.host}:{settings.port}{login}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
