"""The outbox relay against the real broker and database: exactly once, in order, woken by NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_devstack.infra import Infrastructure
from vetgate_events.testing import Pinged, ping
from vetgate_messaging.outbox import add_event, add_events
from vetgate_messaging.relay import OutboxRelay
from vetgate_messaging.testing import read_topic

from .kafka_helpers import ce_id, eventually

SOURCE = "/vetgate/test"


async def stage(engine: AsyncEngine, event_cls: type[Pinged], count: int, keys: int = 8) -> list[str]:
    async with engine.begin() as conn:
        return [await add_event(conn, ping(event_cls, f"agg-{i % keys}", i), source=SOURCE) for i in range(count)]


async def pending_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))).scalar_one())


async def drain(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass


async def test_relay_killed_between_publish_and_mark_publishes_nothing_twice(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    staged = await stage(engine, event_cls, 50)

    doomed = OutboxRelay(engine, infra.kafka_bootstrap, schema)
    await doomed.start_producer()
    pending = await doomed.fetch_pending()
    await doomed.publish(pending[:30])  # acknowledged by Kafka...
    await doomed.stop_producer()  # ...and the relay is gone before mark_published ran
    assert await pending_count(engine) == 50

    successor = OutboxRelay(engine, infra.kafka_bootstrap, schema)
    await successor.start_producer()
    try:
        assert await successor.recover() == 30
        await drain(successor)
    finally:
        await successor.stop_producer()

    published = Counter(ce_id(r) for r in await read_topic(infra.kafka_bootstrap, event_cls.topic))
    assert published == Counter(staged), "every staged event exactly once on the topic"
    assert await pending_count(engine) == 0


async def test_relay_process_sigkilled_mid_stream_still_publishes_exactly_once(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    staged = await stage(engine, event_cls, 3000)
    runner = [sys.executable, str(Path(__file__).with_name("relay_runner.py")), schema, "--batch-size", "25"]
    env = {**os.environ, "DATABASE_URL": infra.database_url, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap}

    victim = subprocess.Popen(runner, env=env)
    try:
        await eventually(lambda: _published_between(engine, 300, 2700), what="relay mid-stream")
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    assert 0 < await pending_count(engine) < 3000

    survivor = subprocess.Popen(runner, env=env)
    try:
        await eventually(lambda: _no_pending(engine), what="every event published")
    finally:
        survivor.terminate()
        survivor.wait()

    published = Counter(ce_id(r) for r in await read_topic(infra.kafka_bootstrap, event_cls.topic))
    assert published == Counter(staged)


async def _published_between(engine: AsyncEngine, low: int, high: int) -> bool:
    return low <= 3000 - await pending_count(engine) <= high


async def _no_pending(engine: AsyncEngine) -> bool:
    return await pending_count(engine) == 0


async def test_relay_keeps_per_key_order_across_partitions(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    async with engine.begin() as conn:  # one bulk insert, as a go-live stages its events
        await add_events(conn, [(ping(event_cls, f"agg-{i % 20}", i), None) for i in range(1000)], source=SOURCE)
    relay = OutboxRelay(engine, infra.kafka_bootstrap, schema, batch_size=300)
    await relay.start_producer()
    try:
        await drain(relay)
    finally:
        await relay.stop_producer()

    records = await read_topic(infra.kafka_bootstrap, event_cls.topic)
    assert len(records) == 1000
    assert len({r.partition for r in records}) > 1, "keys spread over several partitions"
    by_key: dict[bytes, list[int]] = {}
    for r in records:  # partition then offset order: the order a consumer sees
        by_key.setdefault(r.key or b"", []).append(event_cls.parse_lenient(r.value or b"").seq)
    for key, seqs in by_key.items():
        assert seqs == sorted(seqs), f"{key!r} out of order"


async def test_a_commit_wakes_the_relay_without_waiting_for_the_poll(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    relay = OutboxRelay(engine, infra.kafka_bootstrap, schema, poll_interval=3600)
    async with leading(relay):
        await asyncio.sleep(0.2)  # the relay is now waiting for NOTIFY (its poll is an hour away)
        [event_id] = await stage(engine, event_cls, 1)
        await eventually(lambda: _no_pending(engine), timeout=20, what="NOTIFY wake-up")
    assert [ce_id(r) for r in await read_topic(infra.kafka_bootstrap, event_cls.topic)] == [event_id]


@contextlib.asynccontextmanager
async def leading(relay: OutboxRelay) -> AsyncIterator[None]:
    """The relay's run loop as a task, once it leads; cancelled on exit."""
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _is_leader(relay), what="relay leadership")
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _is_leader(relay: OutboxRelay) -> bool:
    return relay.is_leader


async def test_a_second_relay_waits_while_the_first_leads(
    infra: Infrastructure, engine: AsyncEngine, schema: str
) -> None:
    first = OutboxRelay(engine, infra.kafka_bootstrap, schema)
    second = OutboxRelay(engine, infra.kafka_bootstrap, schema)
    first_task = asyncio.create_task(first.run())
    await eventually(lambda: _is_leader(first), what="first relay leads")
    second_task = asyncio.create_task(second.run())
    try:
        await asyncio.sleep(1.0)
        assert not second.is_leader, "two leaders would publish a key's events out of order"
        first_task.cancel()
        await asyncio.gather(first_task, return_exceptions=True)
        await eventually(lambda: _is_leader(second), what="failover to the second relay")
    finally:
        second_task.cancel()
        await asyncio.gather(second_task, return_exceptions=True)


async def test_prune_deletes_old_published_rows_and_never_pending_ones(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    await stage(engine, event_cls, 5)
    relay = OutboxRelay(engine, infra.kafka_bootstrap, schema, retention=timedelta(0))
    await relay.start_producer()
    try:
        await drain(relay)
    finally:
        await relay.stop_producer()
    await stage(engine, event_cls, 2)
    assert await relay.prune() == 5
    assert await pending_count(engine) == 2
    assert await OutboxRelay(engine, infra.kafka_bootstrap, schema).prune() == 0, "default keeps a week"


async def test_prune_forgets_inbox_entries_only_long_after_kafka_could_replay_them(
    infra: Infrastructure, engine: AsyncEngine, schema: str
) -> None:
    async with engine.begin() as conn:
        for key, age_days in (("old", 15), ("recent", 6)):
            await conn.execute(
                text(
                    "INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset,"
                    " processed_at) VALUES ('g', :k, 't', 'topic', 0, 0, now() - make_interval(days => :d))"
                ),
                {"k": key, "d": age_days},
            )
    await OutboxRelay(engine, infra.kafka_bootstrap, schema).prune()
    async with engine.connect() as conn:
        kept = [r[0] for r in await conn.execute(text("SELECT event_id FROM inbox"))]
    assert kept == ["recent"]


async def test_relay_that_loses_its_database_session_recovers_and_keeps_publishing(
    infra: Infrastructure, engine: AsyncEngine, schema: str, event_cls: type[Pinged]
) -> None:
    relay = OutboxRelay(engine, infra.kafka_bootstrap, schema, poll_interval=0.2)
    async with leading(relay):
        async with engine.connect() as conn:  # what a database restart does to the relay's sessions
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :app AND pid <> pg_backend_pid()"
                ),
                {"app": f"vetgate-{schema}"},
            )
            assert killed.all(), "the relay's lock session was there to kill"
        staged = await stage(engine, event_cls, 20)
        await eventually(lambda: _no_pending(engine), what="publishing after reconnect")
    published = Counter(ce_id(r) for r in await read_topic(infra.kafka_bootstrap, event_cls.topic))
    assert published == Counter(staged)


async def test_an_event_id_is_staged_once_even_if_a_handler_runs_again(
    engine: AsyncEngine, event_cls: type[Pinged]
) -> None:
    event_id = "7f0c2a4e-5d0b-4c55-9c55-0a1b2c3d4e5f"
    for _ in range(2):  # an operator's reprocess runs the handler, and its add_event, a second time
        async with engine.begin() as conn:
            await add_event(conn, ping(event_cls, "agg", 1), source=SOURCE, event_id=event_id)
            await add_events(conn, [(ping(event_cls, "agg", 1), event_id)], source=SOURCE)
    assert await pending_count(engine) == 1
