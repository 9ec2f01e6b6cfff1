"""An httpx client that cannot be steered at internal addresses (SSRF guard).

The guard sits in httpcore's network backend, the one place every connection is opened: it resolves
the host itself, checks every address it got, and connects to a checked address — so no second DNS
answer (rebinding) can slip in between the check and the connection. TLS still verifies the host
name (SNI and certificate use the URL's host), and the Host header is untouched. Redirects are never
followed and proxies from the environment are ignored (a proxy would connect on our behalf).
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import itertools
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._backends.anyio import AnyIOBackend
from httpcore._utils import is_socket_readable

from vetgate_notifier.domain.addresses import HookPolicy, IPAddress, refusal_for_address

# httpcore asks "which async library?" several times per request by trying `import sniffio`; without
# sniffio installed each try scans sys.path (~15 % of a delivery's CPU). A None entry makes that
# import fail at once, which is the answer it would reach anyway ("asyncio").
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


class AddressRefused(Exception):
    """The hook's host resolves to an address the guard refuses (never retried)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: HookPolicy) -> None:
        self._policy = policy
        self._inner = AnyIOBackend()

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
                stream = await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
                return _CheapReadableStream(stream, stream.get_extra_info("socket"))
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


class _CheapReadableStream(httpcore.AsyncNetworkStream):
    """httpcore asks every pooled connection "is_readable?" on every request; anyio answers by building
    all its socket attributes (a getpeername per call), which made a 50-connection pool slower than a
    10-connection one. The raw socket is kept and asked directly."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: socket.socket) -> None:
        self._inner = inner
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _CheapReadableStream(await self._inner.start_tls(ssl_context, server_hostname, timeout), self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return is_socket_readable(self._sock)
        return self._inner.get_extra_info(info)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]  # a literal address needs no lookup (nor a thread)
    except ValueError:
        pass
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


class _GuardedPool(httpx.AsyncHTTPTransport):
    def __init__(self, policy: HookPolicy, connections: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=connections,
            max_keepalive_connections=connections,
            network_backend=GuardedBackend(policy),
        )


class GuardedTransport(httpx.AsyncBaseTransport):
    """Several small connection pools, used in turn. httpcore scans every connection of a pool for each
    request (idle? expired? readable? — a select() each), so with 50 deliveries in flight one pool of 50
    connections cost ~1.5 ms of CPU per request; pools of 3 to 5 connections cost ~0.9 ms (bench figures
    in docs/decisions/0011-ssrf-guard.md)."""

    def __init__(self, policy: HookPolicy, max_connections: int, per_pool: int = 4) -> None:
        count = max(1, -(-max_connections // per_pool))
        self._pools = [_GuardedPool(policy, per_pool) for _ in range(count)]
        self._turn = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def guarded_client(policy: HookPolicy, timeout: float, max_connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, max_connections),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )
