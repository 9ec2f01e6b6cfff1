"""Replay plans and their execution against the real broker: exact offsets, refusals, the CLI's dry run."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta, timezone

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from typer.testing import CliRunner
from vetgate_devstack.cli import app
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_ops.cluster import Cluster
from vetgate_ops.replay_plan import GroupBusy, PlanOutdated, Start, apply_plan, make_plan
from vetgate_ops.times import from_millis

# Our own timestamps, not the clock's: a whole second an hour ago (Kafka refuses future ones, retention
# would delete week-old ones).
BASE = (int(time.time()) - 3600) * 1000


async def topic_with_known_timestamps(infra: Infrastructure) -> str:
    """Partition 0: ts BASE+0, +10, +20, …; partition 1: BASE+5, +15, …; 10 records each."""
    topic = f"ops-replay-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.kafka_bootstrap, {topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(10):
            for partition, skew in ((0, 0), (1, 5)):
                await producer.send_and_wait(
                    topic, f"{partition}-{i}".encode(), partition=partition, timestamp_ms=BASE + i * 10 + skew
                )
    finally:
        await producer.stop()
    return topic


async def consume_all(infra: Infrastructure, group: str, topic: str) -> None:
    """The group reads everything and commits (then leaves): it is caught up."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        seen = 0
        while seen < 20:
            seen += sum(len(r) for r in (await consumer.getmany(timeout_ms=1000)).values())
        await consumer.commit()
    finally:
        await consumer.stop()


@pytest.fixture
async def caught_up(infra: Infrastructure) -> tuple[Cluster, str, str]:
    topic = await topic_with_known_timestamps(infra)
    group = f"ops-group-{uuid.uuid4().hex[:8]}"
    await consume_all(infra, group, topic)
    return Cluster(infra.kafka_bootstrap), group, topic


async def test_a_plan_by_time_is_exact_to_the_offset(caught_up: tuple[Cluster, str, str]) -> None:
    cluster, group, topic = caught_up
    at = from_millis(BASE + 42)  # partition 0: first ts ≥ 42 is 50 (offset 5); partition 1: 45 (offset 4)
    plan = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="time", at=at))
    assert [(m.partition, m.current, m.target, m.end, m.messages) for m in plan.moves] == [
        (0, 10, 5, 10, 5),
        (1, 10, 4, 10, 6),
    ]
    exact = from_millis(BASE + 50)  # a record stamped exactly T is included
    plan = await asyncio.to_thread(make_plan, cluster, group, [topic], [0], Start(kind="time", at=exact))
    assert [(m.partition, m.target) for m in plan.moves] == [(0, 5)]


async def test_nothing_newer_than_the_time_means_no_replay_at_all(caught_up: tuple[Cluster, str, str]) -> None:
    cluster, group, topic = caught_up
    later = from_millis(BASE + 10_000)
    plan = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="time", at=later))
    assert plan.changes == [] and plan.messages == 0
    assert await asyncio.to_thread(apply_plan, cluster, plan) == 0


async def test_shift_and_offset_starts_are_clamped_to_the_log(caught_up: tuple[Cluster, str, str]) -> None:
    cluster, group, topic = caught_up
    shifted = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="shift", shift=-3))
    assert [m.target for m in shifted.moves] == [7, 7]
    beyond = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="offset", offset=99))
    assert [m.target for m in beyond.moves] == [10, 10]
    back = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="shift", shift=-50))
    assert [m.target for m in back.moves] == [0, 0]


async def test_execute_is_refused_while_the_group_has_live_members(
    infra: Infrastructure, caught_up: tuple[Cluster, str, str]
) -> None:
    cluster, group, topic = caught_up
    plan = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="earliest"))
    member = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap, group_id=group)
    await member.start()
    try:
        while not member.assignment():
            await member.getmany(timeout_ms=200)
        with pytest.raises(GroupBusy, match="live member"):
            await asyncio.to_thread(apply_plan, cluster, plan)
    finally:
        await member.stop()
    assert await asyncio.to_thread(apply_plan, cluster, plan, wait_for_empty=30) == 2
    committed = await asyncio.to_thread(cluster.committed, group)
    assert committed == {(topic, 0): 0, (topic, 1): 0}


async def test_a_saved_plan_is_refused_once_the_group_has_moved(caught_up: tuple[Cluster, str, str]) -> None:
    cluster, group, topic = caught_up
    plan = await asyncio.to_thread(make_plan, cluster, group, [topic], None, Start(kind="earliest"))
    await asyncio.to_thread(cluster.set_committed, group, {(topic, 0): 3})
    with pytest.raises(PlanOutdated, match="make a new plan"):
        await asyncio.to_thread(apply_plan, cluster, plan)


async def test_the_cli_dry_run_prints_the_plan_and_changes_nothing(
    infra: Infrastructure, caught_up: tuple[Cluster, str, str]
) -> None:
    cluster, group, topic = caught_up
    in_helsinki = from_millis(BASE + 42).astimezone(timezone(timedelta(hours=2))).isoformat()  # "…+02:00"
    args = ["replay", group, "--topic", topic, "--from-time", in_helsinki]
    args += ["--bootstrap", infra.kafka_bootstrap]
    result = await asyncio.to_thread(CliRunner().invoke, app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "11 records" in result.output
    assert await asyncio.to_thread(cluster.committed, group) == {(topic, 0): 10, (topic, 1): 10}
