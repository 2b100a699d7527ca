"""The network under every fetch: connect only where the policy allows, and stop at a total deadline.

Two things cannot be checked from above httpx. Where a connection goes: a URL's host is resolved when the
connection is opened, possibly to another address than a check made earlier saw (DNS rebinding), and every
redirect hop opens a connection of its own. And how long a fetch takes: httpx's timeouts apply to each
read, so a server sending one byte a second never times out. So newsrag gives httpx's connection pool a
network backend of its own: it resolves a host once, checks each address with the :class:`FetchPolicy`,
connects to that very address and checks the socket's peer; and its streams give each read only what is
left of the fetch's deadline.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ingest.fetch_policy import FetchPolicy, IPAddress, parse_ip
from ingest.records import BadInput
from rag.core.settings import Settings


class AddressRefused(BadInput):
    """The policy does not allow connecting where a URL (or one of its redirects) leads."""


class FetchBudget:
    """What one ingest request may still spend on fetching: time per fetch, time in total, and bytes."""

    def __init__(self, fetch_timeout: float, request_seconds: float = math.inf, max_bytes: float = math.inf) -> None:
        self.fetch_timeout, self.request_seconds, self.max_bytes = fetch_timeout, request_seconds, max_bytes
        self.request_deadline = time.monotonic() + request_seconds
        self.fetch_deadline = self.request_deadline
        self.downloaded = 0

    @classmethod
    def for_request(cls, settings: Settings) -> FetchBudget:
        """The budget of one ingest request, starting now."""
        return cls(settings.fetch_timeout, settings.fetch_deadline, settings.max_fetch_mb * 1_000_000)

    def exhausted(self) -> str | None:
        """Why this request may fetch nothing more, or None while it may."""
        if time.monotonic() >= self.request_deadline:
            return f"not fetched: {self._out_of_time}"
        if self.downloaded >= self.max_bytes:
            return f"not fetched: {self._out_of_bytes}"
        return None

    @property
    def _out_of_time(self) -> str:
        return f"this request's {self.request_seconds:g} s for fetching ran out (NEWSRAG_FETCH_DEADLINE)"

    @property
    def _out_of_bytes(self) -> str:
        return f"this request's {self.max_bytes / 1e6:g} MB of downloads are used up (NEWSRAG_MAX_FETCH_MB)"

    def start_fetch(self) -> None:
        """Start one fetch's clock; BadInput when the request has nothing left to spend."""
        if reason := self.exhausted():
            raise BadInput(reason)
        self.fetch_deadline = min(time.monotonic() + self.fetch_timeout, self.request_deadline)

    def remaining(self) -> float:
        """Seconds left for the fetch in progress."""
        return self.fetch_deadline - time.monotonic()

    def timed_out(self, url: str) -> str:
        """The reason a fetch that ran out of time fails with, naming the deadline that ended it."""
        if self.fetch_deadline >= self.request_deadline:
            return f"timed out fetching {url}: {self._out_of_time}"
        return f"timed out fetching {url}: no complete response within {self.fetch_timeout:g} s (NEWSRAG_FETCH_TIMEOUT)"

    def spend(self, size: int) -> None:
        """Count ``size`` bytes downloaded; BadInput once the request's allowance is passed."""
        self.downloaded += size
        if self.downloaded > self.max_bytes:
            raise BadInput(f"stopped: {self._out_of_bytes}")


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake gets only what is left of the fetch's time."""

    def __init__(self, inner: httpcore.NetworkStream, budget: FetchBudget) -> None:
        self.inner, self.budget = inner, budget

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.budget.remaining()
        if left <= 0:
            raise error("the fetch's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wrapped = self.inner.start_tls(ssl_context, server_hostname, self._timeout(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(wrapped, self.budget)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


def resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    """The addresses ``host`` resolves to, in the resolver's order; gives up after ``timeout`` seconds.

    getaddrinfo takes no timeout: it runs in a daemon thread that is abandoned if it takes too long.
    """
    try:
        return [parse_ip(host)]
    except ValueError:
        pass
    found: list[Any] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)

    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(max(timeout, 0))
    if not found:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long")
    if isinstance(found[0], OSError):
        raise httpcore.ConnectError(f"cannot resolve {host}: {found[0]}")
    addresses = [parse_ip(info[4][0]) for info in found[0]]
    return list(dict.fromkeys(addresses))


class GuardedBackend(httpcore.NetworkBackend):
    """Opens connections only to addresses the policy allows, checking the address actually connected to."""

    def __init__(self, policy: FetchPolicy, budget: FetchBudget) -> None:
        self.policy, self.budget = policy, budget
        self.inner = httpcore.SyncBackend()

    def _left(self, timeout: float | None) -> float:
        left = self.budget.remaining()
        if left <= 0:
            raise httpcore.ConnectTimeout("the fetch's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        refusal, failure = "", None
        for ip in resolve(host, port, self._left(timeout)):
            if reason := self.policy.refusal(host, ip):
                refusal = refusal or reason
                continue
            try:  # the checked address itself, never the name again: DNS could answer differently now
                stream = self.inner.connect_tcp(str(ip), port, self._left(timeout), local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the host's next allowed address, as browsers do
                failure = exc
                continue
            self._check_peer(host, stream)
            return _DeadlineStream(stream, self.budget)
        if failure is not None:
            raise failure
        raise AddressRefused(refusal or f"{host} has no address to connect to")

    def _check_peer(self, host: str, stream: httpcore.NetworkStream) -> None:
        """The address the socket is connected to must be allowed too (it is the one checked, unless a bug)."""
        peer = stream.get_extra_info("server_addr")
        reason = "cannot tell where the connection leads" if not peer else self.policy.refusal(host, parse_ip(peer[0]))
        if reason:
            stream.close()
            raise AddressRefused(reason)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("fetching over a Unix socket is not allowed")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool opening connections through a :class:`GuardedBackend`."""

    def __init__(self, policy: FetchPolicy, budget: FetchBudget) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx takes no network backend; the httpcore pool under it does. httpx (pinned) keeps the pool in
        # `_pool`: if a new version did not, every connection would go unchecked, so refuse to work instead.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("this httpx version keeps no httpcore pool in HTTPTransport._pool")
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=GuardedBackend(policy, budget))
