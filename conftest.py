"""The pytest session's infrastructure: started once, only when a test asks for it.

``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` point the suite at existing infrastructure; otherwise
the same embedded PostgreSQL and Kafka as ``make run`` are started on free ports in a temporary
directory (so a running dev stack is never touched). ``VETGATE_TEST_INFRA=containers`` uses
testcontainers instead, on machines with a Docker engine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from vetgate_devstack.infra import InfraPorts, Infrastructure, running_infrastructure
from vetgate_devstack.token_server import TokenServer, running_token_server


@contextlib.contextmanager
def _containers() -> Iterator[None]:
    # Only for machines with a Docker engine (there is none on the project's CI machines).
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    kafka_image = os.environ.get("VETGATE_TEST_KAFKA_IMAGE", "confluentinc/cp-kafka:7.9.0")  # Kafka 3.9
    with PostgresContainer("postgres:18") as pg, KafkaContainer(kafka_image).with_kraft() as kafka:
        os.environ["DATABASE_URL"] = pg.get_connection_url(driver=None)
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
        yield


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    state_dir: Path = tmp_path_factory.mktemp("vetgate")
    ports = InfraPorts.free()
    with contextlib.ExitStack() as stack:
        if os.environ.get("VETGATE_TEST_INFRA") == "containers":
            stack.enter_context(_containers())
        yield stack.enter_context(running_infrastructure(state_dir, ports, kafka_heap="512m"))


@pytest.fixture(scope="module")
async def token_server(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TokenServer]:
    """A real token service on loopback (seeded support and tenant admin clients) for resource-server tests.

    Per module, not per session: it consumes provisioning.clients.v1 like any token service, and must not
    be running (and emitting look-alike CredentialsIssued / TokenRevoked) while the token service's own
    tests run theirs."""
    async with running_token_server(infra, tmp_path_factory.mktemp("token-server")) as server:
        yield server
