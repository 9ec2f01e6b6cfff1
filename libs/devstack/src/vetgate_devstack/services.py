"""The four services as child processes of the dev stack: spawned, watched, restarted, stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from vetgate_devstack.processes import die_with_parent

SERVICE_PORTS: dict[str, int] = {"token": 8001, "catalogue": 8002, "provisioning": 8003, "notifier": 8004}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vetgate_devstack.cli", "serve", self.name, "--no-migrate"],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def wait_ready(services: list[ServiceProcess], timeout: float = 90) -> None:
    """Until every service answers 200 on /healthz and /readyz."""
    deadline = time.monotonic() + timeout
    pending = {s.name: s for s in services}
    async with httpx.AsyncClient(timeout=2) as client:
        while pending:
            for name, service in list(pending.items()):
                if service.exited() is not None:
                    raise RuntimeError(f"{name} exited with {service.exited()}; see {service.log_dir / name}.log")
                try:
                    health = await client.get(f"{service.url}/healthz")
                    ready = await client.get(f"{service.url}/readyz")
                except httpx.TransportError:
                    continue
                if health.status_code == ready.status_code == 200:
                    del pending[name]
            if pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
                await asyncio.sleep(0.2)
