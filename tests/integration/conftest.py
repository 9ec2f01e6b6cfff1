"""Fixtures for the backbone's integration tests: a fresh schema and fresh topics per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import IntegrationEvent
from vetgate_messaging import migrations
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import upgrade


class Pinged(IntegrationEvent):
    """A test event; each test gets a subclass bound to its own topic."""

    topic = "test.pings.v1"
    aggregate: str
    seq: int
    at: datetime

    def partition_key(self) -> str:
        return self.aggregate


def ping(event_cls: type[Pinged], aggregate: str, seq: int) -> Pinged:
    return event_cls(aggregate=aggregate, seq=seq, at=datetime.now(UTC))


@pytest.fixture
def schema(infra: Infrastructure) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:10]}"
    upgrade(infra.database_url, name, [migrations.VERSIONS])
    yield name


@pytest.fixture
async def engine(infra: Infrastructure, schema: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(infra.database_url, schema, pool_size=4)
    yield eng
    await eng.dispose()


@pytest.fixture
def event_cls(infra: Infrastructure) -> type[Pinged]:
    """A Pinged bound to a fresh 4-partition topic."""
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    asyncio.run(ensure_topics(infra.kafka_bootstrap, {topic: 4}))
    return type("Pinged", (Pinged,), {"topic": topic, "__module__": __name__})
