"""People, authorization codes, refresh tokens.

Revision ID: t0002
Revises: t0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.create_table(
        "people",
        sa.Column("person_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("permissions", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("provet_id", "username", name="people_tenant_username"),
    )
    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", sa.Text, primary_key=True),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("person_id", UUID(as_uuid=False), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.Text),
        sa.Column("code_challenge_method", sa.Text),
        sa.Column("nonce", sa.Text),
        sa.Column("auth_time", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("access_jti", sa.Text),
        sa.Column("access_exp", sa.BigInteger),
        sa.Column("family_id", UUID(as_uuid=False)),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("family_id", UUID(as_uuid=False), nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("person_id", UUID(as_uuid=False), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("auth_time", sa.BigInteger, nullable=False),
        sa.Column("access_jti", sa.Text, nullable=False),
        sa.Column("access_exp", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("refresh_tokens_family_id", "refresh_tokens", ["family_id"])


def downgrade(schema: str) -> None:
    for table in ("refresh_tokens", "authorization_codes", "people"):
        op.drop_table(table)
