"""newsrag's one settings class.

Every knob lives here: environment variables with the ``NEWSRAG_`` prefix, a ``.env`` file in the
working directory, and keyword overrides (the CLI passes its flags that way). Defaults work offline.
The README's configuration reference is generated from this class (``newsrag config --markdown``).
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.core.options import ENGINE_PLUGINS, Engine, RetrievalMode

EmbedderName = Literal["minilm", "openai"]


class Settings(BaseSettings):
    """newsrag configuration; each field is ``NEWSRAG_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Storage
    index_dir: Path = Field(Path(".newsrag"), description="Where newsrag keeps everything it writes.")
    collection: str = Field("newsrag-articles", description="Chroma collection holding the chunks.")
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset means an embedded Chroma under index_dir."
    )
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    chroma_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for the Chroma server (with chroma_host) before a request fails."
    )

    # Embeddings
    embedder: EmbedderName = Field(
        "minilm", description="minilm: offline all-MiniLM-L6-v2 int8 ONNX; openai: an embeddings API."
    )
    embed_model: str = Field("text-embedding-3-small", description="Model name for embedder=openai.")
    embed_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL for embedder=openai (default: OpenAI's)."
    )
    embed_api_key: SecretStr | None = Field(
        None, description="API key for embedder=openai (falls back to OPENAI_API_KEY)."
    )
    embed_batch_size: int = Field(16, ge=1, le=256, description="Texts per embedding batch.")
    embed_threads: int = Field(0, ge=0, description="onnxruntime intra-op threads; 0 lets it choose.")

    # Ingest
    chunk_size: int = Field(256, ge=32, le=2048, description="Chunk size in embedder tokens.")
    chunk_overlap: int = Field(32, ge=0, le=512, description="Token overlap between chunks.")
    max_article_mb: float = Field(5.0, gt=0, description="Larger inputs are refused as not being one news article.")
    fetch_timeout: float = Field(20.0, gt=0, description="Seconds allowed to fetch one URL, in total (not per read).")
    fetch_deadline: float = Field(
        120.0, gt=0, description="Seconds allowed for all the fetches of one ingest request (a feed and its pages)."
    )
    max_feed_items: int = Field(50, ge=1, description="Most entries read from one feed; the rest are skipped.")
    max_archive_items: int = Field(
        1000,
        ge=1,
        description="Most messages read from one mailbox (.mbox), or pages from one web archive (.warc); the rest"
        " are skipped, with a line saying so.",
    )
    max_fetch_mb: float = Field(50.0, gt=0, description="Most bytes one ingest request may download, in total.")

    # Followed feeds (`newsrag feeds add URL`; polled by `newsrag follow` and inside `newsrag serve`)
    follow: bool = Field(True, description="`newsrag serve` polls the followed feeds in the background; off disables.")
    feed_interval: float = Field(900.0, gt=0, description="Seconds between two polls of a followed feed (default).")
    feed_max_backoff: float = Field(
        21600.0, gt=0, description="Longest wait before polling again a feed whose polls keep failing (seconds)."
    )

    # Retrieval and answers
    top_k: int = Field(5, ge=1, le=50, description="Passages an answer shows and an LLM reads.")
    read_k: int = Field(
        20,
        ge=1,
        le=100,
        description="Passages retrieved and read for short answers; the top_k that best support the answer are kept.",
    )
    time_aware: bool = Field(
        True,
        description='Read time words in questions ("last week", "in March") as date windows and prefer recent'
        " articles by the measured prior; off: dates come only from since, until and as_of.",
    )
    retrieval: RetrievalMode = Field(RetrievalMode.hybrid, description="hybrid (dense+BM25, fused), dense or lexical.")
    min_relevance: float = Field(
        0.48, ge=0, le=1.5, description="Best sentence score under which both engines refuse (calibrated)."
    )
    short_answer_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Confidence from which the bold short answer is stated (default: the fitted model's).",
    )
    engine: str = Field(
        Engine.auto.value,
        description="auto (llm when an LLM endpoint is configured, else extractive), llm, extractive, or the name of"
        " an installed plugin's engine.",
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name for the llm engine.")
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL (vLLM, Ollama, llama.cpp, LM Studio)."
    )
    llm_api_key: SecretStr | None = Field(None, description="API key (falls back to OPENAI_API_KEY).")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds allowed for one LLM call.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries with backoff on transient errors.")

    # The app (`newsrag serve`) and its APIs
    host: str = Field("127.0.0.1", description="Address the app binds; 0.0.0.0 exposes it to your network.")
    port: int = Field(7860, ge=1, le=65535, description="Port the app listens on.")
    auth: SecretStr | None = Field(
        None,
        description="user:password (several: comma-separated) required by the app, its Gradio API and /v1"
        " (Bearer password or basic).",
    )
    allowed_hosts: str = Field(
        "",
        description="Host names the app answers to besides the bound host and localhost (comma-separated; * for"
        " any); others are refused, against DNS rebinding.",
    )
    app_url_ingest: bool = Field(True, description="Let web visitors add articles by URL or feed; off disables it.")
    fetch_allow: str = Field(
        "",
        description="Hosts or networks (comma-separated, e.g. news.intranet,10.1.0.0/16) the app may fetch for"
        " web visitors besides public addresses. The CLI, run by the owner, may fetch any address.",
    )
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file the app accepts as an upload.")
    admins: str = Field(
        "",
        description="Logins (user names of NEWSRAG_AUTH, comma-separated; * for every visitor) who manage the"
        " archive in the app: delete articles, follow and unfollow feeds. Others ask, rate and see their own"
        " history. The CLI and the Python API always act as the owner.",
    )
    trusted_proxies: str = Field(
        "",
        description="Addresses or networks (comma-separated) of reverse proxies whose X-Forwarded-For names the"
        " client; from anyone else the header is ignored.",
    )
    parse_cpu_seconds: float = Field(
        30.0, gt=0, description="CPU seconds one file may take to read (in a worker process); over it, it fails alone."
    )
    parse_memory_mb: int = Field(
        2048, ge=256, description="Memory one file's reading may use (in a worker process); over it, it fails alone."
    )
    max_article_chunks: int = Field(
        2000,
        ge=1,
        description="Most chunks one article may make (a long report makes a few hundred); a longer text, or one of"
        " single letters, is refused before it is embedded.",
    )
    visitor_uploads_per_hour: int = Field(
        60, ge=0, description="Files one web visitor may upload in an hour (0: none)."
    )
    visitor_upload_mb_per_hour: float = Field(
        200.0, ge=0, description="Megabytes one web visitor may upload in an hour."
    )
    max_feeds_per_user: int = Field(100, ge=1, description="Most feeds one login (or the CLI) may follow.")
    log: bool = Field(True, description="Log questions and answers to index_dir/history.sqlite; off disables.")

    @field_validator("engine", mode="before")
    @classmethod
    def _known_engine(cls, value: Any) -> str:
        """A built-in engine's name; any other only when an engine plugin is installed (the answerer checks it)."""
        name = str(value).strip().lower()
        if name in {choice.value for choice in Engine} or entry_points(group=ENGINE_PLUGINS):
            return name
        raise ValueError(f"unknown engine {name[:40]!r}: choose one of auto, llm, extractive (no plugin adds engines)")

    def openai_key(self, own: SecretStr | None) -> str | None:
        """The key to use for an OpenAI-style endpoint: our own setting, else ``OPENAI_API_KEY``."""
        if own is not None:
            return own.get_secret_value()
        return os.environ.get("OPENAI_API_KEY")

    @property
    def llm_configured(self) -> bool:
        """True when an LLM endpoint is configured at all."""
        return bool(self.llm_base_url or self.openai_key(self.llm_api_key))

    @property
    def chroma_path(self) -> Path:
        return self.index_dir / "chroma"

    @property
    def lexical_path(self) -> Path:
        return self.index_dir / "lexical"

    @property
    def feeds_path(self) -> Path:
        return self.index_dir / "feeds.sqlite"

    @property
    def catalog_path(self) -> Path:
        """The article catalog, a cache of the store's article list (``rag/index/catalog.py``)."""
        return self.index_dir / "catalog.sqlite"

    @property
    def history_path(self) -> Path:
        """The question log (``newsrag log``, the app's History tab)."""
        return self.index_dir / "history.sqlite"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and ``.env``; ``overrides`` win (None is ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def offline_environment() -> None:
    """Turn off the phone-home and download paths of our dependencies for this process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
