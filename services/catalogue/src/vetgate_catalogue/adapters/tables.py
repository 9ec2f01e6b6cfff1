"""The catalogue service's tables (its own schema; the search_path picks it)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

templates = Table(
    "templates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("spec", JSONB, nullable=False),  # the validated TemplateSpec
    Column("state", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
)

# A hook template's whsec_ signing secrets, sealed to the notifier: this service cannot read them back.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("template_id", UUID(as_uuid=True), ForeignKey("templates.id"), nullable=False),
    Column("sealed", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("retired_at", DateTime(timezone=True)),  # null: current; else valid (overlap) until then
)

activations = Table(
    "activations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("template_id", UUID(as_uuid=True), ForeignKey("templates.id"), nullable=False),
    Column("provet_id", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("origin", Text, nullable=False),  # "tenant" (added from the catalogue) or "go_live"
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
