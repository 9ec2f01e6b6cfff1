"""Notifier figures: deliveries/s to a local receiver, and CredentialsIssued → hook received latency.

Runs against the same real PostgreSQL and Kafka as the tests (embedded on free ports, or
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS); the receiver is a plain asyncio HTTP server on loopback in
its own process (it stands for the integrator's server, so it must not share the notifier's core).
Every delivery is real: the secret is opened (HPKE), the payload signed
(Standard Webhooks), POSTed, and the outcome recorded with its outbox event. Prints figures.

    uv run python -m bench.notifier_delivery [--deliveries 1000] [--latency-events 500] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from vetgate_devstack.infra import InfraPorts, running_infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.common import HookDelivery
from vetgate_events.token import CredentialsIssued
from vetgate_events.topics import dlq_topic
from vetgate_messaging.host import ServiceHost
from vetgate_notifier.bootstrap import bootstrap
from vetgate_notifier.config import NotifierSettings
from vetgate_notifier.testing import HookReceiver
from vetgate_platform.sealing import SealingKeyring, client_secret_binding, webhook_secret_binding

from bench.backbone import percentile


def issued(keyring: SealingKeyring, url: str, n: int) -> CredentialsIssued:
    client_id = f"bench-{uuid.uuid4().hex[:12]}"
    template_id = uuid.uuid4()
    whsec = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    base = f"https://vetgate.example/{1000 + n % 50}/oauth2"
    return CredentialsIssued(
        delivery_id=uuid.uuid4(),
        activation_id=uuid.uuid4(),
        template_id=template_id,
        provet_id=1000 + n % 50,
        client_id=client_id,
        integration_name="Bench",
        grant_type="client_credentials",
        client_type="confidential",
        sealed_secret=keyring.public_key.seal(secrets.token_urlsafe(32), bound_to=client_secret_binding(client_id)),
        id_token_algorithm=None,
        token_url=f"{base}/token/",
        authorize_url=f"{base}/authorize/",
        openid_autodiscovery_url=f"{base}/.well-known/openid-configuration",
        delivery=HookDelivery(
            url=url,
            signing_secrets=[keyring.public_key.seal(whsec, bound_to=webhook_secret_binding(str(template_id), "s1"))],
        ),
        issued_at=datetime.now(UTC),
    )


class Receiver:
    """The hook receiver in a child process; arrival times are ``time.perf_counter()`` (CLOCK_MONOTONIC,
    comparable across processes on Linux)."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve_receiver, args=(child,), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()

    def arrivals(self) -> dict[str, float]:
        """webhook-id → arrival time of every request received so far (and forget them)."""
        self._conn.send("report")
        report: dict[str, float] = self._conn.recv()
        return report

    def stop(self) -> None:
        self._process.kill()
        self._process.join()


def _serve_receiver(conn: Connection) -> None:
    async def serve() -> None:
        async with HookReceiver().running() as receiver:
            conn.send(receiver.url)
            loop = asyncio.get_running_loop()
            while await loop.run_in_executor(None, conn.recv) == "report":
                conn.send({r.headers["webhook-id"]: r.at for r in receiver.received})
                receiver.received.clear()

    asyncio.run(serve())


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = await asyncio.to_thread(Receiver)
    try:
        yield receiver
    finally:
        receiver.stop()


@asynccontextmanager
async def running_notifier(
    bootstrap_servers: str, database_url: str, keyring: SealingKeyring
) -> AsyncIterator[ServiceHost]:
    """The notifier in this process, plus ``REPLICAS - 1`` more processes on the same schema and group
    (dispatchers share the ledger with SKIP LOCKED; consumers split the partitions)."""
    suffix = uuid.uuid4().hex[:8]
    settings = NotifierSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        dev_mode=True,
        db_schema=f"bench_notifier_{suffix}",
        consumer_group=f"bench-notifier-{suffix}",
        sealing_keys=keyring.to_base64(),
        log_level="WARNING",
    )
    await ensure_topics(bootstrap_servers, {dlq_topic(settings.group): 1})
    host = bootstrap(settings)
    await asyncio.to_thread(host.migrate)
    app = host.create_app()
    replicas = [
        multiprocessing.Process(target=_serve_replica, args=(settings.model_dump(),), daemon=True)
        for _ in range(REPLICAS - 1)
    ]
    for replica in replicas:
        replica.start()
    try:
        async with app.router.lifespan_context(app):
            yield host
    finally:
        for replica in replicas:
            replica.kill()
            replica.join()


REPLICAS = 1


def _serve_replica(values: dict[str, object]) -> None:
    async def serve() -> None:
        app = bootstrap(NotifierSettings(**values)).create_app()  # type: ignore[arg-type]
        async with app.router.lifespan_context(app):
            await asyncio.Event().wait()

    asyncio.run(serve())


async def delivered_count(host: ServiceHost) -> int:
    async with host.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")) or 0)


async def until_delivered(host: ServiceHost, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while await delivered_count(host) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await delivered_count(host)} of {count} delivered")
        await asyncio.sleep(0.05)


async def from_the_ledger(bootstrap_servers: str, database_url: str, count: int) -> tuple[float, float]:
    """Deliveries/s once ``count`` credentials sit queued in the ledger (one commit wakes the dispatcher),
    and the notifier's CPU time per delivery in ms (user + system, this process only)."""
    keyring = SealingKeyring.generate()
    async with running_receiver() as receiver, running_notifier(bootstrap_servers, database_url, keyring) as host:
        await warm_up(host, keyring, receiver)
        ledger = host.components["ledger"]
        events = [issued(keyring, receiver.url, n) for n in range(count)]
        async with host.engine.begin() as conn:
            await ledger.add(conn, events, 0.0)
        started, cpu = time.perf_counter(), time.process_time()
        await until_delivered(host, count + 1)
        return count / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / count


async def from_the_topic(bootstrap_servers: str, database_url: str, count: int) -> float:
    """Deliveries/s for ``count`` CredentialsIssued published at once (consumer, ledger and dispatcher)."""
    keyring = SealingKeyring.generate()
    async with running_receiver() as receiver, running_notifier(bootstrap_servers, database_url, keyring) as host:
        await warm_up(host, keyring, receiver)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
        await producer.start()
        try:
            events = [issued(keyring, receiver.url, n) for n in range(count)]
            started = time.perf_counter()
            for event in events:
                envelope = envelope_for(event, source="/vetgate/token")
                await producer.send(
                    event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
                )
            await producer.flush()
            await until_delivered(host, count + 1)
            return count / (time.perf_counter() - started)
        finally:
            await producer.stop()


async def latency(
    bootstrap_servers: str, database_url: str, count: int, rate: float
) -> tuple[list[float], list[float], list[float]]:
    """Seconds from publishing CredentialsIssued to the receiver reading the hook, per delivery; and two
    stages of it (wall clock): publish → in the ledger (consumer transaction began), ledger → attempt."""
    keyring = SealingKeyring.generate()
    async with running_receiver() as receiver, running_notifier(bootstrap_servers, database_url, keyring) as host:
        await warm_up(host, keyring, receiver)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
        await producer.start()
        sent: dict[str, float] = {}
        wall: dict[uuid.UUID, float] = {}
        try:
            for n in range(count):
                event = issued(keyring, receiver.url, n)
                envelope = envelope_for(event, source="/vetgate/token")
                sent[f"msg_{event.delivery_id.hex}"] = time.perf_counter()
                wall[event.delivery_id] = time.time()
                await producer.send_and_wait(
                    event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
                )
                await asyncio.sleep(1 / rate)
            await until_delivered(host, count + 1)
        finally:
            await producer.stop()
        arrived = await asyncio.to_thread(receiver.arrivals)
        async with host.engine.connect() as conn:
            stages = await conn.execute(
                text(
                    "SELECT d.delivery_id, extract(epoch FROM d.created_at) AS queued,"
                    " extract(epoch FROM min(a.attempted_at)) AS tried"
                    " FROM deliveries d JOIN delivery_attempts a USING (delivery_id) GROUP BY d.delivery_id"
                )
            )
            rows = [r for r in stages if r.delivery_id in wall]
        to_ledger = [float(r.queued) - wall[r.delivery_id] for r in rows]
        to_attempt = [float(r.tried) - float(r.queued) for r in rows]
        return [arrived[msg_id] - at for msg_id, at in sent.items()], to_ledger, to_attempt


async def warm_up(host: ServiceHost, keyring: SealingKeyring, receiver: Receiver) -> None:
    """One delivery end to end first: the consumer joins its group and the HTTP pool opens."""
    producer = AIOKafkaProducer(bootstrap_servers=host.settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        event = issued(keyring, receiver.url, 0)
        envelope = envelope_for(event, source="/vetgate/token")
        await producer.send_and_wait(
            event.topic, envelope.body, key=event.partition_key().encode(), headers=envelope.to_headers()
        )
    finally:
        await producer.stop()
    await until_delivered(host, 1, timeout=90)
    await asyncio.to_thread(receiver.arrivals)


async def run(bootstrap_servers: str, database_url: str, args: argparse.Namespace) -> None:
    print(f"notifier processes: {REPLICAS}")
    for attempt in range(0 if args.only_latency else args.repeat):
        rate, cpu_ms = await from_the_ledger(bootstrap_servers, database_url, args.deliveries)
        print(
            f"deliveries/s, {args.deliveries:,} queued in the ledger (run {attempt + 1}): {rate:,.0f}/s "
            f"({cpu_ms:.2f} ms of CPU per delivery in the first notifier process)"
        )
    for attempt in range(0 if args.only_latency else args.repeat):
        rate = await from_the_topic(bootstrap_servers, database_url, args.deliveries)
        print(f"deliveries/s, {args.deliveries:,} CredentialsIssued on the topic (run {attempt + 1}): {rate:,.0f}/s")
    total, to_ledger, to_attempt = await latency(bootstrap_servers, database_url, args.latency_events, args.rate)
    ms = [x * 1000 for x in total]
    print(
        f"CredentialsIssued -> hook received over {len(ms):,} deliveries at {args.rate:.0f}/s: "
        f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms, max {max(ms):.1f} ms"
    )
    for stage, values in (("publish -> in the ledger", to_ledger), ("in the ledger -> attempt starts", to_attempt)):
        stage_ms = [x * 1000 for x in values]
        print(f"  {stage}: p50 {percentile(stage_ms, 50):.1f} ms, p99 {percentile(stage_ms, 99):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-events", type=int, default=500)
    parser.add_argument("--replicas", type=int, default=1, help="notifier processes sharing the ledger")
    parser.add_argument("--only-latency", action="store_true", help="skip the throughput runs")
    parser.add_argument("--rate", type=float, default=50.0, help="CredentialsIssued/s offered in the latency run")
    args = parser.parse_args()
    global REPLICAS
    REPLICAS = args.replicas
    with tempfile.TemporaryDirectory() as state:
        ports = InfraPorts.free()
        with running_infrastructure(Path(state), ports) as infra:
            asyncio.run(run(infra.kafka_bootstrap, infra.database_url, args))


if __name__ == "__main__":
    main()
