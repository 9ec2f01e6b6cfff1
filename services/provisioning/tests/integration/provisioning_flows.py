"""Driving provisioning as catalogue does (events in) and reading what it emits, on the real broker."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import text
from vetgate_devstack.token_server import TokenServer
from vetgate_events import IntegrationEvent, envelope_for
from vetgate_events.catalogue import IntegrationActivated, IntegrationDeactivated
from vetgate_events.common import ClientType, GrantType
from vetgate_events.provisioning import ClientProvisioned
from vetgate_events.token import CredentialsIssued
from vetgate_events.topics import PROVISIONING_CLIENTS, TOKEN_CREDENTIALS
from vetgate_messaging.host import ServiceHost
from vetgate_messaging.inbox import REPROCESS_HEADER
from vetgate_messaging.testing import wait_for_record
from vetgate_platform.sealing import SealingKeyring, client_secret_binding

CATALOGUE = "/vetgate/catalogue"


@dataclass
class ProvisioningService:
    host: ServiceHost
    http: httpx.AsyncClient
    keyring: SealingKeyring
    bootstrap: str
    token: TokenServer

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.host.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()


def activation(
    provet_id: int,
    *,
    template_id: uuid.UUID | None = None,
    name: str = "Reminders",
    grant_type: GrantType = "client_credentials",
    client_type: ClientType = "confidential",
    permissions: Sequence[str] = ("patients-clients", "reminder"),
    redirect_uris: Sequence[str] = (),
) -> IntegrationActivated:
    return IntegrationActivated(
        activation_id=uuid.uuid4(),
        template_id=template_id or uuid.uuid4(),
        provet_id=provet_id,
        integration_name=name,
        grant_type=grant_type,
        client_type=client_type,
        redirect_uris=list(redirect_uris),
        permissions=list(permissions),
        delivery={"kind": "email", "address": "owner@example.com"},
        activated_at=datetime.now(UTC),
    )


def deactivation(activated: IntegrationActivated) -> IntegrationDeactivated:
    return IntegrationDeactivated(
        activation_id=activated.activation_id,
        template_id=activated.template_id,
        provet_id=activated.provet_id,
        deactivated_at=datetime.now(UTC),
    )


async def publish(
    bootstrap: str, event: IntegrationEvent, *, event_id: str | None = None, reprocess_job: str | None = None
) -> str:
    """Publish as catalogue does; ``event_id`` repeats an earlier record, ``reprocess_job`` marks an
    operator's replay (``vetgate-reprocess``)."""
    envelope = envelope_for(event, source=CATALOGUE, event_id=event_id)
    if reprocess_job:
        envelope = dataclasses.replace(envelope, extra_headers={REPROCESS_HEADER: reprocess_job})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
        )
    finally:
        await producer.stop()
    return envelope.id


def _is(event_cls: type[IntegrationEvent], headers: dict[str, bytes]) -> bool:
    return headers.get("ce_type") == event_cls.event_type().encode()


async def emitted(
    bootstrap: str, event_cls: type[IntegrationEvent], *, timeout: float = 30, **fields: object
) -> ConsumerRecord[bytes, bytes]:
    """The first record of ``event_cls`` on its topic whose body has these field values (as JSON text)."""

    def matches(headers: dict[str, bytes], value: bytes) -> bool:
        if not _is(event_cls, headers):
            return False
        body = json.loads(value)
        return all(str(body.get(k)) == str(v) for k, v in fields.items())

    return await wait_for_record(bootstrap, event_cls.topic, matches, timeout)


async def provisioned(svc: ProvisioningService, activated: IntegrationActivated) -> ClientProvisioned:
    record = await emitted(svc.bootstrap, ClientProvisioned, activation_id=activated.activation_id)
    return ClientProvisioned.parse_lenient(record.value or b"")


def opened_secret(svc: ProvisioningService, event: ClientProvisioned) -> str:
    assert event.sealed_secret is not None
    return svc.keyring.open(event.sealed_secret, bound_to=client_secret_binding(event.client_id))


async def accepted_by_token_service(svc: ProvisioningService, event: ClientProvisioned) -> CredentialsIssued:
    """Wait until the token service has registered exactly these credentials (its CredentialsIssued)."""
    assert event.sealed_secret is not None
    sealed = event.sealed_secret.model_dump()

    def matches(headers: dict[str, bytes], value: bytes) -> bool:
        return _is(CredentialsIssued, headers) and json.loads(value)["sealed_secret"] == sealed

    record = await wait_for_record(svc.bootstrap, TOKEN_CREDENTIALS, matches)
    return CredentialsIssued.parse_lenient(record.value or b"")


async def client_token(svc: ProvisioningService, provet_id: int, client_id: str, secret: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{svc.token.base_url}/{provet_id}/oauth2/token/",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )


Records = list[ConsumerRecord[bytes, bytes]]


async def records_of_activation(
    bootstrap: str, *activation_ids: uuid.UUID, until: Callable[[Records], bool] | None = None
) -> Records:
    """Every provisioning record about these activations, read to the end of the topic (and, with
    ``until``, read again until it holds)."""
    wanted = {str(a) for a in activation_ids}
    deadline = time.monotonic() + 30
    while True:
        everything = await _whole_topic(bootstrap)
        found = [r for r in everything if json.loads(r.value or b"{}").get("activation_id") in wanted]
        if until is None or until(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError("the expected records did not appear")
        await asyncio.sleep(0.2)


async def _whole_topic(bootstrap: str) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(PROVISIONING_CLIENTS, p) for p in consumer.partitions_for_topic(PROVISIONING_CLIENTS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[ConsumerRecord[bytes, bytes]] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += records
        return found
    finally:
        await consumer.stop()


async def publish_many(bootstrap: str, events: Sequence[IntegrationEvent]) -> None:
    """Publish as a go-live does: many events back to back, one producer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = []
        for event in events:
            envelope = envelope_for(event, source=CATALOGUE)
            key = event.partition_key().encode()
            sent.append(await producer.send(event.topic, envelope.body, key=key, headers=envelope.to_headers()))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def eventually(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    """Wait for an asynchronous outcome; a bound on waiting, not a performance assertion."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def live_client(svc: ProvisioningService, activated: IntegrationActivated) -> tuple[ClientProvisioned, str]:
    """Publish an activation and wait until its credentials work: the event and the plaintext secret."""
    await publish(svc.bootstrap, activated)
    event = await provisioned(svc, activated)
    await accepted_by_token_service(svc, event)
    return event, opened_secret(svc, event)


def token_claims(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()["access_token"].split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


async def rotated(svc: ProvisioningService, event: ClientProvisioned, valid_until: str) -> ClientProvisioned:
    """The ClientProvisioned of the rotation that ends the previous secret at ``valid_until``."""
    until = datetime.fromisoformat(valid_until)

    def matches(headers: dict[str, bytes], value: bytes) -> bool:
        if headers.get("ce_type") != ClientProvisioned.event_type().encode():
            return False
        body = json.loads(value)
        ends = body.get("previous_secret_valid_until")
        return body["client_id"] == event.client_id and ends is not None and datetime.fromisoformat(ends) == until

    record = await wait_for_record(svc.bootstrap, ClientProvisioned.topic, matches)
    return ClientProvisioned.parse_lenient(record.value or b"")
