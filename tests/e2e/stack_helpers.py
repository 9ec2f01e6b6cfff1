"""Starting and reading `vetgate dev` (the stack `make run` starts) from black-box tests."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from vetgate_devstack.infra import free_port

SERVICES = ("token", "catalogue", "provisioning", "notifier")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class RunningStack:
    state: Path
    credentials: dict[str, Any]
    urls: dict[str, str]

    @property
    def kafka(self) -> str:
        return str(self.credentials["kafka_bootstrap"])

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.state / "logs").glob("*.log"))


def stack_environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
    env["VETGATE_HOME"] = str(state)
    for name in SERVICES:
        env[f"VETGATE_{name.upper()}_PORT"] = str(free_port())
    for var in ("VETGATE_KAFKA_PORT", "VETGATE_KAFKA_CONTROLLER_PORT", "VETGATE_SMTP_PORT"):
        env[var] = str(free_port())
    return env


def wait_until_ready(urls: dict[str, str], proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the stack exited with {proc.returncode}"
        try:
            if all(httpx.get(f"{u}/readyz").status_code == 200 for u in urls.values()):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("stack not ready")
