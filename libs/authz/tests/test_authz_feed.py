"""The revocation feed against the real broker: recent revocations applied, older ones and junk skipped."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from vetgate_authz import RevocationFeed, RevocationList, RevokedApiKeys
from vetgate_devstack.infra import Infrastructure
from vetgate_devstack.kafka import ensure_topics
from vetgate_events import envelope_for
from vetgate_events.base import IntegrationEvent
from vetgate_events.token import ApiKeyCreated, KeyRevocationReminder, KeyRevoked, TokenRevoked


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


def key_revoked(key_id: uuid.UUID) -> KeyRevoked:
    return KeyRevoked(
        api_key_id=key_id,
        provet_id=1,
        environment="production",
        revocation_batch_id=uuid.uuid4(),
        reason="test",
        revoked_at=datetime.now(UTC),
    )


async def wait_for(condition: Callable[[], bool]) -> bool:
    for _ in range(200):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_feed_applies_key_revocations_and_says_when_the_push_is_live(infra: Infrastructure) -> None:
    suffix = uuid.uuid4().hex[:8]
    revocation_topic, key_topic = f"test.revocations-{suffix}.v1", f"test.api-keys-{suffix}.v1"
    await ensure_topics(infra.kafka_bootstrap, {revocation_topic: 1, key_topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()

    async def send(event: IntegrationEvent, timestamp_ms: int | None = None) -> None:
        envelope = envelope_for(event, source="/vetgate/token")
        key = event.partition_key().encode()
        await producer.send_and_wait(
            key_topic, envelope.body, key=key, headers=envelope.to_headers(), timestamp_ms=timestamp_ms
        )

    old, recent, live = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    try:
        await send(key_revoked(old), timestamp_ms=int((time.time() - 600) * 1000))
        await send(key_revoked(recent))
        await send(ApiKeyCreated(api_key_id=live, provet_id=1, environment="production", name="n", created_at=now))
        await send(
            KeyRevocationReminder(
                api_key_id=live,
                provet_id=1,
                environment="production",
                name="n",
                owner_email="owner@example.com",
                reminder_batch_id=uuid.uuid4(),
                revocation_deadline=now,
                reminded_at=now,
            )
        )
        api_keys = RevokedApiKeys()
        feed = RevocationFeed(
            infra.kafka_bootstrap, RevocationList(), api_keys=api_keys, topic=revocation_topic, api_key_topic=key_topic
        )
        assert not api_keys.live
        task = asyncio.create_task(feed.run())
        try:
            assert await wait_for(lambda: feed.caught_up and api_keys.live), "caught up, and the broker answers"
            assert api_keys._revoked.keys() == {str(recent)}, "older than the lookback: the token service's job"
            await send(key_revoked(live))
            assert await wait_for(lambda: api_keys.is_revoked(str(live))), "the feed follows the topic"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert await wait_for(lambda: not api_keys.live), "a stopped feed stops vouching for the cache"
    finally:
        await producer.stop()
