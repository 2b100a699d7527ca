"""A news site on 127.0.0.1 whose feeds a test changes between polls: validators (ETag, Last-Modified), errors,
delays, and a count of every request, with the conditional headers it carried."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Resource:
    """What one path answers: a body with its type, or an error status; optionally validators and a delay."""

    body: str = ""
    content_type: str = "application/rss+xml"
    status: int = 200
    etag: str = ""
    last_modified: str = ""
    delay: float = 0.0


class FeedSite:
    """path -> Resource; ``hits`` counts requests by path, ``conditional`` records (path, If-None-Match,
    If-Modified-Since) of every request that carried one."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.hits: Counter[str] = Counter()
        self.conditional: list[tuple[str, str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                path = self.path
                site.hits[path] += 1
                resource = site.resources.get(path)
                if resource is None:
                    self.send_error(404, "Not Found")
                    return
                if resource.delay:
                    time.sleep(resource.delay)
                if resource.status != 200:
                    self.send_error(resource.status)
                    return
                etag, since = self.headers.get("If-None-Match", ""), self.headers.get("If-Modified-Since", "")
                if etag or since:
                    site.conditional.append((path, etag, since))
                if (resource.etag and etag == resource.etag) or (
                    resource.last_modified and since == resource.last_modified and not etag
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                data = resource.body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", resource.content_type)
                self.send_header("Content-Length", str(len(data)))
                if resource.etag:
                    self.send_header("ETag", resource.etag)
                if resource.last_modified:
                    self.send_header("Last-Modified", resource.last_modified)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up (slow feed)
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
