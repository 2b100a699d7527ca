"""Prompt templates as files: ``<name>.md`` here, loaded by :func:`rag.answering.prompts.load_prompt`."""
