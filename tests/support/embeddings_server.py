"""An OpenAI-compatible embeddings server on 127.0.0.1 (``POST /v1/embeddings``) serving the real MiniLM model, as
text-embeddings-inference or vLLM would serve a model on a GPU machine; it counts the texts it embedded."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rag.index.embedder import MiniLMEmbedding

MODEL = "all-MiniLM-L6-v2"


class EmbeddingsServer:
    def __init__(self) -> None:
        self.model = MiniLMEmbedding()
        self.texts = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:  # one onnxruntime session
            self.texts += len(texts)
            return self.model.get_text_embedding_batch(texts)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                if self.path != "/v1/embeddings":
                    self.send_error(404)
                    return
                body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                vectors = owner.embed(texts)
                reply = {
                    "object": "list",
                    "model": body.get("model", MODEL),
                    "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
