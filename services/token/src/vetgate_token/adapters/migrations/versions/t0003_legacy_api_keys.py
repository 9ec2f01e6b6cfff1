"""Legacy API keys, their retirement policy, support exceptions, revocation jobs and reminders.

Revision ID: t0003
Revises: t0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.create_table(
        "tenant_environments",
        sa.Column("provet_id", sa.Integer, primary_key=True),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "api_key_policies",
        sa.Column("environment", sa.Text, primary_key=True),
        sa.Column("creation_cutoff", sa.DateTime(timezone=True)),
        sa.Column("revocation_deadline", sa.DateTime(timezone=True)),
        sa.Column("reminder_days", sa.ARRAY(sa.Integer), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "api_key_exceptions",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "api_key_revocation_jobs",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("environment", sa.Text, comment="NULL: every environment"),
        sa.Column("trigger", sa.Text, nullable=False, comment="deadline | support"),
        sa.Column("deadline", sa.DateTime(timezone=True), comment="the policy deadline a scheduled job ran for"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("revoked_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    # One scheduled job per environment and deadline: moving the deadline makes a new one due.
    op.create_index(
        "api_key_revocation_jobs_deadline",
        "api_key_revocation_jobs",
        ["environment", "deadline"],
        unique=True,
        postgresql_where=sa.text("trigger = 'deadline'"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False, index=True),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("integration", sa.Text),
        sa.Column("owner_email", sa.Text),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True, comment="HMAC-SHA256(pepper, sha256:<hex>)"),
        sa.Column("key_prefix", sa.Text, nullable=False, comment="first characters, to recognise a key"),
        sa.Column("under_exception", UUID(as_uuid=False), sa.ForeignKey("api_key_exceptions.id")),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("use_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revocation_job_id", UUID(as_uuid=False), sa.ForeignKey("api_key_revocation_jobs.id")),
        sa.Column("revocation_reason", sa.Text),
    )
    # What a revocation job walks through: the active keys of an environment.
    op.create_index(
        "api_keys_active", "api_keys", ["environment", "id"], postgresql_where=sa.text("revoked_at IS NULL")
    )
    op.create_table(
        "api_key_reminders",
        sa.Column("environment", sa.Text, primary_key=True),
        sa.Column("deadline", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("batch_id", UUID(as_uuid=False), nullable=False),
        sa.Column("keys", sa.Integer, nullable=False, comment="reminders emitted; 0 when skipped"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade(schema: str) -> None:
    for table in (
        "api_key_reminders",
        "api_keys",
        "api_key_revocation_jobs",
        "api_key_exceptions",
        "api_key_policies",
        "tenant_environments",
    ):
        op.drop_table(table)
