"""Helpers for tests that talk to a real broker: publish an event as its producer would, and wait
for one on a topic. Not used by services."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from vetgate_events import IntegrationEvent, envelope_for
from vetgate_events.common import ClientType, GrantType
from vetgate_events.provisioning import ClientProvisioned
from vetgate_events.token import CredentialsIssued
from vetgate_events.topics import TOKEN_CREDENTIALS
from vetgate_platform.secrets import secret_digest

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


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its end as it is now, in partition then offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


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


def client_provisioned(
    provet_id: int,
    *,
    grant_type: GrantType = "client_credentials",
    client_type: ClientType = "confidential",
    name: str = "Reminders",
    redirect_uris: Sequence[str] = (),
    permissions: Sequence[str] = ("patients-clients", "reminder"),
) -> tuple[ClientProvisioned, str | None]:
    """ClientProvisioned as provisioning emits it for a fresh activation, and the plaintext secret
    (None for public clients). authorization_code integrations get no virtual user and no rights."""
    secret = secrets.token_urlsafe(32) if client_type == "confidential" else None
    person_grant = grant_type == "authorization_code"
    event = ClientProvisioned(
        client_id=f"{'app' if person_grant else 'int'}-{uuid.uuid4().hex[:12]}",
        activation_id=uuid.uuid4(),
        template_id=uuid.uuid4(),
        provet_id=provet_id,
        integration_name=name,
        grant_type=grant_type,
        client_type=client_type,
        redirect_uris=list(redirect_uris),
        virtual_user_id=None if person_grant else uuid.uuid4(),
        permissions=[] if person_grant else list(permissions),
        secret_hash=secret_digest(secret) if secret else None,
        sealed_secret=None,
        delivery={"kind": "email", "address": "owner@example.com"},
        provisioned_at=datetime.now(UTC),
    )
    return event, secret


async def credentials_issued(
    bootstrap: str, client_id: str, timeout: float = 30, *, token_base: str | None = None
) -> CredentialsIssued:
    """Wait until the token service has accepted ``client_id`` (its CredentialsIssued is on the topic).

    ``token_base``: only that token service's (several may consume the same events in one test session,
    and their CredentialsIssued share ids derived from the same cause)."""

    def issued(headers: dict[str, bytes], value: bytes) -> bool:
        if headers.get("ce_type") != CredentialsIssued.event_type().encode():
            return False
        body = json.loads(value)
        return bool(body["client_id"] == client_id and str(body["token_url"]).startswith(token_base or ""))

    record = await wait_for_record(bootstrap, TOKEN_CREDENTIALS, issued, timeout)
    return CredentialsIssued.parse_lenient(record.value or b"")


async def start_group_at_end(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Commit the topics' current end offsets for a new consumer group: it then sees only what is published
    from now on, not everything earlier tests put on the shared broker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
