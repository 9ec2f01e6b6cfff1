"""The notifier's tables (its own schema; the search_path picks it)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

# The delivery ledger: one row per credential delivery (CredentialsIssued.delivery_id).
deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", UUID(as_uuid=True), primary_key=True),
    Column("activation_id", UUID(as_uuid=True), nullable=False),
    Column("provet_id", Integer, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("integration_name", Text, nullable=False),
    Column("channel", Text, nullable=False, comment="hook_url | email"),
    Column("target", Text, nullable=False, comment="the hook URL or the mail address"),
    Column("credentials", JSONB, nullable=False, comment="the CredentialsIssued event; secrets in it stay sealed"),
    Column("status", Text, nullable=False, comment="pending | delivered | failed"),
    Column("generation", Integer, nullable=False, server_default="0", comment="+1 per manual redeliver"),
    Column("attempts", Integer, nullable=False, server_default="0", comment="in the current generation"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claim_id", UUID(as_uuid=True), comment="the attempt in flight, if any"),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("revealed_at", DateTime(timezone=True), comment="the secret was shown through a reveal link"),
    Index("deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("deliveries_tenant", "provet_id", "created_at"),
    Index("deliveries_failed", "failed_at", postgresql_where=text("status = 'failed'")),
)

attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_id", UUID(as_uuid=True), ForeignKey("deliveries.delivery_id"), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("outcome", Text, nullable=False, comment="delivered | retry | permanent"),
    Column("status_code", Integer, comment="HTTP status"),
    Column("smtp_reply", Text),
    Column("error", Text),
)

# One-time links that reveal an emailed client secret; only a SHA-256 of the token is kept.
reveal_links = Table(
    "reveal_links",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("delivery_id", UUID(as_uuid=True), ForeignKey("deliveries.delivery_id"), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("used_at", DateTime(timezone=True)),
)

# Legacy-key notices: one mail per (kind, batch, owner), sent once the batch is quiet. A revocation
# notice lists keys that were revoked, a reminder keys that will be at the batch's deadline.
key_notices = Table(
    "key_notices",
    metadata,
    Column("kind", Text, nullable=False, comment="revoked | reminder"),
    Column("batch_id", UUID(as_uuid=True), nullable=False),
    Column("owner_email", Text, nullable=False),
    Column("status", Text, nullable=False, comment="pending | sent | failed | expired (reminder past its deadline)"),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("mails_sent", Integer, nullable=False, server_default="0"),
    Column("claim_id", UUID(as_uuid=True)),
    Column("last_error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("kind", "batch_id", "owner_email"),
    CheckConstraint("kind IN ('revoked', 'reminder')", name="key_notices_kind"),
    Index("key_notices_due", "due_at", postgresql_where=text("status = 'pending'")),
)

key_notice_items = Table(
    "key_notice_items",
    metadata,
    Column("kind", Text, nullable=False),
    Column("batch_id", UUID(as_uuid=True), nullable=False),
    Column("owner_email", Text, nullable=False),
    Column("api_key_id", UUID(as_uuid=True), nullable=False),
    Column("provet_id", Integer, nullable=False),
    Column("environment", Text, nullable=False),
    Column("integration", Text),
    Column("reason", Text, comment="revoked only"),
    Column("revoked_at", DateTime(timezone=True), comment="revoked only"),
    Column("name", Text, comment="reminder only: the key's name"),
    Column("last_used_at", DateTime(timezone=True), comment="reminder only; NULL when no use was recorded"),
    Column("revocation_deadline", DateTime(timezone=True), comment="reminder only"),
    Column("notified_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("kind", "batch_id", "owner_email", "api_key_id"),
    CheckConstraint(
        "(kind = 'revoked' AND reason IS NOT NULL AND revoked_at IS NOT NULL)"
        " OR (kind = 'reminder' AND name IS NOT NULL AND revocation_deadline IS NOT NULL)",
        name="key_notice_items_fields",
    ),
)
