"""The transactional outbox and the inbox, shared by every service (first revision of each schema).

Revision ID: m0001
Revises:
"""

from vetgate_messaging.migration_ops import create_messaging_tables, drop_messaging_tables

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    create_messaging_tables()


def downgrade(schema: str) -> None:
    drop_messaging_tables()
