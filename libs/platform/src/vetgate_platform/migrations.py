"""Alembic, driven from code: each service keeps its revisions in its own schema.

One environment (``vetgate_platform/alembic``) serves every service; a service contributes version
directories (the shared messaging revisions first, then its own, which chain onto ``m0001``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from vetgate_platform.db import async_url

ENVIRONMENT = Path(__file__).parent / "alembic"


def alembic_config(database_url: str, schema: str, version_dirs: Sequence[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ENVIRONMENT))
    cfg.set_main_option("version_locations", " ".join(str(d) for d in version_dirs))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(database_url: str, schema: str, version_dirs: Sequence[Path], revision: str = "heads") -> None:
    """Bring the service's schema to ``revision`` (creating the schema on first run)."""
    command.upgrade(alembic_config(database_url, schema, version_dirs), revision)


def _migrate(connection: Connection, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET search_path TO "{schema}"'))
    context.configure(
        connection=connection,
        version_table_schema=schema,
        # Concurrent starts (two replicas) must not both migrate: Postgres serialises them here.
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
        context.run_migrations(schema=schema)


async def _run_async(database_url: str, schema: str) -> None:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate, schema)
    finally:
        await engine.dispose()


def run_env() -> None:
    """The body of every service's alembic ``env.py`` (online mode only: we always have a database)."""
    cfg = context.config
    asyncio.run(_run_async(cfg.attributes["database_url"], cfg.attributes["schema"]))
