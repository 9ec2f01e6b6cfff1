"""The outbox relay: publishes committed outbox rows to Kafka, in order per key, exactly once.

One relay per service is active at a time (a Postgres advisory lock elects it; others wait), so a
key's events are published by a single idempotent producer in insertion order. Exactly once across
crashes: a relay that dies between publishing and marking leaves rows "pending" that are already on
the topic; the next relay first re-reads each partition from the last confirmed offset and marks
every pending event it finds there (matched by ``ce_id``) instead of publishing it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_platform.logs import get_logger

from vetgate_messaging.kafka import reliable_producer
from vetgate_messaging.recovery import find_published
from vetgate_messaging.tables import notify_channel

log = get_logger(__name__)

PUBLISHED = Counter("vetgate_outbox_published_total", "Outbox events published", ["schema"])
RECOVERED = Counter("vetgate_outbox_recovered_total", "Pending events found already on Kafka", ["schema"])
PENDING = Gauge("vetgate_outbox_pending", "Outbox events not yet published (last batch)", ["schema"])


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_id: str
    topic: str
    key: str
    headers: dict[str, str]
    payload: bytes


@dataclass(frozen=True)
class Placement:
    id: int
    topic: str
    partition: int
    offset: int


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        bootstrap_servers: str,
        schema: str,
        *,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(days=7),
        inbox_retention: timedelta = timedelta(days=14),
    ) -> None:
        self._engine = engine
        self._bootstrap = bootstrap_servers
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._inbox_retention = inbox_retention
        self._pruned_at = 0.0
        self._wakeup = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self.is_leader = False

    async def run(self) -> None:
        """Relay until cancelled. Waits for leadership, recovers, then publishes as rows commit."""
        while True:
            try:
                async with self._leadership() as listener:
                    await self._serve(listener)
            except asyncio.CancelledError:
                raise
            except Exception:  # broker or database trouble: start over, recovery keeps it exact
                log.exception("outbox relay failed; restarting", schema=self._schema)
                await asyncio.sleep(self._poll_interval)

    async def _serve(self, listener: AsyncConnection) -> None:
        try:
            await self.start_producer()  # inside: a shutdown while it starts must still close it
            await self.recover()
            checked_at = time.monotonic()
            while True:
                if time.monotonic() - checked_at >= self._poll_interval:
                    await _still_holding_lock(listener)
                    checked_at = time.monotonic()
                self._wakeup.clear()  # before the read: a commit during the batch re-arms it
                if await self.relay_once() == 0:
                    await self._prune_when_due()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
        finally:
            await self.stop_producer()

    @contextlib.asynccontextmanager
    async def _leadership(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"relay:{self._schema}"})
            # The session lock outlives the transaction; ending it matters: Postgres delivers
            # notifications (and activates LISTEN) only outside a transaction.
            await conn.commit()
            self.is_leader = True
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None, "an open asyncpg connection"
            channel = notify_channel(self._schema)
            await raw.add_listener(channel, self._on_notify)
            log.info("outbox relay is leader", schema=self._schema)
            try:
                yield conn
            finally:
                self.is_leader = False
                with contextlib.suppress(Exception):
                    await raw.remove_listener(channel, self._on_notify)
                    await conn.execute(text("SELECT pg_advisory_unlock_all()"))

    def _on_notify(self, *_: Any) -> None:
        self._wakeup.set()

    async def start_producer(self) -> None:
        self._producer = reliable_producer(self._bootstrap, client_id=f"vetgate-relay-{self._schema}")
        await self._producer.start()  # on failure, stop_producer() still closes what start opened

    async def stop_producer(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def relay_once(self) -> int:
        """Publish one batch of pending rows and mark them; returns how many were published."""
        pending = await self.fetch_pending()
        if pending:
            await self.mark_published(await self.publish(pending))
        return len(pending)

    async def fetch_pending(self, limit: int | None = None) -> list[PendingEvent]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT id, event_id::text, topic, partition_key, headers, payload FROM outbox"
                    " WHERE published_at IS NULL ORDER BY id LIMIT :n"
                ),
                {"n": limit or self._batch_size},
            )
            pending = [PendingEvent(*row) for row in rows]
        PENDING.labels(self._schema).set(len(pending))
        return pending

    async def publish(self, pending: Sequence[PendingEvent]) -> list[Placement]:
        """Send in id order (one producer, idempotent: order per partition holds) and await every ack."""
        assert self._producer is not None, "start_producer() first"
        sends = [
            await self._producer.send(
                e.topic, e.payload, key=e.key.encode(), headers=[(k, v.encode()) for k, v in e.headers.items()]
            )
            for e in pending
        ]
        metadata = await asyncio.gather(*sends)
        PUBLISHED.labels(self._schema).inc(len(pending))
        return [Placement(e.id, e.topic, m.partition, m.offset) for e, m in zip(pending, metadata, strict=True)]

    async def mark_published(self, placements: Sequence[Placement]) -> None:
        if not placements:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE outbox SET published_at = now(), kafka_partition = p.part, kafka_offset = p.off"
                    " FROM unnest(CAST(:ids AS bigint[]), CAST(:parts AS int[]), CAST(:offs AS bigint[]))"
                    " AS p(id, part, off) WHERE outbox.id = p.id"
                ),
                {
                    "ids": [p.id for p in placements],
                    "parts": [p.partition for p in placements],
                    "offs": [p.offset for p in placements],
                },
            )
            high: dict[tuple[str, int], int] = {}
            for p in placements:
                high[(p.topic, p.partition)] = max(p.offset, high.get((p.topic, p.partition), -1))
            await conn.execute(
                text(
                    "INSERT INTO outbox_position (topic, kafka_partition, kafka_offset)"
                    " SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:parts AS int[]), CAST(:offs AS bigint[]))"
                    " ON CONFLICT (topic, kafka_partition) DO UPDATE"
                    " SET kafka_offset = GREATEST(outbox_position.kafka_offset, EXCLUDED.kafka_offset)"
                ),
                {"topics": [t for t, _ in high], "parts": [p for _, p in high], "offs": list(high.values())},
            )

    async def _prune_when_due(self, every: float = 600.0) -> None:
        if time.monotonic() - self._pruned_at >= every:
            self._pruned_at = time.monotonic()
            await self.prune()

    async def prune(self) -> int:
        """Published outbox rows are kept a while for operators (where did event X go?), then deleted; so
        are inbox rows, once far older than anything Kafka still holds to replay (topics keep 7 days: an
        event can come back only while its record exists, so the default keeps its inbox row twice that)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                text("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :s)"),
                {"s": self._retention.total_seconds()},
            )
            await conn.execute(
                text("DELETE FROM inbox WHERE processed_at < now() - make_interval(secs => :s)"),
                {"s": self._inbox_retention.total_seconds()},
            )
        return int(result.rowcount)

    async def recover(self) -> int:
        """Mark pending events that already reached Kafka (a predecessor died before marking them)."""
        async with self._engine.connect() as conn:
            pending: dict[str, int] = dict(
                (await conn.execute(text("SELECT event_id::text, id FROM outbox WHERE published_at IS NULL"))).all()
            )
            if not pending:
                return 0
            positions = {
                (t, p): o
                for t, p, o in await conn.execute(
                    text("SELECT topic, kafka_partition, kafka_offset FROM outbox_position")
                )
            }
            topics = [
                t for (t,) in await conn.execute(text("SELECT DISTINCT topic FROM outbox WHERE published_at IS NULL"))
            ]
        found = await find_published(self._bootstrap, topics, positions, set(pending))
        await self.mark_published([Placement(pending[f.event_id], f.topic, f.partition, f.offset) for f in found])
        if found:
            RECOVERED.labels(self._schema).inc(len(found))
            log.warning("outbox recovery: events were already on Kafka", schema=self._schema, count=len(found))
        return len(found)


async def _still_holding_lock(listener: AsyncConnection) -> None:
    """Raise if the lock's session is gone (database restart): another relay may lead by now."""
    await listener.execute(text("SELECT 1"))
    await listener.commit()  # back outside a transaction, where notifications are delivered
