"""Go-live throughput of provisioning: N IntegrationActivated in, N ClientProvisioned out.

Starts its own PostgreSQL and Kafka (or uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS), runs the
provisioning service in-process (consumer, outbox relay), warms it up, then publishes N activations of
one template to N tenants — as a go-live does — and stops the clock when N ClientProvisioned are on
``provisioning.clients.v1``. Then changes that template's permissions once and times until the N
VirtualUserChanged of the sync are on the topic. Prints figures; asserts nothing.

    uv run python -m bench.provisioning_throughput [--events 10000] [--log-level WARNING]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from vetgate_devstack.infra import InfraPorts, running_infrastructure
from vetgate_events import IntegrationEvent, envelope_for
from vetgate_events.catalogue import IntegrationActivated, TemplatePermissionsChanged
from vetgate_events.provisioning import ClientProvisioned, VirtualUserChanged
from vetgate_events.topics import PROVISIONING_CLIENTS
from vetgate_platform.sealing import SealingKeyring
from vetgate_provisioning.bootstrap import bootstrap
from vetgate_provisioning.config import ProvisioningSettings


def activations(count: int, first_tenant: int) -> list[IntegrationActivated]:
    template_id = uuid.uuid4()
    return [
        IntegrationActivated(
            activation_id=uuid.uuid4(),
            template_id=template_id,
            provet_id=first_tenant + i,
            integration_name="Go-live bench",
            grant_type="client_credentials",
            client_type="confidential",
            permissions=["patients-clients", "consultations", "reminder"],
            delivery={"kind": "hook_url", "url": "https://hooks.example/vetgate"},
            activated_at=datetime.now(UTC),
        )
        for i in range(count)
    ]


async def publish_all(bootstrap_servers: str, events: Sequence[IntegrationEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = []
        for event in events:
            envelope = envelope_for(event, source="/vetgate/catalogue")
            key = event.partition_key().encode()
            sends.append(await producer.send(event.topic, envelope.body, key=key, headers=envelope.to_headers()))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


class TopicCounter:
    """Counts records of one event type appended to ``provisioning.clients.v1`` after :meth:`start`."""

    def __init__(self, bootstrap_servers: str, event_cls: type[IntegrationEvent]) -> None:
        self._type = event_cls.event_type().encode()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer._client.force_metadata_update()
        parts = self._consumer.partitions_for_topic(PROVISIONING_CLIENTS) or set()
        tps = [TopicPartition(PROVISIONING_CLIENTS, p) for p in parts]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:
            await self._consumer.position(tp)  # resolve "end" now, before anything is published

    async def until(self, count: int) -> float:
        """Wait for ``count`` records; returns the monotonic time the last one was read."""
        seen = 0
        while seen < count:
            for records in (await self._consumer.getmany(timeout_ms=200)).values():
                seen += sum(1 for r in records if dict(r.headers).get("ce_type") == self._type)
        return time.monotonic()

    async def stop(self) -> None:
        await self._consumer.stop()


async def run(bootstrap_servers: str, database_url: str, args: argparse.Namespace) -> None:
    settings = ProvisioningSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        db_schema=f"provisioning_bench_{uuid.uuid4().hex[:8]}",
        consumer_group=f"provisioning-bench-{uuid.uuid4().hex[:8]}",
        notifier_public_key=SealingKeyring.generate().public_key.to_base64(),
        log_level=args.log_level,
    )
    host = bootstrap(settings)
    await asyncio.to_thread(host.migrate)
    app = host.create_app()
    async with app.router.lifespan_context(app):
        provisioned = TopicCounter(bootstrap_servers, ClientProvisioned)
        synced = TopicCounter(bootstrap_servers, VirtualUserChanged)
        await provisioned.start()
        try:
            await publish_all(bootstrap_servers, activations(args.warmup, 1))  # group join, warm caches
            await provisioned.until(args.warmup)
            events = activations(args.events, 100_000)
            started = time.monotonic()
            await publish_all(bootstrap_servers, events)
            published = time.monotonic()
            done = await provisioned.until(args.events)
            await synced.start()
            sync_started = time.monotonic()
            await publish_all(bootstrap_servers, [permissions_changed(events[0].template_id)])
            sync_done = await synced.until(args.events)
        finally:
            await provisioned.stop()
            await synced.stop()
    total = done - started
    print(
        f"{args.events:,} IntegrationActivated -> {args.events:,} ClientProvisioned on the topic: "
        f"{total:.2f} s end to end, {args.events / total:,.0f} events/s "
        f"(publishing took {published - started:.2f} s; log level {args.log_level})"
    )
    print(
        f"1 TemplatePermissionsChanged -> {args.events:,} VirtualUserChanged on the topic: "
        f"{sync_done - sync_started:.2f} s"
    )


def permissions_changed(template_id: uuid.UUID) -> TemplatePermissionsChanged:
    return TemplatePermissionsChanged(
        template_id=template_id,
        integration_name="Go-live bench",
        permissions=["patients-clients", "consultations", "appointments"],
        added=["appointments"],
        removed=["reminder"],
        changed_at=datetime.now(UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--log-level", default="WARNING", help="the service's log level (INFO logs every client)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        ports = InfraPorts.free()
        with running_infrastructure(Path(state), ports) as infra:
            asyncio.run(run(infra.kafka_bootstrap, infra.database_url, args))


if __name__ == "__main__":
    main()
