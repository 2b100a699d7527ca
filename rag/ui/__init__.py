"""The Gradio front-end: the page and its tabs, mounted with /v1 on one FastAPI app; the only code importing gradio."""

from rag.core.settings import offline_environment

offline_environment()  # before gradio is imported by any module here: no analytics, no hub calls
