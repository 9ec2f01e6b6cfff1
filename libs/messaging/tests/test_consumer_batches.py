"""Batch handlers (EventConsumer.handles_batch) against the real broker and database: runs of one type go
through one transaction, partition order holds across types, copies apply once, a poison record in a run
is found record by record and dead-lettered alone."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.testing import Pinged, ping, pinged_on
from vetgate_events.topics import dlq_topic
from vetgate_messaging import migrations
from vetgate_messaging.consumer import Delivery, EventConsumer, PoisonEvent
from vetgate_messaging.dlq import ERROR_HEADER
from vetgate_messaging.inbox import REPROCESS_HEADER
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import upgrade


@pytest.fixture
async def engine(infra: Infrastructure) -> AsyncIterator[AsyncEngine]:
    schema = f"t_{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(upgrade, infra.database_url, schema, [migrations.VERSIONS])
    eng = create_engine(infra.database_url, schema, pool_size=2)
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE effects (n serial, kind text, seq int, batch int)"))
    yield eng
    await eng.dispose()


@pytest.fixture
async def topic(infra: Infrastructure) -> str:
    name = f"test.{uuid.uuid4().hex[:10]}.v1"
    await ensure_topics(infra.kafka_bootstrap, {name: 1})
    return name


class Setup:
    def __init__(self, infra: Infrastructure, engine: AsyncEngine, topic: str) -> None:
        self.bootstrap = infra.kafka_bootstrap
        self.engine = engine
        self.topic = topic
        self.group = f"test-{uuid.uuid4().hex[:8]}"
        self.pinged = pinged_on(topic)
        # A second type on the same topic and key: partition order must hold across types.
        self.ponged: type[Pinged] = type("Ponged", (Pinged,), {"topic": topic, "__module__": __name__})
        self.batches: list[list[int]] = []
        self.poison_seq: int | None = None

    def consumer(self) -> EventConsumer:
        consumer = EventConsumer(
            group=self.group, engine=self.engine, bootstrap_servers=self.bootstrap, retry_delay=0.01, max_attempts=2
        )

        @consumer.handles_batch(self.pinged)
        async def many(batch: list[tuple[Pinged, Delivery]], conn: AsyncConnection) -> None:
            self.batches.append([event.seq for event, _ in batch])
            for event, _ in batch:
                if event.seq == self.poison_seq:
                    raise PoisonEvent("cannot apply this one")
                await effect(conn, "ping", event.seq, len(self.batches))

        @consumer.handles(self.ponged)
        async def one(event: Pinged, conn: AsyncConnection, _: Delivery) -> None:
            await effect(conn, "pong", event.seq, 0)

        return consumer

    async def publish(self, events: list[tuple[Pinged, str | None, str | None]]) -> list[str]:
        """(event, ce_id to repeat or None, reprocess job or None), all on one key."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        ids = []
        try:
            for event, event_id, job in events:
                envelope = envelope_for(event, source="/vetgate/test", event_id=event_id)
                if job:
                    envelope = dataclasses.replace(envelope, extra_headers={REPROCESS_HEADER: job})
                await producer.send_and_wait(self.topic, envelope.body, key=b"one-key", headers=envelope.to_headers())
                ids.append(envelope.id)
        finally:
            await producer.stop()
        return ids

    async def effects(self) -> list[tuple[str, int, int]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT kind, seq, batch FROM effects ORDER BY n"))
            return [(r.kind, r.seq, r.batch) for r in rows]

    async def run_until_caught_up(self) -> None:
        consumer = self.consumer()
        await consumer.start()
        task = asyncio.create_task(consumer.run())
        try:
            for _ in range(600):
                if await self._caught_up():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("consumer did not catch up")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await consumer.stop()

    async def _caught_up(self) -> bool:
        probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False)
        await probe.start()
        try:
            tp = TopicPartition(self.topic, 0)
            end: int = (await probe.end_offsets([tp]))[tp]
            committed: int = await probe.committed(tp) or 0
            return committed >= end
        finally:
            await probe.stop()


async def effect(conn: AsyncConnection, kind: str, seq: int, batch: int) -> None:
    statement = text("INSERT INTO effects (kind, seq, batch) VALUES (:k, :s, :b)")
    await conn.execute(statement, {"k": kind, "s": seq, "b": batch})


async def test_runs_share_a_transaction_keep_order_and_apply_copies_once(
    infra: Infrastructure, engine: AsyncEngine, topic: str
) -> None:
    s = Setup(infra, engine, topic)
    first = ping(s.pinged, "a", 1)
    ids = await s.publish([(first, None, None), (ping(s.pinged, "a", 2), None, None)])
    await s.publish(
        [
            (first, ids[0], None),  # a redelivered copy inside the run: a duplicate
            (ping(s.ponged, "a", 3), None, None),  # another type ends the run
            (ping(s.pinged, "a", 4), None, None),
            (first, ids[0], "job-7"),  # an operator's replay: applied again, once for this job
            (ping(s.pinged, "a", 5), None, None),
        ]
    )
    await s.run_until_caught_up()

    assert [(kind, seq) for kind, seq, _ in await s.effects()] == [
        ("ping", 1),
        ("ping", 2),
        ("pong", 3),
        ("ping", 4),
        ("ping", 1),
        ("ping", 5),
    ]
    assert s.batches == [[1, 2], [4, 1, 5]], "two runs, each one handler call in one transaction"


async def test_a_poison_record_in_a_run_is_dead_lettered_alone(
    infra: Infrastructure, engine: AsyncEngine, topic: str
) -> None:
    s = Setup(infra, engine, topic)
    await ensure_topics(infra.kafka_bootstrap, {dlq_topic(s.group): 1})
    s.poison_seq = 2
    await s.publish([(ping(s.pinged, "a", seq), None, None) for seq in (1, 2, 3)])
    await s.run_until_caught_up()

    assert [(kind, seq) for kind, seq, _ in await s.effects()] == [("ping", 1), ("ping", 3)]
    assert s.batches[0] == [1, 2, 3], "the run failed as a whole (rolled back) ..."
    assert s.batches[1:] == [[1], [2], [3]], "... and was applied again record by record"
    reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, group_id=None, auto_offset_reset="earliest")
    await reader.start()
    try:
        reader.subscribe([dlq_topic(s.group)])
        batch = await reader.getmany(timeout_ms=10_000)
        dead = [r for records in batch.values() for r in records]
    finally:
        await reader.stop()
    assert len(dead) == 1
    assert "handler refused: cannot apply this one" in dict(dead[0].headers)[ERROR_HEADER].decode()
