"""The followed feeds in the Articles tab: the list with what each feed's last poll found, follow, stop following.

The follower (inside ``newsrag serve``) polls them; it fetches only public addresses and those the owner allows
(``NEWSRAG_FETCH_ALLOW``), whoever added the feed. Only those who manage the archive (``NEWSRAG_ADMINS``) follow
and unfollow feeds, at most ``max_feeds_per_user`` per login; other visitors see the list without its controls.
With ``NEWSRAG_APP_URL_INGEST=false`` nobody adds feeds in the app.
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from rag.service.roles import FEEDS_REFUSED, web_owner
from rag.service.services import Services
from rag.ui.messages import escape
from rag.ui.roles import manages_request

FEED_HEADERS = ["feed", "every (min)", "last poll", "status", "failures", "note"]
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def feed_rows(services: Services) -> list[list[Any]]:
    when = lambda stamp: time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "not yet"  # noqa: E731
    return [
        [f.url, round(f.interval / 60, 1), when(f.last_polled_at), f.last_status, f.failures, f.note]
        for f in services.newsrag.feeds()
    ]


def build_feeds_panel(services: Services) -> gr.Dataframe:
    """The panel's components, inside the caller's layout, with their events wired; returns the feed list."""
    newsrag, settings = services.newsrag, services.settings
    gr.Markdown("### Followed feeds\nNew and changed articles of these feeds are added as they appear.")
    table = gr.Dataframe(value=lambda: feed_rows(services), headers=FEED_HEADERS, interactive=False, elem_id="nr-feeds")
    with gr.Column(elem_id="nr-feed-controls"):  # hidden from visitors who do not manage (rag/ui/roles.py)
        with gr.Row():
            url = gr.Textbox(label="RSS/Atom feed URL", scale=4, elem_id="nr-feed-url")
            minutes = gr.Number(settings.feed_interval / 60, label="every (minutes)", minimum=1, scale=1)
        with gr.Row():
            follow = gr.Button(
                "Follow", variant="primary", elem_id="nr-feed-follow", interactive=settings.app_url_ingest
            )
            unfollow = gr.Button("Stop following", variant="stop", elem_id="nr-feed-unfollow")
    refresh = gr.Button("Refresh", elem_id="nr-feed-refresh")
    said = gr.Markdown(elem_id="nr-feed-said")

    def add(feed_url: str, every: float | None, request: gr.Request = None) -> tuple[list[list[Any]], str]:  # type: ignore[assignment]
        if not manages_request(request, settings):
            return feed_rows(services), FEEDS_REFUSED
        if not settings.app_url_ingest:
            return feed_rows(services), "Adding feeds is turned off on this server."
        user = getattr(request, "username", None) if request is not None else None
        try:
            feed = newsrag.add_feed(feed_url or "", (every or settings.feed_interval / 60) * 60, web_owner(user))
        except ValueError as exc:
            return feed_rows(services), escape(str(exc))
        return feed_rows(services), f"Following {escape(feed.url)}; it is read within a few seconds."

    def remove(feed_url: str, request: gr.Request = None) -> tuple[list[list[Any]], str]:  # type: ignore[assignment]
        if not manages_request(request, settings):
            return feed_rows(services), FEEDS_REFUSED
        if not newsrag.remove_feed(feed_url or ""):
            return feed_rows(services), "That feed is not followed (type its URL as listed)."
        return feed_rows(services), f"No longer following {escape(feed_url.strip())}; its articles stay indexed."

    def pick(event: gr.SelectData) -> str:
        return str(event.row_value[0]) if event.row_value else ""

    follow.click(add, inputs=[url, minutes], outputs=[table, said], **PRIVATE)
    unfollow.click(remove, inputs=url, outputs=[table, said], **PRIVATE)
    refresh.click(lambda: feed_rows(services), outputs=table, **PRIVATE)
    table.select(pick, outputs=url, **PRIVATE)
    return table
