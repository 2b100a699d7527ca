"""Only answer to this server's own host names: a defence against DNS rebinding.

A web page on ``evil.example`` can make its name resolve to 127.0.0.1, after which the visitor's browser
treats the local app as the page's own origin: it could read answers, upload articles and, when no login
is set, do anything the app allows. Every such request still carries ``Host: evil.example``, so refusing
unknown host names (400 "host not allowed", before any route runs) closes the hole.

Accepted, with any port: the loopback names (``localhost``, ``127.0.0.1``, ``[::1]``), the bound
address, and ``NEWSRAG_ALLOWED_HOSTS`` (``*`` for any, ``*.example.org`` for a domain and its subdomains).
Bound to every interface (0.0.0.0 or ::), the app is reached by whatever names the network gives this
machine, so it also accepts the machine's own host names and any IP address: a rebinding page can only
send its own domain name, never an address, because the browser puts the name it resolved in ``Host``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse, PlainTextResponse, Response

from rag.server.errors import error_body

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def host_name(value: str) -> str | None:
    """A ``Host`` header (or a configured name) as a bare lower-case name: no port, brackets or final dot.

    None when it is not a plausible host (an unbracketed IPv6 address with a port, stray brackets).
    """
    value = value.strip().lower()
    if value.startswith("["):  # [v6] or [v6]:port
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else "x"
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return value[1:end]
    if value.count(":") > 1:  # a bare IPv6 address: only valid without a port
        return value if _is_ip(value) else None
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def machine_names() -> set[str]:
    """This machine's own names, as a browser on its network would type them."""
    names: set[str] = set()
    for lookup in (socket.gethostname, socket.getfqdn):
        try:
            name = lookup().lower().rstrip(".")
        except OSError:
            continue
        if name and name != "localhost":
            names |= {name, f"{name.split('.')[0]}.local"}  # and its mDNS name
    return names


class HostPolicy:
    """Which ``Host`` names a server bound to ``bind`` answers to (see the module docstring)."""

    def __init__(self, bind: str, allowed: Iterable[str] = ()) -> None:
        bound = host_name(bind) or ""
        entries = [e for e in (host_name(a) for a in allowed if a.strip() not in ("*", "")) if e]
        self.any_host = any(a.strip() == "*" for a in allowed)
        self.all_interfaces = bound in WILDCARD_BINDS
        self.names = set(LOOPBACK_NAMES) | {e for e in entries if not e.startswith("*.")}
        self.suffixes = tuple(e[1:] for e in entries if e.startswith("*."))  # ".example.org"
        if self.all_interfaces:
            self.names |= machine_names()
        else:
            self.names.add(bound)

    @classmethod
    def from_settings(cls, host: str, allowed_hosts: str) -> HostPolicy:
        return cls(host, allowed_hosts.split(","))

    def allows(self, header: str) -> bool:
        if self.any_host:
            return True
        name = host_name(header)
        if name is None:
            return False
        if name in self.names or (self.all_interfaces and _is_ip(name)):
            return True
        return any(name.endswith(suffix) or name == suffix[1:] for suffix in self.suffixes)


class HostCheck:
    """Pure ASGI middleware: 400 "host not allowed" for a ``Host`` header the policy refuses."""

    def __init__(self, app: Any, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if self.policy.allows(header):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the client sees a 403
        else:
            await _refuse(scope, receive, send)


async def _refuse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = "host not allowed"
    if scope.get("path", "").startswith("/v1/"):
        response: Response = JSONResponse(error_body(message, code="host_not_allowed"), status_code=400)
    else:
        response = PlainTextResponse(message, status_code=400)
    await response(scope, receive, send)
