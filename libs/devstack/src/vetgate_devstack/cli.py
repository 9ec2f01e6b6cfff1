"""``vetgate``: run the platform (``dev``), one service (``serve``), and inspect what it publishes."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from vetgate_ops.cli import register as register_operator_commands

from vetgate_devstack.java import InfrastructureMissing

app = typer.Typer(
    help="Vetgate: OAuth 2.0 access platform — developer and operator commands.",
    no_args_is_help=True,
    add_completion=False,
)

SERVICES = ("token", "catalogue", "provisioning", "notifier")


@app.command()
def dev(
    state_dir: Annotated[Path, typer.Option(envvar="VETGATE_HOME", help="Where data, logs and mail are kept")] = Path(
        ".vetgate"
    ),
) -> None:
    """Run the whole system in the foreground: PostgreSQL, Kafka, SMTP sink and the four services."""
    from vetgate_devstack.stack import run_stack  # heavy imports only for this command

    try:
        run_stack(state_dir.resolve())
    except InfrastructureMissing as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")],
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first")] = True,
    workers: Annotated[int, typer.Option(help="Worker processes (the relay and consumers share the load)")] = 1,
) -> None:
    """Run one service (HTTP API, outbox relay and event consumer) until SIGTERM."""
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose one of {', '.join(SERVICES)}")
    import uvicorn

    host = importlib.import_module(f"vetgate_{name}.bootstrap").bootstrap()
    if migrate:
        host.migrate()
    options = {
        "host": host.settings.host,
        "port": host.settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 5,
    }
    if workers > 1:
        from vetgate_devstack.workers import run_reuseport_workers

        # Each worker builds its own app; one relay leads, consumers split partitions.
        run_reuseport_workers(f"vetgate_{name}.main:create_app", workers, options)
    else:
        uvicorn.run(host.create_app(), **options)


@app.command("kafka-jars")
def kafka_jars() -> None:
    """Resolve the Kafka broker's jars with Maven into the shared cache (a no-op once cached)."""
    from vetgate_devstack import kafka

    try:
        libs = kafka.ensure_jars(
            kafka.KafkaConfig(data_dir=Path(".vetgate/kafka"), jar_cache=kafka.default_jar_cache())
        )
    except InfrastructureMissing as exc:
        typer.secho(str(exc), fg=typer.colors.YELLOW, err=True)
        return  # not fatal here: KAFKA_BOOTSTRAP_SERVERS may point at an existing broker
    typer.echo(f"Kafka jars: {libs}")


@app.command()
def keys() -> None:
    """Print a fresh set of service keys as KEY=value lines (for a Kubernetes Secret or an env file).

    The token service's signing-key encryption key and secret pepper, and the notifier's sealing key pair
    (catalogue and provisioning get only the public half). Rotating the pepper invalidates every stored
    client secret; add a sealing key by putting a new one first in VETGATE_NOTIFIER_SEALING_KEYS.
    """
    import base64
    import secrets

    from vetgate_platform.sealing import SealingKeyring

    sealing = SealingKeyring.generate()
    for name in ("VETGATE_TOKEN_KEY_ENCRYPTION_KEY", "VETGATE_TOKEN_SECRET_PEPPER"):
        typer.echo(f"{name}={base64.b64encode(secrets.token_bytes(32)).decode()}")
    typer.echo(f"VETGATE_NOTIFIER_SEALING_KEYS={sealing.to_base64()}")
    typer.echo(f"VETGATE_NOTIFIER_PUBLIC_KEY={sealing.public_key.to_base64()}")


@app.command()
def asyncapi(
    check: Annotated[Path | None, typer.Option(help="Fail if this committed file differs")] = None,
) -> None:
    """Print the AsyncAPI document of the event catalogue (or check a committed copy for drift)."""
    from vetgate_events.asyncapi import render

    document = render()
    if check is None:
        typer.echo(document, nl=False)
    elif check.read_text() != document:
        typer.secho(f"{check} is out of date: run `make asyncapi`", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


register_operator_commands(app)

if __name__ == "__main__":
    app()
