"""Fixtures for the backbone's integration tests: a fresh schema and fresh topics per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events.testing import Pinged, pinged_on
from vetgate_messaging import migrations
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import upgrade


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
    return pinged_on(topic)
