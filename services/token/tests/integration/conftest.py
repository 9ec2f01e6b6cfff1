"""The token service's app against the real PostgreSQL and Kafka, one fresh schema and group per test."""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events.topics import dlq_topic
from vetgate_messaging.host import ServiceHost
from vetgate_token.bootstrap import bootstrap
from vetgate_token.config import TokenSettings

BASE_URL = "http://token.test"


@dataclass
class TokenService:
    host: ServiceHost
    app: FastAPI
    http: httpx.AsyncClient
    settings: TokenSettings


@pytest.fixture
async def token_service(infra: Infrastructure) -> AsyncIterator[TokenService]:
    suffix = uuid.uuid4().hex[:8]
    settings = TokenSettings(
        database_url=infra.database_url,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        dev_mode=True,
        db_schema=f"token_{suffix}",
        consumer_group=f"token-test-{suffix}",
        public_base_url=BASE_URL,
        key_encryption_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        secret_pepper=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    await ensure_topics(infra.kafka_bootstrap, {dlq_topic(settings.group): 1})
    host = bootstrap(settings)
    await asyncio.to_thread(host.migrate)
    app = host.create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield TokenService(host, app, http, settings)
