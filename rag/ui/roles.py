"""The page as each visitor's role allows: the owner's controls disabled or hidden for other visitors, saying why.

What protects the archive is the check in each handler (:func:`manages_request`, asked by the delete, bulk-delete
and feed handlers), since the Gradio API calls the same handlers as the page; this only spares visitors buttons
that would refuse them.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.service.roles import ADMINS_HINT, manages
from rag.service.services import Services

DISABLED_FOR_VISITORS = ("nr-delete", "nr-bulk-count", "nr-bulk-confirm")  # shown, so visitors know they exist
HIDDEN_FOR_VISITORS = ("nr-feed-controls",)
VISITOR_NOTE = (
    "You can add articles and read them. Deleting articles and following or unfollowing feeds is for the"
    f" archive's owner: {ADMINS_HINT}."
)


def manages_request(request: gr.Request | None, settings: Any) -> bool:
    """Whether the visitor making ``request`` manages the archive (their login is an admin, or admins is ``*``)."""
    return manages(getattr(request, "username", None) if request is not None else None, settings)


def wire_role_controls(blocks: gr.Blocks, services: Services, note: gr.Markdown) -> None:
    """On each page load: for a visitor who does not manage, disable or hide the owner's controls and fill ``note``."""
    by_id = {getattr(b, "elem_id", None): b for b in blocks.blocks.values()}
    disabled = [by_id[name] for name in DISABLED_FOR_VISITORS if name in by_id]
    hidden = [by_id[name] for name in HIDDEN_FOR_VISITORS if name in by_id]

    def show(request: gr.Request) -> tuple[Any, ...]:
        if manages_request(request, services.settings):
            return (gr.Markdown(visible=False), *[gr.skip()] * (len(disabled) + len(hidden)))
        return (
            gr.Markdown(VISITOR_NOTE, visible=True),
            *[gr.Button(interactive=False) for _ in disabled],
            *[gr.Column(visible=False) for _ in hidden],
        )

    blocks.load(show, outputs=[note, *disabled, *hidden], api_visibility="private")
