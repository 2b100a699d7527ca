"""Per-visitor quotas on Gradio's upload route: files and megabytes per rolling hour.

``POST /gradio_api/upload`` stores whatever it is sent (each file up to ``NEWSRAG_MAX_UPLOAD_MB``) before any
handler sees it, so without a quota one visitor could fill the disk. Each client may upload
``NEWSRAG_VISITOR_UPLOADS_PER_HOUR`` files and ``NEWSRAG_VISITOR_UPLOAD_MB_PER_HOUR`` megabytes in any hour; past
either, the route answers 429 with ``Retry-After`` and a plain message. The client is the login user when there
is one (the UI tells this middleware how to find it: ``state.upload_user``), else the client's address (IPv6 by
its /64, as ``login_throttle.py`` counts). Bytes are counted as the body streams in, so an upload that would go
past the quota is cut short; files are counted from the route's answer (the paths it stored).

Limits, on purpose: the counts live in this process's memory (at most :data:`MAX_RECORDS` clients, the oldest
dropped first) and are forgotten when the server restarts. After each stored upload, ``state.after_upload`` (set
by the UI) sweeps uploads that no ingest used within the hour.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse

from rag.server.login_throttle import address_key

UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/gradio_api/upload/"})
WINDOW = 3600.0  # seconds: the rolling hour
MAX_RECORDS = 50_000
MAX_ANSWER = 1_000_000  # bytes of the route's answer read to count the files it stored


@dataclass
class _Usage:
    uploads: deque[tuple[float, int, int]] = field(default_factory=deque)  # (when, files, bytes)

    def totals(self, now: float) -> tuple[int, int]:
        while self.uploads and now - self.uploads[0][0] >= WINDOW:
            self.uploads.popleft()
        return sum(u[1] for u in self.uploads), sum(u[2] for u in self.uploads)


class Quota:
    """Files and bytes per client in the rolling hour. Only the event loop's thread touches it: no lock."""

    def __init__(self, files: int, megabytes: float, clock: Callable[[], float] = time.time) -> None:
        self.files, self.bytes, self.clock = files, int(megabytes * 1_000_000), clock
        self.records: OrderedDict[str, _Usage] = OrderedDict()

    def wait(self, client: str, more_bytes: int = 0) -> float:
        """Seconds before ``client`` may upload (``more_bytes`` more); 0 means now."""
        now = self.clock()
        usage = self.records.get(client)
        files, sent = usage.totals(now) if usage else (0, 0)
        if files < self.files and sent + more_bytes <= self.bytes:
            return 0.0
        if not usage or not usage.uploads:
            return WINDOW  # a quota of nothing, or one upload larger than the whole quota
        return max(1.0, usage.uploads[0][0] + WINDOW - now)

    def add(self, client: str, files: int, sent: int) -> None:
        usage = self.records.setdefault(client, _Usage())
        usage.uploads.append((self.clock(), files, sent))
        self.records.move_to_end(client)
        while len(self.records) > MAX_RECORDS:
            self.records.popitem(last=False)


class UploadQuota:
    """Pure ASGI middleware: 429 on the upload route once the client's hourly quota is spent."""

    def __init__(self, app: Any, quota: Quota, state: Any = None) -> None:
        self.app, self.quota, self.state = app, quota, state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in UPLOAD_PATHS:
            await self.app(scope, receive, send)
            return
        client = self._client(scope)
        if wait := self.quota.wait(client):
            await _too_many(scope, receive, send, wait)
            return
        received, refused, status, answer = 0, False, 0, b""

        async def counted() -> dict[str, Any]:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if not refused and (wait := self.quota.wait(client, received)):
                    refused = True
                    await _too_many(scope, receive, send, wait)
                    return {"type": "http.disconnect"}  # the route drops what it stored of it
            return message

        async def watched(message: dict[str, Any]) -> None:
            nonlocal status, answer
            if refused:
                return  # the route's own answer, after our 429, goes nowhere
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(answer) < MAX_ANSWER:
                answer += message.get("body", b"")
            await send(message)

        await self.app(scope, counted, watched)
        if not refused and 200 <= status < 300:
            self.quota.add(client, _stored(answer), received)
            after = getattr(self.state, "after_upload", None)
            if after is not None:
                after()

    def _client(self, scope: dict[str, Any]) -> str:
        user_of = getattr(self.state, "upload_user", None)
        user = user_of(scope) if user_of is not None else None
        return f"user:{user}" if user else ":".join(address_key(scope))


def _stored(answer: bytes) -> int:
    """How many files the route stored: its answer is the list of their paths."""
    try:
        paths = json.loads(answer)
    except ValueError:
        return 1
    return len(paths) if isinstance(paths, list) else 1


async def _too_many(scope: dict[str, Any], receive: Any, send: Any, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    minutes = max(1, math.ceil(seconds / 60))
    message = f"upload quota reached (files or megabytes per hour): try again in {minutes} min"
    response = JSONResponse({"detail": message}, status_code=429, headers={"Retry-After": str(seconds)})
    await response(scope, receive, send)
