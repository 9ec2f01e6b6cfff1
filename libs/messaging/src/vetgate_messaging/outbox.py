"""Writing events in the business transaction: they reach Kafka if and only if the transaction commits."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from vetgate_events import IntegrationEvent, envelope_for

from vetgate_messaging.tables import outbox


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
    envelope = envelope_for(event, source=source, event_id=str(event_id) if event_id else None, traceparent=traceparent)
    await db.execute(
        insert(outbox).values(
            event_id=envelope.id,
            topic=event.topic,
            partition_key=event.partition_key(),
            event_type=envelope.type,
            headers={k: v.decode() for k, v in envelope.to_headers()},
            payload=envelope.body,
        )
    )
    return envelope.id
