"""``make run``: the whole system in the foreground — infrastructure, migrations, the four services."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from vetgate_devstack.infra import InfraPorts, Infrastructure, running_infrastructure
from vetgate_devstack.seed import dev_secrets, write_credentials
from vetgate_devstack.services import SERVICE_PORTS, ServiceProcess, wait_ready

console = Console(stderr=True, soft_wrap=True)  # paths are copied from here: never break them


def service_port(name: str) -> int:
    return int(os.environ.get(f"VETGATE_{name.upper()}_PORT", SERVICE_PORTS[name]))


def migrate_all(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    for name in SERVICE_PORTS:
        importlib.import_module(f"vetgate_{name}.bootstrap").bootstrap().migrate()


def run_stack(state_dir: Path) -> None:
    started = time.monotonic()
    ports = InfraPorts(
        kafka=int(os.environ.get("VETGATE_KAFKA_PORT", 9092)),
        kafka_controller=int(os.environ.get("VETGATE_KAFKA_CONTROLLER_PORT", 9093)),
        smtp=int(os.environ.get("VETGATE_SMTP_PORT", 1025)),
    )
    with running_infrastructure(state_dir, ports) as infra:
        console.print(f"[green]✓[/] infrastructure up in {time.monotonic() - started:.1f}s")
        # Before the services start: the token service registers the identities it lists, and the
        # resource servers introspect API keys as its support client.
        credentials = _write_credentials(state_dir, infra)
        env = _service_env(infra, state_dir, credentials)
        os.environ.update(env)  # migrations build the same settings the services will
        migrate_all(infra.database_url)
        services = [ServiceProcess(name, service_port(name), env, state_dir / "logs") for name in SERVICE_PORTS]
        for service in services:
            service.spawn()
        try:
            asyncio.run(wait_ready(services))
            _announce(services, infra, state_dir, time.monotonic() - started)
            _supervise(services)
        finally:
            for service in services:
                service.stop()
    console.print("[green]✓[/] stopped")


def _service_env(infra: Infrastructure, state_dir: Path, credentials: dict[str, Any]) -> dict[str, str]:
    token_base = _service_url("token")
    support = credentials["support"]
    return dev_secrets(state_dir / "secrets.json") | {
        "VETGATE_TOKEN_SEED_FILE": str(state_dir / "dev-credentials.json"),
        "DATABASE_URL": infra.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "VETGATE_DEV": "1",
        "VETGATE_TOKEN_BASE_URL": token_base,
        # Legacy API keys: introspected as the support client (the only one valid at every tenant). Its
        # token URL from this run's base: one kept from an earlier run may name another port.
        "VETGATE_INTROSPECTION_TOKEN_URL": f"{token_base}/{support['provet_id']}/oauth2/token/",
        "VETGATE_INTROSPECTION_CLIENT_ID": support["client_id"],
        "VETGATE_INTROSPECTION_CLIENT_SECRET": support["client_secret"],
        "VETGATE_SMTP_HOST": infra.smtp_host,
        "VETGATE_SMTP_PORT": str(infra.smtp_port),
    }


def _service_url(name: str) -> str:
    return f"http://127.0.0.1:{service_port(name)}"  # as ServiceProcess.url


def _write_credentials(state_dir: Path, infra: Infrastructure) -> dict[str, Any]:
    return write_credentials(
        state_dir / "dev-credentials.json",
        _service_url("token"),
        {
            "kafka_bootstrap": infra.kafka_bootstrap,
            "database_url": infra.database_url,
            "smtp": {"host": infra.smtp_host, "port": infra.smtp_port},
            "mailbox_dir": str(infra.mailbox_dir.resolve()),
            "services": {name: _service_url(name) for name in SERVICE_PORTS},
        },
    )


def _announce(services: list[ServiceProcess], infra: Infrastructure, state_dir: Path, elapsed: float) -> None:
    console.print(f"[bold green]Vetgate is ready[/] in {elapsed:.1f}s")
    for s in services:
        console.print(f"  {s.name:<13} {s.url}   (logs: {state_dir / 'logs' / s.name}.log)")
    console.print(f"  kafka         {infra.kafka_bootstrap}")
    console.print(f"  smtp sink     {infra.smtp_host}:{infra.smtp_port} → {infra.mailbox_dir}")
    console.print(f"  credentials   {state_dir / 'dev-credentials.json'}")
    console.print("Press Ctrl-C to stop.")


def _supervise(services: list[ServiceProcess]) -> None:
    """Restart a service that dies; return on SIGINT/SIGTERM."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping:
        for service in services:
            code = service.exited()
            if code is not None:
                service.restarts += 1
                console.print(f"[red]✗[/] {service.name} exited ({code}); restarting (#{service.restarts})")
                time.sleep(min(service.restarts, 5))
                service.spawn()
        time.sleep(0.5)
    console.print("stopping…")
