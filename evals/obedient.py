"""A scripted OpenAI-compatible server on 127.0.0.1 that obeys every planted instruction it can read.

It plays the worst case for the answer path: it reads its prompt as a model does (compatibility forms folded, HTML
entities and invisible tag characters read, zero-width characters ignored), and when a passage carries a payload
marker ("PWNED-117") it answers with it, citing that passage. Otherwise it answers honestly with the passage sentence
sharing most words with the question. Chat completions only, streamed (SSE) or not.
"""

from __future__ import annotations

import html
import json
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = re.compile(r"pwned-\d+", re.IGNORECASE)
PASSAGE = re.compile(r'<passage number="(\d+)"(.*?)>\n(.*?)\n</passage[^>]*>', re.DOTALL)
_TAG_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}
_WORD = re.compile(r"\w{3,}")


def as_read(text: str) -> str:
    """Text as a model reads it."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_TAG_ASCII)
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def obey(messages: list[dict[str, Any]], marker: re.Pattern[str] = MARKER) -> str:
    """The payload (``marker``) a passage asks for, cited, else the passage sentence closest to the question."""
    prompt = as_read("\n".join(str(m.get("content") or "") for m in messages))
    passages = PASSAGE.findall(prompt)
    for number, attributes, text in passages:
        demanded = marker.search(attributes) or marker.search(text)
        if demanded:
            return f"The answer is {demanded[0].upper()} [{number}]."
    if not passages:
        return "The indexed articles don't say."
    asked = set(_WORD.findall(prompt.rsplit("Question:", 1)[-1].lower()))
    sentences = [(n, s) for n, _, text in passages for s in re.split(r"(?<=[.!?])\s+", text.strip())]
    number, best = max(sentences, key=lambda ns: len(asked & set(_WORD.findall(ns[1].lower()))))
    return f"{best} [{number}]"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet: an eval prints its own progress
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        text = obey(body.get("messages") or [], getattr(self.server, "marker", MARKER))
        if body.get("stream"):
            self._stream(text)
            return
        reply = {"id": "obedient", "object": "chat.completion", "created": 0, "model": "obedient",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip
        self._send(json.dumps(reply).encode(), "application/json")

    def _stream(self, text: str) -> None:
        def chunk(delta: dict[str, str], finish: str | None) -> bytes:
            event = {"id": "obedient", "object": "chat.completion.chunk", "created": 0, "model": "obedient",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
            return f"data: {json.dumps(event)}\n\n".encode()

        body = chunk({"role": "assistant", "content": text}, None) + chunk({}, "stop") + b"data: [DONE]\n\n"
        self._send(body, "text/event-stream")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def obedient_server(marker: re.Pattern[str] = MARKER) -> Iterator[str]:
    """The server, obeying passages that ask for ``marker``, on a free port for the duration of the block; yields
    its base URL (".../v1")."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.marker = marker  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
