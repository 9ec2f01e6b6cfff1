"""Client registry, client secrets, signing keys, revocations.

Revision ID: t0001
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "t0001"
down_revision = "m0001"
branch_labels = None
depends_on = None


def _created() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade(schema: str) -> None:
    op.create_table(
        "clients",
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column("provet_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("client_type", sa.Text, nullable=False),
        sa.Column("grant_types", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("redirect_uris", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("permissions", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("activation_id", UUID(as_uuid=False)),
        sa.Column("tokens_issued_from", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "client_secrets",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.Text, sa.ForeignKey("clients.client_id", ondelete="CASCADE"), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        _created(),
    )
    op.create_index("client_secrets_client_id", "client_secrets", ["client_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text, primary_key=True),
        sa.Column("algorithm", sa.Text, nullable=False),
        sa.Column("private_jwk_encrypted", sa.LargeBinary, nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        _created(),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "revocations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("jti", sa.Text, unique=True),
        sa.Column("client_id", sa.Text),
        sa.Column("issued_before", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("relevant_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("revocations_client_id", "revocations", ["client_id"])


def downgrade(schema: str) -> None:
    for table in ("revocations", "signing_keys", "client_secrets", "clients"):
        op.drop_table(table)
