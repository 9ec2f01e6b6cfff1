"""Writing events in the business transaction: they reach Kafka if and only if the transaction commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from vetgate_events import IntegrationEvent, envelope_for

from vetgate_messaging.tables import outbox


def _once(statement: Insert) -> Insert:
    # An event id derived from its cause is staged once: a handler run again (an operator's reprocess)
    # re-emits nothing, and consumers would skip the same ce_id anyway.
    return statement.on_conflict_do_nothing(index_elements=["event_id"])


def _row(
    event: IntegrationEvent, source: str, event_id: str | uuid.UUID | None, traceparent: str | None
) -> dict[str, object]:
    envelope = envelope_for(event, source=source, event_id=str(event_id) if event_id else None, traceparent=traceparent)
    return {
        "event_id": envelope.id,
        "topic": event.topic,
        "partition_key": event.partition_key(),
        "event_type": envelope.type,
        "headers": {k: v.decode() for k, v in envelope.to_headers()},
        "payload": envelope.body,
    }


async def add_event(
    db: AsyncConnection | AsyncSession,
    event: IntegrationEvent,
    *,
    source: str,
    event_id: str | uuid.UUID | None = None,
    traceparent: str | None = None,
) -> str:
    """Stage ``event`` in the outbox; returns its CloudEvents id.

    Pass ``event_id`` when the event is the deterministic consequence of another (e.g. derived from
    the id of the event being handled), so that redoing the work cannot mint a second event. Write the
    outbox row after locking the aggregate, so events of one key are inserted in commit order.
    """
    row = _row(event, source, event_id, traceparent)
    await db.execute(_once(insert(outbox).values(**row)))
    return str(row["event_id"])


async def add_events(
    db: AsyncConnection | AsyncSession,
    events: Sequence[tuple[IntegrationEvent, str | uuid.UUID | None]],
    *,
    source: str,
    traceparent: str | None = None,
) -> list[str]:
    """Stage many ``(event, event_id)`` pairs in one round trip (a go-live to thousands of tenants)."""
    if not events:
        return []
    rows = [_row(event, source, event_id, traceparent) for event, event_id in events]
    await db.execute(_once(insert(outbox)), rows)
    return [str(row["event_id"]) for row in rows]
