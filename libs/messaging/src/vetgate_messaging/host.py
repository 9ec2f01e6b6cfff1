"""Hosting a service: its HTTP app plus the outbox relay and event consumer running beside it.

Each service's ``bootstrap.py`` builds a :class:`ServiceHost` by hand (the composition root) and its
``main.py`` asks it for the FastAPI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.client import AIOKafkaClient
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute
from vetgate_platform.db import create_engine
from vetgate_platform.http import ReadinessCheck, create_service_app
from vetgate_platform.logs import configure_logging, get_logger
from vetgate_platform.migrations import upgrade
from vetgate_platform.settings import ServiceSettings

from vetgate_messaging import migrations as messaging_versions
from vetgate_messaging.consumer import EventConsumer
from vetgate_messaging.relay import OutboxRelay

log = get_logger(__name__)


@dataclass
class ServiceHost:
    settings: ServiceSettings
    migrations: Path
    engine: AsyncEngine = field(init=False)
    relay: OutboxRelay = field(init=False)
    consumer: EventConsumer = field(init=False)
    routers: list[APIRouter] = field(default_factory=list)
    hot_routes: list[BaseRoute] = field(default_factory=list)
    """Plain Starlette routes matched before anything else, without FastAPI's dependency solving and
    nested-router matching (ADR 0018): for endpoints that parse their own input and carry the load."""
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run in order before the service accepts requests (e.g. loading signing keys)."""
    app_setup: list[Callable[[FastAPI], None]] = field(default_factory=list)
    """Applied to the app once built (e.g. exception handlers)."""
    components: dict[str, Any] = field(default_factory=dict)
    """What the composition root built, by name (for operators' tools and tests to reach)."""

    def __post_init__(self) -> None:
        s = self.settings
        self.engine = create_engine(s.database_url, s.schema_name)
        self.relay = OutboxRelay(self.engine, s.kafka_bootstrap_servers, s.schema_name)
        self.consumer = EventConsumer(group=s.group, engine=self.engine, bootstrap_servers=s.kafka_bootstrap_servers)

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of everything this service emits."""
        return f"/vetgate/{self.settings.service_name}"

    def migrate(self) -> None:
        """Apply the shared messaging revisions and the service's own (``migrations`` holds those)."""
        upgrade(self.settings.database_url, self.settings.schema_name, [messaging_versions.VERSIONS, self.migrations])

    def create_app(self) -> FastAPI:
        configure_logging(self.settings.service_name, self.settings.log_level)
        kafka: AIOKafkaClient | None = None

        async def database_probe() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        async def kafka_probe() -> None:
            if kafka is None:
                raise ConnectionError("Kafka client not started")
            await kafka.fetch_all_metadata()

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            nonlocal kafka
            kafka = AIOKafkaClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                client_id=f"vetgate-{self.settings.service_name}-probe",
            )
            for step in self.startup:
                await step()
            tasks = [asyncio.create_task(_forever(self.relay.run, "relay"), name="relay")]
            if self.consumer.topics:
                tasks.append(asyncio.create_task(_forever(self._consume, "consumer"), name="consumer"))
            tasks += [asyncio.create_task(_forever(job, job.__name__), name=job.__name__) for job in self.background]
            with contextlib.suppress(Exception):
                await kafka.bootstrap()
            # Everything built so far lives as long as the process: keep it out of the collector's
            # scans, which otherwise pause the loop for longer the more the service has loaded.
            gc.collect()
            gc.freeze()
            log.info("service started", url=self.settings.base_url)
            try:
                yield
            finally:
                await _stop(tasks)
                await kafka.close()
                await self.engine.dispose()

        checks: Sequence[ReadinessCheck] = (
            ReadinessCheck("database", database_probe),
            ReadinessCheck("kafka", kafka_probe),
        )
        app = create_service_app(
            self.settings.service_name,
            checks,
            lifespan,
            max_request_bytes=self.settings.max_request_bytes,
            routes=list(self.hot_routes),
        )
        for router in self.routers:
            app.include_router(router)
        for setup in self.app_setup:
            setup(app)
        return app

    async def _consume(self) -> None:
        try:
            await self.consumer.start()  # inside: a shutdown during start must still close connections
            await self.consumer.run()
        finally:
            await self.consumer.stop()


async def _stop(tasks: list[asyncio.Task[None]], timeout: float = 15.0) -> None:
    """Cancel the background loops and wait for them, but never hang a shutdown on one of them."""
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=timeout)
    for task in stuck:
        log.error("background task did not stop in time", task=task.get_name())


async def _forever(job: Callable[[], Awaitable[None]], name: str, delay: float = 1.0) -> None:
    """Keep a background loop alive: log a crash and start it again (never silently stop)."""
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task crashed; restarting", task=name)
            await asyncio.sleep(delay)
