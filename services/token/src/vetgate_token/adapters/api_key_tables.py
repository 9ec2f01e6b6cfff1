"""Tables of the legacy API keys and their retirement (migration t0003); same metadata as tables.py."""

from __future__ import annotations

from sqlalchemy import ARRAY, BigInteger, Column, DateTime, ForeignKey, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from vetgate_token.adapters.tables import metadata

# Which environment a tenant lives in (policy is per environment); a tenant not listed is production.
tenant_environments = Table(
    "tenant_environments",
    metadata,
    Column("provet_id", Integer, primary_key=True),
    Column("environment", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_key_policies = Table(
    "api_key_policies",
    metadata,
    Column("environment", Text, primary_key=True),
    Column("creation_cutoff", DateTime(timezone=True)),
    Column("revocation_deadline", DateTime(timezone=True)),
    Column("reminder_days", ARRAY(Integer), nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_key_exceptions = Table(
    "api_key_exceptions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", Text, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_key_revocation_jobs = Table(
    "api_key_revocation_jobs",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("environment", Text),
    Column("trigger", Text, nullable=False),
    Column("deadline", DateTime(timezone=True)),
    Column("reason", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("revoked_count", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("environment", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("integration", Text),
    Column("owner_email", Text),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("key_prefix", Text, nullable=False),
    Column("under_exception", UUID(as_uuid=False), ForeignKey("api_key_exceptions.id")),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("use_count", BigInteger, nullable=False, server_default="0"),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revocation_job_id", UUID(as_uuid=False), ForeignKey("api_key_revocation_jobs.id")),
    Column("revocation_reason", Text),
)

api_key_reminders = Table(
    "api_key_reminders",
    metadata,
    Column("environment", Text, primary_key=True),
    Column("deadline", DateTime(timezone=True), primary_key=True),
    Column("days_before", Integer, primary_key=True),
    Column("batch_id", UUID(as_uuid=False), nullable=False),
    Column("keys", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
