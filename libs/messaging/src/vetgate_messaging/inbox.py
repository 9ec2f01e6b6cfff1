"""The inbox: an event's effects and the record that it was processed commit together, or not at all."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

REPROCESS_HEADER = "vetgate-reprocess"
"""An operator's explicit, audited request to run handlers again (``vetgate replay --reprocess``).

Its value (a job id) becomes part of the inbox key, so the copy is applied once per job, not never.
"""


def inbox_key(event_id: str, reprocess_job: str | None) -> str:
    return event_id if not reprocess_job else f"{event_id}#reprocess:{reprocess_job}"


async def claim(
    conn: AsyncConnection, *, group: str, key: str, event_type: str, topic: str, partition: int, offset: int
) -> bool:
    """Record the event as processed in ``conn``'s transaction; False when it already was."""
    result = await conn.execute(
        text(
            "INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset)"
            " VALUES (:g, :k, :t, :topic, :p, :o) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"g": group, "k": key, "t": event_type, "topic": topic, "p": partition, "o": offset},
    )
    return result.first() is not None
