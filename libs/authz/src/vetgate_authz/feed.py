"""The TokenRevoked stream for a resource server: every process reads all of it, without a database.

Applying a revocation twice is harmless, so there is no inbox and no consumer group: each process
assigns itself every partition of ``token.revocations.v1``, starts at the records written within the
last token lifetime (older revocations concern tokens that have expired anyway) and follows the topic.
"""

from __future__ import annotations

import contextlib
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from vetgate_events import EnvelopeError, parse_envelope
from vetgate_events.token import TokenRevoked
from vetgate_events.topics import TOKEN_REVOCATIONS
from vetgate_platform.logs import get_logger

from vetgate_authz.revocations import RevocationList

log = get_logger(__name__)
DEFAULT_LOOKBACK = 10 * 3600 + 300  # the access-token lifetime, plus leeway


class RevocationFeed:
    def __init__(
        self,
        bootstrap_servers: str,
        revocations: RevocationList,
        *,
        lookback_seconds: float = DEFAULT_LOOKBACK,
        topic: str = TOKEN_REVOCATIONS,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._revocations = revocations
        self._lookback = lookback_seconds
        self._topic = topic
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
        await consumer.start()
        try:
            ends = await self._seek(consumer)
            while True:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        self._apply(record.headers or (), record.value)
                if not self.caught_up:
                    self.caught_up = all([await consumer.position(tp) >= end for tp, end in ends.items()])
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _seek(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        await consumer._client.force_metadata_update()  # metadata of an unsubscribed topic is lazy
        partitions = [TopicPartition(self._topic, p) for p in sorted(consumer.partitions_for_topic(self._topic) or ())]
        consumer.assign(partitions)
        since = int((time.time() - self._lookback) * 1000)
        starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since))
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        for tp in partitions:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])  # nothing newer: start at the end
        return ends

    def _apply(self, headers: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]], value: bytes | None) -> None:
        try:
            envelope = parse_envelope(headers, value)
            if envelope.type == TokenRevoked.event_type():
                self._revocations.apply(TokenRevoked.parse_lenient(envelope.body))
        except (EnvelopeError, ValidationError) as exc:  # not ours to dead-letter: the owner's consumer does
            log.warning("unreadable record on the revocation stream skipped", error=type(exc).__name__)
