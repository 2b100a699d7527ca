"""Imported by the fork server of the reading workers (``ingest/budget.py``): what every worker would otherwise
build for itself, built once, before the first fork. Importing it elsewhere only builds those a little early."""

from __future__ import annotations

from ingest.kinds import kinds
from rag.index.embedder import wordpiece_tokenizer

wordpiece_tokenizer()  # the tokenizer that measures chunks: ~50 ms to load, shared by every worker
for _kind in kinds():  # the loader modules, plugins' included
    try:
        _kind.loader()
    except Exception:  # noqa: BLE001, S112 - a loader that fails to import fails its own files, later, with its reason
        continue
