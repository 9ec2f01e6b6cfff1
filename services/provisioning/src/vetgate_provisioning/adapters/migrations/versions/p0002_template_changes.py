"""Template permission changes, kept so an activation still in flight when one arrives catches up.

Revision ID: p0002
Revises: p0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.create_table(
        "template_permission_changes",
        sa.Column("template_id", UUID(as_uuid=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("removed", sa.ARRAY(sa.Text), nullable=False),
        sa.PrimaryKeyConstraint("template_id", "changed_at"),
    )


def downgrade(schema: str) -> None:
    op.drop_table("template_permission_changes")
