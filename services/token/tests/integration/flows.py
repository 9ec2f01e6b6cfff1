"""Driving the token service as provisioning and integrators do: events in, HTTP requests out."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from vetgate_events import IntegrationEvent, envelope_for
from vetgate_events.provisioning import ClientProvisioned
from vetgate_platform.secrets import secret_digest


async def publish(bootstrap: str, event: IntegrationEvent, source: str = "/vetgate/provisioning") -> str:
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


def provisioned(provet_id: int, permissions: list[str] | None = None) -> tuple[ClientProvisioned, str]:
    """A fresh client_credentials integration and its plaintext secret."""
    secret = secrets.token_urlsafe(32)
    event = ClientProvisioned(
        client_id=f"int-{uuid.uuid4().hex[:12]}",
        activation_id=uuid.uuid4(),
        template_id=uuid.uuid4(),
        provet_id=provet_id,
        integration_name="Reminders",
        grant_type="client_credentials",
        client_type="confidential",
        virtual_user_id=uuid.uuid4(),
        permissions=permissions or ["patients-clients", "reminder"],
        secret_hash=secret_digest(secret),
        sealed_secret=None,
        delivery={"kind": "email", "address": "owner@example.com"},
        provisioned_at=datetime.now(UTC),
    )
    return event, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def wait_for_record(bootstrap: str, topic: str, predicate: Any, timeout: float = 30) -> Any:
    """The first record on ``topic`` whose decoded headers+body satisfy ``predicate``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    if predicate(dict(r.headers), r.value):
                        return r
            await asyncio.sleep(0)
        raise AssertionError(f"no matching record on {topic}")
    finally:
        await consumer.stop()


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, read without checking it (tests only)."""
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in token.split(".")[:2]
    )
    return header, payload
