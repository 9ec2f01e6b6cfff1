"""Templates, their sealed webhook secrets, activations.

Revision ID: c0001
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "c0001"
down_revision = "m0001"
branch_labels = None
depends_on = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    default = None if nullable else sa.func.now()
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def upgrade(schema: str) -> None:
    op.create_table(
        "templates",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("published_at", nullable=True),
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("template_id", UUID(as_uuid=True), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("sealed", JSONB, nullable=False),
        _at("created_at"),
        _at("retired_at", nullable=True),
    )
    op.create_index("webhook_secrets_by_template", "webhook_secrets", ["template_id"])
    op.create_table(
        "activations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("template_id", UUID(as_uuid=True), sa.ForeignKey("templates.id"), nullable=False),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text),
        _at("created_at"),
        _at("updated_at"),
    )
    # One live installation of a template per tenant; a removed one may be added again.
    op.create_index(
        "one_installation_per_tenant",
        "activations",
        ["template_id", "provet_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'deactivated'"),
    )
    op.create_index("activations_by_tenant", "activations", ["provet_id", "created_at"])


def downgrade(schema: str) -> None:
    for table in ("activations", "webhook_secrets", "templates"):
        op.drop_table(table)
