"""The whole web app: the Gradio page at ``/`` mounted on the HTTP server's FastAPI (``/v1``), one login for all.

``newsrag serve`` and ``python app.py`` both call :func:`run`. It binds 127.0.0.1 unless told otherwise
and never creates a share link. With ``NEWSRAG_AUTH=alice:pw1,bob:pw2`` the page asks for a login and the
Gradio API needs it (``gradio_client.Client(url, auth=(user, password))``).
"""

from __future__ import annotations

import sys

import gradio as gr
from fastapi import FastAPI

from rag.core.settings import Settings, load_settings
from rag.server.http import create_http_app
from rag.service.follower import Follower
from rag.service.services import Services, build_services
from rag.ui.page import build_ui
from rag.ui.theme import CSS, THEME

# Gradio's default runs one call of each event at a time: every user would wait behind all others.
# Answering is thread-safe (the /v1 API shares it); ingests still take turns on the write lock.
GRADIO_CONCURRENCY = 16


def create_app(services: Services) -> FastAPI:
    """FastAPI with the /v1 routes, and the Gradio page mounted at "/" behind the same login."""
    settings = services.settings
    blocks = build_ui(services).queue(default_concurrency_limit=GRADIO_CONCURRENCY)
    app = gr.mount_gradio_app(
        create_http_app(services),
        blocks,
        path="/",
        auth=services.login if services.auth else None,  # any of the NEWSRAG_AUTH logins, compared in constant time
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
    check_files_as_launched(blocks)
    return app


def check_files_as_launched(blocks: gr.Blocks) -> None:
    """Turn on Gradio's check that a file named in a request is an upload, which mounting leaves off.

    Gradio checks every FileData a request names (``processing_utils._check_allowed``: inputs must lie in its
    upload folder, GRADIO_TEMP_DIR) only once ``blocks.has_launched`` is true. ``launch()`` sets it when its
    server starts; ``mount_gradio_app`` never does, so on a mounted app any visitor could name any file the
    server can read, and Gradio would copy it into its cache and hand it to the event (issue item 1).
    Setting the flag, as ``launch()`` and Gradio's own reload do, covers every file-taking endpoint at once.
    """
    blocks.has_launched = True


def run(settings: Settings | None = None) -> None:
    """Build everything once and serve it with uvicorn until interrupted."""
    import uvicorn

    settings = settings or load_settings()
    services = build_services(settings)
    app = create_app(services)
    login = " (login required)" if services.auth else ""
    print(f"newsrag: serving http://{settings.host}:{settings.port}{login}", file=sys.stderr, flush=True)
    # The followed feeds are polled in the background (NEWSRAG_FOLLOW=false leaves that to `newsrag follow`).
    follower = Follower(services.newsrag).start() if settings.follow else None
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    finally:
        if follower is not None:
            follower.stop(timeout=5)
