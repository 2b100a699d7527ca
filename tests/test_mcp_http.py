"""Issue #36: `/mcp` in a real `newsrag serve`, behind NEWSRAG_AUTH, driven by the SDK's streamable HTTP client.

One server for the module, with two logins: ``owner`` (in NEWSRAG_ADMINS) and ``guest``; 127.0.0.1 is in
NEWSRAG_FETCH_ALLOW, so that the visitor fetch policy lets the owner add a page of the local test site.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from evals.app_process import Server, serving
from rag.server.mcp_http import INGEST_REFUSED
from tests.support.feed_server import FeedSite
from tests.test_mcp import HARBOUR, PUTIN, SAMPLE_TITLE, TOOLS, harbour_site

pytestmark = [pytest.mark.server]

OWNER, GUEST = ("owner", "owner-pass-1"), ("guest", "guest-pass-2")
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
              "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}}}  # fmt: skip
STREAMABLE = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def mcp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    logins = ",".join(f"{user}:{password}" for user, password in (OWNER, GUEST))
    with serving(
        "mcp", tmp_path_factory.mktemp("mcp-http"), NEWSRAG_AUTH=logins, NEWSRAG_ADMINS=OWNER[0],
        NEWSRAG_FETCH_ALLOW="127.0.0.1",
    ) as started:  # fmt: skip
        yield started


site = pytest.fixture(harbour_site, scope="module", name="site")


def over_http(server: Server, login: tuple[str, str], talk: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """The SDK's streamable HTTP client on /mcp with ``Authorization: Bearer <password>``."""

    async def session() -> Any:
        headers = {"Authorization": f"Bearer {login[1]}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=180)) as http,
            streamable_http_client(server.url + "/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            return await talk(client)

    return anyio.run(session)


def test_a_visitor_without_the_login_is_refused(mcp_server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-password"}, {"Authorization": "Basic bm9ib2R5Om5vcGU="}):
        reply = httpx.post(mcp_server.url + "/mcp", json=INITIALIZE, headers=STREAMABLE | headers, timeout=30)
        assert reply.status_code == 401, headers
        assert reply.headers["www-authenticate"].startswith("Bearer")
    basic = base64.b64encode(":".join(GUEST).encode()).decode()
    reply = httpx.post(
        mcp_server.url + "/mcp", json=INITIALIZE, headers=STREAMABLE | {"Authorization": f"Basic {basic}"}, timeout=30
    )
    assert reply.status_code == 200 and '"serverInfo"' in reply.text  # HTTP basic is a login too, as on /v1


def test_a_logged_in_user_lists_the_tools_and_asks(mcp_server: Server) -> None:
    async def talk(client: ClientSession) -> None:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        result = await client.call_tool("ask_news", {"question": PUTIN, "engine": "extractive"})
        assert not result.is_error, result.content
        asked = result.structured_content
        assert not asked["refused"] and asked["citations"][0]["title"] == SAMPLE_TITLE

    over_http(mcp_server, GUEST, talk)


def test_only_an_admin_adds_articles_over_http(mcp_server: Server, site: FeedSite) -> None:
    url = site.url("/harbour.html")

    async def guest(client: ClientSession) -> None:
        refused = await client.call_tool("ingest_url", {"url": url})
        assert refused.is_error and INGEST_REFUSED in refused.content[0].text

    async def owner(client: ClientSession) -> None:
        added = await client.call_tool("ingest_url", {"url": url})
        assert not added.is_error, added.content
        assert [(a["title"], a["status"]) for a in added.structured_content["articles"]] == [(HARBOUR, "added")]
        listed = await client.call_tool("list_articles", {"query": "harbour"})
        assert listed.structured_content["total"] == 1

    over_http(mcp_server, GUEST, guest)
    assert site.hits["/harbour.html"] == 0  # refused before anything was fetched
    over_http(mcp_server, OWNER, owner)
    assert site.hits["/harbour.html"] == 1
