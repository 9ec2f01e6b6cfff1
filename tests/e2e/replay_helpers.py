"""Replaying a topic the way an operator would, and knowing when a consumer group has caught up."""

from __future__ import annotations

import asyncio
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from vetgate_messaging.inbox import REPROCESS_HEADER


async def republish(bootstrap: str, records: list[ConsumerRecord[bytes, bytes]], *, reprocess_job: str | None) -> None:
    """Copies with the same key, body and CloudEvents headers (so the same ce_id); with ``reprocess_job``
    they carry the explicit marker that makes consumers run their handlers again."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for record in records:
            headers = [(k, v) for k, v in record.headers if k != REPROCESS_HEADER]
            if reprocess_job:
                headers.append((REPROCESS_HEADER, reprocess_job.encode()))
            await producer.send(record.topic, record.value, key=record.key, headers=headers, partition=record.partition)
        await producer.flush()
    finally:
        await producer.stop()


async def wait_until_caught_up(bootstrap: str, group: str, topic: str, timeout: float = 120) -> None:
    """Until the group's committed offsets reach the topic's end offsets (everything handled)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            done = {tp: max(meta.offset, 0) for tp, meta in committed.items() if meta is not None}
            behind = {tp: end for tp, end in ends.items() if done.get(tp, 0) < end}
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{group} still behind on {topic}: {behind}")
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
        await admin.close()


SERVICE_SCHEMAS = ("token", "catalogue", "provisioning", "notifier")


async def database_fingerprint(database_url: str) -> dict[str, str]:
    """An md5 of every row of every service table: any insert, update or delete changes it."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(SERVICE_SCHEMAS),
        )
        fingerprint = {}
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            fingerprint[name] = await conn.fetchval(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM {name} r"
            )
        return fingerprint
    finally:
        await conn.close()
