"""A real HTTP endpoint on loopback that records every hook-up delivery it receives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class HookReceiver:
    url: str
    received: list[ReceivedHook] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[ReceivedHook]:
        with self.lock:
            return [hook for hook in self.received if hook.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 60) -> list[ReceivedHook]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hooks = self.at(path)
            if len(hooks) >= count:
                return hooks
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(self.at(path))} of {count} hooks within {timeout:.0f}s")


@contextmanager
def hook_receiver() -> Iterator[HookReceiver]:
    receiver: HookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.received.append(ReceivedHook(self.path, dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = HookReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
