"""The revocation streams for a resource server: every process reads all of them, without a database.

Applying a revocation twice is harmless, so there is no inbox and no consumer group: each process
assigns itself every partition of ``token.revocations.v1``, starts at the records written within the
last token lifetime (older revocations concern tokens that have expired anyway) and follows the topic.

With ``api_keys``, it also follows ``token.api-keys.v1`` for ``KeyRevoked`` (ApiKeyCreated and
KeyRevocationReminder are skipped), from a few minutes back: the token service refuses revoked keys itself,
so only answers cached or in flight here need the push. Once caught up, every round in which the broker
answered the fetches of all those partitions within the last second marks the push live (docs/decisions/0016).
"""

from __future__ import annotations

import contextlib
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from vetgate_events import EnvelopeError, parse_envelope
from vetgate_events.token import KeyRevoked, TokenRevoked
from vetgate_events.topics import TOKEN_API_KEYS, TOKEN_REVOCATIONS
from vetgate_platform.logs import get_logger

from vetgate_authz.api_key_revocations import RevokedApiKeys
from vetgate_authz.revocations import RevocationList

log = get_logger(__name__)
DEFAULT_LOOKBACK = 10 * 3600 + 300  # the access-token lifetime, plus leeway
API_KEY_LOOKBACK = 300
FRESH_FETCH_MS = 1000


class RevocationFeed:
    def __init__(
        self,
        bootstrap_servers: str,
        revocations: RevocationList,
        *,
        api_keys: RevokedApiKeys | None = None,
        lookback_seconds: float = DEFAULT_LOOKBACK,
        api_key_lookback_seconds: float = API_KEY_LOOKBACK,
        topic: str = TOKEN_REVOCATIONS,
        api_key_topic: str = TOKEN_API_KEYS,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._revocations = revocations
        self._api_keys = api_keys
        self._lookbacks = {topic: lookback_seconds}
        if api_keys is not None:
            self._lookbacks[api_key_topic] = api_key_lookback_seconds
        self._api_key_topic = api_key_topic
        self.caught_up = False
        """True once everything that was on the topic at start has been applied."""

    async def run(self) -> None:
        """Follow the topic until cancelled."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=100,
        )
        self.caught_up = False
        try:
            # Started inside the try: a service stopping while this still connects must close it too.
            await consumer.start()
            ends = await self._seek(consumer)
            key_partitions = [tp for tp in ends if tp.topic == self._api_key_topic]
            if self._api_keys is not None and not key_partitions:
                log.warning("no partitions of the API key topic: cached API keys are trusted briefly only")
            while True:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        self._apply(record.headers or (), record.value)
                if not self.caught_up:
                    self.caught_up = all([await consumer.position(tp) >= end for tp, end in ends.items()])
                if self.caught_up and key_partitions and self._api_keys is not None:
                    self._mark_live(consumer, key_partitions, self._api_keys)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _seek(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        await consumer._client.force_metadata_update()  # metadata of an unsubscribed topic is lazy
        since: dict[TopicPartition, int] = {}
        for topic, lookback in self._lookbacks.items():
            for p in sorted(consumer.partitions_for_topic(topic) or ()):
                since[TopicPartition(topic, p)] = int((time.time() - lookback) * 1000)
        consumer.assign(list(since))
        starts = await consumer.offsets_for_times(since)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(list(since))
        for tp in since:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])  # nothing newer: start at the end
        return ends

    @staticmethod
    def _mark_live(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], api_keys: RevokedApiKeys) -> None:
        # The time of the broker's last fetch answer per partition (records or not): Kafka is reachable and
        # would have brought a KeyRevoked by now. getmany alone returns empty-handed when the broker is down.
        fetched = [consumer.last_poll_timestamp(tp) for tp in partitions]
        now_ms = time.time() * 1000
        if all(at is not None and now_ms - at <= FRESH_FETCH_MS for at in fetched):
            api_keys.mark_live()

    def _apply(self, headers: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]], value: bytes | None) -> None:
        try:
            envelope = parse_envelope(headers, value)
            if envelope.type == TokenRevoked.event_type():
                self._revocations.apply(TokenRevoked.parse_lenient(envelope.body))
            elif envelope.type == KeyRevoked.event_type() and self._api_keys is not None:
                self._api_keys.apply(KeyRevoked.parse_lenient(envelope.body))
        except (EnvelopeError, ValidationError) as exc:  # not ours to dead-letter: the owner's consumer does
            log.warning("unreadable record on the revocation stream skipped", error=type(exc).__name__)
