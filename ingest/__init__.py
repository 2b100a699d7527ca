"""Layer 3, ingest: load (files, web pages, feeds) → clean → chunk → write the index (``pipeline.Ingestor``).

It uses the index layer (``rag.index``) and the core, never the answering or service layers above it.
"""
