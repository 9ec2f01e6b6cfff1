"""A real HTTP receiver on loopback for tests and benchmarks (not used by the service).

Plain asyncio HTTP/1.1 with keep-alive: fast enough that a benchmark measures the notifier, and
scriptable (fail N times, redirect, be slow) for the retry and guard tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

_REASONS = {200: "OK", 204: "No Content", 302: "Found", 400: "Bad Request", 429: "Too Many Requests", 500: "Error"}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int
    """What the receiver answered."""


Responder = Callable[[int], tuple[int, dict[str, str]]]
"""Given the 0-based index of a request, the status and extra headers to answer with."""


def always(status: int, headers: dict[str, str] | None = None) -> Responder:
    return lambda _: (status, headers or {})


def failing(times: int, status: int = 500) -> Responder:
    """``status`` for the first ``times`` requests, then 200."""
    return lambda n: (status, {}) if n < times else (200, {})


@dataclass
class HookReceiver:
    responder: Responder = field(default_factory=lambda: always(200))
    received: list[Received] = field(default_factory=list)
    port: int = 0
    stall_first: int = 0
    """The first N requests are read but never answered (a receiver that hangs)."""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vetgate"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines if ":" in ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                index = len(self.received)
                status, extra = self.responder(index)
                self.received.append(Received(method, path, headers, body, time.perf_counter(), status))
                self.arrived.set()
                if index < self.stall_first:
                    await reader.read()  # until the client goes away
                    return
                reply = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "content-length: 0"]
                reply += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(reply) + "\r\n\r\n").encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HookReceiver]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: give each test its own path under it to tell its hooks apart."""
        return f"http://127.0.0.1:{self.port}"

    async def wait_for(self, path: str, count: int = 1, timeout: float = 60) -> list[Received]:
        """The accepted requests to ``path``, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while len(found := [r for r in self.accepted() if r.path == path]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: {len(found)} of {count} hooks within {timeout:.0f}s")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.5)
        return found
