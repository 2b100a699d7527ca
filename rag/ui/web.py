"""The whole web app: the Gradio page at ``/`` mounted on the HTTP server's FastAPI (``/v1``), one login for all.

``newsrag serve`` and ``python app.py`` both call :func:`run`. It binds 127.0.0.1 unless told otherwise
and never creates a share link. With ``NEWSRAG_AUTH=alice:pw1,bob:pw2`` the page asks for a login and the
Gradio API needs it (``gradio_client.Client(url, auth=(user, password))``).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI
from gradio.routes import App as GradioApp
from gradio.utils import get_upload_folder
from starlette.requests import Request
from starlette.routing import Mount

from ingest.uploads import sweep_uploads
from rag.core.disk import make_private
from rag.core.settings import Settings, load_settings
from rag.server.http import create_http_app
from rag.service.follower import Follower
from rag.service.services import Services, build_services
from rag.ui.page import build_ui
from rag.ui.resting import RestingServer, rest_when_idle
from rag.ui.theme import CSS, THEME

# Gradio's default runs one call of each event at a time: every user would wait behind all others.
# Answering is thread-safe (the /v1 API shares it); ingests still take turns on the write lock.
GRADIO_CONCURRENCY = 16
# Seconds a stop (Ctrl-C, SIGTERM) waits for requests in flight (an answer being streamed) before cancelling them.
GRACEFUL_SHUTDOWN = 10


def create_app(services: Services) -> FastAPI:
    """FastAPI with the /v1 routes, and the Gradio page mounted at "/" behind the same login."""
    settings = services.settings
    blocks = build_ui(services).queue(default_concurrency_limit=GRADIO_CONCURRENCY)
    rest_when_idle(blocks._queue)  # Gradio's queue polls 1,100 times a second otherwise
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
        # No /openapi.json (nor /docs): FastAPI serves the schema of the Gradio app without asking for the login.
        app_kwargs={"openapi_url": None, "docs_url": None, "redoc_url": None},
        show_error=True,
        theme=THEME,
        css=CSS,
    )
    check_files_as_launched(blocks)
    watch_uploads(app, blocks)
    return app


def watch_uploads(app: FastAPI, blocks: gr.Blocks) -> None:
    """Tell the upload quota (``rag/server/upload_quota.py``) who a visitor is logged in as, and sweep after each
    upload the uploads no ingest used within the hour."""
    gradio_app = _gradio_app(app)
    folder = Path(get_upload_folder()).resolve()

    def upload_user(scope: dict[str, Any]) -> str | None:
        cookies = Request(scope).cookies
        for name, token in cookies.items():
            if name.startswith("access-token-") and (user := gradio_app.tokens.get(token)):
                return str(user)
        return None

    app.state.upload_user = upload_user
    app.state.after_upload = lambda: sweep_uploads(blocks.upload_file_set, folder)


def check_files_as_launched(blocks: gr.Blocks) -> None:
    """Turn on Gradio's check that a file named in a request is an upload, which mounting leaves off.

    Gradio checks every FileData a request names (``processing_utils._check_allowed``: inputs must lie in its
    upload folder, GRADIO_TEMP_DIR) only once ``blocks.has_launched`` is true. ``launch()`` sets it when its
    server starts; ``mount_gradio_app`` never does, so on a mounted app any visitor could name any file the
    server can read, and Gradio would copy it into its cache and hand it to the event (issue item 1).
    Setting the flag, as ``launch()`` and Gradio's own reload do, covers every file-taking endpoint at once.
    """
    blocks.has_launched = True


def proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's options for ``X-Forwarded-For``: believed only from ``trusted_proxies``, from no one when unset.

    Left to itself uvicorn believes it from 127.0.0.1 (or FORWARDED_ALLOW_IPS): any local process, or a proxy that
    passes the header through, could then name any client address and slip past the login throttle (item 7).
    """
    trusted = [entry.strip() for entry in trusted_proxies.split(",") if entry.strip()]
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": []}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _gradio_app(app: FastAPI) -> GradioApp:
    """The Gradio app that ``mount_gradio_app`` mounted at "/" (``Blocks.app`` is another instance)."""
    return next(r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, GradioApp))


def run(settings: Settings | None = None) -> None:
    """Build everything once and serve it with uvicorn until interrupted."""
    import uvicorn

    settings = settings or load_settings()
    for path in make_private(settings.index_dir)[:3]:  # an index an older version (or a lax umask) left readable
        print(f"newsrag: warning: {path} is readable by others and cannot be made private", file=sys.stderr)
    services = build_services(settings)
    app = create_app(services)
    login = " (login required)" if services.auth else ""
    print(f"newsrag: serving http://{settings.host}:{settings.port}{login}", file=sys.stderr, flush=True)
    # The followed feeds are polled in the background (NEWSRAG_FOLLOW=false leaves that to `newsrag follow`).
    follower = Follower(services.newsrag).start() if settings.follow else None
    try:
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            **proxy_options(settings.trusted_proxies),
        )
        # Every open page and gradio_client holds a heartbeat stream that ends only when Gradio's stop event is set,
        # which Gradio's own launch() does and a mounted app never gets: uvicorn waited 20 s and more for them.
        server = RestingServer(config, on_stop=_gradio_app(app).stop_event.set)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled, as uvicorn.run hides
            server.run()
    finally:
        if follower is not None:
            follower.stop(timeout=5)
