"""The notifier against the real PostgreSQL and Kafka, real HTTP receivers and a scripted SMTP server.

Every test gets a fresh schema and consumer group (started at the end of the topics, so earlier
tests' credentials are not delivered again) and a fresh sealing keyring.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from notifier_support import Notifier, NotifierFactory, ScriptedSmtp, SettingsFactory
from vetgate_devstack.infra import Infrastructure, free_port
from vetgate_devstack.kafka import ensure_topics
from vetgate_events.topics import TOKEN_API_KEYS, TOKEN_CREDENTIALS, dlq_topic
from vetgate_messaging.testing import start_group_at_end
from vetgate_notifier.bootstrap import bootstrap
from vetgate_notifier.config import NotifierSettings
from vetgate_platform.sealing import SealingKeyring

BASE_URL = "http://notifier.test"


@pytest.fixture
def smtp() -> Any:
    server = ScriptedSmtp(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def keyring() -> SealingKeyring:
    return SealingKeyring.generate()


@pytest.fixture
async def notifier_settings(infra: Infrastructure, keyring: SealingKeyring, smtp: ScriptedSmtp) -> SettingsFactory:
    """Settings for this test's notifier (one schema and consumer group per test) with ``overrides``."""
    suffix = uuid.uuid4().hex[:8]
    group = f"notifier-test-{suffix}"
    await ensure_topics(infra.kafka_bootstrap, {dlq_topic(group): 1})
    await start_group_at_end(infra.kafka_bootstrap, group, [TOKEN_CREDENTIALS, TOKEN_API_KEYS])

    def settings(**overrides: Any) -> NotifierSettings:
        values: dict[str, Any] = {
            "database_url": infra.database_url,
            "kafka_bootstrap_servers": infra.kafka_bootstrap,
            "dev_mode": True,
            "db_schema": f"notifier_{suffix}",
            "consumer_group": group,
            "public_base_url": BASE_URL,
            "sealing_keys": keyring.to_base64(),
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "retry_schedule": [0, 0.2, 0.2],
            "retry_jitter": 0,
            "hook_timeout": 2.0,
            "poll_interval": 0.2,
            "claim_lease": 5.0,
            "key_notice_quiet": 0.3,
        }
        return NotifierSettings(**(values | overrides))

    return settings


@pytest.fixture
def notifier_factory(notifier_settings: SettingsFactory, keyring: SealingKeyring) -> NotifierFactory:
    """``async with notifier_factory(**settings) as n``; calling it again reuses schema and group (a restart)."""

    @contextlib.asynccontextmanager
    async def running(**overrides: Any) -> AsyncIterator[Notifier]:
        settings = notifier_settings(**overrides)
        host = bootstrap(settings)
        await asyncio.to_thread(host.migrate)
        app = host.create_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                yield Notifier(host, app, http, settings, keyring)

    return running
