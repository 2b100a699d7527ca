"""Launchers for the real servers the tests run against (an OpenAI-compatible LLM server, Chroma)."""
