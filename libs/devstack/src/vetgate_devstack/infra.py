"""The infrastructure under Vetgate: PostgreSQL, Kafka and the SMTP sink — embedded, or yours.

``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` in the environment mean "use this existing one" and
the embedded counterpart is not started. The dev stack and the test session both start it from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vetgate_events.topics import all_topics

from vetgate_devstack import kafka
from vetgate_devstack.postgres import EmbeddedPostgres
from vetgate_devstack.smtp_sink import start_smtp_sink


def free_port() -> int:
    """A port nobody listens on right now (tests run beside a dev stack without clashing)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class InfraPorts:
    kafka: int = 9092
    kafka_controller: int = 9093
    smtp: int = 1025

    @classmethod
    def free(cls) -> InfraPorts:
        """Ports nothing listens on now (tests and benchmarks never touch a running dev stack)."""
        return cls(kafka=free_port(), kafka_controller=free_port(), smtp=free_port())


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    kafka_bootstrap: str
    smtp_host: str
    smtp_port: int
    mailbox_dir: Path


@contextlib.contextmanager
def running_infrastructure(state_dir: Path, ports: InfraPorts, *, kafka_heap: str = "768m") -> Iterator[Infrastructure]:
    """Start what is not given by the environment; stop it again (in reverse order) on exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        database_url = os.environ.get("DATABASE_URL") or _embedded_postgres(stack, state_dir)
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or _embedded_kafka(stack, state_dir, ports, kafka_heap)
        asyncio.run(kafka.ensure_topics(bootstrap, all_topics()))
        mailbox = state_dir / "mailbox"
        sink = start_smtp_sink(mailbox, port=ports.smtp)
        stack.callback(sink.stop)
        yield Infrastructure(database_url, bootstrap, "127.0.0.1", ports.smtp, mailbox)


def _embedded_postgres(stack: contextlib.ExitStack, state_dir: Path) -> str:
    server = EmbeddedPostgres(state_dir / "postgres")
    url = server.start()
    stack.callback(server.stop)
    return url


def _embedded_kafka(stack: contextlib.ExitStack, state_dir: Path, ports: InfraPorts, heap: str) -> str:
    cfg = kafka.KafkaConfig(
        data_dir=state_dir / "kafka",
        jar_cache=kafka.default_jar_cache(),
        port=ports.kafka,
        controller_port=ports.kafka_controller,
        heap=heap,
    )
    proc: subprocess.Popen[bytes] = kafka.start_broker(cfg)
    stack.callback(kafka.stop_broker, proc)
    asyncio.run(kafka.wait_until_ready(cfg.bootstrap, timeout=90, proc=proc))
    return cfg.bootstrap
