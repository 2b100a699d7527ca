"""What the lexical index holds for a chunk: its words, its id, and the fields the filters need.

Words are tokenized by bm25s (English stopwords, Snowball stems) and handed to tantivy split on spaces,
so what counts as a word is what it was before the switch to tantivy. Runs of Han, Hiragana, Katakana and
Hangul letters, written without spaces, become their overlapping character bigrams (``rag.core.text.bigrams``,
as the extractive engine reads them); text without such letters is tokenized exactly as before. The text
itself is not kept here: passages are read back from Chroma by id.
"""

from __future__ import annotations

from typing import Any

import bm25s
import Stemmer
import tantivy

from rag.core.text import bigrams, split_cjk


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("article_id", stored=False, tokenizer_name="raw")
    builder.add_text_field("source", stored=False, tokenizer_name="raw")
    builder.add_integer_field("published_ts", indexed=True, fast=True)
    return builder.build()


class Words:
    """The words of texts, as the index stores and looks them up."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def joined(self, texts: list[str]) -> list[str]:
        """Each text's stemmed words without stopwords, joined by spaces (tantivy's whitespace tokenizer splits
        them again); its runs of CJK letters as their bigrams, in place."""
        pieces = [split_cjk(text) for text in texts]  # other text at even positions, CJK runs at odd ones
        others = [piece for cut in pieces for piece in cut[::2]]
        tokens = iter(self._tokenize(others) if others else [])
        out = []
        for cut in pieces:
            words: list[str] = []
            for i, piece in enumerate(cut):
                words += bigrams(piece) if i % 2 else next(tokens)
            out.append(" ".join(words))
        return out

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)
        return tokens  # type: ignore[return-value]

    def distinct(self, text: str) -> list[str]:
        """The words of one text, each once, in order."""
        return list(dict.fromkeys(self.joined([text])[0].split()))


def document(chunk_id: str, body: str, meta: dict[str, Any]) -> tantivy.Document:
    """One chunk as a tantivy document (``body``: its words from :class:`Words`)."""
    return tantivy.Document(
        body=body,
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id", "")),
        source=str(meta.get("source", "")),
        published_ts=int(meta.get("published_ts") or 0),
    )
