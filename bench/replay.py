"""Replay figures: a consumer reading events it has all applied already (the no-op path), and republish.

1. N events on a 12-partition topic are applied once by an EventConsumer (handler writes a row); then the
   group is moved back to the beginning with the operator tool (`replay --earliest --execute`) and the
   clock runs while the consumer reads all N again — every one already in its inbox.
2. `republish` of the same N records to a second topic (job file, provenance headers), end to end.

Prints figures; asserts nothing.   uv run python -m bench.replay [--events 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from vetgate_devstack.infra import InfraPorts, running_infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.testing import Pinged, pinged_on
from vetgate_events.topics import dlq_topic
from vetgate_messaging import migrations
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_ops.cluster import Cluster
from vetgate_ops.replay_plan import Start, apply_plan, make_plan
from vetgate_ops.republish import new_job, run_job
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import upgrade


async def produce(bootstrap: str, cls: type[Pinged], count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=262_144)
    await producer.start()
    try:
        for seq in range(count):
            event = cls(aggregate=f"agg-{seq % 64}", seq=seq, at=datetime.now(UTC))
            envelope = envelope_for(event, source="/vetgate/bench")
            await producer.send(
                cls.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
            )
        await producer.flush()
    finally:
        await producer.stop()


async def consume_until(consumer: EventConsumer, done: asyncio.Event) -> float:
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    started = time.perf_counter()
    try:
        await done.wait()
        return time.perf_counter() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()


async def noop_replay(bootstrap: str, database_url: str, events: int) -> tuple[float, float]:
    suffix = uuid.uuid4().hex[:8]
    cls = pinged_on(f"bench.replay-{suffix}.v1")
    group = f"bench-replay-{suffix}"
    await ensure_topics(bootstrap, {cls.topic: 12, dlq_topic(group): 1})
    schema = f"bench_replay_{suffix}"
    await asyncio.to_thread(upgrade, database_url, schema, [migrations.VERSIONS])
    await asyncio.to_thread(_effects_table, database_url, schema)
    engine = create_engine(database_url, schema, pool_size=8)
    await produce(bootstrap, cls, events)
    seen = {"applied": 0, "read": 0}
    done = asyncio.Event()

    def consumer() -> EventConsumer:
        c = EventConsumer(group=group, engine=engine, bootstrap_servers=bootstrap, batch_size=2000)

        @c.handles(cls)
        async def apply(event: Pinged, conn: AsyncConnection, d: Delivery) -> None:
            await conn.execute(text("INSERT INTO effects (seq) VALUES (:s)"), {"s": event.seq})
            seen["applied"] += 1
            if seen["applied"] == events:
                done.set()

        return c

    first = await consume_until(consumer(), done)
    cluster = Cluster(bootstrap)
    plan = await asyncio.to_thread(make_plan, cluster, group, [cls.topic], None, Start(kind="earliest"))
    await asyncio.to_thread(apply_plan, cluster, plan, wait_for_empty=60)

    again = consumer()
    done.clear()
    watcher = asyncio.create_task(_watch_lag(cluster, group, cls.topic, done))
    elapsed = await consume_until(again, done)
    watcher.cancel()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM effects"))).scalar_one()
    await engine.dispose()
    assert rows == events, f"the replay applied something twice: {rows} rows for {events} events"
    return events / first, events / elapsed


async def _watch_lag(cluster: Cluster, group: str, topic: str, done: asyncio.Event) -> None:
    parts = await asyncio.to_thread(cluster.all_partitions, [topic])
    ends = await asyncio.to_thread(cluster.latest, parts)
    while True:
        committed = await asyncio.to_thread(cluster.committed, group, parts)
        if all((committed.get(tp) or 0) >= end for tp, end in ends.items()):
            done.set()
            return
        await asyncio.sleep(0.05)


def _effects_table(database_url: str, schema: str) -> None:
    async def create() -> None:
        engine = create_engine(database_url, schema)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE effects (seq bigint PRIMARY KEY)"))
        await engine.dispose()

    asyncio.run(create())


def republish_throughput(bootstrap: str, source: str, state: Path) -> float:
    cluster = Cluster(bootstrap)
    job = new_job(cluster, source, target_topic=f"{source}.copy")
    started = time.perf_counter()
    run_job(cluster, job, state / "job.json")
    return job.copied / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        ports = InfraPorts.free()
        with running_infrastructure(state, ports) as infra:
            first, noop = asyncio.run(noop_replay(infra.kafka_bootstrap, infra.database_url, args.events))
            print(f"first pass (handler writes a row per event): {first:,.0f} events/s")
            print(f"replay through the idempotent consumer, all {args.events:,} already applied: {noop:,.0f} events/s")
            topic = next(t for t in Cluster(infra.kafka_bootstrap).topic_names() if t.startswith("bench.replay-"))
            asyncio.run(ensure_topics(infra.kafka_bootstrap, {f"{topic}.copy": 12}))
            print(
                f"republish with provenance: {republish_throughput(infra.kafka_bootstrap, topic, state):,.0f} records/s"
            )


if __name__ == "__main__":
    main()
