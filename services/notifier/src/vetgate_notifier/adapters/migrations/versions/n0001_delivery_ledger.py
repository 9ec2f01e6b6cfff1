"""Delivery ledger, attempts, one-time reveal links, legacy-key revocation notices.

Revision ID: n0001
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "n0001"
down_revision = "m0001"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _now(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade(schema: str) -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("activation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("integration_name", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("credentials", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _at("next_attempt_at", nullable=False),
        sa.Column("claim_id", UUID(as_uuid=True)),
        sa.Column("last_error", sa.Text),
        _now("created_at"),
        _at("delivered_at"),
        _at("failed_at"),
        _at("revealed_at"),
    )
    op.create_index("deliveries_due", "deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'"))
    op.create_index("deliveries_tenant", "deliveries", ["provet_id", "created_at"])
    op.create_index("deliveries_failed", "deliveries", ["failed_at"], postgresql_where=sa.text("status = 'failed'"))
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", UUID(as_uuid=True), sa.ForeignKey("deliveries.delivery_id"), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        _at("attempted_at", nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("smtp_reply", sa.Text),
        sa.Column("error", sa.Text),
    )
    op.create_index("delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "reveal_links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("delivery_id", UUID(as_uuid=True), sa.ForeignKey("deliveries.delivery_id"), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        _at("expires_at", nullable=False),
        _now("created_at"),
        _at("used_at"),
    )
    op.create_index("reveal_links_delivery_id", "reveal_links", ["delivery_id"])
    op.create_table(
        "key_notices",
        sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
        sa.Column("owner_email", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _at("due_at", nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("mails_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claim_id", UUID(as_uuid=True)),
        sa.Column("last_error", sa.Text),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("batch_id", "owner_email"),
    )
    op.create_index("key_notices_due", "key_notices", ["due_at"], postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "key_notice_items",
        sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
        sa.Column("owner_email", sa.Text, nullable=False),
        sa.Column("api_key_id", UUID(as_uuid=True), nullable=False),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("integration", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        _at("revoked_at", nullable=False),
        _at("notified_at"),
        sa.PrimaryKeyConstraint("batch_id", "owner_email", "api_key_id"),
    )


def downgrade(schema: str) -> None:
    for table in ("key_notice_items", "key_notices", "reveal_links", "delivery_attempts", "deliveries"):
        op.drop_table(table)
