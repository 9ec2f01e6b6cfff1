"""Reading topics back in tests, against the real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    parts = consumer.partitions_for_topic(topic)
    if parts is None:  # metadata of unsubscribed topics is fetched lazily
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(parts)]


def ce_id(record: ConsumerRecord[bytes, bytes]) -> str:
    return dict(record.headers)["ce_id"].decode()


async def eventually(condition: Callable[[], Awaitable[bool]], timeout: float = 30, what: str = "") -> None:
    """Wait for an asynchronous outcome; a bound on waiting, not a performance assertion."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)
