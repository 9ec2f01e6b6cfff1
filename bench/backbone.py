"""Backbone figures: outbox relay throughput, and commit → consumer-handler latency.

Runs against the same real PostgreSQL and Kafka as the tests (embedded on free ports, or
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS). Prints figures; asserts nothing.

    uv run python -m bench.backbone [--events 50000] [--latency-events 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_devstack.infra import InfraPorts, running_infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events.testing import Pinged, pinged_on
from vetgate_messaging import migrations
from vetgate_messaging.consumer import Delivery, EventConsumer
from vetgate_messaging.outbox import add_event
from vetgate_messaging.relay import OutboxRelay
from vetgate_platform.db import create_engine
from vetgate_platform.migrations import upgrade


async def stage(engine: AsyncEngine, cls: type[Pinged], count: int, per_tx: int = 1000) -> None:
    for start in range(0, count, per_tx):
        async with engine.begin() as conn:
            for seq in range(start, min(start + per_tx, count)):
                event = cls(aggregate=f"agg-{seq % 64}", seq=seq, at=datetime.now(UTC))
                await add_event(conn, event, source="/vetgate/bench")


async def fresh_schema(database_url: str, name: str) -> AsyncEngine:
    await asyncio.to_thread(upgrade, database_url, name, [migrations.VERSIONS])
    return create_engine(database_url, name, pool_size=8)


async def relay_throughput(bootstrap: str, database_url: str, events: int) -> float:
    """Events/s published (and marked) from rows already committed in the outbox."""
    suffix = uuid.uuid4().hex[:8]
    cls = pinged_on(f"bench.relay-{suffix}.v1")
    await ensure_topics(bootstrap, {cls.topic: 12})
    engine = await fresh_schema(database_url, f"bench_relay_{suffix}")
    await stage(engine, cls, events)
    relay = OutboxRelay(engine, bootstrap, f"bench_relay_{suffix}", batch_size=5000)
    await relay.start_producer()
    try:
        started = time.perf_counter()
        published = 0
        while batch := await relay.relay_once():
            published += batch
        elapsed = time.perf_counter() - started
    finally:
        await relay.stop_producer()
        await engine.dispose()
    assert published == events
    return events / elapsed


async def commit_to_handler_latency(bootstrap: str, database_url: str, events: int, rate: float) -> list[float]:
    """Seconds from the business transaction's commit to the consumer handler running, per event."""
    suffix = uuid.uuid4().hex[:8]
    cls = pinged_on(f"bench.latency-{suffix}.v1")
    group = f"bench-{suffix}"
    await ensure_topics(bootstrap, {cls.topic: 12, f"{group}.dlq.v1": 1})
    schema = f"bench_lat_{suffix}"
    engine = await fresh_schema(database_url, schema)
    committed: dict[int, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    consumer = EventConsumer(group=group, engine=engine, bootstrap_servers=bootstrap)

    @consumer.handles(cls)
    async def measure(event: Pinged, conn: AsyncConnection, delivery: Delivery) -> None:
        latencies.append(time.perf_counter() - committed[event.seq])
        if len(latencies) == events:
            done.set()

    relay = OutboxRelay(engine, bootstrap, schema, poll_interval=5.0)
    await consumer.start()
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        await warm_up(engine, cls, committed, consumer)
        latencies.clear()
        for seq in range(events):
            async with engine.begin() as conn:
                await add_event(
                    conn, cls(aggregate=f"agg-{seq % 64}", seq=seq, at=datetime.now(UTC)), source="/vetgate/bench"
                )
            committed[seq] = time.perf_counter()
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(done.wait(), 60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await engine.dispose()
    return latencies


async def warm_up(engine: AsyncEngine, cls: type[Pinged], committed: dict[int, float], consumer: EventConsumer) -> None:
    """One event end to end first: the group joins and the relay leads before we measure."""
    async with engine.begin() as conn:
        await add_event(conn, cls(aggregate="warm", seq=-1, at=datetime.now(UTC)), source="/vetgate/bench")
    committed[-1] = time.perf_counter()
    async with engine.connect() as conn:
        for _ in range(600):
            if (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one():
                return
            await asyncio.sleep(0.05)
            await conn.rollback()
    raise TimeoutError("warm-up event never reached the consumer")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def run(bootstrap: str, database_url: str, args: argparse.Namespace) -> None:
    for attempt in range(args.repeat):
        rate = await relay_throughput(bootstrap, database_url, args.events)
        print(f"relay throughput (run {attempt + 1}): {rate:,.0f} events/s over {args.events:,} committed rows")
    lat = await commit_to_handler_latency(bootstrap, database_url, args.latency_events, args.rate)
    ms = [x * 1000 for x in lat]
    print(
        f"commit -> handler latency over {len(ms):,} events at {args.rate:.0f}/s: "
        f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms, max {max(ms):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="events/s offered in the latency run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        ports = InfraPorts.free()
        with running_infrastructure(Path(state), ports) as infra:
            asyncio.run(run(infra.kafka_bootstrap, infra.database_url, args))


if __name__ == "__main__":
    main()
