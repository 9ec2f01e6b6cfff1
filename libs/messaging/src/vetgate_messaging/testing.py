"""Helpers for tests that talk to a real broker: publish an event as its producer would, and wait
for one on a topic. Not used by services."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from vetgate_events import IntegrationEvent, envelope_for

RecordTest = Callable[[dict[str, bytes], bytes], bool]


async def publish(bootstrap: str, event: IntegrationEvent, source: str) -> str:
    """Publish ``event`` with its CloudEvents headers and key; returns its ce_id."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        envelope = envelope_for(event, source=source)
        await producer.send_and_wait(
            event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
        )
        return envelope.id
    finally:
        await producer.stop()


async def wait_for_record(
    bootstrap: str, topic: str, matches: RecordTest, timeout: float = 30
) -> ConsumerRecord[bytes, bytes]:
    """The first record of ``topic`` (from the beginning) for which ``matches(headers, value)`` holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if matches(dict(record.headers), record.value or b""):
                        return record
            await asyncio.sleep(0)
        raise AssertionError(f"no matching record on {topic} within {timeout:.0f}s")
    finally:
        await consumer.stop()
