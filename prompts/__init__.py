"""Prompt templates as files: ``<name>.md`` here, loaded by :func:`rag.prompts.load_prompt`."""
