"""Activations, clients, secret hashes, virtual users with their permission groups.

Revision ID: p0001
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "p0001"
down_revision = "m0001"
branch_labels = None
depends_on = None


def _at(name: str, *, now: bool) -> sa.Column[object]:
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not now, server_default=default)


def upgrade(schema: str) -> None:
    op.create_table(
        "activations",
        sa.Column("activation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("template_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _at("created_at", now=True),
        _at("removed_at", now=False),
    )
    op.create_table(
        "clients",
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column(
            "activation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("activations.activation_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("template_id", UUID(as_uuid=True), nullable=False),
        sa.Column("integration_name", sa.Text, nullable=False),
        sa.Column("grant_type", sa.Text, nullable=False),
        sa.Column("client_type", sa.Text, nullable=False),
        sa.Column("redirect_uris", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("virtual_user_id", UUID(as_uuid=True)),
        sa.Column("delivery", JSONB, nullable=False),
        _at("created_at", now=True),
        _at("revoked_at", now=False),
    )
    op.create_table(
        "client_secrets",
        sa.Column("client_id", sa.Text, sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        _at("created_at", now=True),
        _at("valid_until", now=False),
        sa.PrimaryKeyConstraint("client_id", "generation"),
    )
    op.create_table(
        "virtual_users",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("template_id", UUID(as_uuid=True), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("group_name", sa.Text, nullable=False),
        sa.Column("permissions", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("activation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _at("created_at", now=True),
        _at("updated_at", now=True),
        sa.UniqueConstraint("provet_id", "template_id", name="virtual_users_tenant_template"),
    )
    op.create_index("virtual_users_template", "virtual_users", ["template_id"])


def downgrade(schema: str) -> None:
    for table in ("virtual_users", "client_secrets", "clients", "activations"):
        op.drop_table(table)
