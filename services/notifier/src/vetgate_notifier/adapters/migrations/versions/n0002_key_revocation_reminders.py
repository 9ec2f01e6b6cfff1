"""Legacy-key revocation reminders share the notice tables: a kind per notice and item, the reminder's columns.

Revision ID: n0002
Revises: n0001
"""

import sqlalchemy as sa
from alembic import op

revision = "n0002"
down_revision = "n0001"
branch_labels = None
depends_on = None

_NOTICE_KEY = ["kind", "batch_id", "owner_email"]
# The NOT NULLs dropped from reason/revoked_at still hold for revocations; a reminder needs its own fields.
_ITEM_FIELDS = (
    "(kind = 'revoked' AND reason IS NOT NULL AND revoked_at IS NOT NULL)"
    " OR (kind = 'reminder' AND name IS NOT NULL AND revocation_deadline IS NOT NULL)"
)


def upgrade(schema: str) -> None:
    for table in ("key_notices", "key_notice_items"):
        # Every row written before reminders existed is a revocation notice (or one of its keys).
        op.add_column(table, sa.Column("kind", sa.Text, nullable=False, server_default="revoked"))
        op.alter_column(table, "kind", server_default=None)
    # The kind is part of the key: a reminder batch never merges with a revocation batch, whatever ids
    # the token service picks for them.
    op.drop_constraint("key_notices_pkey", "key_notices", type_="primary")
    op.create_primary_key("key_notices_pkey", "key_notices", _NOTICE_KEY)
    op.create_check_constraint("key_notices_kind", "key_notices", "kind IN ('revoked', 'reminder')")
    op.drop_constraint("key_notice_items_pkey", "key_notice_items", type_="primary")
    op.create_primary_key("key_notice_items_pkey", "key_notice_items", [*_NOTICE_KEY, "api_key_id"])
    op.add_column("key_notice_items", sa.Column("name", sa.Text))
    op.add_column("key_notice_items", sa.Column("last_used_at", sa.DateTime(timezone=True)))
    op.add_column("key_notice_items", sa.Column("revocation_deadline", sa.DateTime(timezone=True)))
    op.alter_column("key_notice_items", "reason", nullable=True)
    op.alter_column("key_notice_items", "revoked_at", nullable=True)
    op.create_check_constraint("key_notice_items_fields", "key_notice_items", _ITEM_FIELDS)


def downgrade(schema: str) -> None:
    for table in ("key_notice_items", "key_notices"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE kind = 'reminder'"))  # n0001 cannot hold reminders
    op.drop_constraint("key_notice_items_fields", "key_notice_items", type_="check")
    op.alter_column("key_notice_items", "revoked_at", nullable=False)
    op.alter_column("key_notice_items", "reason", nullable=False)
    for column in ("revocation_deadline", "last_used_at", "name"):
        op.drop_column("key_notice_items", column)
    op.drop_constraint("key_notice_items_pkey", "key_notice_items", type_="primary")
    op.create_primary_key("key_notice_items_pkey", "key_notice_items", ["batch_id", "owner_email", "api_key_id"])
    op.drop_constraint("key_notices_kind", "key_notices", type_="check")
    op.drop_constraint("key_notices_pkey", "key_notices", type_="primary")
    op.create_primary_key("key_notices_pkey", "key_notices", ["batch_id", "owner_email"])
    for table in ("key_notice_items", "key_notices"):
        op.drop_column(table, "kind")
