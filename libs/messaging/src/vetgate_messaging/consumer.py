"""Consuming integration events: parse, dedupe through the inbox, apply, commit; poison goes to the DLQ.

Offsets are committed only after the handler's transaction has committed (at-least-once delivery,
exactly-once effect thanks to the inbox). A record that cannot be parsed, or whose handler keeps
failing, is dead-lettered with the reason and the consumer moves on. Database or broker outages are
not the record's fault: those are retried without end, so nothing is skipped while they last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vetgate_events import Envelope, EnvelopeError, IntegrationEvent, parse_envelope
from vetgate_events.envelope import decode_headers
from vetgate_platform.logs import get_logger

from vetgate_messaging import inbox
from vetgate_messaging.dlq import dead_letter
from vetgate_messaging.kafka import reliable_producer

log = get_logger(__name__)

OUTCOMES = Counter("vetgate_consumer_records_total", "Records consumed, by outcome", ["group", "outcome"])


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be applied: dead-letter it at once."""


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # an event type this group has no handler for
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Delivery:
    """What a handler knows about the record besides the event itself."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int


Handler = Callable[[Any, AsyncConnection, Delivery], Awaitable[None]]
_TRANSIENT = (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError, KafkaError)


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        engine: AsyncEngine,
        bootstrap_servers: str,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        batch_size: int = 500,
    ) -> None:
        self.group = group
        self._engine = engine
        self._bootstrap = bootstrap_servers
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._batch_size = batch_size
        self._handlers: dict[str, tuple[type[IntegrationEvent], Handler]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None

    def handles(self, event_cls: type[IntegrationEvent]) -> Callable[[Handler], Handler]:
        """Register ``handler(event, conn, delivery)``; it runs inside the inbox transaction."""

        def register(handler: Handler) -> Handler:
            self._handlers[event_cls.event_type()] = (event_cls, handler)
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic for cls, _ in self._handlers.values()})

    async def start(self) -> None:
        self._dlq = reliable_producer(self._bootstrap, client_id=f"vetgate-{self.group}-dlq")
        await self._dlq.start()
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group,
            client_id=f"vetgate-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            max_poll_interval_ms=600_000,
            fetch_max_wait_ms=100,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
        if self._dlq is not None:
            await self._dlq.stop()

    async def run(self) -> None:
        """Consume until cancelled (call :meth:`start` first)."""
        assert self._consumer is not None, "start() first"
        while True:
            batch = await self._consumer.getmany(timeout_ms=1000, max_records=self._batch_size)
            for tp, records in batch.items():
                for record in records:
                    await self.process(record)
                await self._commit(tp, records[-1].offset + 1)

    async def _commit(self, tp: TopicPartition, next_offset: int) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: next_offset})
        except CommitFailedError:
            # The partition moved to another member mid-batch; it will re-read these records and the
            # inbox turns them into no-ops.
            log.info("commit refused after rebalance", group=self.group, partition=str(tp))

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Apply one record; returns only once its outcome is durable (applied, skipped or dead-lettered)."""
        try:
            envelope = parse_envelope(record.headers or (), record.value)
        except EnvelopeError as exc:
            return await self._poison(record, f"envelope: {exc}")
        registered = self._handlers.get(envelope.type)
        if registered is None:
            OUTCOMES.labels(self.group, Outcome.IGNORED.value).inc()
            return Outcome.IGNORED
        event_cls, handler = registered
        try:
            event = event_cls.parse_lenient(envelope.body)
        except ValidationError as exc:
            return await self._poison(record, f"invalid {envelope.type}: {_summary(exc)}")
        delivery = Delivery(envelope, record.topic, record.partition, record.offset)
        reprocess = decode_headers(record.headers or ()).get(inbox.REPROCESS_HEADER)
        # Every log line the handler writes carries the event's id and trace, like an HTTP request's.
        with structlog.contextvars.bound_contextvars(event_id=envelope.id, traceparent=envelope.traceparent):
            key = inbox.inbox_key(envelope.id, reprocess)
            return await self._apply_with_retries(record, handler, event, delivery, key)

    async def _apply_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        handler: Handler,
        event: IntegrationEvent,
        delivery: Delivery,
        key: str,
    ) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._apply(handler, event, delivery, key)
            except _TRANSIENT as exc:
                # An outage is not the record's fault: wait it out without using up its attempts.
                attempt -= 1
                log.warning("transient failure; retrying", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(self._retry_delay * 5)
            except PoisonEvent as exc:
                return await self._poison(record, f"handler refused: {exc}")
            except Exception as exc:
                if attempt >= self._max_attempts:
                    return await self._poison(record, f"handler failed {attempt}x: {type(exc).__name__}: {exc}")
                log.warning(
                    "handler failed; retrying",
                    group=self.group,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                await asyncio.sleep(self._retry_delay * attempt)

    async def _apply(self, handler: Handler, event: IntegrationEvent, delivery: Delivery, key: str) -> Outcome:
        async with self._engine.begin() as conn:
            claimed = await inbox.claim(
                conn,
                group=self.group,
                key=key,
                event_type=delivery.envelope.type,
                topic=delivery.topic,
                partition=delivery.partition,
                offset=delivery.offset,
            )
            if claimed:
                await handler(event, conn, delivery)
        outcome = Outcome.APPLIED if claimed else Outcome.DUPLICATE
        OUTCOMES.labels(self.group, outcome.value).inc()
        return outcome

    async def _poison(self, record: ConsumerRecord[bytes, bytes], reason: str) -> Outcome:
        log.error(
            "dead-lettering record",
            group=self.group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
        assert self._dlq is not None, "start() first"
        await dead_letter(self._dlq, self.group, record, reason)
        OUTCOMES.labels(self.group, Outcome.DEAD_LETTERED.value).inc()
        return Outcome.DEAD_LETTERED


def _summary(exc: ValidationError) -> str:
    # Field locations and messages only: never echo input values (they may hold secrets).
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<body>'}: {e['msg']}" for e in exc.errors()[:5])
