"""The outbox and inbox tables every service carries in its own schema (the search_path picks it)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("partition_key", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("kafka_partition", Integer),
    Column("kafka_offset", BigInteger),
    # The relay only ever scans what is still unpublished: keep that index tiny.
    Index("outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
)

# Where the relay's last confirmed publish landed, per partition: after a crash it re-reads the
# topic from here to find events that reached Kafka but were never marked published.
outbox_position = Table(
    "outbox_position",
    metadata,
    Column("topic", Text, nullable=False),
    Column("kafka_partition", Integer, nullable=False),
    Column("kafka_offset", BigInteger, nullable=False),
    PrimaryKeyConstraint("topic", "kafka_partition"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer_group", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("kafka_partition", Integer, nullable=False),
    Column("kafka_offset", BigInteger, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer_group", "event_id"),
)

NOTIFY_CHANNEL_PREFIX = "vetgate_outbox_"


def notify_channel(schema: str) -> str:
    """One channel per schema: a relay is woken only by its own service's commits."""
    return f"{NOTIFY_CHANNEL_PREFIX}{schema}"
