"""The newsrag chat app: ``python app.py [--host --port ...]`` is ``newsrag serve``.

The page lives in ``rag/ui/`` (one module per tab); ``rag/ui/web.py`` mounts it with the ``/v1`` API
on one FastAPI app. See the README for the Gradio and HTTP APIs.
"""

from __future__ import annotations

if __name__ == "__main__":
    import typer

    from rag.cli.serve import serve

    typer.run(serve)
