"""``embedder=openai``: embeddings from any OpenAI-compatible ``/v1/embeddings`` server, through the openai client.

LlamaIndex's ``OpenAIEmbedding`` accepts only OpenAI's own model names, so a self-hosted server (text-embeddings-
inference, vLLM, llama.cpp, Ollama, infinity) serving, say, ``all-MiniLM-L6-v2`` could not be used: this class
sends whatever model name the settings give. Vectors come back in input order (sorted by their ``index``).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr


class OpenAICompatibleEmbedding(BaseEmbedding):
    """A LlamaIndex embedding over an OpenAI-compatible embeddings endpoint."""

    _client: Any = PrivateAttr()
    _async_client: Any = PrivateAttr()

    def __init__(
        self, model_name: str, api_key: str, base_url: str | None, embed_batch_size: int, timeout: float = 60.0
    ) -> None:
        super().__init__(model_name=model_name, embed_batch_size=embed_batch_size)
        import openai

        options = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": 2}
        self._client = openai.OpenAI(**options)
        self._async_client = openai.AsyncOpenAI(**options)

    @classmethod
    def class_name(cls) -> str:
        return "OpenAICompatibleEmbedding"

    def _embed(self, texts: list[str]) -> list[list[float]]:
        reply = self._client.embeddings.create(model=self.model_name, input=texts)
        return [item.embedding for item in sorted(reply.data, key=lambda d: d.index)]

    async def _aembed(self, texts: list[str]) -> list[list[float]]:
        reply = await self._async_client.embeddings.create(model=self.model_name, input=texts)
        return [item.embedding for item in sorted(reply.data, key=lambda d: d.index)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return (await self._aembed([query]))[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aembed([text]))[0]
