"""Consumers against the real broker and database: idempotent under redelivery and replay, poison to the DLQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.testing import Pinged, ping
from vetgate_events.topics import dlq_topic
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_messaging.dlq import ERROR_HEADER, ORIGIN_OFFSET, ORIGIN_TOPIC
from vetgate_messaging.inbox import REPROCESS_HEADER
from vetgate_messaging.testing import read_topic

from .kafka_helpers import eventually, partitions

SOURCE = "/vetgate/test"


@pytest.fixture
async def effects(engine: AsyncEngine) -> AsyncEngine:
    """A table the test handler writes to: one row per application of an event."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE effects (event_id text, aggregate text, seq int)"))
    return engine


@pytest.fixture
async def group(infra: Infrastructure) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, {dlq_topic(name): 1})
    return name


@pytest.fixture
async def producer(infra: Infrastructure) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await p.start()
    yield p
    await p.stop()


def consumer_for(infra: Infrastructure, engine: AsyncEngine, group: str, event_cls: type[Pinged]) -> EventConsumer:
    consumer = EventConsumer(group=group, engine=engine, bootstrap_servers=infra.kafka_bootstrap, retry_delay=0.01)

    @consumer.handles(event_cls)
    async def record_effect(event: Pinged, conn: AsyncConnection, delivery: Delivery) -> None:
        await conn.execute(
            text("INSERT INTO effects VALUES (:id, :agg, :seq)"),
            {"id": delivery.envelope.id, "agg": event.aggregate, "seq": event.seq},
        )

    return consumer


async def send(producer: AIOKafkaProducer, event: Pinged, event_id: str | None = None) -> str:
    envelope = envelope_for(event, source=SOURCE, event_id=event_id)
    await producer.send_and_wait(
        event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
    )
    return envelope.id


async def effect_rows(engine: AsyncEngine) -> list[tuple[str, str, int]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text("SELECT * FROM effects ORDER BY seq"))]  # type: ignore[misc]


class Running:
    """A consumer's run loop as a task, for the duration of a ``with`` block."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventConsumer:
        await self.consumer.start()
        self.task = asyncio.create_task(self.consumer.run())
        return self.consumer

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()


async def test_an_event_delivered_twice_and_replayed_is_applied_once(
    infra: Infrastructure, effects: AsyncEngine, group: str, event_cls: type[Pinged], producer: AIOKafkaProducer
) -> None:
    first = await send(producer, ping(event_cls, "a", 1))
    await send(producer, ping(event_cls, "a", 1), event_id=first)  # a producer retry / redelivery
    second = await send(producer, ping(event_cls, "b", 2))

    async with Running(consumer_for(infra, effects, group, event_cls)):
        await eventually(lambda: _rows_are(effects, 2), what="both events applied")
    assert [r[0] for r in await effect_rows(effects)] == [first, second]

    await _rewind_group(infra.kafka_bootstrap, group, event_cls.topic)  # an operator's replay
    replaying = consumer_for(infra, effects, group, event_cls)
    async with Running(replaying):
        await eventually(lambda: _group_caught_up(infra.kafka_bootstrap, group, event_cls.topic), what="replay")
    assert [r[0] for r in await effect_rows(effects)] == [first, second], "replay changed nothing"
    duplicates = REGISTRY.get_sample_value("vetgate_consumer_records_total", {"group": group, "outcome": "duplicate"})
    assert duplicates == 4, "the redelivered copy, then all three records again on replay"


async def test_poison_records_go_to_the_dlq_with_a_reason_and_consumption_goes_on(
    infra: Infrastructure, effects: AsyncEngine, group: str, event_cls: type[Pinged], producer: AIOKafkaProducer
) -> None:
    topic = event_cls.topic
    good = envelope_for(ping(event_cls, "k", 1), source=SOURCE)
    await producer.send_and_wait(topic, b"{not json", key=b"k", headers=good.to_headers())
    await producer.send_and_wait(topic, good.body, key=b"k")  # no CloudEvents headers at all
    bad_header = [
        (k, b"\xff\xfe" if k == "ce_source" else v)
        for k, v in envelope_for(ping(event_cls, "k", 2), source=SOURCE).to_headers()
    ]
    await producer.send_and_wait(topic, json.dumps({"aggregate": "k"}).encode(), key=b"k", headers=bad_header)
    applied = await send(producer, ping(event_cls, "k", 3))

    async with Running(consumer_for(infra, effects, group, event_cls)):
        await eventually(lambda: _rows_are(effects, 1), what="the good event after the poison ones")
        await eventually(lambda: _group_caught_up(infra.kafka_bootstrap, group, topic), what="offsets committed")

    assert [r[0] for r in await effect_rows(effects)] == [applied]
    dead = await read_topic(infra.kafka_bootstrap, dlq_topic(group))
    reasons = [dict(r.headers)[ERROR_HEADER].decode() for r in dead]
    assert len(dead) == 3
    assert "invalid vetgate.Pinged.v1" in reasons[0]
    assert "missing CloudEvents header" in reasons[1]
    assert "seq: Field required" in reasons[2]
    assert [dict(r.headers)[ORIGIN_TOPIC].decode() for r in dead] == [topic] * 3
    assert dead[0].value == b"{not json", "the original bytes are kept for a later drain"
    assert {dict(r.headers)[ORIGIN_OFFSET] for r in dead} == {b"0", b"1", b"2"}


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_attempts(
    infra: Infrastructure, effects: AsyncEngine, group: str, event_cls: type[Pinged], producer: AIOKafkaProducer
) -> None:
    consumer = EventConsumer(
        group=group, engine=effects, bootstrap_servers=infra.kafka_bootstrap, max_attempts=3, retry_delay=0.01
    )
    calls: list[int] = []

    @consumer.handles(event_cls)
    async def flaky(event: Pinged, conn: AsyncConnection, delivery: Delivery) -> None:
        calls.append(event.seq)
        await conn.execute(text("INSERT INTO effects VALUES ('x', :a, :s)"), {"a": event.aggregate, "s": event.seq})
        if event.seq == 1:
            raise RuntimeError("bug in handler")

    await send(producer, ping(event_cls, "k", 1))
    await send(producer, ping(event_cls, "k", 2))
    async with Running(consumer):
        await eventually(lambda: _rows_are(effects, 1), what="the next event")
    assert calls == [1, 1, 1, 2]
    assert [r[2] for r in await effect_rows(effects)] == [2], "failed attempts rolled back"
    [dead] = await read_topic(infra.kafka_bootstrap, dlq_topic(group))
    assert "handler failed 3x: RuntimeError: bug in handler" in dict(dead.headers)[ERROR_HEADER].decode()


async def _rows_are(engine: AsyncEngine, n: int) -> bool:
    return len(await effect_rows(engine)) == n


async def _group_caught_up(bootstrap: str, group: str, topic: str) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await partitions(consumer, topic)
        ends = await consumer.end_offsets(tps)
        return all([(await consumer.committed(tp) or 0) >= ends[tp] for tp in tps])
    finally:
        await consumer.stop()


async def _rewind_group(bootstrap: str, group: str, topic: str) -> None:
    """Reset the (empty) group to the beginning, as `kafka-consumer-groups --reset-offsets` would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await partitions(consumer, topic)
        consumer.assign(tps)
        await consumer.commit(dict.fromkeys(tps, 0))
    finally:
        await consumer.stop()


async def test_a_reprocess_marked_copy_runs_the_handler_once_per_job(
    infra: Infrastructure, effects: AsyncEngine, group: str, event_cls: type[Pinged], producer: AIOKafkaProducer
) -> None:
    runs: list[str] = []
    consumer = EventConsumer(group=group, engine=effects, bootstrap_servers=infra.kafka_bootstrap)

    @consumer.handles(event_cls)
    async def count(event: Pinged, conn: AsyncConnection, delivery: Delivery) -> None:
        runs.append(delivery.envelope.id)

    envelope = envelope_for(ping(event_cls, "a", 1), source=SOURCE)
    key = b"a"
    plain = envelope.to_headers()
    job = [*plain, (REPROCESS_HEADER, b"job-1")]
    for headers in (plain, plain, job, job, [*plain, (REPROCESS_HEADER, b"job-2")]):
        await producer.send_and_wait(event_cls.topic, envelope.body, key=key, headers=headers)
    async with Running(consumer):
        await eventually(lambda: _group_caught_up(infra.kafka_bootstrap, group, event_cls.topic), what="all read")
    assert runs == [envelope.id] * 3, "once, once for job-1, once for job-2"


async def test_a_dlq_drained_after_the_fix_is_applied_and_the_dlq_is_empty(
    infra: Infrastructure,
    effects: AsyncEngine,
    group: str,
    event_cls: type[Pinged],
    producer: AIOKafkaProducer,
    tmp_path: object,
) -> None:
    """A bad deploy dead-letters events; after the fix the operator drains the DLQ back (vetgate dlq drain)."""
    from vetgate_messaging.consumer import PoisonEvent
    from vetgate_ops.cluster import Cluster
    from vetgate_ops.republish import drain_dlq_job, empty_drained, run_job

    broken = True
    applied: list[int] = []
    consumer = EventConsumer(group=group, engine=effects, bootstrap_servers=infra.kafka_bootstrap, retry_delay=0.01)

    @consumer.handles(event_cls)
    async def handle(event: Pinged, conn: AsyncConnection, delivery: Delivery) -> None:
        if broken and event.seq % 2 == 0:
            raise PoisonEvent("the bad deploy cannot read even sequence numbers")
        applied.append(event.seq)

    for seq in range(6):
        await send(producer, ping(event_cls, f"k{seq}", seq))
    async with Running(consumer):
        await eventually(lambda: _group_caught_up(infra.kafka_bootstrap, group, event_cls.topic), what="first pass")
    assert sorted(applied) == [1, 3, 5]
    assert len(await read_topic(infra.kafka_bootstrap, dlq_topic(group))) == 3

    broken = False  # the fix is deployed
    cluster = Cluster(infra.kafka_bootstrap)
    job = await asyncio.to_thread(drain_dlq_job, cluster, group)
    await asyncio.to_thread(run_job, cluster, job, tmp_path / "drain.json")
    await asyncio.to_thread(empty_drained, cluster, job)
    fixed = EventConsumer(group=group, engine=effects, bootstrap_servers=infra.kafka_bootstrap)
    fixed.handles(event_cls)(handle)
    async with Running(fixed):
        await eventually(lambda: _group_caught_up(infra.kafka_bootstrap, group, event_cls.topic), what="drained copies")
    assert sorted(applied) == [0, 1, 2, 3, 4, 5], "each event applied exactly once in the end"
    dlq = [(dlq_topic(group), 0)]
    assert await asyncio.to_thread(cluster.earliest, dlq) == await asyncio.to_thread(cluster.latest, dlq)
