"""Reading a topic back to find which pending outbox events a crashed relay had already published."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass(frozen=True)
class FoundEvent:
    event_id: str
    topic: str
    partition: int
    offset: int


async def find_published(
    bootstrap_servers: str,
    topics: Iterable[str],
    positions: Mapping[tuple[str, int], int],
    wanted: set[str],
) -> list[FoundEvent]:
    """Scan each partition of ``topics`` after its last confirmed offset for records whose ce_id is wanted."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(await _partitions(consumer, t))]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        remaining = set()
        for tp in partitions:
            start = max(positions.get((tp.topic, tp.partition), -1) + 1, starts[tp])
            if start < ends[tp]:
                consumer.seek(tp, start)
                remaining.add(tp)
        found: list[FoundEvent] = []
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    event_id = _ce_id(record.headers)
                    if event_id in wanted:
                        found.append(FoundEvent(event_id, tp.topic, tp.partition, record.offset))
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    parts = consumer.partitions_for_topic(topic)
    if parts is None:
        await consumer._client.force_metadata_update()  # topic metadata is fetched lazily
        parts = consumer.partitions_for_topic(topic)
    return set(parts or ())


def _ce_id(headers: Iterable[tuple[str, bytes]]) -> str | None:
    for key, value in headers:
        if key == "ce_id":
            return value.decode("utf-8", errors="replace")
    return None
