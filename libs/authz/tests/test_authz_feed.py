"""The revocation feed against the real broker: recent revocations applied, older ones and junk skipped."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from vetgate_authz import RevocationFeed, RevocationList
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.token import TokenRevoked


def revocation(jti: str) -> TokenRevoked:
    now = datetime.now(UTC)
    return TokenRevoked(
        revocation_id=uuid.uuid4(),
        provet_id=1,
        jti=jti,
        client_id="c",
        reason="test",
        revoked_at=now,
        relevant_until=now + timedelta(hours=1),
    )


async def test_feed_applies_recent_revocations_skips_old_and_unreadable_records(infra: Infrastructure) -> None:
    topic = f"test.revocations-{uuid.uuid4().hex[:8]}.v1"
    await ensure_topics(infra.kafka_bootstrap, {topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()

    async def send(event: TokenRevoked, timestamp_ms: int | None = None) -> None:
        envelope = envelope_for(event, source="/vetgate/token")
        await producer.send_and_wait(
            topic, envelope.body, key=b"c", headers=envelope.to_headers(), timestamp_ms=timestamp_ms
        )

    try:
        await send(revocation("ancient"), timestamp_ms=int((time.time() - 11 * 3600) * 1000))
        await send(revocation("recent"))
        await producer.send_and_wait(topic, b"not an event", key=b"c")
        revocations = RevocationList()
        feed = RevocationFeed(infra.kafka_bootstrap, revocations, topic=topic)
        task = asyncio.create_task(feed.run())
        try:
            for _ in range(200):
                if feed.caught_up:
                    break
                await asyncio.sleep(0.05)
            assert feed.caught_up
            assert revocations._jtis.keys() == {"recent"}, "older than a token lifetime: irrelevant"
            await send(revocation("live"))
            for _ in range(200):
                if "live" in revocations._jtis:
                    break
                await asyncio.sleep(0.05)
            assert "live" in revocations._jtis, "the feed follows the topic"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await producer.stop()
