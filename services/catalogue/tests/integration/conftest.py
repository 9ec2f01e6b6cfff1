"""The catalogue app against the real PostgreSQL, Kafka and token service, one fresh schema and group per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from catalogue_kit import BASE_URL, Catalogue, CatalogueFactory
from vetgate_catalogue.bootstrap import bootstrap
from vetgate_catalogue.config import CatalogueSettings
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_devstack.token_server import TokenServer
from vetgate_events.topics import dlq_topic
from vetgate_platform.sealing import SealingKeyring


@pytest.fixture
async def catalogue_factory(infra: Infrastructure, token_server: TokenServer) -> AsyncIterator[CatalogueFactory]:
    stack: list[Any] = []

    async def start(*, dev_mode: bool = True) -> Catalogue:
        suffix = uuid.uuid4().hex[:8]
        keys = SealingKeyring.generate()
        settings = CatalogueSettings(
            database_url=infra.database_url,
            kafka_bootstrap_servers=infra.kafka_bootstrap,
            dev_mode=dev_mode,
            db_schema=f"catalogue_{suffix}",
            consumer_group=f"catalogue-test-{suffix}",
            public_base_url=BASE_URL,
            token_base_url=token_server.base_url,
            notifier_public_key=keys.public_key.to_base64(),
        )
        await ensure_topics(infra.kafka_bootstrap, {dlq_topic(settings.group): 1})
        host = bootstrap(settings)
        await asyncio.to_thread(host.migrate)
        app = host.create_app()
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        stack.append((lifespan, http))
        return Catalogue(host, http, keys, token_server, infra)

    yield start
    for lifespan, http in reversed(stack):
        await http.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def catalogue(catalogue_factory: CatalogueFactory) -> Catalogue:
    return await catalogue_factory()
