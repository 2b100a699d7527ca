"""Slow down password guessing: after a few failed logins, refuse further attempts for a growing window.

Three doors take a password: Gradio's login form (``POST /login``, 400 or 401 when wrong), ``/v1`` and ``/mcp``
(401 when their ``Authorization`` header is wrong). This middleware does not check passwords itself; it
watches the answers. After :data:`FREE_FAILURES` failures in a row, a client address is refused with
429 and ``Retry-After`` (in OpenAI's error shape on ``/v1``) for :data:`FIRST_LOCK` seconds, doubling with
each further failure up to :data:`MAX_LOCK`. The form's attempts are also counted by user name, so that
guessing one user's password from many addresses is slowed as well. A success (a 2xx) clears the count;
successful logins are never delayed. Refused attempts are not checked, so they cannot reveal a password.

Limits, on purpose:

* Addresses are the client's as uvicorn reports it: ``X-Forwarded-For`` is believed only from the proxies in
  ``NEWSRAG_TRUSTED_PROXIES`` (``rag/ui/web.py`` tells uvicorn; unset, from no one, not even 127.0.0.1), so a
  client cannot rotate it to dodge the count. IPv6 clients are counted per /64, since one host commonly holds a
  whole /64.
* Clients sharing an address (a NAT, a proxy that does not forward the address) share a count.
* A user name locked by someone else's failures cannot log in through the form until the window ends
  (``/v1`` still works for it): the window is short at first, and capped at :data:`MAX_LOCK`.
* The counts live in this process's memory (at most :data:`MAX_RECORDS` keys, the oldest dropped first)
  and are forgotten :data:`FORGET_AFTER` seconds after their last failure, or when the server restarts.
* On ``/v1`` many requests may be in flight at once; until the first failure is seen none is held back,
  so that busy clients with the right key are never slowed. Every failure in such a burst still counts.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from rag.server.errors import error_body

FREE_FAILURES = 10  # failures in a row before the first lock: room for typos and a misconfigured client
FIRST_LOCK = 1.0  # seconds; doubled with every further failure
MAX_LOCK = 300.0  # seconds: at worst ~12 guesses an hour per address (or user name)
FORGET_AFTER = 900.0  # seconds after the last failure (longer than MAX_LOCK, so a lock cannot be waited out)
MAX_RECORDS = 50_000  # keys remembered at once: a few MB, whatever a flood of addresses does
MAX_LOGIN_FORM = 16_384  # bytes: a user name and a password, with room to spare

LOGIN_PATHS = frozenset({"/login", "/login/"})
KEY_PATHS = ("/v1/", "/mcp")  # the APIs, where every request carries the password

Key = tuple[str, str]


class Outcome(enum.Enum):
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    NEUTRAL = "neutral"  # no password was checked (a bad request, a redirect, a server error)


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0
    in_flight: int = 0

    def forgotten(self, now: float) -> bool:
        return not self.in_flight and now >= self.locked_until and now - self.last_seen > FORGET_AFTER


class Throttle:
    """The failure counts, in memory. Only the event loop's thread touches it, so it needs no lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_records: int = MAX_RECORDS) -> None:
        self.clock, self.max_records = clock, max_records
        self.records: OrderedDict[Key, _Record] = OrderedDict()  # oldest failure first

    def lock_for(self, failures: int) -> float:
        if failures < FREE_FAILURES:
            return 0.0
        return min(MAX_LOCK, FIRST_LOCK * 2 ** min(failures - FREE_FAILURES, 32))

    def _live(self, key: Key, now: float) -> _Record | None:
        record = self.records.get(key)
        if record and record.forgotten(now):
            del self.records[key]
            return None
        return record

    def wait(self, keys: list[Key], every_request_logs_in: bool) -> float:
        """Seconds before an attempt under these keys may go ahead; 0 means now.

        While failures are on record, attempts in flight count as failures-to-be, so a burst of parallel
        guesses cannot slip past the count. Form posts are always attempts; /v1 requests only once a
        failure was seen (until then they are a busy client's, with the right key).
        """
        now, longest = self.clock(), 0.0
        for key in keys:
            record = self._live(key, now)
            if record is None:
                continue
            if now < record.locked_until:
                longest = max(longest, record.locked_until - now)
            elif (every_request_logs_in or record.failures) and record.in_flight >= max(
                1, FREE_FAILURES - record.failures
            ):
                longest = max(longest, 1.0)
        return longest

    def begin(self, keys: list[Key], every_request_logs_in: bool) -> list[Key]:
        """Count an attempt in flight; returns the keys counted, for :meth:`end`."""
        counted = []
        for key in keys:
            record = self.records.get(key)
            if record is None and every_request_logs_in:
                record = self.records[key] = _Record(last_seen=self.clock())
                self._trim()
            if record is not None:
                record.in_flight += 1
                counted.append(key)
        return counted

    def end(self, counted: list[Key], keys: list[Key], outcome: Outcome) -> None:
        now = self.clock()
        for key in counted:
            if record := self.records.get(key):
                record.in_flight = max(0, record.in_flight - 1)
        for key in keys:
            record = self.records.get(key)
            if outcome is Outcome.FAILED:
                record = record or self.records.setdefault(key, _Record())
                record.failures += 1
                record.last_seen = now
                record.locked_until = now + self.lock_for(record.failures)
                self.records.move_to_end(key)
            elif outcome is Outcome.SUCCEEDED and record:
                record.failures, record.locked_until = 0, 0.0
            if record and not record.failures and not record.in_flight:
                del self.records[key]
        self._trim()

    def _trim(self) -> None:
        """Drop the oldest records: past the cap, or forgotten (the order is by last failure, oldest first)."""
        now = self.clock()
        while self.records:
            if len(self.records) <= self.max_records and not next(iter(self.records.values())).forgotten(now):
                return
            self.records.popitem(last=False)


def address_key(scope: dict[str, Any]) -> Key:
    """The client's address as a throttle key: IPv4 as is, IPv6 by its /64 network."""
    host = (scope.get("client") or ("unknown", 0))[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ("address", str(host))
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return ("address", str(address.ipv4_mapped))
        return ("address", str(ipaddress.ip_network(f"{address}/64", strict=False)))
    return ("address", str(address))


class LoginThrottle:
    """Pure ASGI middleware around the whole app (the Gradio app mounted on it included)."""

    def __init__(self, app: Any, throttle: Throttle | None = None) -> None:
        self.app, self.throttle = app, throttle or Throttle()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        form = scope["type"] == "http" and scope.get("method") == "POST" and path in LOGIN_PATHS
        if not (form or (scope["type"] == "http" and path.startswith(KEY_PATHS))):
            await self.app(scope, receive, send)
            return
        keys = [address_key(scope)]
        if form:
            body = await _read_body(receive)
            if body is None:
                await JSONResponse({"detail": "login form too large"}, status_code=413)(scope, receive, send)
                return
            if user := await _user_name(scope, body):
                keys.append(("user", user[:256]))
            receive = _replay(body, receive)
        wait = self.throttle.wait(keys, every_request_logs_in=form)
        if wait > 0:
            await _too_many(scope, receive, send, wait, form)
            return
        counted = self.throttle.begin(keys, every_request_logs_in=form)
        headers = dict(scope.get("headers") or [])
        ended = False

        async def watching(message: dict[str, Any]) -> None:
            nonlocal ended
            if message["type"] == "http.response.start" and not ended:
                # Counted before the answer leaves, so that the client's next attempt already sees it.
                ended = True
                self.throttle.end(counted, keys, _outcome(form, message["status"], b"authorization" in headers))
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            if not ended:
                self.throttle.end(counted, keys, Outcome.NEUTRAL)


def _outcome(form: bool, status: int, has_credentials: bool) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SUCCEEDED
    if form and status in (400, 401):
        return Outcome.FAILED
    if not form and status == 401 and has_credentials:  # no key at all is a client to configure, not a guess
        return Outcome.FAILED
    return Outcome.NEUTRAL


async def _read_body(receive: Any) -> bytes | None:
    """The whole login form, or None past :data:`MAX_LOGIN_FORM`."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if len(body) > MAX_LOGIN_FORM:
            return None
        if not message.get("more_body"):
            return body


def _replay(body: bytes, receive: Any) -> Any:
    """A receive channel that gives the app the body already read, then the client's own messages."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _user_name(scope: dict[str, Any], body: bytes) -> str | None:
    """The form's user name, parsed as Gradio's own route will (urlencoded or multipart, stripped)."""
    request = Request(scope, receive=_replay(body, _no_more))
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed form: Gradio's answer (400) still counts by address
        return None
    try:
        user = form.get("username")
        return user.strip() if isinstance(user, str) and user.strip() else None
    finally:
        await form.close()


async def _no_more() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def _too_many(scope: dict[str, Any], receive: Any, send: Any, wait: float, form: bool) -> None:
    seconds = max(1, math.ceil(wait))
    message = f"too many failed logins: try again in {seconds} s"
    headers = {"Retry-After": str(seconds)}
    if form:
        response = JSONResponse({"detail": message}, status_code=429, headers=headers)
    else:
        response = JSONResponse(
            error_body(message, "requests", "rate_limit_exceeded"), status_code=429, headers=headers
        )
    await response(scope, receive, send)
