"""The page's look: system fonts only (the page needs no font download) and a few classes for sources."""

from __future__ import annotations

import gradio as gr

THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)
CSS = """
.nr-source { margin: 0 0 0.9em 0; }
.nr-source-head { font-weight: 600; }
.nr-source-meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.nr-passage { margin-top: 0.3em; padding-left: 0.7em; border-left: 3px solid var(--border-color-primary); }
.nr-passage mark { background: #fde68a; color: inherit; padding: 0 0.1em; }
.nr-warning { color: #b45309; }
.nr-timings { color: var(--body-text-color-subdued); font-size: 0.85em; }
#nr-status { font-size: 0.95em; }
/* The article and history lists are sorted and paged on the server: the table's own menu would sort one page. */
#nr-articles .cell-menu-button, #nr-past .cell-menu-button { display: none; }
.nr-chunk { margin: 0 0 0.8em 0; padding-left: 0.7em; border-left: 3px solid var(--border-color-primary); }
.nr-pager { justify-content: center; }
/* A phone (390 px): rows wrap instead of squeezing, the page never scrolls sideways, the chat leaves room. */
@media (max-width: 600px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .nr-wrap-row { flex-wrap: wrap; }
  .nr-wrap-row > * { min-width: 100% !important; }
  #nr-chat { height: 460px !important; }
  #nr-articles, #nr-past { font-size: 0.9em; }
}
"""
