"""The provisioning service's tables (its own schema; the search_path picks it)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

# One row per activation ever seen: the primary key is what makes provisioning happen once.
activations = Table(
    "activations",
    metadata,
    Column("activation_id", UUID(as_uuid=True), primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False, comment="active | removed"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("removed_at", DateTime(timezone=True)),
)

clients = Table(
    "clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("activation_id", UUID(as_uuid=True), ForeignKey("activations.activation_id"), nullable=False, unique=True),
    Column("provet_id", Integer, nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=False),
    Column("integration_name", Text, nullable=False),
    Column("grant_type", Text, nullable=False),
    Column("client_type", Text, nullable=False),
    Column("redirect_uris", ARRAY(Text), nullable=False),
    Column("virtual_user_id", UUID(as_uuid=True)),
    Column("delivery", JSONB, nullable=False, comment="the activation's delivery; sealed values only"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
)

# Hashes only (sha256:<hex> of a 256-bit random secret); one row per generation, for rotations.
client_secrets = Table(
    "client_secrets",
    metadata,
    Column("client_id", Text, ForeignKey("clients.client_id"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("valid_until", DateTime(timezone=True), comment="set when a newer generation replaced it"),
    PrimaryKeyConstraint("client_id", "generation"),
)

# The virtual user of one template at one tenant, with its permission group (one to one).
virtual_users = Table(
    "virtual_users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=False),
    Column("username", Text, nullable=False),
    Column("group_name", Text, nullable=False),
    Column("permissions", ARRAY(Text), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("client_id", Text, nullable=False, comment="the client of its latest activation"),
    Column("activation_id", UUID(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("provet_id", "template_id", name="virtual_users_tenant_template"),
    Index("virtual_users_template", "template_id"),
)

# Every template permission change applied: an activation issued before a change but handled after it
# (the two travel on different topics) applies the newer changes to its rights.
template_permission_changes = Table(
    "template_permission_changes",
    metadata,
    Column("template_id", UUID(as_uuid=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("added", ARRAY(Text), nullable=False),
    Column("removed", ARRAY(Text), nullable=False),
    PrimaryKeyConstraint("template_id", "changed_at"),
)
