"""Consuming integration events: parse, dedupe through the inbox, apply, commit; poison goes to the DLQ.

Offsets are committed only after the handler's transaction has committed (at-least-once delivery,
exactly-once effect thanks to the inbox). A record that cannot be parsed, or whose handler keeps
failing, is dead-lettered with the reason and the consumer moves on. Database or broker outages are
not the record's fault: those are retried without end, so nothing is skipped while they last.
Handlers registered with :meth:`EventConsumer.handles_batch` take consecutive records of their type
(within one partition) in one transaction, for fan-outs (decision 0013).
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
    reprocess_job: str | None = None
    """Set when an operator asked for handlers to run again (``vetgate republish --reprocess``): a handler
    whose effect exists but failed (e.g. a failed delivery) redoes it; one whose effect succeeded stays a no-op."""


Handler = Callable[[Any, AsyncConnection, Delivery], Awaitable[None]]
BatchHandler = Callable[[list[tuple[Any, Delivery]], AsyncConnection], Awaitable[None]]
_TRANSIENT = (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError, KafkaError)


@dataclass(frozen=True)
class _Parsed:
    """A record that parsed and has a handler: ready to apply."""

    record: ConsumerRecord[bytes, bytes]
    event: IntegrationEvent
    delivery: Delivery
    inbox_key: str

    @property
    def event_type(self) -> str:
        return self.delivery.envelope.type

    @property
    def inbox_entry(self) -> inbox.InboxEntry:
        d = self.delivery
        return inbox.InboxEntry(self.inbox_key, self.event_type, d.topic, d.partition, d.offset)


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
        self._batch_handlers: dict[str, BatchHandler] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None

    def handles(self, event_cls: type[IntegrationEvent]) -> Callable[[Handler], Handler]:
        """Register ``handler(event, conn, delivery)``; it runs inside the inbox transaction."""

        def register(handler: Handler) -> Handler:
            self._handlers[event_cls.event_type()] = (event_cls, handler)
            return handler

        return register

    def handles_batch(self, event_cls: type[IntegrationEvent]) -> Callable[[BatchHandler], BatchHandler]:
        """Register ``handler([(event, delivery), ...], conn)`` for runs of consecutive records of
        ``event_cls`` in one partition: one transaction per run (inbox claims included) instead of one
        per record, for fan-outs where per-record transactions cap throughput. A run that fails is
        applied again record by record (a list of one each), so retries and the DLQ work as usual."""

        def register(handler: BatchHandler) -> BatchHandler:
            async def one(event: Any, conn: AsyncConnection, delivery: Delivery) -> None:
                await handler([(event, delivery)], conn)

            self._handlers[event_cls.event_type()] = (event_cls, one)
            self._batch_handlers[event_cls.event_type()] = handler
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
                await self._process_partition(records)
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
        parsed = self._parse(record)
        if not isinstance(parsed, _Parsed):
            return await self._settle_unparsed(record, parsed)
        return await self._apply_one(parsed)

    async def _process_partition(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Records of one partition, in order; consecutive ones with a batch handler go in runs."""
        applied = await self._already_applied(records)
        run: list[_Parsed] = []
        for record in records:
            if _inbox_key_of(record) in applied:
                # A replay's no-op path: known from one query for the whole batch, without parsing the
                # body or opening a transaction (the per-record claim would say the same).
                OUTCOMES.labels(self.group, Outcome.DUPLICATE.value).inc()
                continue
            parsed = self._parse(record)
            if isinstance(parsed, _Parsed) and parsed.event_type in self._batch_handlers:
                if run and run[0].event_type != parsed.event_type:
                    await self._apply_run(run)
                    run = []
                run.append(parsed)
                continue
            await self._apply_run(run)  # keep partition order: what came before is applied first
            run = []
            if isinstance(parsed, _Parsed):
                await self._apply_one(parsed)
            else:
                await self._settle_unparsed(record, parsed)
        await self._apply_run(run)

    async def _already_applied(self, records: list[ConsumerRecord[bytes, bytes]]) -> set[str]:
        keys = [key for key in map(_inbox_key_of, records) if key is not None]
        if not keys:
            return set()
        try:
            async with self._engine.connect() as conn:
                return await inbox.already_claimed(conn, group=self.group, keys=keys)
        except _TRANSIENT:
            return set()  # the per-record path will wait the outage out

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> _Parsed | str | None:
        """The record ready to apply; else why it is poison (str), or None for a type without handler."""
        try:
            envelope = parse_envelope(record.headers or (), record.value)
        except EnvelopeError as exc:
            return f"envelope: {exc}"
        registered = self._handlers.get(envelope.type)
        if registered is None:
            return None
        try:
            event = registered[0].parse_lenient(envelope.body)
        except ValidationError as exc:
            return f"invalid {envelope.type}: {_summary(exc)}"
        reprocess = decode_headers(record.headers or ()).get(inbox.REPROCESS_HEADER)
        delivery = Delivery(envelope, record.topic, record.partition, record.offset, reprocess)
        return _Parsed(record, event, delivery, inbox.inbox_key(envelope.id, reprocess))

    async def _settle_unparsed(self, record: ConsumerRecord[bytes, bytes], reason: str | None) -> Outcome:
        if reason is None:
            OUTCOMES.labels(self.group, Outcome.IGNORED.value).inc()
            return Outcome.IGNORED
        return await self._poison(record, reason)

    async def _apply_one(self, parsed: _Parsed) -> Outcome:
        handler = self._handlers[parsed.event_type][1]
        envelope = parsed.delivery.envelope
        # Every log line the handler writes carries the event's id and trace, like an HTTP request's.
        with structlog.contextvars.bound_contextvars(event_id=envelope.id, traceparent=envelope.traceparent):
            return await self._apply_with_retries(
                parsed.record, handler, parsed.event, parsed.delivery, parsed.inbox_key
            )

    async def _apply_run(self, run: list[_Parsed]) -> None:
        if len(run) <= 1:
            for parsed in run:
                await self._apply_one(parsed)
            return
        while True:
            try:
                await self._apply_batch(run)
                return
            except _TRANSIENT as exc:
                log.warning("transient failure; retrying batch", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(self._retry_delay * 5)
            except Exception as exc:
                # Rolled back as a whole: find the culprit the usual way, one record at a time.
                log.warning("batch failed; applying it record by record", group=self.group, error=type(exc).__name__)
                for parsed in run:
                    await self._apply_one(parsed)
                return

    async def _apply_batch(self, run: list[_Parsed]) -> None:
        handler = self._batch_handlers[run[0].event_type]
        async with self._engine.begin() as conn:
            claimed = await inbox.claim_many(
                conn,
                group=self.group,
                entries=[p.inbox_entry for p in run],
            )
            fresh: dict[str, _Parsed] = {}
            for parsed in run:  # the first copy of a key wins; a redelivered copy in the same run is a duplicate
                if parsed.inbox_key in claimed:
                    fresh.setdefault(parsed.inbox_key, parsed)
            if fresh:
                await handler([(p.event, p.delivery) for p in fresh.values()], conn)
        OUTCOMES.labels(self.group, Outcome.APPLIED.value).inc(len(fresh))
        OUTCOMES.labels(self.group, Outcome.DUPLICATE.value).inc(len(run) - len(fresh))

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


def _inbox_key_of(record: ConsumerRecord[bytes, bytes]) -> str | None:
    """The inbox key from the headers alone (None when there is no readable ``ce_id``)."""
    event_id = reprocess = None
    for name, value in record.headers or ():
        if name == "ce_id":
            event_id = value
        elif name == inbox.REPROCESS_HEADER:
            reprocess = value
    try:
        return inbox.inbox_key(event_id.decode(), reprocess.decode() if reprocess else None) if event_id else None
    except UnicodeDecodeError:
        return None


def _summary(exc: ValidationError) -> str:
    # Field locations and messages only: never echo input values (they may hold secrets).
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<body>'}: {e['msg']}" for e in exc.errors()[:5])
