"""An httpx client that cannot be steered at internal addresses (SSRF guard).

The guard sits in httpcore's network backend, the one place every connection is opened: it resolves
the host itself, checks every address it got, and connects to a checked address — so no second DNS
answer (rebinding) can slip in between the check and the connection. TLS still verifies the host
name (SNI and certificate use the URL's host), and the Host header is untouched. Redirects are never
followed and proxies from the environment are ignored (a proxy would connect on our behalf).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend

from vetgate_notifier.domain.addresses import HookPolicy, IPAddress, refusal_for_address


class AddressRefused(Exception):
    """The hook's host resolves to an address the guard refuses (never retried)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: HookPolicy) -> None:
        self._policy = policy
        self._inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        for ip in addresses:
            reason = refusal_for_address(ip, self._policy)
            if reason is not None:
                raise AddressRefused(f"{host} resolves to a refused address: {reason}")
        last: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not hook targets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), None)
    if not seen:
        raise httpcore.ConnectError(f"{host} has no address")
    return list(seen)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: HookPolicy, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


def guarded_client(policy: HookPolicy, timeout: float, max_connections: int = 100) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, limits),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )
