"""The two `newsrag serve` processes that every module of tests/served/ talks to, started once for the package.

Package-scoped, so they stop when its last module ends: the suite keeps at most 3 servers alive at once
(tests/support/processes.py), and these two no longer restart for each module that uses them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evals.app_process import Server, free_port, serving
from tests.served.test_http_api import PASSWORD, UPLOAD_LIMIT_MB, USER


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No login, every visitor an owner (NEWSRAG_ADMINS=*: the one-person machine): the browser tests delete."""
    folder = tmp_path_factory.mktemp("server")
    with serving("open", folder, NEWSRAG_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB), NEWSRAG_ADMINS="*") as started:
        yield started


@pytest.fixture(scope="package")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Behind NEWSRAG_AUTH, and configured for an LLM endpoint that is down (so answers fall back, with a notice)."""
    down = f"http://127.0.0.1:{free_port()}/v1"
    with serving(
        "auth",
        tmp_path_factory.mktemp("auth-server"),
        NEWSRAG_AUTH=f"{USER}:{PASSWORD}",
        NEWSRAG_LLM_BASE_URL=down,
        NEWSRAG_LLM_MAX_RETRIES="0",
        NEWSRAG_LLM_TIMEOUT="5",
    ) as started:
        yield started
