"""One provisioning service for the module's tests, on the real PostgreSQL and Kafka, next to the session's
real token service (which registers what provisioning emits, so tests can use the minted credentials)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_devstack.token_server import TokenServer
from vetgate_events.topics import dlq_topic
from vetgate_messaging.testing import start_group_at_end
from vetgate_platform.sealing import SealingKeyring
from vetgate_provisioning.bootstrap import bootstrap
from vetgate_provisioning.config import ProvisioningSettings

from .provisioning_flows import ProvisioningService

BASE_URL = "http://provisioning.test"


@pytest.fixture(scope="module")
async def provisioning(infra: Infrastructure, token_server: TokenServer) -> AsyncIterator[ProvisioningService]:
    suffix = uuid.uuid4().hex[:8]
    keyring = SealingKeyring.generate()
    settings = ProvisioningSettings(
        database_url=infra.database_url,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        db_schema=f"provisioning_{suffix}",
        consumer_group=f"provisioning-test-{suffix}",
        public_base_url=BASE_URL,
        token_base_url=token_server.base_url,
        notifier_public_key=keyring.public_key.to_base64(),
    )
    await ensure_topics(infra.kafka_bootstrap, {dlq_topic(settings.group): 1})
    host = bootstrap(settings)
    await start_group_at_end(infra.kafka_bootstrap, settings.group, host.consumer.topics)
    await asyncio.to_thread(host.migrate)
    app = host.create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield ProvisioningService(host, http, keyring, infra.kafka_bootstrap, token_server)
