"""The inbox: an event's effects and the record that it was processed commit together, or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

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


class InboxEntry(NamedTuple):
    key: str
    event_type: str
    topic: str
    partition: int
    offset: int


async def claim_many(conn: AsyncConnection, *, group: str, entries: Sequence[InboxEntry]) -> set[str]:
    """Record many events as processed in one round trip; the keys that were not recorded before."""
    result = await conn.execute(
        text(
            "INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset)"
            " SELECT :g, * FROM unnest(CAST(:keys AS text[]), CAST(:types AS text[]), CAST(:topics AS text[]),"
            " CAST(:partitions AS integer[]), CAST(:offsets AS bigint[]))"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {
            "g": group,
            "keys": [e.key for e in entries],
            "types": [e.event_type for e in entries],
            "topics": [e.topic for e in entries],
            "partitions": [e.partition for e in entries],
            "offsets": [e.offset for e in entries],
        },
    )
    return {row[0] for row in result}


async def already_claimed(conn: AsyncConnection, *, group: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the group has recorded as processed (one indexed lookup for a whole batch)."""
    result = await conn.execute(
        text("SELECT event_id FROM inbox WHERE consumer_group = :g AND event_id = ANY(CAST(:keys AS text[]))"),
        {"g": group, "keys": list(keys)},
    )
    return {row[0] for row in result}
